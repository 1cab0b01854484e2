"""What every notice is made of, as values: the shared model of the Công văn and the Báo cáo.

The documents themselves are built in `congvan.py` (a unit's Công văn) and
`baocao.py` (a comparison set's Báo cáo); here are the frozen dataclasses
they both return, whose every string is final Vietnamese text laid out by
any template (docx, HTML), and the parts they both build the same way: the
header, the signature, the "Nơi nhận" lists and the placeholders of the
editable texts. Nothing is invented: what the issuer has not configured is
a blank (`BLANK`) for the official to fill.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from service.figures import AXES, FigureValue
from service.notices.texts import NoticeTexts, fill
from service.periods import Period
from service.vnformat import (
    BLANK,
    blank_compact_date,
    blank_long_date,
    change_words,
    compact_date,
    long_date,
    period_long,
    period_short,
)

#: A score row as `national_rows()` and `appraisal_rows()` give it.
Row = Mapping[str, Any]
#: Figures of one period by code.
Figures = Mapping[str, FigureValue]
#: The six axes in the order the Công văn lists them.
AXIS_ORDER: tuple[str, ...] = tuple(AXES)


@dataclass(frozen=True)
class Issuer:
    """Who issues a document, from the per-unit configuration.

    Anything None is left blank for the official to fill, never guessed.
    `body_name` may hold "\\n" to break lines ("Ủy ban nhân dân\\nxã Bình
    Thành"); `number_pattern` is the symbol after the number ("UBND-VP"),
    the number itself is always the clerk's. `recipients` are the "Kính gửi"
    of a Công văn and the first "Nơi nhận" of a Báo cáo; `copies` are the
    further "Nơi nhận"; `set_name` overrides the texts' name of the set.
    """

    body_parent: str | None = None
    body_name: str | None = None
    number_pattern: str | None = None
    place: str | None = None
    authority: str | None = "TM."  # "TM.", "KT.", "TL.", "TUQ." or None (signs as head)
    authority_of: str | None = "ỦY BAN NHÂN DÂN"  # the body or head signed for
    signer_title: str | None = "CHỦ TỊCH"
    signer_name: str | None = None
    recipients: tuple[str, ...] = ()
    archive_line: str = "Lưu: VT, VP."
    copies: tuple[str, ...] = ()
    short_name: str | None = None
    area_name: str | None = None
    set_name: str | None = None


@dataclass(frozen=True)
class Header:
    """The two-column head (Nghị định 30): body and number left, motto and date right."""

    body_parent: str  # upright capitals; "" when there is none
    body_name_lines: tuple[str, ...]  # bold capitals
    number_line: str  # "Số: ……/UBND-VP"
    place_date: str  # "Bình Thành, ngày 05 tháng 10 năm 2024"

    @property
    def body_name(self) -> str:
        return "\n".join(self.body_name_lines)


@dataclass(frozen=True)
class Section:
    heading: str
    paragraphs: tuple[str, ...]


@dataclass(frozen=True)
class TableRow:
    cells: tuple[str, ...]
    strong: bool = False  # a group or total row, set in bold


@dataclass(frozen=True)
class Table:
    """A bordered table; the first two columns are the number and the name."""

    caption: str
    columns: tuple[str, ...]
    rows: tuple[TableRow, ...]


@dataclass(frozen=True)
class Chart:
    """A place for a chart: the renderer puts the image named `key` there, if given."""

    key: str
    caption: str


@dataclass(frozen=True)
class Appendix:
    title: str
    subtitle: str
    note: str
    tables: tuple[Table, ...]
    charts: tuple[Chart, ...] = ()


@dataclass(frozen=True)
class Signature:
    signing_for: str  # "TM. ỦY BAN NHÂN DÂN"
    title: str  # "CHỦ TỊCH"
    name: str  # "" until configured


@dataclass(frozen=True)
class Notice:
    """What every notice has, in reading order; templates lay it out."""

    kind: str  # "congvan" or "baocao"
    header: Header
    title: str  # "BÁO CÁO"; "" for a Công văn
    subject: str  # "V/v ..." under the number, or the report's subject under its title
    addressees: tuple[str, ...]  # "Kính gửi:" lines; () for a report
    opening: tuple[str, ...]
    sections: tuple[Section, ...]
    closing: tuple[str, ...]
    signature: Signature
    copies: tuple[str, ...]  # "Nơi nhận:" lines, ending "- Lưu: VT, VP."
    appendices: tuple[Appendix, ...]


@dataclass(frozen=True)
class Against:
    """The previous period a document compares with, and whether it may."""

    short: str  # "tháng 8/2024"
    comparable: bool
    reason: str  # why there is no change, when there is none

    def change(self, delta: float | None, same: str = "giữ nguyên điểm") -> str:
        """ "tăng 3,8 điểm so với tháng 8/2024", or the honest reason for no change."""
        if delta is None or not self.comparable:
            return self.reason
        return f"{change_words(delta, same=same)} so với {self.short}"


#: Where a word may break when its column is narrow: after the dot of a code ("CKMB.1").
BREAK = "\u200b"


def breakable(label: str) -> str:
    """A column heading that may wrap after each dot of a code ("CKMB." / "1 (5)"): as one
    word, eleven such codes took a landscape page and left the names 20 mm."""
    return label.replace(".", "." + BREAK)


def as_period(period: Period | str) -> Period:
    """`period` itself, or the `Period` a string such as "2024-09" names."""
    return Period.parse(period) if isinstance(period, str) else period


def header_of(issuer: Issuer, period: Period, issued_on: dt.date | None) -> Header:
    """Blank number always; blank day (in the month after the period) until issued."""
    names = issuer.body_name.upper().split("\n") if issuer.body_name else [BLANK]
    return Header(
        body_parent=(issuer.body_parent or "").upper(),
        body_name_lines=tuple(line.strip() for line in names),
        number_line=f"Số: {_document_number(issuer)}",
        place_date=f"{issuer.place or BLANK}, {_issue_date_words(period, issued_on)}",
    )


def _document_number(issuer: Issuer) -> str:
    return f"{BLANK}/{issuer.number_pattern or BLANK}"


def _issue_month(period: Period) -> dt.date:
    return period.last_day + dt.timedelta(days=1)


def _issue_date_words(period: Period, issued_on: dt.date | None) -> str:
    if issued_on is not None:
        return long_date(issued_on)
    month = _issue_month(period)
    return blank_long_date(month.year, month.month)


def _issue_date_compact(period: Period, issued_on: dt.date | None) -> str:
    if issued_on is not None:
        return compact_date(issued_on)
    month = _issue_month(period)
    return blank_compact_date(month.year, month.month)


def listed(items: Sequence[str]) -> tuple[str, ...]:
    """ "- a;", "- b;", "- c." whatever dashes and stops the items came with."""
    cleaned = [item.strip().lstrip("-").strip().rstrip(";.").strip() for item in items]
    last = len(cleaned) - 1
    return tuple(f"- {text}{'.' if i == last else ';'}" for i, text in enumerate(cleaned))


def signature_of(issuer: Issuer) -> Signature:
    """The signature block: "TM. ỦY BAN NHÂN DÂN" (no such line when the head signs
    in their own name), the title and the name; a part not configured is left for
    the official (the dotted blank for the name and for whom an authority signs)."""
    signing_for = ""
    if issuer.authority:
        signing_for = f"{issuer.authority} {(issuer.authority_of or BLANK).upper()}"
    return Signature(signing_for, (issuer.signer_title or "").upper(), issuer.signer_name or BLANK)


def placeholders(
    period: Period, issuer: Issuer, issued_on: dt.date | None, **more: str
) -> dict[str, str]:
    """Every placeholder a text may use (see texts.toml), blank when not configured."""
    previous = period.previous()
    return {
        "unit_name": BLANK,
        "unit_head": BLANK,
        "set_name": BLANK,
        "scheme_title": BLANK,
        "period_long": period_long(period),
        "period_short": period_short(period),
        "previous_long": period_long(previous),
        "previous_short": period_short(previous),
        "area": issuer.area_name or BLANK,
        "issuer_short": issuer.short_name or BLANK,
        "document_number": _document_number(issuer),
        "document_date": _issue_date_compact(period, issued_on),
        "as_of": BLANK,
    } | more


def filled(lines: Sequence[str], values: Mapping[str, str]) -> tuple[str, ...]:
    """Each of `lines` with its placeholders replaced by `values`."""
    return tuple(fill(line, values) for line in lines)


def set_name_of(issuer: Issuer, texts: NoticeTexts, group: str | None) -> str:
    """What the units of a set are called ("xã, phường"): the issuer's name, else the texts'."""
    return issuer.set_name or texts.set_names.get(group or "", "đơn vị")
