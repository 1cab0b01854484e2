"""Vietnamese number and date formatting, the one place it is done.

Decimal comma and thousands dot (93,81; 4.642), never mixed; dates in the
Nghị định 30 form with leading zeros (ngày 05 tháng 10 năm 2024).
"""

from __future__ import annotations

import datetime as dt


def number(value: float | int | None, decimals: int = 2, missing: str = "-") -> str:
    """`93.81` → "93,81"; `4642` → "4.642"; trailing zeros of decimals dropped (10 → "10")."""
    if value is None:
        return missing
    text = f"{value:,.{decimals}f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text.replace(",", "\0").replace(".", ",").replace("\0", ".")


def percent(value: float | None, decimals: int = 2) -> str:
    """`96.55` → "96,55 %"."""
    return "-" if value is None else f"{number(value, decimals)} %"


def long_date(day: dt.date) -> str:
    """ "ngày 05 tháng 10 năm 2024" (days below 10 and months 1-2 take a leading zero)."""
    month = f"{day.month:02d}" if day.month <= 2 else str(day.month)
    return f"ngày {day.day:02d} tháng {month} năm {day.year}"


def short_date(day: dt.date) -> str:
    """ "30/09/2024"."""
    return f"{day.day:02d}/{day.month:02d}/{day.year}"
