"""Vietnamese number and date formatting, the one place it is done.

Decimal comma and thousands dot (93,81; 4.642), never mixed; changes say
their direction in words ("tăng 3,8 điểm", "giảm 0,1 điểm", "giữ nguyên");
ranks have two digits ("03/23"); dates are real calendar dates in the
Nghị định 30/2020 form (days below 10 and months 1-2 take a leading zero:
"ngày 05 tháng 10 năm 2024", "05/10/2024", "30/9/2024"). Periods read as
officials write them: "tháng 9/2024", "tháng 9 năm 2024", "Quý I năm 2021".
"""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_HALF_UP, Decimal

from service.periods import Period

#: What an official fills in by hand: a number, a day, a name not configured.
BLANK = "……"

_ROMAN = (
    (1000, "M"),
    (900, "CM"),
    (500, "D"),
    (400, "CD"),
    (100, "C"),
    (90, "XC"),
    (50, "L"),
    (40, "XL"),
    (10, "X"),
    (9, "IX"),
    (5, "V"),
    (4, "IV"),
    (1, "I"),
)


def number(
    value: float | int | None, decimals: int = 2, missing: str = "-", *, keep_zeros: bool = False
) -> str:
    """`93.81` → "93,81"; `4642` → "4.642"; trailing zeros of decimals dropped (10 → "10")
    unless `keep_zeros` (80 → "80,00", for columns of totals).

    Rounds half up on the number as written (2.675 → "2,68"), as a person or
    Excel would, and never prints "-0".
    """
    if value is None:
        return missing
    rounded = Decimal(str(value)).quantize(Decimal(1).scaleb(-decimals), ROUND_HALF_UP)
    if rounded == 0:
        rounded = abs(rounded)
    text = f"{rounded:,.{decimals}f}"
    if "." in text and not keep_zeros:
        text = text.rstrip("0").rstrip(".")
    return text.replace(",", "\0").replace(".", ",").replace("\0", ".")


def points(value: float | int | None, missing: str = "-") -> str:
    """Points in a column as seed 000's appendix writes them: a whole number bare
    ("10", "30"), any other with its two decimals ("1,30", "18,50", never "18,5")."""
    if value is None:
        return missing
    whole = Decimal(str(value)) == Decimal(str(value)).to_integral_value()
    return number(value, 0 if whole else 2, missing, keep_zeros=True)


def percent(value: float | None, decimals: int = 2, *, space: bool = True) -> str:
    """`96.55` → "96,55 %"; with `space=False` "96,55%", as the notices write it."""
    if value is None:
        return "-"
    return f"{number(value, decimals)}{' ' if space else ''}%"


def signed(value: float | int | None, decimals: int = 2, missing: str = "-") -> str:
    """A change for a table column: "+ 3,8", "- 0,1", "0"."""
    if value is None:
        return missing
    text = number(abs(value), decimals)
    if text == "0":
        return "0"
    return f"{'+' if value > 0 else '-'} {text}"


def change_words(
    delta: float, unit: str = "điểm", same: str = "giữ nguyên", decimals: int = 2
) -> str:
    """A change in words: "tăng 3,8 điểm", "giảm 0,1 điểm", or `same` when it
    rounds to nothing."""
    text = number(abs(delta), decimals)
    if text == "0":
        return same
    direction = "tăng" if delta > 0 else "giảm"
    return f"{direction} {text} {unit}".rstrip()


def rank_change_words(change: int) -> str:
    """Places gained (positive) or lost: "tăng 18 bậc", "giảm 2 bậc", "giữ nguyên thứ hạng"."""
    if change == 0:
        return "giữ nguyên thứ hạng"
    return f"{'tăng' if change > 0 else 'giảm'} {abs(change)} bậc"


def two_digits(count: int) -> str:
    """Counts and ranks in prose take two digits: 3 → "03", 12 → "12", 4642 → "4.642"."""
    return f"{count:02d}" if 0 <= count < 100 else number(count, 0)


def rank(place: int, of: int | None = None) -> str:
    """ "03/23"; "03" when the size of the set is not known."""
    return two_digits(place) if of is None else f"{two_digits(place)}/{two_digits(of)}"


def roman(value: int) -> str:
    """1 → "I", 4 → "IV" (quarters, appendix and table numbering)."""
    if value < 1:
        raise ValueError(f"no Roman numeral for {value}")
    digits = []
    for size, letters in _ROMAN:
        count, value = divmod(value, size)
        digits.append(letters * count)
    return "".join(digits)


def _day(day: int) -> str:
    return f"{day:02d}"


def _month(month: int) -> str:
    return f"{month:02d}" if month <= 2 else str(month)


def long_date(day: dt.date) -> str:
    """ "ngày 05 tháng 10 năm 2024" (days below 10 and months 1-2 take a leading zero)."""
    return f"ngày {_day(day.day)} tháng {_month(day.month)} năm {day.year}"


def blank_long_date(year: int, month: int) -> str:
    """ "ngày …… tháng 10 năm 2024": the day left for the official to fill."""
    return f"ngày {BLANK} tháng {_month(month)} năm {year}"


def blank_compact_date(year: int, month: int) -> str:
    """ "……/10/2024": the day left for the official to fill."""
    return f"{BLANK}/{_month(month)}/{year}"


def compact_date(day: dt.date) -> str:
    """ "30/9/2024", "05/10/2024", "31/01/2025": the Nghị định 30 rule, with slashes."""
    return f"{_day(day.day)}/{_month(day.month)}/{day.year}"


def last_day_of_month(year: int, month: int) -> dt.date:
    """The real last day: 30 September, 29 February 2024, 28 February 2025."""
    return Period(year, "month", month).last_day


def _period(period: Period | str) -> Period:
    return Period.parse(period) if isinstance(period, str) else period


def capitalised(text: str) -> str:
    """`text` with its first letter a capital and the rest as written ("Tháng 8 năm
    2026", "Chưa có số liệu …"); `str.capitalize` would lower "UBND" and "DVCQG"."""
    return text[:1].upper() + text[1:]


def period_long(period: Period | str) -> str:
    """ "tháng 9 năm 2024", "Quý I năm 2021", "năm 2022"."""
    parsed = _period(period)
    if parsed.kind == "month":
        return f"tháng {parsed.number} năm {parsed.year}"
    if parsed.kind == "quarter":
        return f"Quý {roman(parsed.number)} năm {parsed.year}"
    return f"năm {parsed.year}"


def period_short(period: Period | str) -> str:
    """ "tháng 9/2024", "Quý I/2021", "năm 2022"."""
    parsed = _period(period)
    if parsed.kind == "month":
        return f"tháng {parsed.number}/{parsed.year}"
    if parsed.kind == "quarter":
        return f"Quý {roman(parsed.number)}/{parsed.year}"
    return f"năm {parsed.year}"
