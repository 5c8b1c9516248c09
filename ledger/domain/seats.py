"""The seat-level rules: constituency lists, named seats in a share, settled shares.

Called by the one rules function (`rules.apply`) for every move that lists constituencies,
names seats or settles shares; each rule raises its own error, naming the move, the party
and the constituency.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from ledger.domain.errors import (
    ConstituencyNamedTwiceError,
    ConstituencyNameError,
    DuplicateConstituencyError,
    NamedSeatsError,
    SettledSeatError,
    SettledShareError,
    ShareAlreadySettledError,
    SplitError,
    TooManyConstituenciesError,
    UnknownConstituencyError,
)
from ledger.domain.moves import Move, Named
from ledger.domain.state import NO_NAMES, NO_SEATING, NegotiationState, Offer, Seating
from ledger.domain.values import Split, check_constituency, constituency_key


def listed(seating: Seating, names: Sequence[str], seats: int, move: Move) -> Seating:
    """The seating with `names` added to its list, or the rule they break."""
    if not names:
        return seating
    keys = {constituency_key(name): name for name in seating.listed}
    added: list[str] = []
    for given in names:
        try:
            name = check_constituency(given)
        except ValueError as error:
            raise ConstituencyNameError(f"move {move.move_id}: {error}") from None
        key = constituency_key(name)
        if key in keys:
            raise DuplicateConstituencyError(
                f"move {move.move_id}: {name} is listed twice in {_talks(move)} "
                f"(as {keys[key]!r}; names compare case-insensitively)"
            )
        keys[key] = name
        added.append(name)
    if len(keys) > seats:
        raise TooManyConstituenciesError(
            f"move {move.move_id}: {len(keys)} constituencies listed, but only {seats} seats "
            f"are in the pool (the last one listed is {added[-1]})"
        )
    return Seating(
        (*seating.listed, *added), seating.settled, seating.settled_named, seating.agreed_named
    )


def _talks(move: Move) -> str:
    return "the negotiation" if move.kind != "opened" else "its opening list"


def canonical(seating: Seating, split: Split, named: Named | None, move: Move) -> Named:
    """A split's named seats in the list's spelling and order, checked against the list:
    every name listed, each named for one party once, no more names than the share's seats."""
    if not named:
        return NO_NAMES
    by_key = {constituency_key(name): index for index, name in enumerate(seating.listed)}
    holder: dict[int, str] = {}
    result: Named = {}
    for party, names in named.items():
        positions: list[int] = []
        for name in names:
            index = by_key.get(constituency_key(name))
            if index is None:
                known = (
                    f"; the list has {len(seating.listed)}"
                    if seating.listed
                    else ("; it lists none (give them with constituencies_added)")
                )
                raise UnknownConstituencyError(
                    f"move {move.move_id}: {party}'s share names {name.strip()}, which is not a "
                    f"constituency of these talks on {move.on}{known}"
                )
            if index in holder:
                other = holder[index]
                whom = "twice" if other == party else f"for both {other} and {party}"
                raise ConstituencyNamedTwiceError(
                    f"move {move.move_id}: the split names {seating.listed[index]} {whom}; "
                    "a constituency is named for at most one party"
                )
            holder[index] = party
            positions.append(index)
        count = split.get(party, 0)
        if len(positions) > count:
            raise NamedSeatsError(
                f"move {move.move_id}: {party}'s share names {len(positions)} constituencies "
                f"but has {count} seat(s) (the last named is {names[-1].strip()})"
            )
        if positions:
            result[party] = tuple(seating.listed[i] for i in sorted(positions))
    return result


def check_settled(seating: Seating, split: Split, named: Named, move: Move) -> None:
    """A split that names a settled party gives it exactly its settled share, and no split
    gives a settled named seat to another party."""
    settled = seating.settled
    if not settled:
        return
    for party, count in settled.items():
        if party not in split:
            continue
        if split[party] != count:
            raise SettledShareError(
                f"move {move.move_id}: {party}'s share is settled at {count} seat(s); "
                f"the split gives it {split[party]}"
            )
        missing = [n for n in seating.settled_named.get(party, ()) if n not in named.get(party, ())]
        if missing:
            raise SettledShareError(
                f"move {move.move_id}: {missing[0]} is settled for {party}; "
                f"the split leaves it out of {party}'s share"
            )
    _no_settled_seat_to_another(seating.settled_named, named, move)


def _no_settled_seat_to_another(settled_named: Named, named: Named, move: Move) -> None:
    owner = {name: party for party, names in settled_named.items() for name in names}
    for party, names in named.items():
        for name in names:
            other = owner.get(name)
            if other is not None and other != party:
                raise SettledSeatError(
                    f"move {move.move_id}: {name} is settled for {other}; the split gives it "
                    f"to {party}"
                )


def with_settled(seating: Seating, split: Split, named: Named) -> tuple[Split, Named]:
    """A split with the settled shares of the parties it leaves out (given implicitly)."""
    settled = seating.settled
    if not settled or all(party in split for party in settled):
        return split, named
    full = dict(split)
    full_named = dict(named)
    for party, count in settled.items():
        if party not in split:
            full[party] = count
            names = seating.settled_named.get(party)
            if names:
                full_named[party] = names
    return full, full_named


def check_pool(split: Split, seats: int, move: Move, what: str = "the split gives") -> None:
    """The counts, settled shares included, fit in the pool."""
    total = sum(split.values())
    if total > seats:
        raise SplitError(
            f"move {move.move_id}: {what} {total} seats but only {seats} are in the pool"
        )


def settle(seating: Seating, split: Split, named: Named, move: Move, seats: int) -> Seating:
    """The seating once a partial agreement settles `split` (counts and named seats)."""
    for party in split:
        if party in seating.settled:
            raise ShareAlreadySettledError(
                f"move {move.move_id}: {party}'s share was settled already "
                f"({seating.settled[party]} seat(s)); correct that partial agreement instead"
            )
    _no_settled_seat_to_another(seating.settled_named, named, move)
    settled = {**seating.settled, **split}
    check_pool(settled, seats, move, "the settled shares give")
    settled_named = {**seating.settled_named, **{p: n for p, n in named.items() if n}}
    return Seating(seating.listed, settled, settled_named, seating.agreed_named)


def agrees(offer: Offer, seating: Seating) -> bool:
    """True if an open offer gives every settled party its settled share, and no settled
    seat to another party (else a partial agreement closes it)."""
    owner = {n: p for p, names in seating.settled_named.items() for n in names}
    for party, count in seating.settled.items():
        if party in offer.split:
            if offer.split[party] != count:
                return False
            given = offer.named.get(party, ())
            if any(n not in given for n in seating.settled_named.get(party, ())):
                return False
    for party, names in offer.named.items():
        for name in names:
            if owner.get(name, party) != party:
                return False
    return True


def without(seating: Seating, party: str, *, agreed: bool) -> Seating:
    """The seating once a party leaves the table: its settled share (before an agreement)
    or its agreed named seats (after) are given back."""
    if seating is NO_SEATING:
        return seating
    if agreed:
        if party not in seating.agreed_named:
            return seating
        kept = {p: n for p, n in seating.agreed_named.items() if p != party}
        return Seating(seating.listed, seating.settled, seating.settled_named, kept)
    if party not in seating.settled:
        return seating
    return Seating(
        seating.listed,
        {p: n for p, n in seating.settled.items() if p != party},
        {p: n for p, n in seating.settled_named.items() if p != party},
        seating.agreed_named,
    )


def agreed(seating: Seating, named: Named) -> Seating:
    """The seating once an agreement or amendment fixes `named`: the settling is over."""
    if seating is NO_SEATING and not named:
        return seating
    return Seating(seating.listed, {}, {}, named)


def ended(seating: Seating) -> Seating:
    """The seating once the talks ended without a deal: nothing stays settled."""
    if not seating.settled:
        return seating
    return Seating(seating.listed, {}, {}, seating.agreed_named)


def names_of(named: Named) -> Iterable[str]:
    """Every name a split names."""
    for names in named.values():
        yield from names


def named_seats(state: NegotiationState, split: Split, move: Move) -> dict[str, tuple[str, ...]]:
    """A split's named seats, checked against the list and the settled shares; the
    whole split, settled shares left out included, checked against the pool."""
    seating = state.seating
    if seating is NO_SEATING and not move.named:
        return {}
    named = canonical(seating, split, move.named, move)
    check_settled(seating, split, named, move)
    full, _ = with_settled(seating, split, named)
    check_pool(full, state.seats, move)
    return named
