"""Render gathered report facts as HTML, Markdown or JSON (renderers load on first use)."""

from __future__ import annotations

import json
from datetime import date, datetime
from typing import Any, Literal

from ledger.inert import json_inert, visible_in_document
from projections.reports.model import ReportFacts

ReportFormat = Literal["html", "markdown", "json"]
FORMATS: tuple[ReportFormat, ...] = ("html", "markdown", "json")


def render(facts: ReportFacts, fmt: ReportFormat) -> str:
    """Render gathered facts in one format; control and bidi characters never stay raw."""
    if fmt == "json":
        text = json.dumps(facts.to_json(), indent=2, ensure_ascii=False, default=_json_default)
        return json_inert(text)  # still the exact data
    if fmt == "markdown":
        from projections.reports.markdown import render_markdown

        return visible_in_document(render_markdown(facts))
    from projections.reports.html import render_html

    # Shown as `\u202e` and not obeyed: a reader sees that the text hides something.
    return visible_in_document(render_html(facts))


def _json_default(value: Any) -> Any:
    if isinstance(value, date | datetime):
        return value.isoformat()
    if isinstance(value, set | frozenset):
        return sorted(value)
    raise TypeError(f"cannot write {type(value).__name__} to JSON")
