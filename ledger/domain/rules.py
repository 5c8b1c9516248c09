"""The one rules function: what a move does to a negotiation, or why it may not."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from types import MappingProxyType

from ledger.domain import moves as k
from ledger.domain import seats as seat_rules
from ledger.domain.answering import answered as _answered
from ledger.domain.answering import default_target, resolve
from ledger.domain.errors import (
    AgreementStateError,
    MoveBeforeOpeningError,
    PactSignatoriesError,
    PartyLeftAllianceError,
    PartyNotAtTableError,
    RuleError,
    SignatoriesError,
    TalksEndedError,
)
from ledger.domain.moves import Move
from ledger.domain.state import (
    AGREED,
    NEGOTIATING,
    NO_DEAL,
    NO_SEATING,
    OPENED,
    UNOPENED,
    NegotiationState,
    Offer,
    Seating,
)
from ledger.domain.values import Split, check_split, valid_instant

__all__ = [
    "AGREED", "NEGOTIATING", "NO_DEAL", "OPENED", "UNOPENED", "NegotiationState", "Offer",
    "apply", "default_target", "resolve",
]  # fmt: skip


def _require_at_table(state: NegotiationState, party: str | None, move: Move) -> None:
    if party is None:
        raise RuleError(f"move {move.move_id}: a {move.kind} needs a party ('by')")
    if party in state.departed:
        raise PartyLeftAllianceError(
            f"move {move.move_id}: {party} left the {state.alliance} alliance and may make "
            f"no move in these talks"
        )
    if party not in state.at_table:
        raise PartyNotAtTableError(
            f"move {move.move_id}: {party} is not at the {state.negotiation} table on {move.on}"
        )


def _by(move: Move) -> str:
    if move.by is None:
        raise RuleError(f"move {move.move_id}: a {move.kind} needs a party ('by')")
    return move.by


def _split(move: Move) -> Split:
    if move.split is None:
        raise RuleError(f"move {move.move_id}: a {move.kind} needs a split")
    return move.split


def _lapse(offers: tuple[Offer, ...], maker: str) -> tuple[Offer, ...]:
    for offer in offers:
        if offer.maker == maker:
            return tuple(o for o in offers if o.maker != maker)
    return offers  # nothing of the maker's is open: the very same tuple


def _with_position(
    state: NegotiationState, party: str, split: Split
) -> MappingProxyType[str, Split]:
    positions = dict(state.positions)
    positions[party] = split
    return MappingProxyType(positions)


def apply(state: NegotiationState, move: Move) -> NegotiationState:
    """Return the state after `move`, or raise a RuleError that names the move."""
    # The fold's innermost step (every move, every replay, every re-fold of a late move
    # or a correction): the same checks in the same order, with as few calls as may be.
    kind = move.kind
    early = _ANY_STATUS.get(kind)
    if early is not None:
        return early(state, move)
    status = state.status
    if status == UNOPENED:
        raise MoveBeforeOpeningError(
            f"move {move.move_id}: dated {move.on}, before the talks opened"
        )
    on, opened = move.on, state.opened_on
    if (
        on < opened
        if type(on) is date and type(opened) is date  # two dates: no instants needed
        else valid_instant(on) < valid_instant(opened)  # type: ignore[arg-type]
    ):
        raise MoveBeforeOpeningError(
            f"move {move.move_id}: dated {move.on}, before the talks opened on {state.opened_on}"
        )
    if kind == k.NOTE:
        return state
    if status == NO_DEAL:
        raise TalksEndedError(
            f"move {move.move_id}: the {state.negotiation} talks had ended by {move.on}; "
            f"only notes and corrections may follow"
        )
    handler = _HANDLERS.get(kind)
    if handler is None:
        raise RuleError(f"move {move.move_id}: {kind!r} is not a negotiation move")
    return handler(state, move)


def _evolve(
    state: NegotiationState,
    status: str,
    at_table: frozenset[str],
    departed: frozenset[str],
    offers: tuple[Offer, ...],
    agreed: Split | None,
    positions: MappingProxyType[str, Split],
    seating: Seating | None = None,
) -> NegotiationState:
    """The state with the fields a move may change replaced (the others kept).

    `dataclasses.replace` builds the same object at two to three times the cost: it
    reads every field by name and calls the constructor with keywords.
    """
    return NegotiationState(
        state.negotiation,
        status,
        state.title,
        state.region,
        state.seats,
        state.alliance,
        state.opened_on,
        at_table,
        departed,
        offers,
        agreed,
        positions,
        state.election,
        state.seating if seating is None else seating,
    )


def _open(state: NegotiationState, move: Move) -> NegotiationState:
    if state.status != UNOPENED:
        raise RuleError(f"move {move.move_id}: the talks are already open")
    parties = frozenset(move.parties)
    gone = parties & state.departed
    if gone:
        raise PartyLeftAllianceError(
            f"move {move.move_id}: {', '.join(sorted(gone))} had left the {move.alliance} "
            f"alliance before the talks opened on {move.on}"
        )
    return replace(
        state,
        status=OPENED,
        title=move.title or "",
        region=move.region or "",
        seats=move.seats or 0,
        alliance=move.alliance,
        election=move.election,
        opened_on=move.on,
        at_table=parties,
        seating=seat_rules.listed(NO_SEATING, move.names, move.seats or 0, move),
    )


def never_refused(move: Move) -> bool:
    """True for a move `apply` takes in any state: an alliance's join or leave, mirrored."""
    return move.kind in k.ALLIANCE_MEMBERSHIP


def _membership(state: NegotiationState, move: Move) -> NegotiationState:
    party = move.party or ""
    s = state
    if move.kind == k.PARTY_JOINED_ALLIANCE:
        departed = s.departed - {party}
        return _evolve(s, s.status, s.at_table, departed, s.offers, s.agreed, s.positions)
    if s.status == AGREED and party in s.at_table:
        at_table, departed = s.at_table - {party}, s.departed | {party}
        seating = seat_rules.without(s.seating, party, agreed=True)
        return _evolve(
            s, s.status, at_table, departed, s.offers, _given_back(s, party), s.positions, seating
        )
    if s.status in (UNOPENED, AGREED, NO_DEAL) or party not in s.at_table:
        departed = s.departed | {party}
        return _evolve(s, s.status, s.at_table, departed, s.offers, s.agreed, s.positions)
    return _evolve(
        s,
        s.status,
        s.at_table - {party},
        s.departed | {party},
        _lapse(s.offers, party),
        s.agreed,
        s.positions,
        seat_rules.without(s.seating, party, agreed=False),
    )


def _not_after_agreement(state: NegotiationState, move: Move) -> None:
    if state.status == AGREED:
        raise AgreementStateError(
            f"move {move.move_id}: the {state.negotiation} talks were agreed before {move.on}; "
            f"record an amendment to change the agreed split"
        )


def _meeting(state: NegotiationState, move: Move) -> NegotiationState:
    for party in move.parties:
        _require_at_table(state, party, move)
    return state


def _proposal(state: NegotiationState, move: Move) -> NegotiationState:
    _not_after_agreement(state, move)
    _require_at_table(state, move.by, move)
    by, split = _by(move), _split(move)
    check_split(split, seats=state.seats, at_table=state.at_table, move=move.move_id)
    named = seat_rules.named_seats(state, split, move)
    offers = _lapse(state.offers, by)
    if move.kind == k.COUNTER_OFFER:
        answered = _answered(state, move)
        offers = tuple(o for o in offers if o.move_id != answered.move_id)
    s = state
    return _evolve(
        s,
        NEGOTIATING,
        s.at_table,
        s.departed,
        (*offers, Offer(move.move_id, by, split, named)),
        s.agreed,
        _with_position(s, by, split),
    )


def _answer(state: NegotiationState, move: Move) -> NegotiationState:
    _not_after_agreement(state, move)
    _require_at_table(state, move.by, move)
    offer = _answered(state, move)
    s = state
    if move.kind == k.ACCEPTANCE:
        positions = _with_position(s, _by(move), offer.split)
        return _evolve(s, s.status, s.at_table, s.departed, s.offers, s.agreed, positions)
    offers = tuple(o for o in s.offers if o.move_id != offer.move_id)
    return _evolve(s, s.status, s.at_table, s.departed, offers, s.agreed, s.positions)


def _joined(state: NegotiationState, move: Move) -> NegotiationState:
    party = move.party or ""
    if party in state.departed:
        raise PartyLeftAllianceError(
            f"move {move.move_id}: {party} left the {state.alliance} alliance; it must rejoin "
            f"the alliance before it can come back to the table"
        )
    if party in state.at_table:
        raise RuleError(f"move {move.move_id}: {party} is already at the table")
    s = state
    at_table = s.at_table | {party}
    return _evolve(s, s.status, at_table, s.departed, s.offers, s.agreed, s.positions)


def _withdrew(state: NegotiationState, move: Move) -> NegotiationState:
    _require_at_table(state, move.party, move)
    party = move.party or ""
    s = state
    at_table, offers = s.at_table - {party}, _lapse(s.offers, party)
    agreed = _given_back(s, party) if s.status == AGREED else s.agreed
    seating = seat_rules.without(s.seating, party, agreed=s.status == AGREED)
    return _evolve(s, s.status, at_table, s.departed, offers, agreed, s.positions, seating)


def _given_back(state: NegotiationState, party: str) -> Split | None:
    """The agreed split once a party leaves after the agreement: its seats are unallocated."""
    agreed = state.agreed
    if agreed is None or party not in agreed:
        return agreed
    return {code: seats for code, seats in agreed.items() if code != party}


def _signed(state: NegotiationState, move: Move) -> frozenset[str]:
    """Who signs an agreement or an amendment: everyone at the table, unless it names them."""
    signatories = frozenset(move.parties) if move.parties else state.at_table
    for party in sorted(signatories):
        _require_at_table(state, party, move)
    missing = state.at_table - signatories
    if missing:
        raise SignatoriesError(
            f"move {move.move_id}: every party at the table must sign; "
            f"{', '.join(sorted(missing))} did not"
        )
    return signatories


def _agreement(state: NegotiationState, move: Move) -> NegotiationState:
    _not_after_agreement(state, move)
    split = _split(move)
    signatories = _signed(state, move)
    check_split(split, seats=state.seats, at_table=state.at_table, move=move.move_id)
    named = seat_rules.named_seats(state, split, move)
    split, named = seat_rules.with_settled(state.seating, split, named)
    positions = dict(state.positions)
    for party in signatories:
        positions[party] = split
    s = state
    seating = seat_rules.agreed(s.seating, named)
    return _evolve(
        s, AGREED, s.at_table, s.departed, (), split, MappingProxyType(positions), seating
    )


def _amendment(state: NegotiationState, move: Move) -> NegotiationState:
    if state.status != AGREED:
        raise AgreementStateError(
            f"move {move.move_id}: an amendment needs an agreement first, and the "
            f"{state.negotiation} talks had none by {move.on}"
        )
    split = _split(move)
    _signed(state, move)
    check_split(split, seats=state.seats, at_table=state.at_table, move=move.move_id)
    named = seat_rules.canonical(state.seating, split, move.named, move)
    s = state
    seating = seat_rules.agreed(s.seating, named)
    return _evolve(s, s.status, s.at_table, s.departed, s.offers, split, s.positions, seating)


def _ended(state: NegotiationState, move: Move) -> NegotiationState:
    _not_after_agreement(state, move)
    s = state
    seating = seat_rules.ended(s.seating)
    return _evolve(s, NO_DEAL, s.at_table, s.departed, (), s.agreed, s.positions, seating)


def _partial(state: NegotiationState, move: Move) -> NegotiationState:
    """A piece of the deal: the shares in its split are settled."""
    _not_after_agreement(state, move)
    signatories = frozenset(move.parties)
    if len(signatories) < 2:
        raise PactSignatoriesError(
            f"move {move.move_id}: a partial agreement needs two or more signatories, "
            f"got {', '.join(sorted(signatories)) or 'none'}"
        )
    for party in sorted(signatories):
        _require_at_table(state, party, move)
    split = _split(move)
    for party in split:
        if party not in signatories:
            raise PactSignatoriesError(
                f"move {move.move_id}: the partial agreement settles {party}'s share, but "
                f"{party} is not among its signatories ({', '.join(sorted(signatories))})"
            )
    check_split(split, seats=state.seats, at_table=state.at_table, move=move.move_id)
    named = seat_rules.canonical(state.seating, split, move.named, move)
    seating = seat_rules.settle(state.seating, split, named, move, state.seats)
    offers = tuple(o for o in state.offers if seat_rules.agrees(o, seating))
    s = state
    return _evolve(s, NEGOTIATING, s.at_table, s.departed, offers, s.agreed, s.positions, seating)


def _constituencies(state: NegotiationState, move: Move) -> NegotiationState:
    """More constituencies listed."""
    seating = seat_rules.listed(state.seating, move.names, state.seats, move)
    s = state
    return _evolve(s, s.status, s.at_table, s.departed, s.offers, s.agreed, s.positions, seating)


_ANY_STATUS = {
    k.OPENED: _open,
    k.PARTY_JOINED_ALLIANCE: _membership,
    k.PARTY_LEFT_ALLIANCE: _membership,
}
"""Moves that apply in any status, before the opening checks."""

_HANDLERS = {
    k.MEETING: _meeting,
    k.PROPOSAL: _proposal,
    k.COUNTER_OFFER: _proposal,
    k.ACCEPTANCE: _answer,
    k.REJECTION: _answer,
    k.WITHDRAWAL: _answer,
    k.PARTY_JOINED: _joined,
    k.PARTY_WITHDREW: _withdrew,
    k.AGREEMENT: _agreement,
    k.AMENDMENT: _amendment,
    k.TALKS_ENDED: _ended,
    k.PARTIAL_AGREEMENT: _partial,
    k.CONSTITUENCIES_ADDED: _constituencies,
}
