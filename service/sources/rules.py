"""What an imported table's rows mean under their scheme, checked before anything is stored.

`check_rows` returns every problem (empty: the table may be stored):

- the scheme is known (and is `--scheme`, when given); the indicator is
  one of its indicators (`bounds.py`);
- points lie within 0 and their maximum, a given `max` is the indicator's
  own, counts are whole and at least 0, a rank is within its set;
- numerator and denominator are whole counts, the numerator at most the
  denominator;
- the period has begun, and `as_of` lies within or after its period and
  not after today;
- a unit has one parent within a table, every indicator of a provincial or
  tt01 scheme (`-` when it does not apply; never for a tt01 criterion, which
  every dossier is scored on), and per-dossier tt01 scores for all nine
  criteria;
- tt01's text rows say what they may: `STATUS` "Chưa chấm điểm" (the unit
  did not score itself: then it has no row but its `LEVEL`: no criteria, no
  `DOSSIERS`, no self-score), `LEVEL` "huyện" or "xã".
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from datetime import date

from service.indicators import NATIONAL
from service.scoring.book import SchemeBook
from service.scoring.tt01 import (
    CRITERIA,
    LEVEL,
    LEVELS,
    STATUS,
    TT01_KIND,
    UNSCORED,
    level_of,
    status_of,
)
from service.sources.bounds import DOSSIERS, RANK, Bound, scheme_bounds
from service.sources.interchange import InterchangeRow
from service.sources.problems import Problem, ProblemList

_UnitKey = tuple[str, str, str]  # scheme, period, unit code
_WORDS = Bound(None, exact=False)  # a text row, checked as text
_TT01_TEXT_ROWS = {STATUS: _WORDS, LEVEL: _WORDS}


def check_rows(
    rows: Sequence[InterchangeRow], book: SchemeBook, only_scheme: str | None, today: date
) -> ProblemList:
    """Every problem of `rows` under their schemes, in file order (see the module docstring)."""
    problems = ProblemList()
    bounds: dict[str, Mapping[str, Bound] | None] = {}
    for row in rows:
        if only_scheme and row.scheme != only_scheme:
            problems.append(
                _problem(row, "scheme", f"{row.scheme!r} is not --scheme {only_scheme!r}")
            )
            continue
        if row.scheme not in bounds:
            bounds[row.scheme] = scheme_bounds(book, row.scheme)
            if row.scheme == TT01_KIND and bounds[row.scheme] is not None:
                bounds[row.scheme] = {**(bounds[row.scheme] or {}), **_TT01_TEXT_ROWS}
        known = bounds[row.scheme]
        if known is None:
            problems.append(_problem(row, "scheme", book.unknown(row.scheme)))
            continue
        problems.extend(_row_problems(row, known, today))
    if not problems:
        problems.extend(_unit_problems(rows, book))
    return problems


def _row_problems(row: InterchangeRow, known: Mapping[str, Bound], today: date) -> list[Problem]:
    bound = known.get(row.indicator)
    if bound is None:
        reason = f"{row.indicator!r} is not an indicator of {row.scheme} ({', '.join(known)})"
        return [_problem(row, "indicator", reason)]
    found = [*_dossier_problems(row), *_date_problems(row, today), *_ratio_problems(row)]
    found.extend(_words_problems(row))
    if isinstance(row.value, float):
        found.extend(_value_problems(row, bound))
    return found


def _value_problems(row: InterchangeRow, bound: Bound) -> list[Problem]:
    value, maximum, name = row.value, row.max, row.indicator
    assert isinstance(value, float)
    if bound.whole and not value.is_integer():
        return [_problem(row, "value", f"{_n(value)} is not a whole number: {name} is a count")]
    if value < 0:
        return [_problem(row, "value", f"{_n(value)} is negative: {name} is at least 0")]
    if name == RANK:
        if maximum is not None and not (maximum.is_integer() and value <= maximum):
            reason = f"{_n(maximum)} is not the size of a set ranked {_n(value)}"
            return [_problem(row, "max", reason)]
        return []
    if maximum is not None and bound.maximum is not None:
        if bound.exact and maximum != bound.maximum:
            reason = f"{_n(maximum)} is not {name}'s maximum {_n(bound.maximum)}"
            return [_problem(row, "max", reason)]
        if maximum > bound.maximum:
            reason = f"{_n(maximum)} is above {_n(bound.maximum)}, the most {name} can be"
            return [_problem(row, "max", reason)]
    ceiling = maximum if maximum is not None and not bound.exact else bound.maximum
    if ceiling is not None and value > ceiling:
        reason = f"{_n(value)} is outside 0-{_n(ceiling)}, the range of {name}"
        return [_problem(row, "value", reason)]
    return []


def _n(number: float) -> str:
    """A number as the file most likely wrote it: 1234567, not %g's 1.23457e+06."""
    if number.is_integer() and abs(number) < 1e16:
        return str(int(number))
    return repr(number)


def _words_problems(row: InterchangeRow) -> list[Problem]:
    """A STATUS or LEVEL row saying something tt01 does not know."""
    text = row.value if isinstance(row.value, str) else ""
    if row.indicator == STATUS and status_of(text) is None:
        return [_problem(row, "value", f'"{text}" is not a STATUS (write "{UNSCORED}")')]
    if row.indicator == LEVEL and level_of(text) is None:
        return [_problem(row, "value", f'"{text}" is not a LEVEL (write {" or ".join(LEVELS)})')]
    return []


def _ratio_problems(row: InterchangeRow) -> list[Problem]:
    found = [
        _problem(row, column, f"{_n(number)} is not a whole number of dossiers")
        for column, number in (("numerator", row.numerator), ("denominator", row.denominator))
        if number is not None and not number.is_integer()
    ]
    numerator, denominator = row.numerator, row.denominator
    if not found and numerator is not None and denominator is not None and numerator > denominator:
        reason = f"{_n(numerator)} is more than the denominator {_n(denominator)}"
        found.append(_problem(row, "numerator", reason))
    return found


def _date_problems(row: InterchangeRow, today: date) -> list[Problem]:
    if row.period.first_day > today:
        return [_problem(row, "period", f"{row.period} has not begun (today is {today})")]
    if row.as_of is None:
        return []
    if row.as_of < row.period.first_day:
        reason = f"{row.as_of} is before {row.period} begins ({row.period.first_day})"
        return [_problem(row, "as_of", reason)]
    if row.as_of > today:
        return [_problem(row, "as_of", f"{row.as_of} is in the future (today is {today})")]
    return []


def _dossier_problems(row: InterchangeRow) -> list[Problem]:
    if row.scheme == TT01_KIND and row.indicator in CRITERIA and row.value is None:
        reason = f"{row.indicator} needs a score 0-2, not '-' (no dossiers: write DOSSIERS 0)"
        return [_problem(row, "value", reason)]
    if not row.dossier:
        return []
    if row.scheme != TT01_KIND or row.indicator not in CRITERIA:
        return [_problem(row, "dossier", "only the tt01 criteria TC1-TC9 are scored per dossier")]
    if not isinstance(row.value, float):
        return [_problem(row, "value", f"dossier {row.dossier} needs a score 0-2, not '-'")]
    return []


def _unit_problems(rows: Iterable[InterchangeRow], book: SchemeBook) -> list[Problem]:
    """Per unit: one parent, and (provincial, tt01) every indicator of its scheme."""
    units: dict[_UnitKey, list[InterchangeRow]] = defaultdict(list)
    for row in rows:
        units[(row.scheme, str(row.period), row.unit_code)].append(row)
    problems = []
    for (scheme, _period, unit_code), unit_rows in units.items():
        problems.extend(_parent_problems(unit_code, unit_rows))
        unscored = next((row for row in unit_rows if row.indicator == STATUS), None)
        if unscored is not None:
            problems.extend(_unscored_problems(unit_code, unscored, unit_rows))
        elif any(row.dossier for row in unit_rows):
            problems.extend(_incomplete_dossiers(unit_code, unit_rows))
        elif scheme != NATIONAL:
            problems.extend(_missing_indicators(scheme, unit_code, unit_rows, book))
    return problems


def _parent_problems(unit_code: str, rows: Sequence[InterchangeRow]) -> list[Problem]:
    first = rows[0]
    other = next((row for row in rows if row.parent_code != first.parent_code), None)
    if other is None:
        return []
    reason = (
        f"unit {unit_code} is under {other.parent_code or 'no parent'} here and under "
        f"{first.parent_code or 'no parent'} at {first.location}: one table, one parent"
    )
    return [_problem(other, "parent_code", reason)]


def _missing_indicators(
    scheme: str, unit_code: str, rows: Sequence[InterchangeRow], book: SchemeBook
) -> list[Problem]:
    if scheme == TT01_KIND and any(r.indicator == DOSSIERS and r.value == 0 for r in rows):
        return []  # "Không phát sinh TTHC": no dossiers, no criteria
    present = {row.indicator for row in rows}
    needed = list(CRITERIA) if scheme == TT01_KIND else list(book.indicator_max(scheme) or {})
    missing = [code for code in needed if code not in present]
    if not missing:
        return []
    reason = f"unit {unit_code} has no row for {', '.join(missing)} (write '-' for not applicable)"
    return [_problem(rows[0], "indicator", reason)]


def _unscored_problems(
    unit_code: str, status: InterchangeRow, rows: Sequence[InterchangeRow]
) -> list[Problem]:
    """A unit that did not score itself has no criteria, dossier count or self-score besides."""
    scores = [row for row in rows if row.indicator not in (STATUS, LEVEL)]
    if not scores:
        return []
    reason = (
        f'unit {unit_code} is "{UNSCORED}" at {status.location} and has '
        f"{scores[0].indicator} here: keep one or the other"
    )
    return [_problem(scores[0], "indicator", reason)]


def _incomplete_dossiers(unit_code: str, rows: Sequence[InterchangeRow]) -> list[Problem]:
    """A unit scored per dossier: every dossier scores all nine criteria, and the unit
    has no unit-level criterion rows besides (which of the two would be meant?)."""
    problems = []
    unit_level = [row for row in rows if row.indicator in CRITERIA and not row.dossier]
    if unit_level:
        reason = f"unit {unit_code} has both per-dossier and unit-level criteria"
        problems.append(_problem(unit_level[0], "dossier", reason))
    for dossier, dossier_rows in by_dossier(rows).items():
        missing = [c for c in CRITERIA if c not in {r.indicator for r in dossier_rows}]
        if missing:
            reason = f"dossier {dossier} of {unit_code} has no row for {', '.join(missing)}"
            problems.append(_problem(dossier_rows[0], "indicator", reason))
    return problems


def by_dossier(rows: Iterable[InterchangeRow]) -> dict[str, list[InterchangeRow]]:
    """A per-dossier unit's rows by dossier, in file order."""
    dossiers: dict[str, list[InterchangeRow]] = defaultdict(list)
    for row in rows:
        if row.dossier:
            dossiers[row.dossier].append(row)
    return dossiers


def _problem(row: InterchangeRow, column: str, reason: str) -> Problem:
    return Problem(row.location, column, reason)
