"""Rows of results as JSON (for programs), CSV (for Excel) or an aligned table (for people).

A row is a dict whose values may be nested dicts (`axes`, `counts`); CSV and
table flatten them into columns named by the inner keys (`CKMB`, `overdue`).
Tables show numbers the Vietnamese way (93,81).
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from openpyxl import Workbook

from service.notices.vnformat import number

FORMATS = ("json", "csv", "table")
FILE_FORMATS = ("xlsx",)


def render(rows: Sequence[dict[str, Any]], fmt: str, columns: Sequence[str] | None = None) -> str:
    if fmt == "json":
        return json.dumps(list(rows), ensure_ascii=False, indent=2)
    flat = [flatten(row) for row in rows]
    names = list(columns) if columns else _all_keys(flat)
    if fmt == "csv":
        return _csv(flat, names)
    if fmt == "table":
        return _table(flat, names)
    raise ValueError(f"unknown format {fmt!r}: expected one of {', '.join(FORMATS)}")


def write_xlsx(
    rows: Sequence[dict[str, Any]], path: Path, columns: Sequence[str] | None = None
) -> None:
    """The CSV columns as an Excel sheet (numbers stay numbers), written atomically."""
    flat = [flatten(row) for row in rows]
    names = list(columns) if columns else _all_keys(flat)
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.title = "dvcwatch"
    sheet.append(names)
    for row in flat:
        sheet.append([_excel_value(row.get(name)) for name in names])
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.partial")
    workbook.save(partial)
    partial.replace(path)


def _excel_value(value: Any) -> Any:
    return value if value is None or isinstance(value, int | float | str) else str(value)


def flatten(row: dict[str, Any]) -> dict[str, Any]:
    """`{"axes": {"CKMB": {"score": 1}}}` → `{"CKMB": 1}`; lists become `;`-joined text."""
    flat: dict[str, Any] = {}
    for key, value in row.items():
        if isinstance(value, dict):
            for inner, inner_value in value.items():
                is_score = isinstance(inner_value, dict) and "score" in inner_value
                flat[inner] = inner_value["score"] if is_score else inner_value
        elif isinstance(value, list):
            flat[key] = "; ".join(str(item) for item in value)
        else:
            flat[key] = value
    return flat


def _all_keys(rows: Sequence[dict[str, Any]]) -> list[str]:
    names: dict[str, None] = {}
    for row in rows:
        names.update(dict.fromkeys(row))
    return list(names)


def _csv(rows: Sequence[dict[str, Any]], names: Sequence[str]) -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(names), extrasaction="ignore")
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue()


def _table(rows: Sequence[dict[str, Any]], names: Sequence[str]) -> str:
    cells = [[_cell(row.get(name)) for name in names] for row in rows]
    widths = [max([len(name), *(len(line[i]) for line in cells)]) for i, name in enumerate(names)]
    lines = ["  ".join(name.ljust(width) for name, width in zip(names, widths, strict=True))]
    lines.append("  ".join("-" * width for width in widths))
    for line in cells:
        lines.append(
            "  ".join(_align(cell, width) for cell, width in zip(line, widths, strict=True))
        )
    return "\n".join(lines)


def _cell(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "có" if value else "không"
    if isinstance(value, int | float):
        return number(value)
    return str(value)


def _align(cell: str, width: int) -> str:
    numeric = cell.replace(",", "").replace(".", "").lstrip("+-").isdigit()
    return cell.rjust(width) if numeric else cell.ljust(width)
