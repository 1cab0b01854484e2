"""Officials' figures are decimals: how dvcwatch reads, rounds and compares them.

A figure such as 68,11 is a decimal written by a person; in binary floating
point 68.11 − 68.1 is 0.010000000000005, so a difference equal to a
tolerance of 0.01 would read as beyond it, and a sum landing on a class
boundary could fall just short of it. The scoring layer therefore does its
arithmetic and every comparison on `Decimal` values, and hands out floats
(JSON numbers) only in the rows it returns.

Figures arrive as floats (the snapshot store's type): the decimal a float
stands for is its shortest written form (`repr`), which for the figures
officials publish (at most 15 significant digits) is exactly what they wrote.
Rounding is half up (away from zero on the written decimal), as officials and
Excel round, never Python's round-half-to-even on the binary value.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from decimal import ROUND_HALF_UP, Decimal
from functools import lru_cache

#: What the scoring layer accepts as a figure: a float from the store, an int
#: from configuration, or a Decimal it computed itself.
Number = float | int | Decimal

CENT = Decimal("0.01")  # the precision figures are published to


# Published figures repeat (every unit of every month): most readings are a lookup. Typed,
# so that a float and the Decimal of its exact binary value (equal, and hashed alike) never
# share an entry: 2.675 reads as 2.675, Decimal(2.675) stays 2.67499…
@lru_cache(maxsize=1 << 16, typed=True)
def to_decimal(value: Number) -> Decimal:
    """The decimal a figure was written as: the shortest form of a float
    (5.81 → Decimal("5.81"), not the binary 5.80999…); ints and Decimals as they are."""
    if isinstance(value, Decimal):
        return value
    return Decimal(value) if isinstance(value, int) else Decimal(repr(value))


@lru_cache(maxsize=1 << 16, typed=True)  # as `to_decimal`
def round_half_up(value: Number, places: Decimal = CENT) -> Decimal:
    """`value` rounded half up to the precision of `places` (2 decimals by default):
    2.675 → 2.68, 0.125 → 0.13, -2.675 → -2.68."""
    return to_decimal(value).quantize(places, rounding=ROUND_HALF_UP)


def round2(value: Number) -> float:
    """`value` rounded half up to 2 decimals, as a float for output (a JSON number)."""
    return float(round_half_up(value))


def change2(current: Number, previous: Number) -> float:
    """`current − previous` of the decimals as written, rounded half up to 2 decimals
    (0.3 − 0.165 = 0.135 → 0.14, where the float difference 0.13499… gives 0.13).

    This runs for every axis of every unit of every month, so two floats take a
    shortcut that gives the same answer: the float difference is within 10⁻¹⁰ of
    a cent's fraction of the decimal one, so away from a half cent it rounds alike;
    near a half cent (or for huge values) the difference is taken as decimals.
    """
    if type(current) is float and type(previous) is float:
        cents = (current - previous) * 100
        nearest = round(cents) if -_FLOAT_EXACT < cents < _FLOAT_EXACT else 0
        if abs(cents - nearest) < _AWAY_FROM_HALF:
            # the decimal way gives -0.0 for a fall of under half a cent: so does this
            return nearest / 100 if nearest or cents >= 0 else -0.0
    change = to_decimal(current) - to_decimal(previous)
    return float(change.quantize(CENT, rounding=ROUND_HALF_UP))


def changes2(
    current: Mapping[str, Number | None], previous: Mapping[str, Number | None], keys: Iterable[str]
) -> dict[str, float | None]:
    """`change2` of each key's two figures (None where either is missing), a row at once:
    the analysis's hottest loop (every axis of every unit of every period), so the
    shortcut of two floats is taken here without a call; anything else goes to `change2`."""
    changes: dict[str, float | None] = {}
    for key in keys:
        now, before = current.get(key), previous.get(key)
        if now is None or before is None:
            changes[key] = None
        elif (
            type(now) is float
            and type(before) is float
            and -_FLOAT_EXACT < (cents := (now - before) * 100) < _FLOAT_EXACT
            and abs(cents - (nearest := round(cents))) < _AWAY_FROM_HALF
        ):
            changes[key] = nearest / 100 if nearest or cents >= 0 else -0.0
        else:
            changes[key] = change2(now, before)
    return changes


def whole_cents(
    values: Mapping[str, Number | None], codes: Iterable[str]
) -> tuple[int, ...] | None:
    """The figures `codes` of `values` in whole cents (68.11 → 6811), when every one is a
    float of whole cents, as the portal publishes them; None when one is missing, not a
    float, has more decimals or is beyond ±10¹³ points.

    Such cents are exactly the decimals as written (a decimal of at most 15 digits is the
    only one of them its float stands for), so integers can stand for the decimals: they
    compare, sum and subtract as `to_decimal`, `round_half_up` and `change2` would (whole
    cents need no rounding). The analysis of a history reads each unit once per period
    this way, instead of each figure as decimals or floats in every step."""
    cents = []
    for code in codes:
        value = values.get(code)
        if type(value) is not float or not -_WHOLE_LIMIT < value < _WHOLE_LIMIT:
            return None
        whole = round(value * 100)
        if whole / 100 != value:
            return None
        cents.append(whole)
    return tuple(cents)


_WHOLE_LIMIT = 1e13  # points: whole cents of at most 15 digits
_NEAR_HALF = 1e-6  # of a cent: far above the float error of figures below _FLOAT_EXACT
_AWAY_FROM_HALF = 0.5 - _NEAR_HALF  # the float difference is this close to a whole cent
_FLOAT_EXACT = 1e9  # cents: up to 10⁷ points a float difference errs by under 10⁻⁸ cent


def within(reported: Number, computed: Number, tolerance: Number) -> bool:
    """True when the two figures differ by at most `tolerance`, exactly:
    68.11 against 68.10 is within 0.01."""
    return abs(to_decimal(reported) - to_decimal(computed)) <= to_decimal(tolerance)


def as_float(value: Decimal | None) -> float | None:
    """A computed decimal as the float rows carry (None stays None); exact for
    published figures, whose decimal is the float's shortest form."""
    return None if value is None else float(value)
