"""One thing a timeline file does to one aggregate (record a move, mirror an alliance move,
apply a correction), and the replay of a file that says `order: recorded`.

A file in date order (the contract's) is recorded by `importer` by date, with its corrections
last. A file that says `order: recorded` lists its moves and corrections in the order the
ledger first took them (`seatledger export` writes such a file when it holds a correction):
each aggregate's items are then recorded one after another in the file's order, so that a
move is checked against the story it was first checked against. By date, a corrected move's
first form would meet facts recorded after it but dated before it, and could be refused.
Talks the file opens may have opened after some of their alliance's items: they then copied
those as corrected so far, and the import opens them there (`fold_in_file_order`).
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from ledger.domain.errors import InputError, MoveRefusedError, SeatledgerError, reason
from ledger.domain.moves import Move
from ledger.domain.negotiation import Negotiation, mirror_id, mirror_move
from ledger.domain.story_aggregate import Storied, corrected
from ledger.spec_events import EVENT_FOR_TYPE, changes_of, event_fields, parties_named
from ledger.timeline.document import AnyMove, CorrectionSpec

ORDER_RECORDED = "recorded"
MIRRORED = ("mirror", "mirror-correction")  # an alliance's item copied into its talks


@dataclass(slots=True)
class Item:
    """One thing to do to one aggregate: record, mirror, check or correct a file's move."""

    index: int
    given: AnyMove
    move_id: str
    what: str  # "check", "move", "mirror", "correction", "mirror-correction"
    of: str = ""  # for corrections: the id of the corrected move in this aggregate


def label(name: str, move: AnyMove, index: int) -> str:
    """How an error names a move of the file: its id if it has one, and its position."""
    return f"{name}: move {move.id!r} (#{index + 1})" if move.id else f"{name}: move #{index + 1}"


def refused(name: str, item: Item, error: SeatledgerError) -> MoveRefusedError:
    """The error that refuses the file at this item, naming the move and why."""
    why = reason(error, item.given.id, item.move_id)
    return MoveRefusedError(f"{label(name, item.given, item.index)}: {why}")


def record(known: Collection[str], holder: Storied[Any], item: Item, by: str) -> None:
    """Record a file's move (or an alliance move's copy) on its aggregate."""
    move = item.given
    assert not isinstance(move, CorrectionSpec)
    if item.what == "mirror":
        assert isinstance(holder, Negotiation)
        mirror_move(holder, item.move_id, move.type, getattr(move, "party", ""), move.on, by)
        return
    _check_parties(known, move)
    holder.record(EVENT_FOR_TYPE[move.type], **event_fields(move, item.move_id, by))


def correct(known: Collection[str], holder: Storied[Any], item: Item, by: str) -> None:
    """Apply a file's correction (or an alliance correction's copy) on its aggregate."""
    move = item.given
    assert isinstance(move, CorrectionSpec)
    if item.what == "correction":
        _check_parties(known, move)
    changes = changes_of(move)
    common = {"retract": move.retract, "changes": changes, "reason": move.reason, "recorded_by": by}
    if item.what == "mirror-correction":
        mirrored = mirror_id(item.move_id, holder.slug)
        holder.correct(move_id=mirrored, of=item.of, mirror=True, **common)
    else:
        holder.correct(move_id=item.move_id, of=item.of, **common)


def _check_parties(known: Collection[str], move: AnyMove) -> None:
    for code in parties_named(move):
        if code not in known:
            raise InputError(f"unknown party {code!r}")


def fold_in_file_order(
    load: Callable[[], Storied[Any]],
    items: Iterable[Item],
    known: Collection[str],
    by: str,
    name: str,
    step: Callable[[], None],
    reopen: Callable[[int], bool] | None = None,
) -> None:
    """Record one aggregate's items one after another, in the order the file gives them.

    `reopen` (talks the file opens under an alliance): the talks may have opened after some
    of the alliance's items listed before its first own one, and copied them as they then
    stood. When such a copy is refused, the talks is opened again just after it, then after
    each next one, until its copies hold (`reopen(index)` is True); else the file is refused.
    """
    ordered = sorted(items, key=lambda i: i.index)
    own = next((i.index for i in ordered if i.what in ("move", "correction")), None)
    refusal: MoveRefusedError | None = None  # a copy refused: the talks opened after it
    for item in ordered:
        if refusal is not None:
            if not _before_own(item, own):
                raise refusal
            if reopen is not None and reopen(item.index):
                refusal = None
            continue
        try:
            _take(load(), item, known, by, name)
        except MoveRefusedError as error:
            if reopen is None or not _before_own(item, own):
                raise
            refusal = None if reopen(item.index) else error
        if item.what in ("move", "correction"):
            step()
    if refusal is not None:
        raise refusal


def _before_own(item: Item, own: int | None) -> bool:
    """True for a copy listed before the talks' first own item (`own`): taken, maybe, on opening."""
    return item.what in MIRRORED and (own is None or item.index < own)


def _take(holder: Storied[Any], item: Item, known: Collection[str], by: str, name: str) -> None:
    """Record or apply one item on its aggregate, or refuse the file there."""
    if isinstance(item.given, CorrectionSpec) and not holder.knows(item.of):
        raise MoveRefusedError(
            f"{label(name, item.given, item.index)}: it corrects {item.given.of!r}, which "
            "the file does not record before it (in a file with 'order: recorded', a "
            "correction comes after the move it corrects)"
        )
    try:
        if isinstance(item.given, CorrectionSpec):
            correct(known, holder, item, by)
        else:
            record(known, holder, item, by)
    except SeatledgerError as error:
        raise refused(name, item, error) from error


def copies_after(
    founding: Iterable[Move], recorded: Mapping[str, Move], items: Iterable[Item], index: int
) -> list[Move]:
    """The alliance's membership moves as they stood just after the file's item `index`.

    What talks opened then copy: `founding` (the alliance's before the file) and the file's
    membership moves up to `index` (first forms from `recorded`), each with the file's
    corrections up to `index` applied and none retracted, in the alliance's story order.
    """
    moves = {move.move_id: move for move in founding}
    for item in sorted(items, key=lambda i: i.index):
        if item.index > index:
            break
        if item.what == "mirror":
            moves[item.move_id] = recorded[item.move_id]
        elif item.what == "mirror-correction":
            assert isinstance(item.given, CorrectionSpec)
            of = item.given.of
            if item.given.retract:
                moves.pop(of, None)
            elif of in moves:
                moves[of] = corrected(moves[of], changes_of(item.given))
    return sorted(moves.values(), key=lambda move: move.key)
