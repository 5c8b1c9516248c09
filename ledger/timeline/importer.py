"""Import a timeline file: all or nothing, idempotent by move id, in one batched transaction."""

from __future__ import annotations

import gc
import tempfile
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

from eventsourcing.persistence import IntegrityError, StoredEvent
from eventsourcing.utils import get_topic

from ledger.application import SNAPSHOT_EVERY, NegotiationLedger
from ledger.domain import moves as k
from ledger.domain.alliance import Alliance, AllianceFormed, PartyRoster, alliance_id
from ledger.domain.errors import (
    ConcurrencyError,
    DuplicateMoveError,
    InputError,
    MoveRefusedError,
    NotFoundError,
    SeatledgerError,
)
from ledger.domain.negotiation import Negotiation, mirror_id, mirror_move, negotiation_id
from ledger.domain.snapshot import StorySnapshot
from ledger.domain.story_aggregate import Storied
from ledger.domain.values import valid_instant
from ledger.persistence.recorders import DuplicateMoveIdError
from ledger.persistence.snapshots import write_snapshots
from ledger.spec_events import ALLIANCE_ONLY, same_move, spec_move
from ledger.timeline.document import (
    AnyMove,
    CorrectionSpec,
    NegotiationSpec,
    TimelineFile,
    move_id_for,
)
from ledger.timeline.items import (
    ORDER_RECORDED,
    Item,
    correct,
    fold_in_file_order,
    label,
    record,
    refused,
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
    """What an import keeps while it folds the file one aggregate at a time.

    Alliances (small) and the roster stay in memory; each negotiation is loaded (or
    opened), given its moves, turned into stored rows and a snapshot, and dropped. At a
    million events, 500 talks of 2,000 moves each held at once were most of the import's
    memory; only the rows to write (and, spilled to a temporary file, the snapshots to
    write after them) are kept now.
    """

    def __init__(self, app: NegotiationLedger, dry_run: bool = False) -> None:
        self.app = app
        self.dry_run = dry_run  # count the new events; encode nothing
        self.in_file_order = False  # the file says `order: recorded` (see timeline.items)
        self.roster: PartyRoster = app.roster()
        self.alliances: dict[str, Alliance] = {}
        self.openings: dict[str, NegotiationSpec] = {}  # talks the file opens
        self.founding: dict[str, list[Any]] = {}  # alliance -> its membership moves before
        self.alliance_slugs: dict[str, str | None] = {}  # negotiation -> its alliance
        self.alliance_keys: dict[UUID, str] = {}  # aggregate id -> slug of alliances
        self.negotiation_keys: set[UUID] = set()
        self.rows: list[StoredEvent] = []  # the talks' new events, as stored rows
        self.snapshots = _Spill()
        self.events = 0

    def alliance(self, slug: str) -> Alliance:
        if slug not in self.alliances:
            self.alliances[slug] = self.app.alliance(slug)
            self.alliance_keys[alliance_id(slug)] = slug
        return self.alliances[slug]

    def alliance_of(self, slug: str) -> str | None:
        """The alliance a negotiation belongs to, from its opening alone."""
        if slug not in self.alliance_slugs:
            self.alliance_slugs[slug] = _opening(self.app, slug).alliance
        return self.alliance_slugs[slug]

    def alliance_key(self, key: UUID) -> bool:
        """True if this aggregate is an alliance (then it is loaded and kept)."""
        if key in self.alliance_keys:
            return True
        if key in self.negotiation_keys:
            return False
        first = self.app.recorder.select_events(key, limit=1)
        if first and first[0].topic == get_topic(AllianceFormed):
            self.alliance(self.app.mapper.to_domain_event(first[0]).alliance)  # type: ignore[attr-defined]
            return True
        self.negotiation_keys.add(key)
        return False

    def done(self, aggregate: Storied[Any] | PartyRoster, snapshot: bool = True) -> None:
        """Keep an aggregate's new events as rows (and its snapshot); it may be dropped."""
        events = aggregate.collect_events()
        if not events:
            return
        self.events += len(events)
        if self.dry_run:
            return
        self.rows.extend(map(self.app.mapper.to_stored_event, events))
        before = events[0].originator_version - 1
        crossed = before // SNAPSHOT_EVERY != aggregate.version // SNAPSHOT_EVERY
        if snapshot and crossed and isinstance(aggregate, Storied):
            self.snapshots.add(self.app, aggregate)


class _Spill:
    """Snapshots taken during an import, kept in a temporary file until its events commit.

    A snapshot must not be written before the events it covers, and 500 snapshots of
    2,000 moves are ~500 MB of JSON: on disk (the page cache), not in the process.
    """

    def __init__(self) -> None:
        self.file: Any = None
        self.index: list[tuple[Any, int, str, int, int]] = []

    def add(self, app: NegotiationLedger, aggregate: Storied[Any]) -> None:
        if app.snapshots is None:
            return
        stored = app.snapshots.mapper.to_stored_event(StorySnapshot.take(aggregate))
        if self.file is None:
            self.file = tempfile.TemporaryFile()  # noqa: SIM115 (closed in write)
        offset = self.file.tell()
        self.file.write(stored.state)
        self.index.append(
            (stored.originator_id, stored.originator_version, stored.topic, offset,
             len(stored.state))
        )  # fmt: skip

    def write(self, app: NegotiationLedger) -> None:
        if self.file is None or app.snapshots is None:
            return
        try:
            self.file.seek(0)
            file = self.file
            write_snapshots(
                app.snapshots.recorder,
                (
                    StoredEvent(originator_id, version, topic, file.read(length))
                    for originator_id, version, topic, _, length in self.index
                ),
            )
        finally:
            self.close()

    def close(self) -> None:
        if self.file is not None:
            self.file.close()
            self.file = None


def _opening(app: NegotiationLedger, slug: str) -> Any:
    """A negotiation's opening event (its seats and alliance never change)."""
    first = app.recorder.select_events(negotiation_id(slug), limit=1)
    if not first:
        raise NotFoundError(f"no negotiation {slug!r} in this ledger (open it first)")
    return app.mapper.to_domain_event(first[0])


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
            batch = _Batch(app, dry_run)
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
    batch: _Batch,
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
    for spec in timeline.negotiations:
        if _open(app, batch, spec, timeline.alliance_of(spec), name):
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
    for key in list(groups):
        _fold(app, batch, groups.pop(key), name, step)
    # Rows in the order a save of (roster, alliances, talks) would give them.
    folded, batch.rows = batch.rows, []
    batch.done(batch.roster)
    for alliance in batch.alliances.values():
        batch.done(alliance)
    batch.rows.extend(folded)
    del folded
    report.recorded = total
    return report


def _holder_alliance(batch: _Batch, key: UUID) -> Alliance:
    return batch.alliance(batch.alliance_keys[key])


def _fold(
    app: NegotiationLedger,
    batch: _Batch,
    group: _Group,
    name: str,
    step: Callable[[], None],
) -> None:
    """Check, record and correct everything the file does to one aggregate."""
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
    if batch.in_file_order:
        fold_in_file_order(load, todo, known, by, name, step)
    else:
        _fold_by_date(batch, load, todo, name, step)
    if holder is not None and not isinstance(holder, Alliance):
        batch.done(holder)


def _fold_by_date(
    batch: _Batch,
    load: Callable[[], Storied[Any]],
    items: list[Item],
    name: str,
    step: Callable[[], None],
) -> None:
    """Record one aggregate's moves by date, then its corrections (the contract's order)."""
    by, known = batch.app.recorded_by, batch.roster.parties
    moves = sorted((i for i in items if i.what in ("move", "mirror")), key=_item_order)
    pending = sorted((i for i in items if "correction" in i.what), key=lambda i: i.index)
    applied: set[str] = set()
    early: set[int] = set()  # moves recorded ahead of their date, for a correction's sake
    for item in moves:
        if item.index in early:
            if item.what == "move":
                step()
            continue
        holder = load()
        try:
            record(known, holder, item, by)
        except SeatledgerError as error:
            # A move may hold only once a correction in the same file is applied (e.g. a
            # walk-out that was retracted, or one corrected to an earlier date): apply the
            # file's corrections early, recording the moves they correct first, then retry.
            if not _unblock(batch, holder, moves, pending, applied, early, by):
                raise refused(name, item, error) from error
            try:
                if item.index not in early:
                    record(known, holder, item, by)
            except SeatledgerError as again:
                raise refused(name, item, again) from again
        if item.what == "move":
            step()
    for item in pending:
        if item.move_id not in applied:
            try:
                correct(known, load(), item, by)
            except SeatledgerError as error:
                raise refused(name, item, error) from error
        if item.what == "correction":
            step()


def _load(app: NegotiationLedger, batch: _Batch, group: _Group) -> Storied[Any]:
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
        for move in batch.founding.get(alliance_slug or "", []):
            mirror_move(negotiation, move.move_id, move.kind, move.party or "", move.on, by)
        return negotiation
    if group.key in batch.alliance_keys:
        return batch.alliance(batch.alliance_keys[group.key])
    if group.slug is not None:
        return app.negotiation(group.slug)
    aggregate = app.load(group.key)
    assert isinstance(aggregate, Storied)
    return aggregate


def _apply_early(
    batch: _Batch, holder: Storied[Any], pending: list[Item], applied: set[str], by: str
) -> bool:
    """Apply the file's corrections whose moves are already recorded; True if any was."""
    progressed = False
    for item in pending:
        if item.move_id in applied or not holder.knows(item.of):
            continue
        try:
            correct(batch.roster.parties, holder, item, by)
        except SeatledgerError:
            continue  # it may hold later; it is tried again in its own turn
        applied.add(item.move_id)
        progressed = True
    return progressed


def _unblock(
    batch: _Batch,
    holder: Storied[Any],
    moves: list[Item],
    pending: list[Item],
    applied: set[str],
    early: set[int],
    by: str,
) -> bool:
    """Apply the file's corrections early, first those whose moves are recorded, else with them."""
    return _apply_early(batch, holder, pending, applied, by) or (
        _record_corrected(batch, holder, moves, pending, early, by)
        and _apply_early(batch, holder, pending, applied, by)
    )


def _record_corrected(
    batch: _Batch,
    holder: Storied[Any],
    moves: list[Item],
    pending: list[Item],
    early: set[int],
    by: str,
) -> bool:
    """Record, ahead of their date, the file's moves that a pending correction is waiting for.

    The ledger took them in that order when they were first recorded (the move, then its
    correction, then a move that holds only in the corrected story); True if any was.
    """
    waiting = {i.of for i in pending if not holder.knows(i.of)}
    progressed = False
    for item in moves:
        if item.index in early or _recorded_id(item, holder) not in waiting:
            continue
        try:
            record(batch.roster.parties, holder, item, by)
        except SeatledgerError:
            continue  # it may hold later; it is tried again in its own turn
        early.add(item.index)
        progressed = True
    return progressed


def _recorded_id(item: Item, holder: Storied[Any]) -> str:
    """The id the move is recorded under in this aggregate (a mirror has its own)."""
    return mirror_id(item.move_id, holder.slug) if item.what == "mirror" else item.move_id


def _form_alliances(app: NegotiationLedger, batch: _Batch, timeline: TimelineFile) -> None:
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
    app: NegotiationLedger,
    batch: _Batch,
    spec: NegotiationSpec,
    alliance_slug: str | None,
    name: str,
) -> bool:
    """Open the file's talks unless the ledger has them already (then check the seats)."""
    key = negotiation_id(spec.id)
    if app.exists(key):
        opening = _opening(app, spec.id)
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
        batch.alliance(alliance_slug).register_talks(spec.id, app.recorded_by)
    return True


def _order(item: tuple[int, AnyMove, str]) -> tuple[int, Any, int]:
    index, move, _ = item
    if isinstance(move, CorrectionSpec):
        return (1, 0, index)
    return (0, valid_instant(move.on), index)


def _item_order(item: Item) -> tuple[Any, int]:
    assert not isinstance(item.given, CorrectionSpec)
    return (valid_instant(item.given.on), item.index)


def _check_unchanged(holder: Storied[Any], move: AnyMove, move_id: str, label: str) -> None:
    recorded = holder.recorded.get(move_id)
    if isinstance(move, CorrectionSpec):
        if holder.corrections.get(move_id) == move.of:
            return
    elif recorded is not None and same_move(spec_move(move, move_id), recorded):
        return
    raise DuplicateMoveError(f"{label}: id {move_id} is already recorded with other content")
