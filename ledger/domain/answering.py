"""Which open offer a move answers: the defaults of the timeline format, and the checks
that the offer answered is open and may be answered by that party."""

from __future__ import annotations

from ledger.domain import moves as k
from ledger.domain.errors import NoOpenProposalError, OwnProposalError
from ledger.domain.moves import Move
from ledger.domain.state import NegotiationState, Offer


def default_target(state: NegotiationState, move: Move) -> str | None:
    """The offer a move answers when it names none: see the timeline format."""
    if move.kind == k.WITHDRAWAL:
        own = [o for o in state.offers if o.maker == move.by]
        return own[-1].move_id if own else None
    others = [o for o in state.offers if o.maker != move.by]
    return others[-1].move_id if others else None


def resolve(state: NegotiationState, move: Move) -> Move:
    """Fill in the defaults a move left out, against the state just before it."""
    if move.kind in k.ANSWERS and move.target is None:
        target = default_target(state, move)
        if target is None:
            what = "of its own" if move.kind == k.WITHDRAWAL else "from another party"
            raise NoOpenProposalError(
                f"move {move.move_id}: {move.by} has no open proposal {what} to answer on {move.on}"
            )
        return move.resolved(target, move.parties)
    if move.kind == k.AGREEMENT and not move.parties:
        return move.resolved(move.target, tuple(sorted(state.at_table)))
    return move


def answered(state: NegotiationState, move: Move) -> Offer:
    target = move.target or default_target(state, move)
    offer = state.offer(target) if target else None
    if offer is None:
        raise NoOpenProposalError(
            f"move {move.move_id}: proposal {target} is not open on {move.on} "
            f"(it was answered, withdrawn, superseded or never made)"
        )
    if move.kind == k.WITHDRAWAL and offer.maker != move.by:
        raise OwnProposalError(
            f"move {move.move_id}: {move.by} cannot withdraw {offer.move_id}, made by {offer.maker}"
        )
    if move.kind != k.WITHDRAWAL and offer.maker == move.by:
        raise OwnProposalError(
            f"move {move.move_id}: {move.by} cannot answer its own proposal {offer.move_id}"
        )
    return offer
