"""The appendix of a Báo cáo, as values: every unit ranked, and the outstanding dossiers.

Pure, like `baocao.py`, which calls `ranking_appendix`. The text names only the
worst few of each shortfall; the second table lists every unit with dossiers
outstanding, so "và N đơn vị khác (chi tiết tại Phụ lục)" has somewhere to point.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from service.notices.charts import EXTREMES, NAMED_UNITS_MAX
from service.notices.documents import Appendix, Chart, Row, Table, TableRow, breakable
from service.notices.texts import NoticeTexts, fill
from service.vnformat import number, points, two_digits


def class_of(row: Row) -> str | None:
    """The unit's class under a provincial scheme (None under the 766 index)."""
    label = row.get("class") or row.get("status")
    return str(label) if label else None


def _indicator_codes(rows: Sequence[Row]) -> list[str]:
    return list(dict.fromkeys(code for r in rows for code in (r.get("axes") or {})))


def ranking_appendix(
    rows: Sequence[Row], texts: NoticeTexts, values: Mapping[str, str]
) -> Appendix:
    """Every unit in rank order: indicator points ('-' when not applicable or no data),
    total, converted score and, when the scheme classifies, the class."""
    codes = _indicator_codes(rows)
    maxima = {c: next(((r["axes"].get(c) or {}).get("max") for r in rows), None) for c in codes}
    classified = any(class_of(r) for r in rows)
    columns = (
        "Xếp hạng",
        "Tên cơ quan, đơn vị",
        *(f"{breakable(texts.column_labels.get(c, c))} ({number(maxima[c])})" for c in codes),
        "Điểm đạt được",
        "Tổng điểm quy đổi",
        *(("Xếp loại",) if classified else ()),
    )
    body = [_ranking_row(r, codes, classified) for r in rows]
    words = texts.baocao
    subtitle = words.appendix_subtitle if classified else words.appendix_subtitle_unclassified
    return Appendix(
        fill(texts.baocao.appendix_title, values).upper(),
        fill(subtitle, values).upper(),
        fill(texts.baocao.appendix_note, values),
        (Table("", columns, tuple(body)), *_counts_table(rows, texts)),
        (Chart("place", _set_caption(rows, values)),),
    )


def _set_caption(rows: Sequence[Row], values: Mapping[str, str]) -> str:
    """What the set chart draws: every unit, and (a set too large for names) its best
    and worst `EXTREMES` in colour, listed under it."""
    caption = f"Điểm tổng hợp của các {values['set_name']} {values['period_short']}"
    scored = sum(1 for r in rows if r.get("converted", r.get("total")) is not None)
    if scored > NAMED_UNITS_MAX and scored > 2 * EXTREMES:
        caption += (
            f"; màu xanh: {two_digits(EXTREMES)} đơn vị cao nhất, "
            f"màu đỏ: {two_digits(EXTREMES)} đơn vị thấp nhất"
        )
    return caption


def _counts_table(rows: Sequence[Row], texts: NoticeTexts) -> tuple[Table, ...]:
    """Every unit with dossiers outstanding, by kind (the lists in the text are short)."""
    keys = list(texts.baocao.count_phrases)
    listed_rows = [r for r in rows if any((r.get("counts") or {}).get(k) for k in keys)]
    if not listed_rows:
        return ()
    body = tuple(
        TableRow(
            (
                str(index),
                str(r.get("unit_name") or ""),
                *(number((r.get("counts") or {}).get(k), 0) for k in keys),
            )
        )
        for index, r in enumerate(listed_rows, start=1)
    )
    columns = ("STT", "Tên cơ quan, đơn vị", *texts.baocao.count_phrases.values())
    return (Table("Đơn vị còn tồn tại, hạn chế (số hồ sơ)", columns, body),)


def _ranking_row(row: Row, codes: Sequence[str], classified: bool) -> TableRow:
    """One unit: rank, name, the points of each of `codes`, total, converted, class."""
    axes, skipped = row.get("axes") or {}, set(row.get("not_applicable") or ())
    marks = ("-" if c in skipped else points((axes.get(c) or {}).get("score")) for c in codes)
    return TableRow(
        (
            str(row["rank"]) if row.get("rank") is not None else "-",
            str(row.get("unit_name") or ""),
            *marks,
            number(row.get("total"), keep_zeros=True),
            number(row.get("converted"), keep_zeros=True),
            *((class_of(row) or "-",) if classified else ()),
        )
    )
