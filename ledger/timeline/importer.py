"""Import a timeline file: all or nothing, idempotent by move id, in one batched transaction."""

from __future__ import annotations

import gc
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

from eventsourcing.persistence import IntegrityError

from ledger.application import NegotiationLedger
from ledger.domain import moves as k
from ledger.domain.alliance import Alliance, alliance_id
from ledger.domain.errors import (
    ConcurrencyError,
    DuplicateMoveError,
    InputError,
    MoveRefusedError,
    SeatledgerError,
)
from ledger.domain.negotiation import Negotiation, mirror_id, mirror_move, negotiation_id
from ledger.domain.story_aggregate import Storied
from ledger.domain.values import valid_instant
from ledger.persistence.prefetch import prefetch
from ledger.persistence.recorders import DuplicateMoveIdError
from ledger.spec_events import ALLIANCE_ONLY, same_move, spec_move
from ledger.timeline.batch import Batch, recorded_openings, retried_without_parts
from ledger.timeline.date_order import fold_by_date
from ledger.timeline.document import (
    AnyMove,
    CorrectionSpec,
    NegotiationSpec,
    TimelineFile,
    move_id_for,
)
from ledger.timeline.items import ORDER_RECORDED, Item, copies_after, fold_in_file_order, label
from ledger.timeline.two_processes import fold_talks

Progress = Callable[[int, int], None]


@dataclass
class ImportReport:
    """What an import did (or, on a dry run, would do)."""

    recorded: int = 0
    unchanged: int = 0
    opened: list[str] = field(default_factory=list)
    events: int = 0
    dry_run: bool = False


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
            batch = Batch(app, dry_run)
            try:
                report = _build(app, batch, timeline, name, progress)
                report.dry_run = dry_run
                report.events = batch.events
                if dry_run or batch.events == 0:
                    return report
                try:
                    app.recorder.insert_events(batch.rows)  # one transaction
                except DuplicateMoveIdError as error:
                    raise DuplicateMoveError(
                        f"{name}: move id(s) {', '.join(error.move_ids[:5])} were recorded by "
                        "another writer during the import; nothing was imported"
                    ) from None
                except IntegrityError:
                    continue  # another writer changed the same talks: rebuild and try again
                batch.rows = []
                batch.snapshots.write(app)
                return report
            finally:
                batch.snapshots.close()
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


@dataclass
class _Group:
    """Everything the file does to one aggregate, in the order it is done."""

    key: UUID
    slug: str | None = None  # a negotiation named by slug
    items: list[Item] = field(default_factory=list)


def _build(
    app: NegotiationLedger,
    batch: Batch,
    timeline: TimelineFile,
    name: str,
    progress: Progress | None,
) -> ImportReport:
    report = ImportReport()
    by = app.recorded_by
    batch.in_file_order = timeline.order == ORDER_RECORDED
    batch.roster.register({p.code: p.name for p in timeline.parties}, by)
    batch.roster.choose_colours({p.code: p.colour for p in timeline.parties if p.colour}, by)
    _form_alliances(app, batch, timeline)
    groups: dict[UUID, _Group] = {}

    def group(key: UUID, slug: str | None = None) -> _Group:
        found = groups.get(key)
        if found is None:
            found = groups[key] = _Group(key, slug)
        if slug is not None:
            found.slug = slug
            batch.negotiation_keys.add(key)
        return found

    for formed in timeline.all_alliances():
        batch.founding[formed.id] = batch.alliance(formed.id).membership_moves()
    opened = recorded_openings(app, [spec.id for spec in timeline.negotiations])
    for spec in timeline.negotiations:
        if _open(batch, spec, opened.get(spec.id), timeline.alliance_of(spec), name):
            report.opened.append(spec.id)
        batch.negotiation_keys.add(negotiation_id(spec.id))
        group(negotiation_id(spec.id), spec.id)
    ids = move_ids(timeline)
    known = app.store.find_moves(ids)
    todo: list[tuple[int, AnyMove, str]] = []
    for index, (given, move_id) in enumerate(zip(timeline.moves, ids, strict=True)):
        if move_id in known:
            group(known[move_id][0]).items.append(Item(index, given, move_id, "check"))
            report.unchanged += 1
        else:
            todo.append((index, given, move_id))
    todo.sort(key=_order)
    total = len(todo)
    # Which aggregate each of the file's moves goes to: corrections follow their move.
    holders: dict[str, tuple[UUID, str | None]] = {}
    corrected = [g.of for _, g, _ in todo if isinstance(g, CorrectionSpec)]
    found = app.store.find_moves([of for of in corrected if "@" not in of]) if corrected else {}
    alliance_items: list[tuple[int, AnyMove, str]] = []
    for index, given, move_id in todo:
        if isinstance(given, CorrectionSpec):
            target = holders.get(given.of)
            if target is None and "@" in given.of:
                slug = given.of.rsplit("@", 1)[1]
                target = (negotiation_id(slug), slug)
            if target is None and given.of in found:
                target = (found[given.of][0], None)
            if target is None:
                raise MoveRefusedError(
                    f"{label(name, given, index)}: it corrects {given.of!r}, which is not recorded"
                )
            holders[move_id] = target
            group(*target).items.append(Item(index, given, move_id, "correction", given.of))
        elif given.negotiation is None or given.type in ALLIANCE_ONLY:
            owner = timeline.alliance_of_move(given)
            if given.negotiation is not None:
                try:
                    owner = batch.alliance_of(given.negotiation)
                except SeatledgerError as error:
                    raise MoveRefusedError(f"{label(name, given, index)}: {error}") from error
            if owner is None:
                hint = " it names (give the move an 'alliance')" if timeline.alliances else ""
                raise MoveRefusedError(
                    f"{label(name, given, index)}: an alliance-level move, but the file has "
                    f"no alliance{hint}"
                )
            try:
                batch.alliance(owner)
            except SeatledgerError as error:
                raise MoveRefusedError(f"{label(name, given, index)}: {error}") from error
            holders[move_id] = (alliance_id(owner), None)
            alliance_items.append((index, given, move_id))
            group(alliance_id(owner)).items.append(Item(index, given, move_id, "move"))
        else:
            key = negotiation_id(given.negotiation)
            holders[move_id] = (key, given.negotiation)
            group(key, given.negotiation).items.append(Item(index, given, move_id, "move"))
    done = 0

    def step() -> None:
        nonlocal done
        done += 1
        if progress is not None:
            progress(done, total)

    # Alliances first: their membership moves are copied into each of their talks.
    alliance_keys = {key for key in groups if batch.alliance_key(key)}
    for key in [key for key in groups if key in alliance_keys]:
        _fold(app, batch, groups.pop(key), name, step)
    for index, given, move_id in alliance_items:
        if isinstance(given, CorrectionSpec) or given.type not in ALLIANCE_ONLY:
            continue
        for talks in _holder_alliance(batch, holders[move_id][0]).talks:
            group(negotiation_id(talks), talks).items.append(Item(index, given, move_id, "mirror"))
    for index, given, move_id in todo:
        if not isinstance(given, CorrectionSpec):
            continue
        holder_key = holders[move_id][0]
        if holder_key not in alliance_keys:
            continue
        holder = _holder_alliance(batch, holder_key)
        if holder.recorded[given.of].kind in k.ALLIANCE_MEMBERSHIP:
            for talks in holder.talks:
                group(negotiation_id(talks), talks).items.append(
                    Item(index, given, move_id, "mirror-correction", mirror_id(given.of, talks))
                )
    in_talks = [groups.pop(key) for key in list(groups)]
    keys = [g.key for g in in_talks if g.slug is None or g.slug not in batch.openings]
    batch.prefetched = prefetch(app.store.engine, app.store.tables, keys)

    def fold(on: NegotiationLedger, into: Batch, group: _Group, step: Callable[[], None]) -> None:
        _fold(on, into, group, name, step)

    fold_talks(app, batch, in_talks, fold, step, sum(len(group.items) for group in in_talks))
    del in_talks
    # Rows in the order a save of (roster, alliances, talks) would give them.
    folded, batch.rows = batch.rows, []
    batch.done(batch.roster)
    for alliance in batch.alliances.values():
        batch.done(alliance)
    batch.rows.extend(folded)
    del folded
    report.recorded = total
    return report


def _holder_alliance(batch: Batch, key: UUID) -> Alliance:
    return batch.alliance(batch.alliance_keys[key])


def _fold(
    app: NegotiationLedger, batch: Batch, group: _Group, name: str, step: Callable[[], None]
) -> None:
    """Check, record and correct everything the file does to one aggregate."""
    retried_without_parts(lambda counted: _fold_items(app, batch, group, name, counted), step)


def _fold_items(
    app: NegotiationLedger, batch: Batch, group: _Group, name: str, step: Callable[[], None]
) -> None:
    by = app.recorded_by
    holder: Storied[Any] | None = None

    def load() -> Storied[Any]:
        nonlocal holder
        if holder is None:
            holder = _load(app, batch, group)
        return holder

    if group.slug in batch.openings:
        load()  # opened even if the file gives it no move
    known = batch.roster.parties
    for item in group.items:
        if item.what == "check":
            _check_unchanged(load(), item.given, item.move_id, label(name, item.given, item.index))
    todo = [i for i in group.items if i.what != "check"]

    def reopen(index: int) -> bool:
        """Open the talks again, with the alliance's membership as it stood after `index`."""
        nonlocal holder
        try:
            holder = _load(app, batch, group, index)
        except SeatledgerError:
            return False
        return True

    if batch.in_file_order:
        opened = group.slug in batch.openings and batch.alliance_slugs[group.slug]
        fold_in_file_order(load, todo, known, by, name, step, reopen if opened else None)
    else:
        fold_by_date(batch, load, todo, name, step)
    if holder is not None and not isinstance(holder, Alliance):
        batch.done(holder)


def _load(
    app: NegotiationLedger, batch: Batch, group: _Group, after: int | None = None
) -> Storied[Any]:
    """The group's aggregate; new talks copy their alliance as of the file's item `after`."""
    if group.slug is not None and group.slug in batch.openings:
        spec = batch.openings[group.slug]
        alliance_slug = batch.alliance_slugs[spec.id]
        by = app.recorded_by
        negotiation = Negotiation.open(
            negotiation=spec.id, title=spec.title or spec.id, region=spec.region,
            seats=spec.seats, parties=spec.parties, alliance=alliance_slug,
            move_id=f"{spec.id}/opened", occurred_on=spec.opened_on, source=spec.source,
            note=spec.note, recorded_by=by, election=spec.election,
            constituencies=spec.constituencies or [],
        )  # fmt: skip
        copies = batch.founding.get(alliance_slug or "", [])
        if after is not None and alliance_slug is not None:
            recorded = batch.alliance(alliance_slug).recorded
            copies = copies_after(copies, recorded, group.items, after)
        for move in copies:
            mirror_move(negotiation, move.move_id, move.kind, move.party or "", move.on, by)
        return negotiation
    if group.key in batch.alliance_keys:
        return batch.alliance(batch.alliance_keys[group.key])
    if group.slug is not None:
        return app.negotiation(group.slug, batch.prefetched)
    aggregate = app.load(group.key, batch.prefetched)
    assert isinstance(aggregate, Storied)
    return aggregate


def _form_alliances(app: NegotiationLedger, batch: Batch, timeline: TimelineFile) -> None:
    for spec in timeline.all_alliances():
        key = alliance_id(spec.id)
        if app.exists(key):
            batch.alliance(spec.id)
        else:
            batch.alliance_keys[key] = spec.id
            batch.alliances[spec.id] = Alliance.form(
                alliance=spec.id, name=spec.name, members=spec.members,
                move_id=f"{spec.id}/formed", occurred_on=spec.formed_on,
                recorded_by=app.recorded_by,
            )  # fmt: skip


def _open(
    batch: Batch,
    spec: NegotiationSpec,
    opening: Any | None,
    alliance_slug: str | None,
    name: str,
) -> bool:
    """Open the file's talks unless the ledger has them (`opening`; then check the seats)."""
    if opening is not None:
        batch.alliance_slugs[spec.id] = opening.alliance
        if opening.seats != spec.seats:
            raise InputError(
                f"{name}: negotiation {spec.id!r} is already in the ledger with "
                f"{opening.seats} seats, not {spec.seats}"
            )
        return False
    # Opened when its turn comes (see _load); the alliance learns of it now, as before.
    batch.openings[spec.id] = spec
    batch.alliance_slugs[spec.id] = alliance_slug
    if alliance_slug is not None:
        batch.alliance(alliance_slug).register_talks(spec.id, batch.app.recorded_by)
    return True


def _order(item: tuple[int, AnyMove, str]) -> tuple[int, Any, int]:
    index, move, _ = item
    if isinstance(move, CorrectionSpec):
        return (1, 0, index)
    return (0, valid_instant(move.on), index)


def _check_unchanged(holder: Storied[Any], move: AnyMove, move_id: str, label: str) -> None:
    recorded = holder.recorded.get(move_id)
    if isinstance(move, CorrectionSpec):
        if holder.corrections.get(move_id) == move.of:
            return
    elif recorded is not None and same_move(spec_move(move, move_id), recorded):
        return
    raise DuplicateMoveError(f"{label}: id {move_id} is already recorded with other content")
