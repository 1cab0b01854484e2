"""The header row of a CSV table or a sheet: the names its columns go by.

Names are compared without letter case and surrounding spaces ("Period " is
`period`). A header under which no row can be read is refused at once, each
problem in one line naming the header's cell ("column 3" in a CSV, "cell C1" in
a sheet): an empty first row, a first row naming none of the required columns
(a table without its header), a name that is empty between two others (its
column's cells would be read under no name), a name with an invisible character,
a name given twice (which of the two columns holds the period?) and a missing
required column. Unknown names are allowed: their columns are ignored.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterator, Sequence
from pathlib import Path

from openpyxl.utils import get_column_letter

from service.sources import limits
from service.sources.identifiers import name_problem
from service.sources.problems import InterchangeError, Problem, file_problem

REQUIRED = ("scheme", "period", "unit_code", "indicator", "value")


def column_names(cells: Sequence[object], path: Path, place: str) -> list[str]:
    """The names of the header `cells` (the first `place`, "line" or "row"), stripped and
    lower-cased; InterchangeError listing every problem (see the module docstring)."""
    header = [str(cell).strip().lower() if cell is not None else "" for cell in cells]
    while header and not header[-1]:
        header.pop()
    where = f"{place} 1"
    if not header:
        reason = f"the header is empty: the first {place} must name the columns ({_REQUIRED})"
        raise InterchangeError(path, [Problem(where, None, reason)])
    if len(header) > limits.MAX_COLUMNS or any(limits.cell_too_long(name) for name in header):
        reason = f"the header is not a table's (more than {limits.MAX_COLUMNS} or over-long names)"
        raise file_problem(path, reason)
    # A name spoiled by an invisible character is named once, not also as missing.
    visible = {_visible(name) for name in header}
    missing = [column for column in REQUIRED if column not in visible]
    if len(missing) == len(REQUIRED):  # not a header at all, whatever else its cells say
        reason = f"names none of the required columns ({_REQUIRED}): the first {place} must"
        raise InterchangeError(path, [Problem(where, None, reason)])
    problems = [Problem(where, None, reason) for reason in _header_problems(header, cells, place)]
    reason = "required column is missing (the first row must name the columns)"
    problems += [Problem(None, column, reason) for column in missing]
    if problems:
        raise InterchangeError(path, problems)
    return header


_REQUIRED = ", ".join(REQUIRED)


def _header_problems(header: list[str], cells: Sequence[object], place: str) -> Iterator[str]:
    """Why names of `header` (read from `cells`) cannot name its columns: an empty name
    between two others, an invisible character, a name given twice (letter case and
    surrounding spaces aside, as the columns are found)."""
    positions: dict[str, list[int]] = {}
    for index, name in enumerate(header):
        positions.setdefault(name, []).append(index)
        if not name and (index == 0 or header[index - 1]):  # the first of adjacent empty names
            yield _empty_names(header, index, place)
        elif wrong := name_problem(name):
            yield f"the name {name!r} in {_header_cells([index], place)}: {wrong}"
    for name, found in positions.items():
        if name and len(found) > 1:
            times = "twice" if len(found) == 2 else f"{len(found)} times"
            reason = f"the column {name!r} appears {times}: {_header_cells(found, place)}"
            if len({str(cells[index]) for index in found}) > 1:
                reason += " (letter case and surrounding spaces do not make another column)"
            yield reason


def _empty_names(header: list[str], first: int, place: str) -> str:
    """The empty names from `first` on, in one problem between the names beside them (the
    header's last name is not empty)."""
    end = first
    while not header[end]:
        end += 1
    where = (
        f"between {header[first - 1]!r} and {header[end]!r}" if first else f"before {header[end]!r}"
    )
    cells = _header_cells(range(first, end), place)
    one = end - first == 1
    return (
        f"{cells} of the header {'is' if one else 'are'} empty ({where}): "
        f"name the {'column' if one else 'columns'} (a column of another name is ignored) "
        f"or delete {'it' if one else 'them'}"
    )


def _header_cells(indices: Sequence[int], place: str) -> str:
    """Header cells as a person finds them: "cells B1 and C1" in a sheet, "column 3" in a CSV."""
    kind = "cell" if place == "row" else "column"
    names = [f"{get_column_letter(i + 1)}1" if place == "row" else str(i + 1) for i in indices]
    if len(names) == 1:
        return f"{kind} {names[0]}"
    return f"{kind}s {', '.join(names[:-1])} and {names[-1]}"


def _visible(name: str) -> str:
    return "".join(char for char in name if unicodedata.category(char) not in ("Cc", "Cf"))
