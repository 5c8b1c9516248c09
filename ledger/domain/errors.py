"""Errors a user can cause; each says what was wrong in the user's words."""

from __future__ import annotations

import difflib
from collections.abc import Iterable


class SeatledgerError(Exception):
    """Base of every error seatledger reports to a user."""


class InputError(SeatledgerError, ValueError):
    """The request itself is malformed: a bad date, a bad file, a bad option."""


class FormatVersionError(InputError):
    """A timeline file uses a field its declared format does not have, or one not supported yet."""


class NotFoundError(SeatledgerError, LookupError):
    """A negotiation, alliance or move that the request names does not exist."""


class RuleError(SeatledgerError):
    """A move that breaks the rules of the negotiation."""


class UnknownPartyError(RuleError):
    """A party code that the ledger has never been told about."""

    @classmethod
    def of(cls, code: str, known: Iterable[str], where: str) -> UnknownPartyError:
        """The error for `code`, with the command that fixes it and the nearest known codes."""
        near = nearest(code, known)
        hint = f" (did you mean {' or '.join(near)}?)" if near else ""
        return cls(
            f"{where}: unknown party {code!r}{hint}; if it is a new party, add it first: "
            f"seatledger parties add {code} --name 'Its full name'"
        )


def nearest(word: str, choices: Iterable[str], limit: int = 3) -> list[str]:
    """The choices closest to `word`, compared case-insensitively (an exact match first)."""
    by_folded: dict[str, str] = {}
    for choice in choices:
        by_folded.setdefault(choice.casefold(), choice)
    found = difflib.get_close_matches(word.casefold(), list(by_folded), n=limit, cutoff=0.6)
    return [by_folded[f] for f in found]


def reason(error: BaseException, *move_ids: str | None) -> str:
    """An error's text without a leading `move ID: ` when the caller names that move already."""
    text = str(error)
    for move_id in move_ids:
        if move_id and text.startswith(f"move {move_id}: "):
            return text[len(f"move {move_id}: ") :]
    return text


class PartyNotAtTableError(RuleError):
    """A party that is not (or no longer) at the table."""


class PartyLeftAllianceError(RuleError):
    """A party that left the alliance tries to move in the alliance's talks."""


class SplitError(RuleError):
    """A split with negative or fractional seats, or more seats than the pool."""


class NoOpenProposalError(RuleError):
    """A counter-offer, acceptance, rejection or withdrawal with nothing open to answer."""


class OwnProposalError(RuleError):
    """A party answers its own proposal, or withdraws somebody else's."""


class SignatoriesError(RuleError):
    """An agreement not signed by exactly the parties at the table."""


class AgreementStateError(RuleError):
    """An amendment before an agreement, or bargaining after one."""


class TalksEndedError(RuleError):
    """A move other than a note or correction after the talks ended."""


class MoveBeforeOpeningError(RuleError):
    """A move dated before the negotiation opened."""


class DuplicateMoveError(RuleError):
    """A move id that the ledger already holds, with other content."""


class LateMoveConflictError(RuleError):
    """A late fact or correction that would break a move recorded after it."""

    def __init__(self, message: str, *, broken_move: str) -> None:
        super().__init__(message)
        self.broken_move = broken_move


class CorrectionError(RuleError):
    """A correction that names no correctable move or fields that do not apply."""


class ConstituencyNameError(RuleError):
    """A constituency name that is empty, too long, or carries , ; = : or control characters."""


class DuplicateConstituencyError(RuleError):
    """A constituency listed twice in one negotiation (names compare case-insensitively)."""


class TooManyConstituenciesError(RuleError):
    """More constituencies listed than the negotiation has seats."""


class UnknownConstituencyError(RuleError):
    """A share names a constituency that the negotiation does not list (on that date)."""


class ConstituencyNamedTwiceError(RuleError):
    """One split names a constituency for two parties, or twice for one."""


class NamedSeatsError(RuleError):
    """A share names more constituencies than it has seats."""


class PactSignatoriesError(RuleError):
    """A partial agreement with fewer than two signatories, or a share for a non-signatory."""


class ShareAlreadySettledError(RuleError):
    """A partial agreement settles a share that an earlier one settled already."""


class SettledShareError(RuleError):
    """A split gives a party whose share is settled another count, or drops a settled seat."""


class SettledSeatError(RuleError):
    """A split gives a seat settled for one party to another."""


class ConcurrencyError(SeatledgerError):
    """Another writer kept changing the same negotiation; the move was not recorded."""


class MoveRefusedError(RuleError):
    """A move of a timeline file was refused; the message names the move and why."""


class UnreadableEventError(SeatledgerError):
    """A stored event that cannot be decoded (unknown topic, undecodable state)."""
