"""Text from the ledger made inert: what a terminal, a spreadsheet or a viewer must not obey.

A recorder may store any text (names, notes, sources, its own name). Shown raw, control
characters drive the terminal (ESC starts ANSI CSI/OSC sequences that hide or rewrite what
is on screen), C1 characters do the same on some terminals, and bidirectional overrides
reorder what a reader sees. Every surface passes ledger text through one of these helpers.
"""

from __future__ import annotations

import re

# C0 (but for the two a document may keep), DEL, C1, the bidi marks, embeddings, overrides
# and isolates, and the Unicode line and paragraph separators. Joiners (U+200C, U+200D) stay:
# Indic scripts and emoji need them, and they move nothing.
_OTHERS = "\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069"
UNSAFE = re.compile(f"[\x00-\x1f{_OTHERS}]")
UNSAFE_IN_DOCUMENTS = re.compile(f"[\x00-\x08\x0b-\x1f{_OTHERS}]")
# JSON encoders escape C0 themselves; these they leave raw in a UTF-8 document.
_UNSAFE_IN_JSON = re.compile(f"[{_OTHERS}]")


_NAMED = {"\n": "\\n", "\t": "\\t", "\r": "\\r"}


def _visible(match: re.Match[str]) -> str:
    char = match.group()
    code = ord(char)
    if char in _NAMED:
        return _NAMED[char]
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def visible(text: str) -> str:
    """Each unsafe character as a Python escape: ESC as `\\x1b`, U+202E as `\\u202e`, LF `\\n`."""
    return UNSAFE.sub(_visible, text)


def visible_in_document(text: str) -> str:
    """As `visible`, but a document's own line breaks and tabs stay (Markdown, HTML)."""
    return UNSAFE_IN_DOCUMENTS.sub(_visible, text)


def json_inert(text: str) -> str:
    """Escape, as JSON `\\uXXXX`, what a JSON encoder leaves raw: the data stays exact."""
    return _UNSAFE_IN_JSON.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


def shorten(text: str, limit: int) -> str:
    """At most about `limit` characters, saying how many were left out."""
    if len(text) <= limit:
        return text
    return f"{text[:limit]}… ({len(text) - limit:,} more characters)"
