"""Read a number written the Vietnamese or the plain way, as an input file's cell holds it.

The rule is the same for every column of the interchange table:

- `-` (or `–`) means "not applicable" (an empty cell, "not given", is
  the reader's to handle: it is not a number);
- one mark, once, is the decimal mark: `17,5` and `17.5` are 17.5 (so
  `1.234` and `1,234` are 1.234: a lone mark is never a thousands mark);
- a mark repeated groups thousands: `1.234.567`, `1,234,567`;
- both marks: the last is the decimal mark and the other must group
  thousands: `1.234,5` and `1,234.5` are 1234.5.
"""

from __future__ import annotations

import re

NOT_APPLICABLE = frozenset({"-", "–"})
_PLAIN = re.compile(r"[+-]?\d+([.,]\d+)?")
_GROUPED = {
    ".": re.compile(r"[+-]?\d{1,3}(\.\d{3})+(,\d+)?"),
    ",": re.compile(r"[+-]?\d{1,3}(,\d{3})+(\.\d+)?"),
}


def parse_number(text: str) -> float | None:
    """A number written the Vietnamese or the plain way (see the module
    docstring); None for `-`. Raises ValueError naming the text otherwise."""
    cleaned = text.strip()
    if cleaned in NOT_APPLICABLE:
        return None
    if _PLAIN.fullmatch(cleaned):
        return float(cleaned.replace(",", "."))
    for thousands, grouped in _GROUPED.items():
        if grouped.fullmatch(cleaned):
            decimal_mark = "," if thousands == "." else "."
            return float(cleaned.replace(thousands, "").replace(decimal_mark, "."))
    raise ValueError(f'"{text}" is not a number')
