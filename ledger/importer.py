"""Import a timeline file: all or nothing, idempotent by move id, in one batched transaction."""

from __future__ import annotations

import gc
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from eventsourcing.persistence import IntegrityError

from ledger.application import NegotiationLedger, mirror_move
from ledger.commands import (
    ALLIANCE_ONLY,
    EVENT_FOR_TYPE,
    event_fields,
    parties_named,
    same_move,
    spec_move,
)
from ledger.domain import moves as k
from ledger.domain.alliance import Alliance, PartyRoster, alliance_id
from ledger.domain.errors import (
    ConcurrencyError,
    DuplicateMoveError,
    InputError,
    MoveRefusedError,
    SeatledgerError,
)
from ledger.domain.events import Changes
from ledger.domain.negotiation import Negotiation, mirror_id, negotiation_id
from ledger.domain.storied import Storied
from ledger.domain.values import valid_instant
from ledger.persistence.recorders import DuplicateMoveIdError
from ledger.timeline import (
    AnyMove,
    CorrectionSpec,
    NegotiationSpec,
    TimelineFile,
    move_id_for,
)

Progress = Callable[[int, int], None]


@dataclass
class ImportReport:
    """What an import did (or, on a dry run, would do)."""

    recorded: int = 0
    unchanged: int = 0
    opened: list[str] = field(default_factory=list)
    events: int = 0
    dry_run: bool = False


class _Batch:
    """The aggregates an import touches, loaded or created once, saved together."""

    def __init__(self, app: NegotiationLedger) -> None:
        self.app = app
        self.roster: PartyRoster = app.roster()
        self.storied: dict[Any, Storied[Any]] = {}

    def negotiation(self, slug: str) -> Negotiation:
        key = negotiation_id(slug)
        if key not in self.storied:
            self.storied[key] = self.app.negotiation(slug)
        found = self.storied[key]
        assert isinstance(found, Negotiation)
        return found

    def alliance(self, slug: str) -> Alliance:
        key = alliance_id(slug)
        if key not in self.storied:
            self.storied[key] = self.app.alliance(slug)
        found = self.storied[key]
        assert isinstance(found, Alliance)
        return found

    def holder_of(self, move_id: str) -> Storied[Any] | None:
        for aggregate in self.storied.values():
            if aggregate.knows(move_id):
                return aggregate
        located = self.app.locate(move_id)
        if located is not None:
            self.storied.setdefault(located.id, located)
            return self.storied[located.id]
        return None

    def aggregates(self) -> list[Any]:
        return [self.roster, *self.storied.values()]


def move_ids(timeline: TimelineFile) -> list[str]:
    """The id of every move; moves without one get a stable id from their content."""
    seen: Counter[str] = Counter()
    ids = []
    for move in timeline.moves:
        base = move_id_for(move)
        ids.append(move_id_for(move, seen[base]) if not move.id else base)
        seen[base] += 1
    return ids


def import_timeline(
    app: NegotiationLedger,
    timeline: TimelineFile,
    *,
    name: str = "timeline",
    dry_run: bool = False,
    progress: Progress | None = None,
) -> ImportReport:
    """Record a whole timeline, or nothing; moves already recorded are skipped."""
    with _collector_paused():
        for _ in range(3):
            batch = _Batch(app)
            report = _build(app, batch, timeline, name, progress)
            report.dry_run = dry_run
            pending = sum(len(a._pending) for a in batch.aggregates())
            report.events = pending
            if dry_run or pending == 0:
                return report
            try:
                app.save(*batch.aggregates())
            except DuplicateMoveIdError as error:
                raise DuplicateMoveError(
                    f"{name}: move id(s) {', '.join(error.move_ids[:5])} were recorded by "
                    "another writer during the import; nothing was imported"
                ) from None
            except IntegrityError:
                continue  # another writer changed the same talks: rebuild and try again
            return report
    raise ConcurrencyError(f"{name}: other writers kept changing the same talks; nothing imported")


@contextmanager
def _collector_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector for the length of an import.

    An import allocates millions of long-lived objects (specs, events, moves, states)
    and no cyclic garbage; each full collection rescans all of them, a quarter of the
    import's CPU at 100k events. Reference counting still frees everything as usual.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _build(
    app: NegotiationLedger,
    batch: _Batch,
    timeline: TimelineFile,
    name: str,
    progress: Progress | None,
) -> ImportReport:
    report = ImportReport()
    by = app.recorded_by
    batch.roster.register({p.code: p.name for p in timeline.parties}, by)
    alliance_slug = _form_alliance(app, batch, timeline)
    for spec in timeline.negotiations:
        if _open(app, batch, spec, alliance_slug, name):
            report.opened.append(spec.id)
    ids = move_ids(timeline)
    known = app.store.find_moves(ids)
    todo: list[tuple[int, AnyMove, str]] = []
    for index, (given, move_id) in enumerate(zip(timeline.moves, ids, strict=True)):
        if move_id in known:
            _check_unchanged(batch, given, move_id, _label(name, given, index))
            report.unchanged += 1
        else:
            todo.append((index, given, move_id))
    todo.sort(key=_order)
    pending = [item for item in todo if isinstance(item[1], CorrectionSpec)]
    applied: set[str] = set()
    for done, (index, given, move_id) in enumerate(todo, start=1):
        if move_id not in applied:
            try:
                _record(batch, given, move_id, alliance_slug, by)
            except SeatledgerError as error:
                # A move may hold only once a correction in the same file is applied (e.g. a
                # walk-out that was retracted): apply the file's corrections early, then retry.
                if isinstance(given, CorrectionSpec) or not _apply_early(
                    batch, pending, applied, by
                ):
                    raise MoveRefusedError(f"{_label(name, given, index)}: {error}") from error
                try:
                    _record(batch, given, move_id, alliance_slug, by)
                except SeatledgerError as again:
                    raise MoveRefusedError(f"{_label(name, given, index)}: {again}") from again
        report.recorded += 1
        if progress is not None:
            progress(done, len(todo))
    return report


def _apply_early(
    batch: _Batch, pending: list[tuple[int, AnyMove, str]], applied: set[str], by: str
) -> bool:
    """Apply the file's corrections whose moves are already recorded; True if any was."""
    progressed = False
    for _, correction, move_id in pending:
        assert isinstance(correction, CorrectionSpec)
        if move_id in applied or batch.holder_of(correction.of) is None:
            continue
        try:
            _correct(batch, correction, move_id, by)
        except SeatledgerError:
            continue  # it may hold later; it is tried again in its own turn
        applied.add(move_id)
        progressed = True
    return progressed


def _form_alliance(app: NegotiationLedger, batch: _Batch, timeline: TimelineFile) -> str | None:
    spec = timeline.alliance
    if spec is None:
        return None
    key = alliance_id(spec.id)
    if app.exists(key):
        batch.alliance(spec.id)
    else:
        batch.storied[key] = Alliance.form(
            alliance=spec.id, name=spec.name, members=spec.members,
            move_id=f"{spec.id}/formed", occurred_on=spec.formed_on,
            recorded_by=app.recorded_by,
        )  # fmt: skip
    return spec.id


def _open(
    app: NegotiationLedger,
    batch: _Batch,
    spec: NegotiationSpec,
    alliance_slug: str | None,
    name: str,
) -> bool:
    """Open the file's talks unless the ledger has them already (then check the seats)."""
    key = negotiation_id(spec.id)
    by = app.recorded_by
    if app.exists(key):
        current = batch.negotiation(spec.id).state
        if current.seats != spec.seats:
            raise InputError(
                f"{name}: negotiation {spec.id!r} is already in the ledger with "
                f"{current.seats} seats, not {spec.seats}"
            )
        return False
    negotiation = Negotiation.open(
        negotiation=spec.id, title=spec.title or spec.id, region=spec.region,
        seats=spec.seats, parties=spec.parties, alliance=alliance_slug,
        move_id=f"{spec.id}/opened", occurred_on=spec.opened_on, source=spec.source,
        note=spec.note, recorded_by=by,
    )  # fmt: skip
    batch.storied[key] = negotiation
    if alliance_slug is not None:
        coalition = batch.alliance(alliance_slug)
        for move in coalition.membership_moves():
            mirror_move(negotiation, move.move_id, move.kind, move.party or "", move.on, by)
        coalition.register_talks(spec.id, by)
    return True


def _order(item: tuple[int, AnyMove, str]) -> tuple[int, Any, int]:
    index, move, _ = item
    if isinstance(move, CorrectionSpec):
        return (1, 0, index)
    return (0, valid_instant(move.on), index)


def _label(name: str, move: AnyMove, index: int) -> str:
    return f"{name}: move {move.id!r} (#{index + 1})" if move.id else f"{name}: move #{index + 1}"


def _check_unchanged(batch: _Batch, move: AnyMove, move_id: str, label: str) -> None:
    holder = batch.holder_of(move_id)
    if holder is None:
        return
    recorded = holder.recorded.get(move_id)
    if isinstance(move, CorrectionSpec):
        if holder.corrections.get(move_id) == move.of:
            return
    elif recorded is not None and same_move(spec_move(move, move_id), recorded):
        return
    raise DuplicateMoveError(f"{label}: id {move_id} is already recorded with other content")


def _record(batch: _Batch, move: AnyMove, move_id: str, alliance_slug: str | None, by: str) -> None:
    for code in _codes(move):
        if code not in batch.roster.parties:
            raise InputError(f"unknown party {code!r}")
    if isinstance(move, CorrectionSpec):
        _correct(batch, move, move_id, by)
        return
    fields = event_fields(move, move_id, by)
    if move.negotiation is None or move.type in ALLIANCE_ONLY:
        slug = alliance_slug
        if move.negotiation is not None:
            slug = batch.negotiation(move.negotiation).state.alliance
        if slug is None:
            raise InputError("an alliance-level move, but the file has no alliance")
        alliance = batch.alliance(slug)
        alliance.record(EVENT_FOR_TYPE[move.type], **fields)
        if move.type in ALLIANCE_ONLY:
            for talks in alliance.talks:
                party = getattr(move, "party", "")
                mirror_move(batch.negotiation(talks), move_id, move.type, party, move.on, by)
        return
    batch.negotiation(move.negotiation).record(EVENT_FOR_TYPE[move.type], **fields)


def _correct(batch: _Batch, move: CorrectionSpec, move_id: str, by: str) -> None:
    holder = batch.holder_of(move.of)
    if holder is None:
        raise InputError(f"it corrects {move.of!r}, which is not recorded")
    changes = Changes(on=move.on, split=move.split, by=move.by, source=move.source, note=move.note)
    common = {"retract": move.retract, "changes": changes, "reason": move.reason, "recorded_by": by}
    holder.correct(move_id=move_id, of=move.of, **common)
    if isinstance(holder, Alliance) and holder.recorded[move.of].kind in k.ALLIANCE_MEMBERSHIP:
        for talks in holder.talks:
            batch.negotiation(talks).correct(
                move_id=mirror_id(move_id, talks),
                of=mirror_id(move.of, talks),
                mirror=True,
                **common,
            )


def _codes(move: AnyMove) -> list[str]:
    return list(parties_named(move))
