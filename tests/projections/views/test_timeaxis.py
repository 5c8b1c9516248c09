"""Both time axes as integers: exact, ordered, with an infinity after every real instant."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

import pytest

from ledger.domain.errors import InputError
from projections.views.timeaxis import (
    END_OF_TIME,
    LATEST,
    from_micros,
    micros,
    parse_valid_time,
    query_instant,
)


def test_instants_round_trip_to_the_microsecond_when_encoded() -> None:
    instant = datetime(
        2024, 2, 21, 9, 30, 0, 123456, tzinfo=timezone(timedelta(hours=5, minutes=30))
    )
    assert from_micros(micros(instant)) == instant


def test_a_date_covers_its_whole_day_in_utc_when_queried() -> None:
    end = query_instant(date(2024, 2, 21))
    assert from_micros(end) == datetime(2024, 2, 21, 23, 59, 59, 999999, tzinfo=UTC)


def test_latest_is_the_last_instant_and_before_infinity_when_no_date_is_given() -> None:
    assert query_instant(None) == LATEST
    assert micros(datetime.max.replace(tzinfo=UTC)) <= LATEST < END_OF_TIME


def test_instants_before_1970_sort_first_when_encoded() -> None:
    assert micros(datetime(1969, 12, 31, 23, 59, 59, tzinfo=UTC)) == -1_000_000


def test_query_refuses_a_time_without_offset_when_given_one() -> None:
    with pytest.raises(InputError, match="no UTC offset"):
        query_instant(datetime(2024, 1, 1, 12), "as of")


def test_dates_and_datetimes_read_back_as_written_when_stored_as_text() -> None:
    assert parse_valid_time("2024-01-27") == date(2024, 1, 27)
    instant = datetime(2024, 1, 27, 8, 0, tzinfo=timezone(timedelta(hours=5, minutes=30)))
    assert parse_valid_time(instant.isoformat()) == instant
