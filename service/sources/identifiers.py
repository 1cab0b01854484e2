"""What may be a code or a name of a unit, an indicator or a dossier.

A code ends up in file names (a notice's folder), in URLs and in messages,
so it is an identifier: 1 to 64 characters, none of them whitespace, a
control character (NUL included), an invisible format character (U+202E,
which shows the code reversed, a zero-width space…), a path separator
(`/`, `\\`), a quote or a semicolon, and never containing `..`. Portal codes (`H21.227`),
department UUIDs and import codes (`TUACHUA.THITRAN`) all pass.

A name is free text people read: at most 255 characters and no control or
format characters (a tab or line break inside a cell is a slip, not a name;
an invisible character changes what the name shows).

Both rules are plain functions returning the reason a text fails, or None,
so any input (an imported table, the portal's answers) can apply them and
say where the text came from.
"""

from __future__ import annotations

import re

MAX_CODE_LENGTH = 64
MAX_NAME_LENGTH = 255
#: Unicode's format characters (category Cf): invisible, they reorder or hide
#: what a person reads (U+202E turns "H21.227" into what looks like another code).
#: `tests/sources/test_identifiers.py` checks the list against Python's own Unicode data.
_FORMAT = (
    "\u00ad\u0600-\u0605\u061c\u06dd\u070f\u0890-\u0891\u08e2\u180e\u200b-\u200f"
    "\u202a-\u202e\u2060-\u2064\u2066-\u206f\ufeff\ufff9-\ufffb\U000110bd\U000110cd"
    "\U00013430-\U0001343f\U0001bca0-\U0001bca3\U0001d173-\U0001d17a\U000e0001"
    "\U000e0020-\U000e007f"
)
_CONTROL = re.compile(f"[\\x00-\\x1f\\x7f-\\x9f{_FORMAT}]")
_NOT_IN_CODES = re.compile(f"[\\s/\\\\\"'`;\\x00-\\x1f\\x7f-\\x9f{_FORMAT}]")


def code_problem(text: str) -> str | None:
    """Why `text` is not an identifier (see the module docstring), or None if it is one."""
    if not text:
        return "is empty"
    if len(text) > MAX_CODE_LENGTH:
        return f"has {len(text)} characters, more than the {MAX_CODE_LENGTH} a code may have"
    bad = _NOT_IN_CODES.search(text)
    if bad:
        return (
            f"{_shown(bad.group())} may not appear in a code "
            "(no whitespace, control or format characters, / \\ quotes or ;)"
        )
    if ".." in text:
        return "'..' may not appear in a code"
    return None


def name_problem(text: str) -> str | None:
    """Why `text` is not a name (too long, control characters), or None if it is one."""
    if len(text) > MAX_NAME_LENGTH:
        return f"has {len(text)} characters, more than the {MAX_NAME_LENGTH} a name may have"
    bad = _CONTROL.search(text)
    if bad:
        return f"{_shown(bad.group())} (a control or format character) may not appear in a name"
    return None


def is_identifier(text: str) -> bool:
    return code_problem(text) is None


def _shown(character: str) -> str:
    """A character as a person can read it in a one-line message."""
    if character.isprintable() and not character.isspace():
        return repr(character)
    return f"U+{ord(character):04X}"
