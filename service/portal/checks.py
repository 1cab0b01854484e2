"""Checked reading of one portal record: every problem names endpoint, unit and field.

The portal's API is undocumented and may change, so nothing is guessed: a
missing key, a wrong type, a negative count or a ratio outside 0-100 is
recorded as a `ParseProblem`, and the caller decides after reading everything
(so one run reports all the problems at once, not the first).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class ParseProblem:
    endpoint: str
    unit: str
    field: str
    message: str

    def __str__(self) -> str:
        return f"{self.endpoint}: unit {self.unit}: field {self.field!r}: {self.message}"


class ParseError(Exception):
    """The portal's answer for a province-period failed its checks; nothing is stored."""

    kind = "parse"

    def __init__(self, problems: list[ParseProblem]) -> None:
        self.problems = problems
        shown = "\n".join(f"  - {p}" for p in problems[:20])
        more = f"\n  ... and {len(problems) - 20} more" if len(problems) > 20 else ""
        super().__init__(f"{len(problems)} problem(s) in the portal's answer:\n{shown}{more}")


@dataclass
class RecordReader:
    """Reads fields of the records of one endpoint, collecting problems."""

    endpoint: str
    problems: list[ParseProblem] = field(default_factory=list)

    def problem(self, unit: str, key: str, message: str) -> None:
        self.problems.append(ParseProblem(self.endpoint, unit, key, message))

    def text(self, record: dict[str, Any], key: str, unit: str, required: bool = True) -> str:
        if key not in record:
            if required:
                self.problem(unit, key, "missing")
            return ""
        value = record[key]
        if value is None and not required:
            return ""
        if not isinstance(value, str) or not value.strip():
            self.problem(unit, key, f"expected a non-empty string, got {value!r}")
            return ""
        return value

    def number(
        self,
        record: dict[str, Any],
        key: str,
        unit: str,
        kind: str = "score",
        required: bool = True,
    ) -> float | None:
        """A number, or None for the portal's `null` ("no data", never 0).

        `kind` adds the range check: "count" (a whole number >= 0), "ratio"
        (percent, 0-100), "score" (>= 0). A key absent from the record is a
        problem unless `required` is False.
        """
        if key not in record:
            if required:
                self.problem(unit, key, "missing")
            return None
        value = record[key]
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int | float):
            self.problem(unit, key, f"expected a number, got {value!r}")
            return None
        return self._in_range(unit, key, float(value), kind)

    def _in_range(self, unit: str, key: str, value: float, kind: str) -> float | None:
        if kind == "count" and (value < 0 or value != int(value)):
            self.problem(unit, key, f"expected a count (whole number >= 0), got {value:g}")
            return None
        if kind == "ratio" and not 0 <= value <= 100:
            self.problem(unit, key, f"ratio {value:g} is outside 0-100")
            return None
        if kind == "score" and value < 0:
            self.problem(unit, key, f"negative score {value:g}")
            return None
        return value

    def difference(
        self, unit: str, key: str, whole: float | None, part: float | None
    ) -> float | None:
        """`whole - part` as a count; a part larger than its whole is a problem."""
        if whole is None or part is None:
            return None
        if part > whole:
            self.problem(unit, key, f"numerator {part:g} exceeds denominator {whole:g}")
            return None
        return whole - part
