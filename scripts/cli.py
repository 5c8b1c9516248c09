"""The `seatledger` console script (pyproject: seatledger = "scripts.cli:main").

The command line only parses, calls the library and formats; no rule lives here.
"""

from __future__ import annotations

import warnings
from typing import Any

# The commands' modules are imported when a command is run (scripts.app.COMMANDS).
from scripts.app import app

__all__ = ["app", "main"]


def _warning_line(message: Warning | str, *_: Any, **__: Any) -> str:
    # A warning (a snapshot ignored) is for the user, in one line like an error.
    return f"warning: {message}\n"


warnings.formatwarning = _warning_line


def main() -> None:
    """Run the command line."""
    app()


if __name__ == "__main__":
    main()
