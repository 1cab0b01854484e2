"""Checked reading of one portal record: every problem names endpoint, unit and field.

The portal's API is undocumented and may change, so nothing is guessed: a
missing key, a wrong type, a negative count, a ratio outside 0-100, a number
that is not finite, a string too long for its column or with control
characters, a code that is not an identifier: each is recorded as a
`ParseProblem`, and the caller decides after reading everything (so one run
reports all the problems at once, not the first).
"""

from __future__ import annotations

import json
import math
import re
import reprlib
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import orjson

#: Codes and ids (`departmentCode`, `departmentId`, metric codes) are stored in
#: 64-character columns and become parts of file names: one word, no separators.
CODE_LENGTH = 64
NAME_LENGTH = 255
MESSAGE_LENGTH = 2000
#: Beyond 10^15 a float no longer holds every whole number; no real figure is near it.
MAX_MAGNITUDE = 1e15
#: A lone surrogate (JSON may spell "\ud800") is no character: no text can be stored with
#: one (its UTF-8 does not exist), so it is refused with the control characters.
NOT_IN_A_CODE = re.compile(r"[\s/\\'\"`;\x00-\x1f\x7f-\x9f\ud800-\udfff]")
CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\ud800-\udfff]")
CONTROL_BUT_LINES = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")


@lru_cache(maxsize=1 << 16)  # a province's answers name the same ids and codes 7 times
def is_code(value: str) -> bool:
    """Whether `value` is an identifier: 1-64 characters, no whitespace, path
    separators, quotes, semicolons or control characters, and not only dots."""
    return (
        0 < len(value) <= CODE_LENGTH and not NOT_IN_A_CODE.search(value) and bool(value.strip("."))
    )


@dataclass(frozen=True)
class NonFinite:
    """A number JSON can spell but a figure cannot hold: NaN, Infinity, 1e400.

    `read_json` puts it where the number was, so that the checks report it with
    its endpoint, unit and field instead of the whole body failing as "not JSON".
    """

    text: str

    def __repr__(self) -> str:
        return self.text


_NESTED = reprlib.Repr()
_NESTED.maxlevel = 3


def shown(value: object, width: int = 60) -> str:
    """`value` as a problem names it: its repr cut to `width` characters, or, for a value
    nested past what `repr` can show (orjson reads 1,024 levels), to three levels."""
    try:
        return repr(value)[:width]
    except RecursionError:
        return _NESTED.repr(value)[:width]


def as_text(value: object, width: int) -> str:
    """A text as it is, anything else as `shown`, cut to `width` characters."""
    return value[:width] if isinstance(value, str) else shown(value, width)


#: Every digit a "0", every other byte a space: a run of 19 digits (as long as the
#: longest 64-bit integers, past which orjson reads an integer as a float: 2^64, or
#: -2^63 - 1) is then a plain substring, found ten times quicker than by a regular
#: expression over a national sync's 21 MB.
_DIGITS_ONLY = bytes(0x30 if byte in b"0123456789" else 0x20 for byte in range(256))
_LONG_DIGITS = b"0" * 19


def read_json(body: bytes) -> Any:
    """The JSON value of `body`, non-finite numbers as `NonFinite`; ValueError if the
    body is not JSON (or nests too deeply to read).

    orjson reads a well-formed body (a national sync's 21 MB in half the time of
    `json`) and refuses what it cannot read exactly as `json` would: NaN or
    Infinity, a number beyond a float's range, a byte order mark, a lone
    surrogate. Those bodies, and those holding an integer of 19 digits or more,
    are read by `json`, each number with a fraction or an exponent checked, so
    that a figure no float holds is named where it is instead of the whole body
    failing."""
    if not has_long_integer(body):
        try:
            return orjson.loads(body)
        except orjson.JSONDecodeError:
            pass  # read again below: a value orjson refuses, or json's words for the error
    try:
        return json.loads(body, parse_constant=NonFinite, parse_float=_finite_float)
    except RecursionError:
        raise ValueError("nested too deeply") from None


def has_long_integer(body: bytes) -> bool:
    """Whether `body` holds a run of 19 digits or more: an integer orjson would read as a
    float (past 64 bits), or one `json` refuses (past 4,300 digits): `read_json` reads
    such a body with `json`, and nothing else may read it first."""
    return _LONG_DIGITS in body.translate(_DIGITS_ONLY)


def _finite_float(text: str) -> float | NonFinite:
    value = float(text)
    return value if math.isfinite(value) else NonFinite(text)


#: Each kind of number → the largest value it may hold (every kind is >= 0).
_UPPER = {"count": MAX_MAGNITUDE, "score": MAX_MAGNITUDE, "ratio": 100.0}
Field = tuple[str, str]  # a record's key and the kind of number it holds


def plain_numbers(record: dict[str, Any], fields: tuple[Field, ...]) -> list[float | None] | None:
    """The numbers of `record` at `fields`, when every one is present and either null or a
    plain JSON number of its kind (`RecordReader.number` would accept each without a
    word); None as soon as one needs the checks that name a problem. A national sync
    reads 440,000 numbers: this is its common case, a loop instead of a call each."""
    numbers: list[float | None] = []
    for key, kind in fields:
        value = record.get(key)
        if type(value) is int or (type(value) is float and kind != "count"):
            if 0 <= value <= _UPPER[kind]:
                numbers.append(float(value))
                continue
        elif value is None and key in record:
            numbers.append(None)
            continue
        return None
    return numbers


def _fits_kind(value: float, kind: str) -> bool:
    """Whether a plain JSON number passes every check of `RecordReader.number` (NaN and
    the infinities fail each comparison)."""
    if kind == "ratio":
        return 0 <= value <= 100
    if not 0 <= value <= MAX_MAGNITUDE:
        return False
    return kind != "count" or isinstance(value, int) or value.is_integer()


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
        if len(problems) == 1:
            super().__init__(f"the portal's answer failed a check: {problems[0]}")
            return
        listed = "\n".join(f"  - {p}" for p in problems[:20])
        more = f"\n  ... and {len(problems) - 20} more" if len(problems) > 20 else ""
        super().__init__(f"{len(problems)} problem(s) in the portal's answer:\n{listed}{more}")

    def __reduce__(self) -> tuple[type[ParseError], tuple[list[ParseProblem]]]:
        """Pickled with its problems (a second process reads the answers of a sync)."""
        return ParseError, (self.problems,)


@dataclass
class RecordReader:
    """Reads fields of the records of one endpoint, collecting problems."""

    endpoint: str
    problems: list[ParseProblem] = field(default_factory=list)

    def problem(self, unit: str, key: str, message: str) -> None:
        self.problems.append(ParseProblem(self.endpoint, unit, key, message))

    def text(
        self,
        record: dict[str, Any],
        key: str,
        unit: str,
        required: bool = True,
        limit: int = NAME_LENGTH,
    ) -> str:
        """A non-empty one-line string of at most `limit` characters; "" when absent,
        null where not `required`, or refused."""
        value = record.get(key)
        if (
            type(value) is str
            and len(value) <= limit
            and value.strip()
            and not CONTROL.search(value)
        ):
            return value  # the common case, without the checks that name a problem
        return self.checked_text(record, key, unit, required, limit)

    def checked_text(
        self, record: dict[str, Any], key: str, unit: str, required: bool, limit: int
    ) -> str:
        """`text` through every check (each refusal named)."""
        if key not in record:
            if required:
                self.problem(unit, key, "missing")
            return ""
        value = record[key]
        if value is None and not required:
            return ""
        if not isinstance(value, str) or not value.strip():
            self.problem(unit, key, f"expected a non-empty string, got {shown(value)}")
            return ""
        return value if self._fits(unit, key, value, limit, CONTROL) else ""

    def code(self, record: dict[str, Any], key: str, unit: str, required: bool = True) -> str:
        """An identifier: at most 64 characters, without whitespace, path separators,
        quotes, semicolons or control characters, and not only dots."""
        value = record.get(key)
        if type(value) is str and is_code(value):
            return value  # the common case (a code is a non-empty one-line text)
        return self.checked_code(record, key, unit, required)

    def checked_code(self, record: dict[str, Any], key: str, unit: str, required: bool) -> str:
        """`code` through every check (each refusal named)."""
        value = self.checked_text(record, key, unit, required, CODE_LENGTH)
        if value and not is_code(value):
            self.problem(
                unit, key, f"{value!r:.60} is not a code: one word without / \\ quotes or ;"
            )
            return ""
        return value

    def note(self, record: dict[str, Any], key: str, unit: str, limit: int) -> str | None:
        """An optional free text (absent, null or "" is None); lines are allowed."""
        value = record.get(key)
        if value is None or value == "":
            return None
        if not isinstance(value, str):
            self.problem(unit, key, f"expected a string, got {shown(value)}")
            return None
        return value if self._fits(unit, key, value, limit, CONTROL_BUT_LINES) else None

    def _fits(self, unit: str, key: str, value: str, limit: int, control: re.Pattern[str]) -> bool:
        if len(value) > limit:
            self.problem(unit, key, f"longer than {limit} characters ({len(value)})")
            return False
        if found := control.search(value):
            what = "a lone surrogate" if found.group() >= "\ud800" else "a control character"
            self.problem(unit, key, f"contains {what}: {value!r:.60}")
            return False
        return True

    def number(
        self,
        record: dict[str, Any],
        key: str,
        unit: str,
        kind: str = "score",
        required: bool = True,
    ) -> float | None:
        """A finite number, or None for the portal's `null` ("no data", never 0).

        `kind` adds the range check: "count" (a whole number >= 0), "ratio"
        (percent, 0-100), "score" (>= 0). A key absent from the record is a
        problem unless `required` is False; so are NaN, Infinity and numbers
        beyond `MAX_MAGNITUDE`.
        """
        value = record.get(key)
        if (type(value) is int or type(value) is float) and _fits_kind(value, kind):
            return float(value)  # a plain number (not bool, not NonFinite) that passes
        return self.checked_number(record, key, unit, kind, required)

    def checked_number(
        self, record: dict[str, Any], key: str, unit: str, kind: str, required: bool
    ) -> float | None:
        """`number` through every check (each refusal named)."""
        if key not in record:
            if required:
                self.problem(unit, key, "missing")
            return None
        value = record[key]
        if value is None:
            return None
        if isinstance(value, NonFinite) or (isinstance(value, float) and not math.isfinite(value)):
            self.problem(unit, key, f"expected a finite number, got {value!r}")
            return None
        if isinstance(value, bool) or not isinstance(value, int | float):
            self.problem(unit, key, f"expected a number, got {shown(value)}")
            return None
        if abs(value) > MAX_MAGNITUDE:
            digits = str(value)
            text = digits if len(digits) <= 20 else f"{digits[:12]}... ({len(digits)} characters)"
            self.problem(unit, key, f"{text} is out of range (beyond 10^15)")
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
