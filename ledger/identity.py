"""Who is recording: the name stored with every event as `recorded_by`."""

from __future__ import annotations

import getpass
import os

from ledger.domain.errors import InputError
from ledger.timeline.document import MAX_TEXT


def default_recorder_name() -> str:
    """Who is recording: SEATLEDGER_USER, else the operating-system user."""
    try:
        return os.environ.get("SEATLEDGER_USER") or getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


def recorder_name(name: str) -> str:
    """The recorder's name, refused when it could not be stored (NUL) or is absurdly long."""
    if "\x00" in name or len(name) > MAX_TEXT:
        raise InputError(
            f"recorder name (--as or SEATLEDGER_USER): at most {MAX_TEXT:,} characters, "
            "no NUL characters (\\x00)"
        )
    return name
