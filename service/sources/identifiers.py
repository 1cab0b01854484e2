"""What may be a code or a name of a unit, an indicator or a dossier.

A code ends up in file names (a notice's folder), in URLs and in messages,
so it is an identifier: 1 to 64 characters, none of them whitespace, a
control character (NUL included), a path separator (`/`, `\\`), a quote
or a semicolon, and never containing `..`. Portal codes (`H21.227`),
department UUIDs and import codes (`TUACHUA.THITRAN`) all pass.

A name is free text people read: at most 255 characters and no control
characters (a tab or line break inside a cell is a slip, not a name).

Both rules are plain functions returning the reason a text fails, or None,
so any input (an imported table, the portal's answers) can apply them and
say where the text came from.
"""

from __future__ import annotations

import re

MAX_CODE_LENGTH = 64
MAX_NAME_LENGTH = 255
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_NOT_IN_CODES = re.compile(r"[\s/\\\"'`;\x00-\x1f\x7f-\x9f]")


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
            "(no whitespace, control characters, / \\ quotes or ;)"
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
        return f"{_shown(bad.group())} (a control character) may not appear in a name"
    return None


def is_identifier(text: str) -> bool:
    return code_problem(text) is None


def _shown(character: str) -> str:
    """A character as a person can read it in a one-line message."""
    if character.isprintable() and not character.isspace():
        return repr(character)
    return f"U+{ord(character):04X}"
