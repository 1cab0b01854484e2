"""Phụ lục I and II of a unit's Công văn, as values, and the phrase for a standing.

Pure, like `congvan.py`, which calls `congvan_appendices`. Phụ lục I lists
every indicator in both months (each axis in points, its metrics as counts
and rates) and the total with the rank; Phụ lục II the configured counts and
rates. A change is shown only when the two months may be compared.
`rank_clause` and `score_of` word a unit's standing for the letter's body too.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from service.figures import COUNT_CODES, FigureValue
from service.notices.documents import (
    AXIS_ORDER,
    Against,
    Appendix,
    Chart,
    Figures,
    Row,
    Table,
    TableRow,
)
from service.notices.texts import NoticeTexts, fill
from service.periods import Period
from service.scoring.changes import round2
from service.vnformat import (
    capitalised,
    change_words,
    compact_date,
    number,
    rank,
    rank_change_words,
    roman,
    signed,
)


@dataclass(frozen=True)
class TwoMonths:
    """The unit's score row and figures in the month reported (`row`, `now`) and the
    month before (`previous`, `before`), and whether the two may be compared."""

    row: Row
    previous: Row | None
    now: Figures
    before: Figures
    compare: Against


_NUMBER_AND_NAME = ("STT", "Nội dung")
#: A rate whose denominator is 0: no dossier of the kind arose.
NONE_ARISEN = "Không phát sinh"
NBSP = "\u00a0"


def congvan_appendices(
    term: Period, months: TwoMonths, texts: NoticeTexts, values: Mapping[str, str]
) -> tuple[Appendix, ...]:
    """Phụ lục I (every indicator, the change) and Phụ lục II (counts, rates). The
    previous month's columns and the change are there only when it may be compared."""
    day_now = compact_date(reading_day(months.row, term))
    day_before = compact_date(reading_day(months.previous, term.previous()))
    both = months.compare.comparable
    note = fill(texts.congvan.appendix_note, values)
    first = Table(
        "",
        _indicator_columns(day_before, day_now, both),
        _indicator_rows(months, texts, values["set_name"]),
    )
    earlier = (f"Ngày {day_before}",) if both else ()
    second = Table(
        "",
        (
            *_NUMBER_AND_NAME,
            *earlier,
            f"Ngày {day_now}",
            *(("Tăng (+)/ Giảm (-)",) if both else ()),
        ),
        _summary_rows(months, texts),
    )
    charts = _indicator_charts(months, values)
    return (
        Appendix(fill(texts.congvan.appendix_1_title, values).upper(), "", note, (first,), charts),
        Appendix(fill(texts.congvan.appendix_2_title, values).upper(), "", note, (second,)),
    )


def reading_day(row: Row | None, period: Period) -> dt.date:
    """The day a unit's figures of `period` are as of: the day they were read (a month
    not over, or whose final figures are not fetched yet), at most its last day."""
    as_of = row.get("as_of") if row else None
    if not as_of:
        return period.last_day
    return min(dt.date.fromisoformat(str(as_of)), period.last_day)


def _indicator_columns(day_before: str, day_now: str, both: bool) -> tuple[str, ...]:
    now = (f"Số liệu ngày {day_now}", f"Tỷ lệ ngày {day_now}")
    if not both:
        return (*_NUMBER_AND_NAME, *now)
    return (
        *_NUMBER_AND_NAME,
        f"Số liệu ngày {day_before}",
        f"Tỷ lệ ngày {day_before}",
        *now,
        f"Tăng (+)/ Giảm (-) so với ngày {day_before}",
    )


def _indicator_charts(months: TwoMonths, values: Mapping[str, str]) -> tuple[Chart, ...]:
    """The places for the axes, the unit among its set, and the trend, under Phụ lục I;
    each caption says only what its chart draws (see `charts.congvan_charts`)."""
    now, compare, row = values["period_short"], months.compare, months.row
    months_drawn = f"{now} và {compare.short}" if compare.comparable else now
    place = f"Điểm tổng hợp của các {values['set_name']} {now}"
    ranked = rank_clause(row, values["set_name"])
    if ranked:
        place += f"; {values['unit_name']} (cột đỏ) {ranked}"
    return (
        Chart("axes", f"Điểm các trục nội dung {months_drawn}"),
        Chart("place", place),
        Chart("trend", f"Điểm tổng hợp của {values['unit_name']} qua các tháng"),
    )


def _rate(figure: FigureValue | None) -> float | None:
    """A metric's rate in percent: the portal's ratio, else numerator ÷ denominator."""
    if figure is None or figure.denominator == 0:  # "Không phát sinh": no rate, not 0%
        return None
    if figure.ratio is not None:
        return float(figure.ratio)
    if figure.numerator is None or not figure.denominator:
        return None
    return 100 * figure.numerator / figure.denominator


def _fraction(figure: FigureValue | None) -> str:
    if figure is None or figure.numerator is None or figure.denominator is None:
        return "-"
    if figure.denominator == 0:
        return NONE_ARISEN
    return f"{number(figure.numerator, 0)}/{number(figure.denominator, 0)}"


def _rate_text(value: float | None) -> str:
    return "-" if value is None else f"{number(value)}%"


def _rate_change(now: float | None, before: float | None, compare: Against) -> str:
    """A rate's change in percentage points: "+ 3,22 điểm phần trăm" (not "+ 3,22%",
    which would be a relative change, nor "điểm %", which is not written)."""
    if now is None or before is None or not compare.comparable:
        return ""
    change = signed(round2(now - before))
    # one unbreakable unit: a cell never wraps its number from "điểm phần trăm" or the
    # unit's words from each other
    return change if change == "0" else f"{change} điểm phần trăm".replace(" ", NBSP)


def _axis_score(row: Row | None, figures: Figures, code: str) -> float | None:
    if row is not None:
        return ((row.get("axes") or {}).get(code) or {}).get("score")
    figure = figures.get(code)
    return figure.value if figure is not None else None


def _metrics_of(axis: str, *figure_sets: Figures, order: Sequence[str]) -> list[str]:
    codes = {
        code
        for figures in figure_sets
        for code, figure in figures.items()
        if figure.kind == "metric" and figure.axis == axis
    }
    known = [code for code in order if code in codes]
    return known + sorted(codes - set(known))


def _indicator_rows(months: TwoMonths, texts: NoticeTexts, set_label: str) -> tuple[TableRow, ...]:
    """Each axis (points) followed by its metrics (counts and rates); the total and rank last."""
    rows: list[TableRow] = []
    for index, axis in enumerate(AXIS_ORDER, start=1):
        rows.append(_axis_row(index, axis, months, texts))
        rows.extend(_metric_rows(index, axis, months, texts))
    rows.extend(_total_rows(months, set_label))
    return tuple(rows)


def _axis_row(index: int, axis: str, months: TwoMonths, texts: NoticeTexts) -> TableRow:
    """ "I", "Công khai, minh bạch (điểm)", its points in both months and the change."""
    previous, before = months.previous, months.before
    score_now = _axis_score(months.row, months.now, axis)
    score_before = _axis_score(previous, before, axis) if previous or before else None
    axes = months.row.get("axes") or {}
    delta = (axes.get(axis) or {}).get("delta") if months.compare.comparable else None
    name = texts.column_labels.get(axis, texts.axis_names.get(axis, axis))
    if not months.compare.comparable:
        return TableRow((roman(index), f"{name} (điểm)", number(score_now), ""), strong=True)
    cells = (roman(index), f"{name} (điểm)", number(score_before), "", number(score_now), "")
    return TableRow((*cells, signed(delta, missing="")), strong=True)


def _metric_rows(index: int, axis: str, months: TwoMonths, texts: NoticeTexts) -> list[TableRow]:
    """ "1.1", each metric of the axis: its fraction and rate in both months, the change."""
    now, before = months.now, months.before
    codes = _metrics_of(axis, now, before, order=list(texts.indicator_labels))
    rows = []
    for sub, code in enumerate(codes, start=1):
        was, is_ = before.get(code), now.get(code)
        lead = (f"{index}.{sub}", texts.indicator_labels.get(code, code))
        current = (_fraction(is_), _rate_text(_rate(is_)))
        if not months.compare.comparable:
            rows.append(TableRow((*lead, *current)))
            continue
        change = _rate_change(_rate(is_), _rate(was), months.compare)
        rows.append(TableRow((*lead, _fraction(was), _rate_text(_rate(was)), *current, change)))
    return rows


def _total_rows(months: TwoMonths, set_label: str) -> list[TableRow]:
    """The total ("64,08/100") and the rank ("66/148") on rows of their own, so that
    each fits its cell; their changes in words when the months may be compared."""
    row, previous, both = months.row, months.previous, months.compare.comparable

    def total(of: Row | None) -> str:
        return "-" if of is None or of.get("total") is None else score_of(of)

    def place(of: Row | None) -> str:
        return "-" if of is None or of.get("rank") is None else rank(of["rank"], of.get("rank_of"))

    rank_label = f"Xếp hạng trong các {set_label}" if row.get("rank_of") else "Xếp hạng"
    lines = [("Điểm tổng hợp", total), (rank_label, place)]
    if not both:
        return [TableRow(("", label, cell(row), ""), strong=True) for label, cell in lines]
    delta, moved = row.get("total_delta"), row.get("rank_change")
    changes = (
        "" if delta is None else capitalised(change_words(delta, same="giữ nguyên điểm")),
        "" if moved is None else capitalised(rank_change_words(moved)),
    )
    return [
        TableRow(("", label, cell(previous), "", cell(row), "", change), strong=True)
        for (label, cell), change in zip(lines, changes, strict=True)
    ]


def _count_value(row: Row | None, figures: Figures, code: str) -> float | None:
    figure = figures.get(code)
    if figure is not None:
        return figure.value
    key = next((key for key, count in COUNT_CODES.items() if count == code), None)
    return ((row or {}).get("counts") or {}).get(key) if key else None


def _summary_rows(months: TwoMonths, texts: NoticeTexts) -> tuple[TableRow, ...]:
    """Phụ lục II: the configured counts and rates, both periods, and the change."""
    row, previous, now, before = months.row, months.previous, months.now, months.before
    both = months.compare.comparable
    rows = []
    for index, item in enumerate(texts.congvan.summary_rows, start=1):
        if item.kind == "count":
            is_, was = _count_value(row, now, item.code), _count_value(previous, before, item.code)
            change = signed(is_ - was, 0) if is_ is not None and was is not None else ""
            cells = (number(was, 0), number(is_, 0), change)
        else:
            is_, was = _rate(now.get(item.code)), _rate(before.get(item.code))
            cells = (_rate_text(was), _rate_text(is_), _rate_change(is_, was, months.compare))
        rows.append(TableRow((str(index), item.label, *(cells if both else cells[1:2]))))
    return tuple(rows)


def rank_clause(row: Row, set_label: str) -> str | None:
    """ "xếp hạng 03/23 xã, phường" ("xếp đồng hạng" when tied); None when unranked.
    Without the size of the set (an imported rank) nothing is said about the set."""
    place = row.get("rank")
    if place is None:
        return None
    of = row.get("rank_of")
    words = "xếp đồng hạng" if row.get("rank_tied") else "xếp hạng"
    return f"{words} {rank(place, of)}" + (f" {set_label}" if of is not None else "")


def score_of(row: Row) -> str:
    return f"{number(row.get('total'))}/{number(row.get('max'))} điểm"
