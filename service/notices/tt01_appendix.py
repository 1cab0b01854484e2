"""The appendix of the nine-criteria Báo cáo: every unit by level (I, II), as values.

Pure, like `tt01_report.py`, which calls `tt01_appendix`. Per level, the units
scored from the highest total down, then those without dossiers, then those
that did not score themselves; each with its nine criteria, total, ĐTB
(the one-stop desk's TC1–TC5), class and a note: "Không phát sinh TTHC",
"Chưa chấm điểm", or the self-score the office corrected.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from service.notices.documents import Appendix, Row, Table, TableRow
from service.notices.texts import fill
from service.notices.tt01_texts import Tt01Texts
from service.scoring.tt01 import CRITERIA, NO_DOSSIERS
from service.vnformat import number, roman

COLUMNS = (
    "STT",
    "Tên cơ quan, đơn vị",
    *(f"Tiêu chí {index}" for index in range(1, len(CRITERIA) + 1)),
    "Tổng điểm",
    "ĐTB",
    "Phân loại",
    "Ghi chú",
)


def in_report_order(rows: Sequence[Row]) -> list[Row]:
    """Scored units by total (highest first, then name), then those without dossiers,
    then those that did not score themselves."""

    def key(row: Row) -> tuple[int, float, str]:
        total = row.get("total")
        place = 0 if total is not None else 1 if row.get("status") == NO_DOSSIERS else 2
        return (place, -float(total or 0), str(row.get("unit_name") or ""))

    return sorted(rows, key=key)


def tt01_appendix(
    by_level: Mapping[str, Sequence[Row]], texts: Tt01Texts, values: Mapping[str, str]
) -> Appendix:
    """The table of every unit, a bold group row ("I", the level's name) before each level."""
    body: list[TableRow] = []
    for index, (level, rows) in enumerate(by_level.items(), start=1):
        blanks = ("",) * (len(COLUMNS) - 2)
        body.append(TableRow((roman(index), texts.level_groups[level], *blanks), strong=True))
        body += [_unit_row(place, row) for place, row in enumerate(rows, start=1)]
    return Appendix(
        fill(texts.appendix_title, values).upper(),
        fill(texts.appendix_subtitle, values).upper(),
        fill(texts.appendix_note, values),
        (Table("", COLUMNS, tuple(body)),),
    )


def _unit_row(place: int, row: Row) -> TableRow:
    axes = row.get("axes") or {}
    criteria = (number((axes.get(code) or {}).get("score")) for code in CRITERIA)
    return TableRow(
        (
            str(place),
            str(row.get("unit_name") or ""),
            *criteria,
            number(row.get("total"), keep_zeros=True),
            number(row.get("dtb"), keep_zeros=True),
            str(row.get("class") or "-"),
            note(row),
        )
    )


def note(row: Row) -> str:
    """ "Không phát sinh TTHC", "Chưa chấm điểm", or what the unit reported that the
    appraisal corrected ("Tự chấm 15,50 điểm; ĐTB tự chấm 10,00")."""
    if row.get("status"):
        return str(row["status"])
    reported = {m["field"]: m["reported"] for m in row.get("mismatches") or ()}
    parts = []
    if "TOTAL" in reported:
        parts.append(f"Tự chấm {number(reported['TOTAL'], keep_zeros=True)} điểm")
    if "CLASS" in reported and "TOTAL" not in reported:
        parts.append(f"Tự xếp loại {reported['CLASS']}")
    if "DTB" in reported:
        parts.append(f"ĐTB tự chấm {number(reported['DTB'], keep_zeros=True)}")
    return "; ".join(parts)
