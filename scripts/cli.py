"""The `seatledger` console script (pyproject: seatledger = "scripts.cli:main").

The command line only parses, calls the library and formats; no rule lives here.
"""

from __future__ import annotations

# Importing a command module registers its commands, in this order in --help.
# isort: off
from scripts import record, proceedings, coalition, transfer  # noqa: F401
from scripts import read, audit, upkeep, copying  # noqa: F401

# isort: on
from scripts.app import app

__all__ = ["app", "main"]


def main() -> None:
    """Run the command line."""
    app()


if __name__ == "__main__":
    main()
