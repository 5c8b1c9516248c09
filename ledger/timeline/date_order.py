"""Importing a file in date order (the contract's order, for files written by hand).

Each aggregate's moves are recorded by date, then its corrections. A move that holds only
once a correction in the same file is applied (a walk-out that was retracted, a move
corrected to an earlier date) is retried after applying the file's corrections early. Talks
the file opens copy an alliance move whose first form breaks them as the file corrects it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ledger.domain.errors import (
    SeatledgerError,
)
from ledger.domain.moves import Move
from ledger.domain.negotiation import Negotiation, mirror_id, mirror_move
from ledger.domain.story_aggregate import Storied, corrected
from ledger.domain.values import valid_instant
from ledger.spec_events import changes_of
from ledger.timeline.batch import Batch
from ledger.timeline.document import (
    CorrectionSpec,
)
from ledger.timeline.items import (
    Item,
    correct,
    record,
    refused,
)


def fold_by_date(
    batch: Batch,
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
            # Talks the file opens may have copied an alliance move as corrected (last: a file
            # that imported without it keeps its rows).
            if not _unblock(batch, holder, moves, pending, applied, early, by):
                if _copied_as_corrected(batch, holder, item, pending, applied):
                    continue
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


def _copied_as_corrected(
    batch: Batch, holder: Storied[Any], item: Item, pending: list[Item], applied: set[str]
) -> bool:
    """Copy an alliance move into talks the file opens as the file's corrections have it.

    Talks opened after the alliance corrected a membership move copied it as corrected (or,
    retracted, not at all): when its first form breaks the talks, they opened after its
    corrections, taken one at a time until the copy holds; True if it then does.
    """
    slug = batch.alliance_slugs.get(holder.slug) if holder.slug in batch.openings else None
    if item.what != "mirror" or slug is None:
        return False
    move: Move | None = batch.alliance(slug).recorded[item.move_id]
    fixes = [
        fix
        for fix in pending
        if fix.what == "mirror-correction" and fix.move_id not in applied
        and isinstance(fix.given, CorrectionSpec) and fix.given.of == item.move_id
    ]  # fmt: skip
    assert isinstance(holder, Negotiation)
    for count, fix in enumerate(fixes, 1):
        assert isinstance(fix.given, CorrectionSpec) and move is not None
        move = None if fix.given.retract else corrected(move, changes_of(fix.given))
        try:
            if move is not None:
                by = batch.app.recorded_by
                mirror_move(holder, move.move_id, move.kind, move.party or "", move.on, by)
        except SeatledgerError:
            continue
        applied.update(taken.move_id for taken in fixes[:count])
        return True
    return False


def _apply_early(
    batch: Batch, holder: Storied[Any], pending: list[Item], applied: set[str], by: str
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
    batch: Batch,
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
    batch: Batch,
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


def _item_order(item: Item) -> tuple[Any, int]:
    assert not isinstance(item.given, CorrectionSpec)
    return (valid_instant(item.given.on), item.index)
