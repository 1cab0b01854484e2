"""How a person reads the rows of `dvcwatch scores`: Vietnamese columns, one block per set.

The rows (`scoring.report.score_rows`) are the program-facing face, with machine keys that
`docs/formats.md` documents. This module names what officials see of them, in the words of
the seeds' appendices (STT, Tên đơn vị, Điểm tổng hợp, Xếp hạng, Tăng/giảm …), for the
spreadsheet (`service/workbook.py`) and the terminal table alike. Pure: rows in, values out.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from service import indicators
from service.indicators import NATIONAL
from service.notices.names import official_name
from service.notices.texts import default_texts
from service.vnformat import capitalised, number

#: How a column's values are shown: its Excel number format and its terminal alignment.
Kind = Literal["text", "score", "delta", "integer", "signed_integer"]

NUMBER_FORMATS: dict[Kind, str] = {
    "text": "@",
    "score": "0.00",
    "delta": "+0.00;-0.00;0.00",
    "integer": "#,##0",
    "signed_integer": "+0;-0;0",
}

#: The counts people act on, as the seeds' appendices head them (keys of a row's `counts`).
COUNT_HEADINGS = {key: count.heading for key, count in indicators.ALERTING.items()}


@dataclass(frozen=True)
class Column:
    """One column: its heading, how to read its value from a row, and its kind."""

    heading: str
    value: Callable[[dict[str, Any]], Any]
    kind: Kind = "text"


@dataclass(frozen=True)
class ScoreSet:
    """The units ranked together (same parent and group), in rank order."""

    parent_code: str | None
    group: str
    rows: tuple[dict[str, Any], ...]

    @property
    def name(self) -> str:
        """ "Xã, phường", "Cơ quan, đơn vị", or "Đơn vị" where the group is not known (an
        imported table's units)."""
        words = default_texts().set_names.get(self.group) or "đơn vị"
        return capitalised(words)


def score_sets(rows: Sequence[dict[str, Any]]) -> list[ScoreSet]:
    """The rows split by comparison set, agencies before communes, each set in rank order."""
    order = {"AGENCY": 0, "COMMUNE": 1}
    keyed: dict[tuple[str | None, str], list[dict[str, Any]]] = {}
    for row in rows:
        keyed.setdefault((row.get("parent_code"), str(row.get("group") or "")), []).append(row)
    sets = [ScoreSet(parent, group, tuple(members)) for (parent, group), members in keyed.items()]
    return sorted(sets, key=lambda s: (s.parent_code or "", order.get(s.group, 2), s.group))


def columns_for(rows: Sequence[dict[str, Any]]) -> list[Column]:
    """The columns of a set's table: the national index's, or a scored scheme's."""
    if not rows:
        return []
    indicators = _indicators(rows)
    if rows[0].get("scheme") == NATIONAL:
        return _identity() + _axes(indicators) + _national_tail()
    return _identity() + _axes(indicators) + _scheme_tail(rows)


def _identity() -> list[Column]:
    return [
        Column("Mã đơn vị", lambda row: row.get("unit_code")),
        Column("Tên đơn vị", _unit_name),
    ]


def _indicators(rows: Sequence[dict[str, Any]]) -> list[tuple[str, float | None]]:
    seen: dict[str, float | None] = {}
    for row in rows:
        for code, axis in (row.get("axes") or {}).items():
            seen.setdefault(code, axis.get("max") if isinstance(axis, dict) else None)
    return list(seen.items())


def _axes(indicators: Sequence[tuple[str, float | None]]) -> list[Column]:
    labels = default_texts().column_labels
    columns = []
    for code, most in indicators:
        heading = labels.get(code, code)
        if most is not None:
            heading = f"{heading} (tối đa {_plain(most)})"
        columns.append(Column(heading, _axis_score(code), "score"))
    return columns


def _axis_score(code: str) -> Callable[[dict[str, Any]], Any]:
    def score(row: dict[str, Any]) -> Any:
        axis = (row.get("axes") or {}).get(code)
        return axis.get("score") if isinstance(axis, dict) else axis

    return score


def _national_tail() -> list[Column]:
    counts = [Column(heading, _count(key), "integer") for key, heading in COUNT_HEADINGS.items()]
    axis_names = default_texts().column_labels
    return [
        Column("Điểm tổng hợp", lambda row: row.get("total"), "score"),
        Column("Tăng/giảm điểm so với kỳ trước", lambda row: row.get("total_delta"), "delta"),
        Column("Xếp hạng", lambda row: row.get("rank"), "integer"),
        Column("Xếp hạng kỳ trước", lambda row: row.get("previous_rank"), "integer"),
        Column("Tăng/giảm bậc", lambda row: row.get("rank_change"), "signed_integer"),
        *counts,
        Column(
            "Trục thấp hơn trung bình của nhóm",
            lambda row: "; ".join(axis_names.get(c, c) for c in row.get("below_average") or []),
        ),
    ]


def _count(key: str) -> Callable[[dict[str, Any]], Any]:
    return lambda row: (row.get("counts") or {}).get(key)


def _scheme_tail(rows: Sequence[dict[str, Any]]) -> list[Column]:
    tail = [
        Column("Tổng điểm", lambda row: row.get("total"), "score"),
        Column("Điểm quy đổi", lambda row: row.get("converted"), "score"),
        Column("Xếp loại", lambda row: row.get("class")),
        Column("Xếp hạng", lambda row: row.get("rank"), "integer"),
    ]
    if any(row.get("dtb") is not None for row in rows):
        tail.append(Column("ĐTB", lambda row: row.get("dtb"), "score"))
    tail.append(Column("Ghi chú", _note))
    return tail


def _note(row: dict[str, Any]) -> str | None:
    parts = [str(row["status"])] if row.get("status") else []
    parts += [mismatch_text(m) for m in row.get("mismatches") or []]
    return "; ".join(parts) or None


#: The reported figures a table may disagree on, named as the columns name them.
MISMATCH_FIELDS = {
    "TOTAL": "Tổng điểm",
    "CONVERTED": "Điểm quy đổi",
    "DTB": "ĐTB",
    "CLASS": "Xếp loại",
    "RANK": "Xếp hạng",
    "RANK_OF": "Số đơn vị xếp hạng",
}


def mismatch_text(mismatch: dict[str, Any]) -> str:
    """ "Tổng điểm: báo cáo 68,11, tính lại 68,10" for a reported figure that disagrees."""

    def shown(value: Any) -> str:
        return number(value) if isinstance(value, int | float) else str(value)

    reported, computed = mismatch.get("reported"), mismatch.get("computed")
    field = str(mismatch.get("field"))
    named = MISMATCH_FIELDS.get(field, field)
    return f"{named}: báo cáo {shown(reported)}, tính lại {shown(computed)}"


def what_it_takes_columns() -> list[Column]:
    """The columns of the "what it takes" sheet, one row per (unit, indicator)."""
    texts = default_texts()
    labels = {**texts.axis_names, **texts.indicator_labels}  # TDGQ is an axis, not a ratio
    return [
        Column("Mã đơn vị", lambda item: item["unit_code"]),
        Column("Tên đơn vị", _unit_name),
        Column("Chỉ tiêu", lambda item: labels.get(item["indicator"], item["indicator"])),
        Column(
            "Số hồ sơ cần thêm để tăng 0,1 điểm",
            lambda item: item.get("more_dossiers_for_next_step"),
            "integer",
        ),
        Column(
            "Số hồ sơ cần thêm để đạt điểm tối đa",
            lambda item: item.get("more_dossiers_for_full_mark"),
            "integer",
        ),
    ]


def what_it_takes_items(rows: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each unit's "what it takes" entries, with the unit they belong to."""
    return [
        {"unit_code": row.get("unit_code"), "unit_name": row.get("unit_name"), **entry}
        for row in rows
        for entry in row.get("what_it_takes") or []
    ]


def _unit_name(row: dict[str, Any]) -> str | None:
    """The unit's name as officials write it ("UBND xã Bình Phú", without the portal's
    " - Tỉnh Phú Thọ")."""
    name = row.get("unit_name")
    return official_name(str(name)) if name else None


def _plain(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value).replace(".", ",")


def terminal_columns(rows: Sequence[dict[str, Any]]) -> list[Column]:
    """A set's columns for an 80-to-200-column terminal: short headings, axes by code."""
    if not rows:
        return []
    axes = [Column(code, _axis_score(code), "score") for code, _ in _indicators(rows)]
    identity = [
        Column("Hạng", lambda row: row.get("rank"), "integer"),
        Column("Mã", lambda row: row.get("unit_code")),
        Column("Tên đơn vị", _unit_name),
        Column("Điểm", lambda row: row.get("total"), "score"),
    ]
    if rows[0].get("scheme") != NATIONAL:
        return [*identity, Column("Xếp loại", lambda row: row.get("class")), *axes]
    short = {key: count.short for key, count in indicators.ALERTING.items()}
    return [
        *identity,
        Column("±Điểm", lambda row: row.get("total_delta"), "delta"),
        Column("±Bậc", lambda row: row.get("rank_change"), "signed_integer"),
        *axes,
        *(Column(heading, _count(key), "integer") for key, heading in short.items()),
    ]
