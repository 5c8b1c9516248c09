"""Aggregates whose state is a valid-time story of moves: decide, correct, replay."""

from __future__ import annotations

from collections.abc import Callable, MutableMapping
from dataclasses import replace
from typing import Any, Generic, TypeVar
from uuid import UUID

from ledger.domain import aggregate
from ledger.domain import moves as k
from ledger.domain.aggregate import EventSourced
from ledger.domain.errors import (
    CorrectionError,
    DuplicateMoveError,
    LateMoveConflictError,
    RuleError,
)
from ledger.domain.events import (
    Changes,
    LedgerEvent,
    MoveCorrected,
    MoveEvent,
    named_move_field,
)
from ledger.domain.moves import Move
from ledger.domain.story import Plan, Resolver, Story
from ledger.domain.values import ValidTime

S = TypeVar("S")
E = TypeVar("E", bound=MoveEvent)


def corrected(move: Move, changes: Changes) -> Move:
    """The move as a correction says it should read; recording order is kept."""
    if changes.split is not None and move.kind not in k.WITH_SPLIT:
        raise CorrectionError(f"move {move.move_id} is a {move.kind}: it has no split to correct")
    if changes.by is not None and move.kind not in k.WITH_BY:
        raise CorrectionError(f"move {move.move_id} is a {move.kind}: it has no 'by' to correct")
    return replace(
        move,
        on=changes.on if changes.on is not None else move.on,
        split=changes.split if changes.split is not None else move.split,
        named=named_move_field(changes.named or {}) if changes.split is not None else move.named,
        by=changes.by if changes.by is not None else move.by,
        source=changes.source if changes.source is not None else move.source,
        note=changes.note if changes.note is not None else move.note,
    )


class Storied(EventSourced, Generic[S]):
    """An aggregate that keeps its moves as a story folded by one rules function."""

    label = "story"

    def __init__(
        self,
        id: UUID,
        slug: str,
        initial: S,
        apply: Callable[[S, Move], S],
        resolve: Resolver[S] | None = None,
        never_refused: Callable[[Move], bool] | None = None,
    ) -> None:
        super().__init__(id)
        self.slug = slug
        self.story: Story[S] = Story(initial, apply, never_refused)
        self._resolve = resolve
        self.recorded: MutableMapping[str, Move] = {}  # every move as first recorded, by id
        self.corrections: dict[str, str] = {}  # correction id -> corrected move id
        self.retracted: set[str] = set()
        self._planned: tuple[str, Plan[S]] | None = None
        self.snapshot_version = 0  # of the snapshot it was loaded from (0: none)

    def record(self, event_class: type[MoveEvent], **fields: Any) -> MoveEvent:
        """Record one move after checking it against the whole story."""
        return self._decide(event_class, fields)

    def correct(self, **fields: Any) -> MoveCorrected:
        """Retract or correct an earlier move."""
        of, move_id = fields["of"], fields["move_id"]
        self._check_new_id(move_id)
        if of in self.corrections:
            raise CorrectionError(
                f"{of} is itself a correction; correct the original move "
                f"{self.corrections[of]} instead"
            )
        current = self.story.find(of)
        if current is None:
            why = "was already retracted from" if of in self.retracted else "is not a move of"
            raise CorrectionError(f"move {of} {why} the {self.slug} {self.label}")
        changes: Changes = fields.get("changes") or Changes()
        retract = bool(fields.get("retract"))
        if not retract and changes == Changes():
            raise CorrectionError(f"correction {move_id}: say what to correct, or retract")
        if current.kind in (k.OPENED, "alliance_formed") and (retract or changes.on is not None):
            raise CorrectionError(
                f"correction {move_id}: the opening of the {self.label} cannot be "
                "retracted or moved"
            )
        replacement = None if retract else corrected(current, changes)
        try:
            plan = self.story.plan_replace(of, replacement)
        except LateMoveConflictError as error:
            raise LateMoveConflictError(
                f"correction {move_id} of {of}: {error}", broken_move=error.broken_move
            ) from error
        except RuleError as error:
            raise type(error)(f"correction {move_id} of {of}: {error}") from error
        self._planned = (move_id, plan)
        return self._trigger(MoveCorrected, **fields)

    @property
    def state(self) -> S:
        """Where things stand now, on the latest date, as known now."""
        return self.story.final

    def state_after(self, move_id: str) -> tuple[S, ValidTime] | None:
        """Where things stood just after a move, on its own date, and that date (None: unknown)."""
        moves = self.story.moves
        for index in range(len(moves) - 1, -1, -1):
            if moves[index].move_id == move_id:
                return self.story.state_before(index + 1), moves[index].on
        return None

    def knows(self, move_id: str) -> bool:
        """True if a move or correction with this id is recorded here."""
        return move_id in self.recorded or move_id in self.corrections

    def _check_new_id(self, move_id: str) -> None:
        if self.knows(move_id):
            raise DuplicateMoveError(f"move id {move_id} is already recorded in {self.slug}")

    def _decide(self, event_class: type[MoveEvent], fields: dict[str, Any]) -> MoveEvent:
        self._check_new_id(fields["move_id"])
        event = self._new_move_event(event_class, fields)
        plan = self.story.plan_add(event.to_move(), self._resolve)
        resolved = plan.move
        if resolved is not None:
            kind = event_class.kind
            if kind == k.COUNTER_OFFER:
                event = event.updated("in_reply_to", resolved.target)
            elif kind in k.ANSWERS:
                event = event.updated("of", resolved.target)
            elif kind == k.AGREEMENT:
                event = event.updated("signatories", list(resolved.parties))
        self._planned = (event.move_id, plan)
        return self._apply_new(event)

    def _new_move_event(self, event_class: type[E], fields: dict[str, Any]) -> E:
        """The next event, as `_new_event` validates it; without pydantic when it may be."""
        if "originator_id" not in fields and "originator_version" not in fields:
            values = dict(fields)
            # The clock as `_new_event` reads it (looked up at each call: tests pin it).
            values["timestamp"] = values.pop("timestamp", None) or aggregate.now()
            values["originator_id"] = self.id
            values["originator_version"] = self.version + 1
            event = event_class.checked(values)
            if event is not None:
                return event
            fields = values  # validate these very values (and the same clock reading)
            fields.pop("originator_id")
            fields.pop("originator_version")
        return self._new_event(event_class, fields)

    def _on_event(self, event: LedgerEvent) -> None:
        planned, self._planned = self._planned, None
        if isinstance(event, MoveCorrected):
            self._on_correction(event, planned)
        elif isinstance(event, MoveEvent):
            if planned is not None and planned[0] == event.move_id:
                plan = planned[1]  # decided just now: its move is already built
                move = plan.move if plan.move is not None else event.to_move()
            else:
                move = event.to_move()
                plan = self.story.plan_add(move, self._resolve)
            self.story.commit(plan)
            self.recorded[event.move_id] = move
        else:
            self._on_other_event(event)

    def _on_other_event(self, event: LedgerEvent) -> None:
        """Events that are not moves (e.g. an alliance registering talks)."""

    def snapshot_extra(self) -> dict[str, Any]:
        """State beyond the story that a snapshot must keep."""
        return {}

    def restore_extra(self, extra: dict[str, Any]) -> None:
        """Restore what snapshot_extra kept."""

    def _on_correction(self, event: MoveCorrected, planned: tuple[str, Plan[S]] | None) -> None:
        if planned is not None and planned[0] == event.move_id:
            plan = planned[1]
        else:
            current = self.story.find(event.of)
            if current is None:
                raise CorrectionError(f"stored correction {event.move_id} names unknown {event.of}")
            replacement = None if event.retract else corrected(current, event.changes)
            plan = self.story.plan_replace(event.of, replacement)
        self.story.commit(plan)
        self.corrections[event.move_id] = event.of
        if event.retract:
            self.retracted.add(event.of)
