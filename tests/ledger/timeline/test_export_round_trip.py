"""Property: any ledger the command line can build exports to a file that imports into an empty
ledger with the same views: talks in two alliances and in none, alliance moves of each, parties
known but never used, corrections and late facts, hostile text in names and notes."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import ExitStack
from datetime import timedelta
from typing import Any

from hypothesis import HealthCheck, Phase, event, given, settings
from hypothesis import strategies as st

from ledger.application import NegotiationLedger
from ledger.domain.errors import SeatledgerError
from ledger.timeline.document import AllianceSpec, AnyMove, CorrectionSpec, NegotiationSpec
from ledger.timeline.export import dump_timeline, export_timeline
from ledger.timeline.importer import import_timeline
from ledger.timeline.parsing import parse_timeline
from projections.api import LedgerViews
from tests.projections.views.test_views_match_replay import fresh_database  # noqa: F401 (a fixture)
from tests.support.timelines import PARTIES, START, Clock, TimelineBuilder, pinned

ALLIANCES = ("bloc", "front")
TEXT = st.sampled_from(["", "Lok Sabha 2024", "[/bold] x", "al\x1b[8mice", "\u202eevil", "a\nb"])
NOT_COPIED = {"recorded_at", "recorded_by", "seats_moved"}  # recorded anew; seats moved: issue 18


class MixedBuilder(TimelineBuilder):
    """The random timelines of the views property, over two alliances and talks in none."""

    def start(self) -> None:
        self.app.register_parties({code: self.draw(TEXT) for code in (*PARTIES, "UNUSED")})
        for slug, members in zip(ALLIANCES, (["A", "B", "C", "D"], ["C", "E"]), strict=True):
            spec = AllianceSpec(id=slug, name=self.draw(TEXT), members=members, formed_on=START)
            self.app.form_alliance(spec)
        self._open()

    def _open(self) -> None:
        slug = f"talks-{len(self.negotiations) + 1}"
        parties = self.draw(st.lists(st.sampled_from(PARTIES), min_size=2, max_size=3, unique=True))
        spec = NegotiationSpec(
            id=slug, title=self.draw(TEXT), region=self.draw(TEXT),
            seats=self.draw(st.integers(5, 20)), parties=parties, opened_on=self._day(0, 15),
            note=self.draw(TEXT) or None,
        )  # fmt: skip
        try:
            self.app.open(spec, alliance=self.draw(st.sampled_from([*ALLIANCES, None])))
        except SeatledgerError:
            return
        self.negotiations.append(slug)
        self.recorded_at.append(self.clock.now)

    def _record(self, spec: AnyMove) -> None:
        alliance_level = not isinstance(spec, CorrectionSpec) and spec.negotiation is None
        alliance = self.draw(st.sampled_from(ALLIANCES)) if alliance_level else None
        try:
            self.app.record(spec, alliance=alliance)
        except SeatledgerError:
            return
        assert spec.id is not None
        self.move_ids.append(spec.id)
        self.recorded_at.append(self.clock.now)


def views(url: str, as_of: Any) -> tuple[Any, ...]:
    """What a reader sees on a date, as known now, less what an import records anew."""
    found = LedgerViews(url)
    history: dict[str | None, list[dict[str, Any]]] = {}
    for move in found.history(None, as_of=as_of):
        shown = {k: v for k, v in move.to_json().items() if k not in NOT_COPIED}
        history.setdefault(move.negotiation, []).append(shown)
    # The ledger-wide history puts moves of different aggregates on one date in recording
    # order, which an import changes (alliances are recorded first): each talk's own
    # history is compared in order, alliance-level moves as a set per date.
    alliance_level = sorted(history.pop(None, []), key=lambda m: (m["on"], m["id"]))
    splits = [s.to_json() for s in found.splits(as_of=as_of)]
    return splits, found.rollup(as_of=as_of).to_json(), history, alliance_level


@settings(
    max_examples=20,
    deadline=None,
    phases=[Phase.explicit, Phase.reuse, Phase.generate],  # shrinking a ledger takes minutes
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data(), fmt=st.sampled_from(["yaml", "json"]))
def test_export_imports_back_to_the_same_views_when_the_ledger_is_any_cli_built_one(
    fresh_database: Callable[[], Any],  # noqa: F811
    data: st.DataObject,
    fmt: str,
) -> None:
    clock = Clock()
    with fresh_database() as url, pinned(clock), ExitStack() as copies:
        app = NegotiationLedger(url, recorded_by="analyst")
        timeline = MixedBuilder(app, data, clock)
        timeline.start()
        for _ in range(data.draw(st.integers(3, 20), label="moves")):
            timeline.step()
        source = url
        for trip in ("exported", "exported again by the copy"):  # a copy's log differs
            copy = copies.enter_context(fresh_database())
            document = export_timeline(NegotiationLedger(source))
            text = dump_timeline(document, "json" if fmt == "json" else "yaml")
            import_timeline(NegotiationLedger(copy, recorded_by="restorer"), parse_timeline(text))
            event(f"{trip}: order {document.get('order', 'date')}")
            assert NegotiationLedger(copy).roster().parties == app.roster().parties
            for days in (None, 0, 5, 15, 30, 46):
                as_of = None if days is None else START + timedelta(days=days)
                assert views(url, as_of) == views(copy, as_of), f"{trip}, as of {as_of}"
            source = copy
