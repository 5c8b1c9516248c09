"""The split history's interval bookkeeping, on the aggregate alone (no storage)."""

from __future__ import annotations

from collections.abc import Callable

from ledger.domain.negotiation import Negotiation
from ledger.domain.values import valid_instant
from projections.views.intervals import CurrentRow, RowChanges, StoryMark, advance, full_rows
from projections.views.timeaxis import END_OF_TIME, micros
from tests.support.talks import (
    accept,
    agree,
    amend,
    correct,
    counter,
    day,
    leave_alliance,
    meet,
    propose,
    uttar_pradesh,
)


def micros_of(text: str) -> int:
    return micros(valid_instant(day(text)))


class Ledger:
    """Keeps the current rows of one negotiation as the projection does, event by event."""

    def __init__(self) -> None:
        self.clock = 0
        self.rows: list[CurrentRow] = []
        self.talks = self._step_open()

    def _step_open(self) -> Negotiation:
        talks = uttar_pradesh()
        self.last = self._advance(StoryMark(), talks)
        return talks

    def do(self, action: Callable[[Negotiation], object]) -> RowChanges | None:
        mark = StoryMark(self.talks.story)
        action(self.talks)
        self.last = self._advance(mark, self.talks)
        return self.last

    def _advance(self, mark: StoryMark, talks: Negotiation) -> RowChanges | None:
        self.clock += 1
        changes = advance(self.rows, mark, talks.story, self.clock)
        if changes is not None:
            self.rows = changes.current
        return changes

    def matches_full_refold(self) -> bool:
        def content(rows: list[CurrentRow]) -> list[CurrentRow]:
            return [row._replace(recorded_from=0) for row in rows]

        return content(self.rows) == content(full_rows(self.talks.story, 0))


def test_opening_opens_one_interval_to_infinity_when_talks_open() -> None:
    ledger = Ledger()
    assert ledger.last is not None
    [row] = ledger.last.opened
    assert (row.valid_from, row.valid_to) == (micros_of("01-09"), END_OF_TIME)
    assert row.content.status == "opened"


def test_in_order_move_closes_only_the_last_interval_when_appended() -> None:
    ledger = Ledger()
    ledger.do(lambda t: propose(t, "SP", "01-27", SP=69, INC=11))
    changes = ledger.do(lambda t: counter(t, "INC", "02-06", INC=25))
    assert changes is not None
    assert [row.valid_from for row in changes.closed] == [micros_of("01-27")]
    assert [(row.valid_from, row.valid_to) for row in changes.opened] == [
        (micros_of("01-27"), micros_of("02-06")),
        (micros_of("02-06"), END_OF_TIME),
    ]
    assert ledger.matches_full_refold()


def test_late_fact_reopens_intervals_from_its_date_when_recorded_after_later_moves() -> None:
    ledger = Ledger()
    ledger.do(lambda t: propose(t, "SP", "01-27", SP=69, INC=11))
    ledger.do(lambda t: meet(t, "02-10", "SP", "INC"))
    changes = ledger.do(lambda t: counter(t, "INC", "02-06", INC=25))  # learnt late
    assert changes is not None
    untouched = micros_of("01-09")
    assert untouched not in {row.valid_from for row in changes.closed}
    assert {row.valid_from for row in changes.opened} == {
        micros_of(d) for d in ("01-27", "02-06", "02-10")
    }
    assert ledger.matches_full_refold()


def test_rows_match_a_full_refold_when_moves_are_corrected_retracted_and_amended() -> None:
    ledger = Ledger()
    ledger.do(lambda t: propose(t, "SP", "01-27", SP=69, INC=11))
    first = ledger.talks.story.moves[-1].move_id
    ledger.do(lambda t: meet(t, "02-01", "SP", "INC"))
    ledger.do(lambda t: correct(t, first, split={"SP": 62, "INC": 11}))
    assert ledger.matches_full_refold()
    ledger.do(lambda t: correct(t, first, on=day("02-03")))
    assert ledger.matches_full_refold()
    ledger.do(lambda t: accept(t, "INC", "02-21"))
    ledger.do(lambda t: agree(t, "02-21", SP=62, INC=11))
    ledger.do(lambda t: amend(t, "03-01", SP=60, INC=13))
    assert ledger.matches_full_refold()
    meeting = ledger.talks.story.moves[1].move_id
    ledger.do(lambda t: correct(t, meeting, retract=True))
    assert ledger.matches_full_refold()
    assert ledger.rows[-1].content.status == "agreed"


def test_same_day_moves_collapse_into_one_interval_when_recorded_together() -> None:
    ledger = Ledger()
    ledger.do(lambda t: propose(t, "SP", "02-19", SP=63, INC=17))
    ledger.do(lambda t: accept(t, "INC", "02-21"))
    ledger.do(lambda t: agree(t, "02-21", SP=63, INC=17))
    last = ledger.rows[-1]
    assert last.valid_from == micros_of("02-21")
    assert last.content.status == "agreed"
    assert len([row for row in ledger.rows if row.valid_from == micros_of("02-21")]) == 1
    assert ledger.matches_full_refold()


def test_no_row_shows_before_the_opening_when_an_alliance_move_is_dated_earlier() -> None:
    ledger = Ledger()
    ledger.do(lambda t: leave_alliance(t, "JDU", "01-02"))
    assert ledger.rows[0].valid_from == micros_of("01-09")
    assert ledger.matches_full_refold()


def test_nothing_changes_when_a_correction_only_fixes_a_source() -> None:
    ledger = Ledger()
    ledger.do(lambda t: propose(t, "SP", "01-27", SP=69, INC=11))
    first = ledger.talks.story.moves[-1].move_id
    assert ledger.do(lambda t: correct(t, first, source="https://example.org/fixed")) is None
