"""Read a number written the Vietnamese or the plain way, as an input file's cell holds it.

The rule is the same for every column of the interchange table:

- `-` (or `–`) means "not applicable" (an empty cell, "not given", is
  the reader's to handle: it is not a number);
- one mark, once, is the decimal mark: `17,5` and `17.5` are 17.5 (so
  `1.234` and `1,234` are 1.234: a lone mark is never a thousands mark);
- a mark repeated groups thousands: `1.234.567`, `1,234,567`;
- both marks: the last is the decimal mark and the other must group
  thousands: `1.234,5` and `1,234.5` are 1234.5.

Every number must be finite and within ±10¹² (MAX_MAGNITUDE): no figure of
the index comes near it, a float holds every whole number up to it exactly,
and NaN, infinities and 400-digit counts never reach the database (where
PostgreSQL would store NaN and every later computation would fail).
"""

from __future__ import annotations

import math
import re

NOT_APPLICABLE = frozenset({"-", "–"})
MAX_MAGNITUDE = 10**12
_MAX_TEXT = 40  # characters: a longer "number" is out of range whatever it says
# ASCII digits only: Python's float() would also read Arabic-Indic or full-width digits.
_PLAIN = re.compile(r"[+-]?\d+([.,]\d+)?", re.ASCII)
_GROUPED = {
    ".": re.compile(r"[+-]?\d{1,3}(\.\d{3})+(,\d+)?", re.ASCII),
    ",": re.compile(r"[+-]?\d{1,3}(,\d{3})+(\.\d+)?", re.ASCII),
}


def parse_number(text: str) -> float | None:
    """A number written the Vietnamese or the plain way (see the module
    docstring); None for `-`. Raises ValueError naming the text otherwise,
    or saying it is out of range."""
    cleaned = text.strip()
    if cleaned in NOT_APPLICABLE:
        return None
    if len(cleaned) > _MAX_TEXT and _looks_numeric(cleaned):
        raise ValueError(f"{_shortened(cleaned)} is out of range {_RANGE}")
    if _PLAIN.fullmatch(cleaned):
        return in_range(float(cleaned.replace(",", ".")), cleaned)
    for thousands, grouped in _GROUPED.items():
        if grouped.fullmatch(cleaned):
            decimal_mark = "," if thousands == "." else "."
            plain = cleaned.replace(thousands, "").replace(decimal_mark, ".")
            return in_range(float(plain), cleaned)
    raise ValueError(f'"{_shortened(text)}" is not a number')


def in_range(number: int | float, written: str | None = None) -> float:
    """`number` as a float if it is finite and within ±MAX_MAGNITUDE; ValueError
    otherwise (NaN, infinities, 1e400, a 400-digit integer)."""
    shown = _shortened(written if written is not None else str(number))
    if isinstance(number, float) and not math.isfinite(number):
        raise ValueError(f"{shown} is not a finite number")
    if abs(number) > MAX_MAGNITUDE:
        raise ValueError(f"{shown} is out of range {_RANGE}")
    return float(number)


def number_from_token(token: str) -> float:
    """A JSON number token (`17.5`, `1e400`, `NaN`, `-Infinity`) as an in-range float."""
    if len(token) > _MAX_TEXT:
        raise ValueError(f"{_shortened(token)} is out of range {_RANGE}")
    return in_range(float(token), token)


_RANGE = f"(a figure lies within ±{MAX_MAGNITUDE:,})"


def _looks_numeric(text: str) -> bool:
    return all(character in "0123456789+-.," for character in text)


def _shortened(text: str) -> str:
    return text if len(text) <= 24 else f"{text[:12]}…{text[-4:]} ({len(text)} characters)"
