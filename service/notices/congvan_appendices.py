"""Phụ lục I and II of a unit's Công văn, as values, and the phrase for a standing.

Pure, like `congvan.py`, which calls `congvan_appendices`. Phụ lục I lists
every indicator in both months (each axis in points, its metrics as counts
and rates) and the total with the rank; Phụ lục II the configured counts and
rates. A change is shown only when the two months may be compared.
`rank_clause` and `score_of` word a unit's standing for the letter's body too.
"""

from __future__ import annotations

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
from service.notices.vnformat import (
    change_words,
    compact_date,
    number,
    rank,
    rank_change_words,
    roman,
    signed,
)
from service.periods import Period
from service.scoring.changes import round2


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


def congvan_appendices(
    term: Period, months: TwoMonths, texts: NoticeTexts, values: Mapping[str, str]
) -> tuple[Appendix, ...]:
    """Phụ lục I (every indicator, both months, the change) and Phụ lục II (counts, rates)."""
    day_now, day_before = compact_date(term.last_day), compact_date(term.previous().last_day)
    note = fill(texts.congvan.appendix_note, values)
    first = Table(
        "",
        _indicator_columns(day_before, day_now),
        _indicator_rows(months, texts, values["set_name"]),
    )
    second = Table(
        "",
        (*_NUMBER_AND_NAME, f"Ngày {day_before}", f"Ngày {day_now}", "Tăng (+)/Giảm (-)"),
        _summary_rows(months, texts),
    )
    charts = _indicator_charts(months.compare, values)
    return (
        Appendix(fill(texts.congvan.appendix_1_title, values).upper(), "", note, (first,), charts),
        Appendix(fill(texts.congvan.appendix_2_title, values).upper(), "", note, (second,)),
    )


def _indicator_columns(day_before: str, day_now: str) -> tuple[str, ...]:
    return (
        *_NUMBER_AND_NAME,
        f"Số liệu ngày {day_before}",
        f"Tỷ lệ ngày {day_before}",
        f"Số liệu ngày {day_now}",
        f"Tỷ lệ ngày {day_now}",
        f"Tăng (+)/Giảm (-) so với ngày {day_before}",
    )


def _indicator_charts(compare: Against, values: Mapping[str, str]) -> tuple[Chart, ...]:
    """The places for the axes, the unit among its set, and the trend, under Phụ lục I."""
    now = values["period_short"]
    return (
        Chart("axes", f"Điểm các trục nội dung {now} và {compare.short}"),
        Chart("place", f"Điểm tổng hợp của các {values['set_name']} {now}"),
        Chart("trend", "Điểm tổng hợp qua các tháng"),
    )


def _rate(figure: FigureValue | None) -> float | None:
    """A metric's rate in percent: the portal's ratio, else numerator ÷ denominator."""
    if figure is None:
        return None
    if figure.ratio is not None:
        return float(figure.ratio)
    if figure.numerator is None or not figure.denominator:
        return None
    return 100 * figure.numerator / figure.denominator


def _fraction(figure: FigureValue | None) -> str:
    if figure is None or figure.numerator is None or figure.denominator is None:
        return "-"
    return f"{number(figure.numerator, 0)}/{number(figure.denominator, 0)}"


def _rate_text(value: float | None) -> str:
    return "-" if value is None else f"{number(value)}%"


def _rate_change(now: float | None, before: float | None, compare: Against) -> str:
    if now is None or before is None or not compare.comparable:
        return ""
    change = signed(round2(now - before))
    return change if change == "0" else f"{change}%"


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
    rows.append(_total_row(months, set_label))
    return tuple(rows)


def _axis_row(index: int, axis: str, months: TwoMonths, texts: NoticeTexts) -> TableRow:
    """ "I", "Công khai, minh bạch (điểm)", its points in both months and the change."""
    previous, before = months.previous, months.before
    score_now = _axis_score(months.row, months.now, axis)
    score_before = _axis_score(previous, before, axis) if previous or before else None
    axes = months.row.get("axes") or {}
    delta = (axes.get(axis) or {}).get("delta") if months.compare.comparable else None
    name = texts.column_labels.get(axis, texts.axis_names.get(axis, axis))
    cells = (roman(index), f"{name} (điểm)", number(score_before), "", number(score_now), "")
    return TableRow((*cells, signed(delta, missing="")), strong=True)


def _metric_rows(index: int, axis: str, months: TwoMonths, texts: NoticeTexts) -> list[TableRow]:
    """ "1.1", each metric of the axis: its fraction and rate in both months, the change."""
    now, before = months.now, months.before
    codes = _metrics_of(axis, now, before, order=list(texts.indicator_labels))
    rows = []
    for sub, code in enumerate(codes, start=1):
        was, is_ = before.get(code), now.get(code)
        cells = (
            f"{index}.{sub}",
            texts.indicator_labels.get(code, code),
            _fraction(was),
            _rate_text(_rate(was)),
            _fraction(is_),
            _rate_text(_rate(is_)),
            _rate_change(_rate(is_), _rate(was), months.compare),
        )
        rows.append(TableRow(cells))
    return rows


def _standing(row: Row | None, set_label: str) -> str:
    if row is None or row.get("total") is None:
        return "-"
    ranked = rank_clause(row, set_label)
    return f"Đạt {score_of(row)}" + (f"; {ranked}" if ranked else "")


def _total_row(months: TwoMonths, set_label: str) -> TableRow:
    row, compare = months.row, months.compare
    changes = []
    if compare.comparable and row.get("total_delta") is not None:
        changes.append(change_words(row["total_delta"], same="giữ nguyên điểm"))
    if compare.comparable and row.get("rank_change") is not None:
        changes.append(rank_change_words(row["rank_change"]))
    change = ", ".join(changes)
    cells = (
        "",
        "Điểm tổng hợp và xếp hạng",
        _standing(months.previous, set_label),
        "",
        _standing(row, set_label),
        "",
        change[:1].upper() + change[1:],
    )
    return TableRow(cells, strong=True)


def _count_value(row: Row | None, figures: Figures, code: str) -> float | None:
    figure = figures.get(code)
    if figure is not None:
        return figure.value
    key = next((key for key, count in COUNT_CODES.items() if count == code), None)
    return ((row or {}).get("counts") or {}).get(key) if key else None


def _summary_rows(months: TwoMonths, texts: NoticeTexts) -> tuple[TableRow, ...]:
    """Phụ lục II: the configured counts and rates, both periods, and the change."""
    row, previous, now, before = months.row, months.previous, months.now, months.before
    rows = []
    for index, item in enumerate(texts.congvan.summary_rows, start=1):
        if item.kind == "count":
            is_, was = _count_value(row, now, item.code), _count_value(previous, before, item.code)
            change = signed(is_ - was) if is_ is not None and was is not None else ""
            cells = (number(was, 0), number(is_, 0), change if months.compare.comparable else "")
        else:
            is_, was = _rate(now.get(item.code)), _rate(before.get(item.code))
            cells = (_rate_text(was), _rate_text(is_), _rate_change(is_, was, months.compare))
        rows.append(TableRow((str(index), item.label, *cells)))
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
