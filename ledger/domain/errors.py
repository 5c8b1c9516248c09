"""Errors a user can cause; each says what was wrong in the user's words."""

from __future__ import annotations


class SeatledgerError(Exception):
    """Base of every error seatledger reports to a user."""


class InputError(SeatledgerError, ValueError):
    """The request itself is malformed: a bad date, a bad file, a bad option."""


class NotFoundError(SeatledgerError, LookupError):
    """A negotiation, alliance or move that the request names does not exist."""


class RuleError(SeatledgerError):
    """A move that breaks the rules of the negotiation."""


class UnknownPartyError(RuleError):
    """A party code that the ledger has never been told about."""


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


class ConcurrencyError(SeatledgerError):
    """Another writer kept changing the same negotiation; the move was not recorded."""


class MoveRefusedError(RuleError):
    """A move of a timeline file was refused; the message names the move and why."""
