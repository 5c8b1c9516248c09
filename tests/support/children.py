"""Jobs the crash tests run in a process of their own, to kill it with SIGKILL midway.

Run as `python -m tests.support.children import URL FILE` from the repository root.
"""

from __future__ import annotations

import sys
from pathlib import Path

from ledger.application import NegotiationLedger
from ledger.timeline.importer import import_timeline
from ledger.timeline.parsing import read_timeline


def main(argv: list[str]) -> int:
    """Run the job named by the first argument."""
    job, url, path = argv
    if job != "import":
        print(f"unknown job {job!r}", file=sys.stderr)
        return 2
    app = NegotiationLedger(url, recorded_by="importer")
    report = import_timeline(app, read_timeline(Path(path)), name=path)
    print(f"recorded {report.recorded}, unchanged {report.unchanged}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
