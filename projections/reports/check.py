"""`verify --report FILE`: does a report say what the ledger said when it was made?

Every report carries a stamp (its scope, dates, ledger digest, the instant its views were
known through, and the views digest). The check reads the same views again "as known
on" that instant, renders the report again in the same format with the same stamp, and
compares: any number edited in the file, or any view row that changed since, shows as a
difference, named by where it is. The ledger's Merkle root at the report's position is
recomputed too, so a report cannot claim a digest the ledger never had.
"""

from __future__ import annotations

import difflib
import json
import re
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from ledger.domain.errors import InputError
from ledger.integrity.digest import digest_in
from ledger.integrity.log_reader import ledger_snapshot
from projections.answers import Scope
from projections.reports.gather import gather
from projections.reports.model import REPORT_FORMAT, NegotiationReport, ReportFacts
from projections.reports.render import ReportFormat, render
from projections.views.timeaxis import parse_valid_time, query_instant

_STAMP = re.compile(r"<!-- seatledger-report (\{.*?\}) -->")
_SHOWN = 8  # differing lines named in full; the rest are counted


@dataclass(frozen=True)
class ReportCheck:
    """What checking one report found: each difference in one line; none means it holds."""

    format: ReportFormat
    differences: list[str]

    @property
    def ok(self) -> bool:
        """True when the report is exactly what the ledger gives."""
        return not self.differences


def check_report(url: str, text: str) -> ReportCheck:
    """Compare a report's text with the report the ledger gives for the same stamp."""
    fmt, stamp = _stamp(text)
    differences = _digest_differences(url, stamp["digest"])
    facts = _facts_again(url, stamp)
    stated, again = str(stamp.get("views_digest")), facts.views_digest
    if stated != again:
        differences.append(
            f"views digest: the report says {stated[:16]}..., the ledger's views give "
            f"{again[:16]}... for the same dates"
        )
        # The lines that state it (header, stamp) differ for that reason alone.
        text, expected = text.replace(stated, again), render(facts, fmt)
    else:
        expected = render(facts, fmt)
    if fmt == "json":
        differences += _json_differences(json.loads(text), json.loads(expected))
    else:
        differences += _text_differences(text, expected)
    return ReportCheck(fmt, differences)


def _stamp(text: str) -> tuple[ReportFormat, dict[str, Any]]:
    """The report's format and stamp; InputError if it is not a seatledger report."""
    fmt: ReportFormat
    stamp: Any = None
    if text.lstrip().startswith("{"):
        fmt = "json"
        try:
            data = json.loads(text)
        except ValueError as error:
            raise InputError(f"the report is not valid JSON: {error}") from None
        if isinstance(data, dict) and data.get("report") == REPORT_FORMAT:
            views = data.get("views") or {}
            stamp = {
                "scope": None if data.get("scope") == "all" else data.get("scope"),
                "as_of": data.get("as_of"), "known_on": data.get("known_on"),
                "digest": data.get("digest"), "known_through": views.get("known_through"),
                "views_digest": views.get("digest"),
                "diff_from": (data.get("diff") or {}).get("from"),
                "limits": data.get("limits") or {},
            }  # fmt: skip
    else:
        fmt = "html" if text.lstrip().lower().startswith("<!doctype html") else "markdown"
        found = _STAMP.search(text)
        if found is not None:
            try:
                stamp = json.loads(found.group(1))
            except ValueError:
                stamp = None
    if not isinstance(stamp, dict) or not isinstance(stamp.get("digest"), dict):
        raise InputError(
            "not a seatledger report, or one made before reports were stamped: "
            "no seatledger-report stamp found in it"
        )
    return fmt, stamp


def _when(value: Any, what: str) -> Any:
    if value is None:
        return None
    try:
        return parse_valid_time(str(value))
    except (ValueError, InputError):
        raise InputError(f"the report's {what} {str(value)[:40]!r} is not a date") from None


def _facts_again(url: str, stamp: dict[str, Any]) -> ReportFacts:
    """The report's facts read again, as the views were known when it was made."""
    as_of = _when(stamp.get("as_of"), "as of")
    known_on = _when(stamp.get("known_on"), "known on")
    through = _when(stamp.get("known_through"), "known-through instant")
    # Read as known through the report's last recorded instant, or on its own "known on"
    # if that came earlier: later facts (even ones dated back) then change nothing.
    reading = through
    if known_on is not None and (
        through is None or query_instant(known_on, "known on") < query_instant(through)
    ):
        reading = known_on
    if reading is None:  # made from an empty ledger
        reading = datetime.fromisoformat("0001-01-01T00:00:00+00:00")
    scope = stamp.get("scope")
    diff_from = _when(stamp.get("diff_from"), "diff-from date")
    given = stamp.get("limits")
    limits: dict[str, Any] = given if isinstance(given, dict) else {}
    limited = Scope(_text(limits.get("election")), _text(limits.get("alliance")))
    named = scope if isinstance(scope, str) else None
    facts = gather(url, named, as_of, reading, diff_from, limited)
    shown = stamp.get("known_on")  # the report showed its own "known on", not the reading
    return replace(
        facts,
        diff=None if facts.diff is None else {**facts.diff, "known_on": shown},
        known_on=shown,
        digest=stamp["digest"],
        known_through=stamp.get("known_through"),
        negotiations=[_shown_as(n, shown) for n in facts.negotiations],
        rollup={
            **facts.rollup,
            "known_on": shown,
            "negotiations": [
                {**n, "known_on": shown} for n in facts.rollup.get("negotiations", [])
            ],
        },
    )


def _text(value: Any) -> str | None:
    return None if value is None else str(value)


def _shown_as(report: NegotiationReport, known_on: Any) -> NegotiationReport:
    return replace(report, view={**report.view, "known_on": known_on})


def _digest_differences(url: str, digest: dict[str, Any]) -> list[str]:
    """Whether the ledger's Merkle root at the report's position is the report's."""
    try:
        position = int(digest.get("position", -1))
    except (TypeError, ValueError):
        return ["ledger digest: the report's position is not a number"]
    with ledger_snapshot(url) as conn:
        found = digest_in(conn, at=position)
    if found.root != digest.get("root") or found.events != digest.get("events"):
        return [
            f"ledger digest: the report says root {str(digest.get('root'))[:16]}... over "
            f"{digest.get('events')} events at position {position}; the ledger's is "
            f"{found.root[:16]}... over {found.events} events"
        ]
    return []


def _json_differences(report: Any, ledger: Any, path: str = "") -> list[str]:
    """Each value of a JSON report that differs from the ledger's, by its path."""
    if isinstance(report, dict) and isinstance(ledger, dict):
        found = []
        for key in sorted(report.keys() | ledger.keys(), key=str):
            where = f"{path}.{key}" if path else str(key)
            if key not in ledger:
                found.append(f"{where}: in the report, not in the ledger's")
            elif key not in report:
                found.append(f"{where}: missing from the report")
            else:
                found += _json_differences(report[key], ledger[key], where)
        return found
    if isinstance(report, list) and isinstance(ledger, list):
        found = []
        for index in range(max(len(report), len(ledger))):
            where = f"{path}[{_label(report, ledger, index)}]"
            if index >= len(ledger):
                found.append(f"{where}: in the report, not in the ledger's")
            elif index >= len(report):
                found.append(f"{where}: missing from the report")
            else:
                found += _json_differences(report[index], ledger[index], where)
        return found
    if report != ledger or type(report) is not type(ledger):
        return [f"{path}: the report says {report!r}, the ledger {ledger!r}"]
    return []


def _label(report: list[Any], ledger: list[Any], index: int) -> str:
    """An element's name in a path: its negotiation or id where it has one."""
    for items in (ledger, report):
        if index < len(items) and isinstance(items[index], dict):
            for key in ("negotiation", "id", "move"):
                if isinstance(items[index].get(key), str):
                    return f"{index}:{items[index][key]}"
    return str(index)


def _text_differences(report: str, ledger: str) -> list[str]:
    """Each line of an HTML or Markdown report that differs from the ledger's."""
    found: list[str] = []
    theirs, mine = report.splitlines(), ledger.splitlines()
    matcher = difflib.SequenceMatcher(None, theirs, mine, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            continue
        for offset in range(max(i2 - i1, j2 - j1)):
            said = theirs[i1 + offset] if i1 + offset < i2 else ""
            given = mine[j1 + offset] if j1 + offset < j2 else ""
            found.append(f"line {i1 + offset + 1}: {_changed(said, given)}")
    if len(found) > _SHOWN:
        found = [*found[:_SHOWN], f"... and {len(found) - _SHOWN} more differing line(s)"]
    return found


def _changed(said: str, given: str) -> str:
    """The part of a line that differs, with a little context either side."""
    matcher = difflib.SequenceMatcher(None, said, given, autojunk=False)
    parts = []
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag != "equal":
            context = said[max(i1 - 24, 0) : i1]
            parts.append(
                f"...{context}[{said[i1:i2]}]... in the report, [{given[j1:j2]}] in the ledger's"
            )
    return "; ".join(parts[:3]) or "the line differs"
