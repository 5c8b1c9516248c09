"""pydantic's validation errors in the user's words: what is wrong, and the nearest fix.

Users write timeline files and command options; they never see pydantic's own phrases
("Input tag … does not match any of the expected tags", "Extra inputs are not permitted").
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from ledger.domain.errors import nearest

# pydantic's stock phrases, and what a user reads instead (checked in this order).
_PHRASES = (
    ("Value error, ", ""),
    ("Assertion failed, ", ""),
    ("Field required", "missing"),
    ("Input should be ", "should be "),
    ("Input should have ", "should have "),
    ("Input is ", "it is "),
    ("Input ", "value "),
    ("input ", "value "),
)


def problem(item: Mapping[str, Any], fields: Iterable[str] = ()) -> str:
    """One validation error as a phrase: `unknown field 'colur' (did you mean 'colour'?)`.

    `fields` are the names allowed where the error is, for suggestions.
    """
    kind = item.get("type")
    ctx = item.get("ctx") or {}
    loc = [str(p) for p in item.get("loc", ())]
    if kind == "extra_forbidden":
        name = loc[-1] if loc else "?"
        return f"unknown field {name!r}{_suggest(name, fields)}"
    if kind == "union_tag_invalid":
        tag = str(ctx.get("tag", ""))
        expected = [t.strip(" '") for t in str(ctx.get("expected_tags", "")).split(",")]
        return (
            f"unknown {_tag_name(ctx)} {tag!r}{_suggest(tag, expected)} "
            f"(one of: {', '.join(t for t in expected if t)})"
        )
    if kind == "union_tag_not_found":
        return f"missing field {_tag_name(ctx, field=True)!r}"
    if kind == "missing":
        return "missing field"
    return plain(str(item.get("msg", "")))


def plain(message: str) -> str:
    """A pydantic message with its stock phrases replaced."""
    for phrase, instead in _PHRASES:
        message = message.replace(phrase, instead)
    return message


def _tag_name(ctx: Mapping[str, Any], *, field: bool = False) -> str:
    discriminator = str(ctx.get("discriminator", "type")).strip("'")
    if field:
        return discriminator
    return "move type" if discriminator == "type" else discriminator


def _suggest(word: str, choices: Iterable[str]) -> str:
    near = nearest(word, [c for c in choices if c and c != word])
    return f" (did you mean {' or '.join(repr(n) for n in near)}?)" if near else ""
