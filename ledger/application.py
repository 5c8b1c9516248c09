"""NegotiationLedger: the eventsourcing Application; each command is load, decide, save."""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, TypeVar
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError, Application, ProcessingEvent
from eventsourcing.persistence import IntegrityError
from eventsourcing.utils import get_topic

from ledger.domain import moves as k
from ledger.domain.aggregate import fold_events
from ledger.domain.alliance import Alliance, AllianceFormed, AllianceState, PartyRoster, alliance_id
from ledger.domain.errors import (
    ConcurrencyError,
    DuplicateMoveError,
    InputError,
    NotFoundError,
    UnknownPartyError,
)
from ledger.domain.events import LedgerEvent
from ledger.domain.negotiation import Negotiation, mirror_id, mirror_move, negotiation_id
from ledger.domain.snapshot import StorySnapshot
from ledger.domain.state import NegotiationState
from ledger.domain.story_aggregate import Storied
from ledger.domain.values import ValidTime
from ledger.identity import default_recorder_name, recorder_name
from ledger.persistence.mapper import PydanticMapper
from ledger.persistence.prefetch import Prefetched
from ledger.persistence.recorders import DuplicateMoveIdError, SqlApplicationRecorder
from ledger.persistence.snapshots import write_snapshots
from ledger.spec_events import (
    ALLIANCE_ONLY,
    EVENT_FOR_TYPE,
    changes_of,
    event_fields,
    parties_named,
    same_move,
    spec_move,
)
from ledger.timeline.document import (
    AllianceSpec,
    AnyMove,
    CorrectionSpec,
    NegotiationSpec,
    move_id_for,
)

A = TypeVar("A")
MAX_ATTEMPTS = 12
BACKOFF_SECONDS = 0.005  # doubled per attempt, with full jitter, up to about half a second
SNAPSHOT_EVERY = 200


@dataclass(frozen=True)
class Outcome:
    """What a command did: the move id, and where the talks stand afterwards."""

    move_id: str
    status: str  # "recorded", "unchanged" or "checked" (a dry run)
    negotiation: str | None = None
    state: NegotiationState | AllianceState | None = None
    # Where the talks stood just after the move, on its date (None when that is `state`).
    then: NegotiationState | AllianceState | None = None
    on: ValidTime | None = None


class NegotiationLedger(Application[UUID]):
    """Records negotiation moves as events; decides each with the one rules function."""

    name = "seatledger"
    env: ClassVar[dict[str, str]] = {
        "PERSISTENCE_MODULE": "ledger.persistence.factory",
        "MAPPER_TOPIC": get_topic(PydanticMapper),
        "IS_SNAPSHOTTING_ENABLED": "y",
    }
    snapshot_class = StorySnapshot

    def __init__(
        self, url: str, *, recorded_by: str | None = None, env: dict[str, str] | None = None
    ) -> None:
        super().__init__({**(env or {}), "SEATLEDGER_DB_URL": url})
        self.url = url
        self.recorded_by = recorder_name(recorded_by or default_recorder_name())

    @property
    def store(self) -> SqlApplicationRecorder:
        """The recorder, with the ledger's own queries (move index, notifications)."""
        recorder = self.recorder
        assert isinstance(recorder, SqlApplicationRecorder)
        return recorder

    # -- loading --------------------------------------------------------------

    def load(self, aggregate_id: UUID, prefetched: Prefetched | None = None) -> Any:
        """Load any aggregate by id (from what `prefetch` read for it, if it did)."""
        decode, store = self.mapper.to_domain_event, self.store
        found = prefetched.load(aggregate_id, decode, store) if prefetched else None
        if found is None:
            found = self.repository.get(aggregate_id, projector_func=fold_events)
        return found

    def negotiation(self, slug: str, prefetched: Prefetched | None = None) -> Negotiation:
        """Load a negotiation by slug, or say it does not exist."""
        try:
            found: Any = self.load(negotiation_id(slug), prefetched)
        except AggregateNotFoundError:
            raise NotFoundError(f"no negotiation {slug!r} in this ledger (open it first)") from None
        assert isinstance(found, Negotiation)
        return found

    def alliance(self, slug: str) -> Alliance:
        """Load an alliance by slug, or say it does not exist."""
        try:
            found: Any = self.load(alliance_id(slug))
        except AggregateNotFoundError:
            raise NotFoundError(f"no alliance {slug!r} in this ledger") from None
        assert isinstance(found, Alliance)
        return found

    def roster(self) -> PartyRoster:
        """The ledger's known parties (empty before the first registration)."""
        try:
            found: Any = self.load(PartyRoster().id)
        except AggregateNotFoundError:
            return PartyRoster()
        assert isinstance(found, PartyRoster)
        return found

    def exists(self, aggregate_id: UUID) -> bool:
        """True if any event of this aggregate is stored."""
        return bool(self.recorder.select_events(aggregate_id, limit=1))

    def alliance_slugs(self) -> list[str]:
        """Every alliance formed in this ledger."""
        topic = get_topic(AllianceFormed)
        slugs: list[str] = []
        start: int | None = None
        while True:
            page = self.recorder.select_notifications(start, 500, topics=[topic])
            if not page:
                return slugs
            slugs.extend(self.mapper.to_domain_event(n).alliance for n in page)  # type: ignore[attr-defined]
            start = page[-1].id + 1

    def locate(self, move_id: str) -> Storied[Any] | None:
        """The aggregate that holds a recorded move, via the ledger-wide move index."""
        found = self.store.find_moves([move_id])
        if move_id not in found:
            return None
        aggregate = self.load(found[move_id][0])
        assert isinstance(aggregate, Storied)
        return aggregate

    # -- commands -------------------------------------------------------------

    def register_parties(
        self, parties: dict[str, str], colours: dict[str, str] | None = None
    ) -> None:
        """Make party codes known (names optional), with any chart colours chosen for them."""
        self._retrying(lambda: self._register(parties, colours or {}), dry_run=False)

    def form_alliance(self, spec: AllianceSpec, *, dry_run: bool = False) -> Outcome:
        """Form an alliance (unchanged if it already exists)."""
        move_id = f"{spec.id}/formed"
        if self.exists(alliance_id(spec.id)):
            return Outcome(move_id, "unchanged", state=self.alliance(spec.id).state)

        def decide() -> list[Any]:
            roster = self.roster()
            roster.register({p: "" for p in spec.members}, self.recorded_by)
            alliance = Alliance.form(
                alliance=spec.id, name=spec.name, members=spec.members, move_id=move_id,
                occurred_on=spec.formed_on, recorded_by=self.recorded_by,
            )  # fmt: skip
            return [alliance, roster]

        saved = self._retrying(decide, dry_run)
        return Outcome(move_id, _status(dry_run), state=saved[0].state)

    def open(
        self, spec: NegotiationSpec, *, alliance: str | None = None, dry_run: bool = False
    ) -> Outcome:
        """Open talks; the opening's move id is `<negotiation>/opened`."""
        move_id = f"{spec.id}/opened"
        if self.exists(negotiation_id(spec.id)):
            current = self.negotiation(spec.id).state
            same = (current.seats, current.alliance, current.election)
            if same == (spec.seats, alliance, spec.election):
                return Outcome(move_id, "unchanged", spec.id, current)
            raise DuplicateMoveError(
                f"negotiation {spec.id!r} already exists ({current.seats} seats, alliance "
                f"{current.alliance}, election {current.election}); it cannot be opened again "
                "with other terms"
            )

        def decide() -> list[Any]:
            roster = self.roster()
            roster.register({p: "" for p in spec.parties}, self.recorded_by)
            negotiation = Negotiation.open(
                negotiation=spec.id, title=spec.title or spec.id, region=spec.region,
                seats=spec.seats, parties=spec.parties, alliance=alliance, move_id=move_id,
                occurred_on=spec.opened_on, source=spec.source, note=spec.note,
                recorded_by=self.recorded_by, election=spec.election,
                constituencies=spec.constituencies or [],
            )  # fmt: skip
            touched: list[Any] = [negotiation, roster]
            if alliance is not None:
                coalition = self.alliance(alliance)
                for move in coalition.membership_moves():
                    mirror_move(
                        negotiation,
                        move.move_id,
                        move.kind,
                        move.party or "",
                        move.on,
                        self.recorded_by,
                    )
                coalition.register_talks(spec.id, self.recorded_by)
                touched.append(coalition)
            return touched

        saved = self._retrying(decide, dry_run)
        return Outcome(move_id, _status(dry_run), spec.id, saved[0].state)

    def record(
        self, spec: AnyMove, *, alliance: str | None = None, dry_run: bool = False
    ) -> Outcome:
        """Record one move (or correction); re-recording the same move changes nothing."""
        move_id = move_id_for(spec)
        existing = self.locate(move_id)
        if existing is not None:
            recorded = existing.recorded.get(move_id)
            given = spec_move(spec, move_id)
            if (recorded is not None and same_move(given, recorded)) or (
                isinstance(spec, CorrectionSpec) and existing.corrections.get(move_id) == spec.of
            ):
                return Outcome(move_id, "unchanged", existing.slug, existing.state)
            raise DuplicateMoveError(
                f"move id {move_id} is already recorded (in {existing.slug}) with other content"
            )
        if isinstance(spec, CorrectionSpec):
            return self._correct(spec, move_id, dry_run)
        self._check_known(spec)

        def decide() -> list[Any]:
            if spec.negotiation is None or spec.type in ALLIANCE_ONLY:
                return self._alliance_move(spec, move_id, alliance)
            negotiation = self.negotiation(spec.negotiation)
            negotiation.record(
                EVENT_FOR_TYPE[spec.type], **event_fields(spec, move_id, self.recorded_by)
            )
            return [negotiation]

        saved = self._retrying(decide, dry_run)
        after = saved[0].state_after(move_id)
        then, on = after if after is not None else (None, None)
        return Outcome(move_id, _status(dry_run), saved[0].slug, saved[0].state, then, on)

    # -- internals ------------------------------------------------------------

    def _register(self, parties: dict[str, str], colours: dict[str, str]) -> list[Any]:
        roster = self.roster()
        roster.register(parties, self.recorded_by)
        roster.choose_colours(colours, self.recorded_by)
        return [roster]

    def _check_known(self, spec: AnyMove) -> None:
        known = self.roster().parties
        for code in parties_named(spec):
            if code not in known:
                raise UnknownPartyError.of(code, known, f"move {spec.id or spec.type}")

    def _alliance_move(self, spec: AnyMove, move_id: str, slug: str | None) -> list[Any]:
        slug = slug or self._alliance_for(spec)
        alliance = self.alliance(slug)
        alliance.record(EVENT_FOR_TYPE[spec.type], **event_fields(spec, move_id, self.recorded_by))
        touched: list[Any] = [alliance]
        if spec.type in ALLIANCE_ONLY:
            for talks in alliance.talks:
                negotiation = self.negotiation(talks)
                mirror_move(
                    negotiation,
                    move_id,
                    spec.type,
                    getattr(spec, "party", ""),
                    spec.on,
                    self.recorded_by,
                )
                touched.append(negotiation)
        return touched

    def _alliance_for(self, spec: AnyMove) -> str:
        if spec.negotiation is not None:
            state = self.negotiation(spec.negotiation).state
            if state.alliance is None:
                raise InputError(
                    f"move {spec.id or spec.type}: {spec.negotiation} belongs to no alliance"
                )
            return state.alliance
        slugs = self.alliance_slugs()
        if len(slugs) != 1:
            raise InputError(
                f"move {spec.id or spec.type}: an alliance-level move needs exactly one alliance "
                f"in the ledger (found {len(slugs)}); give the move a negotiation of that alliance"
            )
        return slugs[0]

    def _correct(self, spec: CorrectionSpec, move_id: str, dry_run: bool) -> Outcome:
        holder = self.locate(spec.of)
        if holder is None:
            raise NotFoundError(f"correction {move_id}: no recorded move {spec.of!r}")
        changes = changes_of(spec)
        known = self.roster().parties
        for code in [*(spec.split or {}), *([spec.by] if spec.by else [])]:
            if code not in known:
                raise UnknownPartyError.of(code, known, f"correction {move_id}")

        def decide() -> list[Any]:
            target = self.load(holder.id)
            target.correct(
                move_id=move_id, of=spec.of, retract=spec.retract, changes=changes,
                reason=spec.reason, recorded_by=self.recorded_by,
            )  # fmt: skip
            touched = [target]
            if (
                isinstance(target, Alliance)
                and target.recorded[spec.of].kind in k.ALLIANCE_MEMBERSHIP
            ):
                for talks in target.talks:
                    negotiation = self.negotiation(talks)
                    negotiation.correct(
                        move_id=mirror_id(move_id, talks), of=mirror_id(spec.of, talks),
                        retract=spec.retract, changes=changes, reason=spec.reason,
                        recorded_by=self.recorded_by, mirror=True,
                    )  # fmt: skip
                    touched.append(negotiation)
            return touched

        saved = self._retrying(decide, dry_run)
        return Outcome(move_id, _status(dry_run), saved[0].slug, saved[0].state)

    def _retrying(self, decide: Callable[[], list[Any]], dry_run: bool) -> list[Any]:
        """Load, decide, save; on a version conflict reload and decide again."""
        for attempt in range(MAX_ATTEMPTS):
            if attempt:
                # Writers that collided must not collide again in lock-step.
                time.sleep(random.uniform(0, BACKOFF_SECONDS * 2 ** min(attempt, 7)))
            touched = decide()
            if dry_run:
                return touched
            try:
                self.save(*touched)
            except DuplicateMoveIdError as error:
                raise DuplicateMoveError(
                    f"move id(s) {', '.join(error.move_ids)} already recorded by another writer"
                ) from None
            except IntegrityError:
                continue
            return touched
        raise ConcurrencyError(
            f"gave up after {MAX_ATTEMPTS} attempts: other writers kept changing the same talks; "
            "nothing was recorded, try again"
        )

    def _take_snapshots(self, processing_event: ProcessingEvent[UUID]) -> None:
        # The library reloads each aggregate to snapshot it; ours are in memory already.
        if self.snapshots is None:
            return
        # One pass over the events (an import saves hundreds of aggregates at once).
        crossed = {
            e.originator_id for e in processing_event.events
            if e.originator_version % SNAPSHOT_EVERY == 0
        }  # fmt: skip
        # Each snapshot is encoded as soon as it is taken, and written in batches of a
        # bounded size: an import of 100k events into 500 talks of 2,000 moves each
        # snapshots all of them, and holding every snapshot's JSON tree at once (1M move
        # dicts) was the import's peak memory.
        store = self.snapshots
        write_snapshots(
            store.recorder,
            (
                store.mapper.to_stored_event(StorySnapshot.take(aggregate))
                for aggregate_id, aggregate in processing_event.aggregates.items()
                if aggregate_id in crossed and isinstance(aggregate, Storied)
            ),
        )


def _status(dry_run: bool) -> str:
    return "checked" if dry_run else "recorded"


__all__ = ["LedgerEvent", "NegotiationLedger", "Outcome", "Sequence"]
