"""Audit reports of one negotiation or all, on any (as of D, known on K): HTML, Markdown, JSON.

The facts are gathered once (`gather`) from the read views and the ledger digest, then
rendered; the three formats carry the same facts.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime

from sqlalchemy import func, select

from ledger.application import NegotiationLedger
from ledger.domain.errors import InputError
from ledger.integrity.verifier import Digest, compute_digest
from ledger.persistence.engine import read_transaction
from projections.answers import EVERYTHING, Scope
from projections.api import LedgerViews
from projections.chart_story import story_split_on
from projections.diff import ledger_diff
from projections.reference import replay_known_through
from projections.reports.model import (
    JsonDict,
    NegotiationReport,
    ReportFacts,
    chart_series,
    iso,
)
from projections.reports.render import FORMATS, ReportFormat, render
from projections.views.tables import moves, splits
from projections.views.timeaxis import from_micros

When = date | datetime | None
MEMBERSHIP = ("party_joined_alliance", "party_left_alliance")
ATTEMPTS = 3


def build_report(
    url: str,
    negotiation: str | None,
    as_of: When = None,
    known_on: When = None,
    fmt: ReportFormat = "html",
    diff_from: When = None,
    scope: Scope = EVERYTHING,
) -> str:
    """The audit report of one negotiation (None: all in scope) as HTML, Markdown or JSON text.

    `diff_from`: add a "what changed" section, from that date to the report's as-of date.
    """
    if fmt not in FORMATS:
        raise InputError(f"report format {fmt!r} is not one of {', '.join(FORMATS)}")
    return render(gather(url, negotiation, as_of, known_on, diff_from, scope), fmt)


def gather(
    url: str,
    negotiation: str | None,
    as_of: When,
    known_on: When,
    diff_from: When = None,
    scope: Scope = EVERYTHING,
) -> ReportFacts:
    """Read everything a report shows, at the ledger position its digest names."""
    views = LedgerViews(url)
    colours = NegotiationLedger(url).roster().colours  # chosen in timeline files
    for _ in range(ATTEMPTS):
        digest = compute_digest(url)
        facts = replace(
            _read(views, digest, negotiation, as_of, known_on, scope),
            colours=colours,
            limits=scope_limits(scope),
        )
        if diff_from is not None:
            found = ledger_diff(views, diff_from, as_of, known_on, negotiation)
            facts = replace(facts, diff=found.to_json())
        # Views read up to the log's head: if a writer appended meanwhile, the report
        # would show events its digest does not cover, so read both again.
        if views.status().head == digest.position:
            return facts
    return facts


def scope_limits(scope: Scope) -> JsonDict:
    """The scope a report was limited to, as its stamp carries it (only what was given)."""
    given = {"election": scope.election, "alliance": scope.alliance}
    return {key: value for key, value in given.items() if value is not None}


def _membership_moves(views: LedgerViews, as_of: When, known_on: When) -> list[JsonDict]:
    """Parties joining or leaving an alliance: they change the tables of its talks."""
    # Alliance-level moves carry no alliance in the history rows, so a ledger of several
    # alliances asks a few dates too many; the split views answer each one correctly.
    return [
        m.to_json()
        for m in views.history(None, as_of, known_on)
        if m.negotiation is None and m.type in MEMBERSHIP
    ]


def _read(
    views: LedgerViews,
    digest: Digest,
    negotiation: str | None,
    as_of: When,
    known_on: When,
    scope: Scope,
) -> ReportFacts:
    if negotiation is None:
        splits = views.splits(as_of, known_on, scope)
    else:
        splits = [views.split(negotiation, as_of, known_on)]
    alliance_moves = _membership_moves(views, as_of, known_on)
    parts = []
    for split in splits:
        history = [m.to_json() for m in views.history(split.negotiation, as_of, known_on)]
        title = split.title or split.region or split.negotiation
        split_on = story_split_on(views, split.negotiation, known_on)
        series = chart_series(history, split_on, alliance_moves)
        seats = [s.to_json() for s in views.seats(split.negotiation, as_of, known_on)]
        parts.append(NegotiationReport(split.to_json(), title, history, series, seats))
    rollup = views.rollup(as_of, known_on, scope)
    listed = [{**view.to_json(), "title": view.title} for view in rollup.negotiations]
    return ReportFacts(
        scope=negotiation,
        as_of=iso(as_of),
        known_on=iso(known_on),
        digest={
            "format": digest.format,
            "root": digest.root,
            "position": digest.position,
            "events": digest.events,
            "aggregates": digest.aggregates,
            "created_at": digest.created_at.isoformat(),
        },
        negotiations=parts,
        rollup={**rollup.to_json(), "negotiations": listed},
        known_through=_known_through(views, digest.position),
    )


def _known_through(views: LedgerViews, position: int) -> str | None:
    """The last recorded instant any view row was made at: reading "as known on" it later
    gives the same answers however much has been recorded since (`verify --report`)."""
    if views.status().position < position:
        # Lagging views (the reader role) answered by replay: their rows would stop short.
        last = replay_known_through(views.url, position)
        return None if last is None else from_micros(last).isoformat()
    with read_transaction(views.engine) as conn:
        found = [
            conn.execute(select(func.max(moves.c.known_from))).scalar(),
            conn.execute(select(func.max(splits.c.recorded_from))).scalar(),
        ]
    last = max((int(value) for value in found if value is not None), default=None)
    return None if last is None else from_micros(last).isoformat()
