"""Rows of results as JSON and CSV (for programs and Excel) or aligned tables (for people).

A row is a dict whose values may be nested dicts (`axes`, `counts`) and lists; CSV and
table flatten them into named columns (`CKMB`, `overdue`, `what_it_takes.TDGQ.…`), booleans
as `true`/`false`. A CSV file written for Excel starts with a BOM and has any text Excel
would run as a formula prefixed with an apostrophe (standard output has neither). Tables
show numbers the Vietnamese way (93,81); scores are shown one block per comparison set
with Vietnamese headings (`scores_table`).
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from service.files import check_suffix, write_atomic
from service.vnformat import number, signed

if TYPE_CHECKING:
    from service.score_columns import Column

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


def write_csv_file(rows: Sequence[dict[str, Any]], path: Path) -> None:
    """The CSV for Excel: UTF-8 with a BOM (so Excel reads Vietnamese), written atomically,
    each text Excel would run as a formula neutralised (`excel_text`). A `path` not named
    .csv is refused (`files.check_suffix`)."""
    check_suffix(path, ".csv")
    flat = [{key: excel_text(value) for key, value in flatten(row).items()} for row in rows]
    write_atomic(path, _csv(flat, _all_keys(flat)).encode("utf-8-sig"))


#: How a cell Excel reads as a formula begins (OWASP's "CSV injection").
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def excel_text(value: Any) -> Any:
    """`value`, a text Excel would take for a formula (an imported name such as
    `=cmd|' /C calc'!A0`) prefixed with an apostrophe so that it stays text; numbers
    and every other value unchanged."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return f"'{value}"
    return value


#: What names an item of a list of objects (`what_it_takes`, `mismatches`) in its columns.
ITEM_NAMES = ("indicator", "field")


def flatten(row: dict[str, Any]) -> dict[str, Any]:
    """`{"axes": {"CKMB": {"score": 1}}}` → `{"CKMB": 1}`; a list of plain values becomes
    `;`-joined text; a list of objects becomes columns `key.NAME.field` (`what_it_takes.TDGQ.
    more_dossiers_for_next_step`, `mismatches.TOTAL.reported`)."""
    flat: dict[str, Any] = {}
    for key, value in row.items():
        if isinstance(value, dict):
            for inner, inner_value in value.items():
                is_score = isinstance(inner_value, dict) and "score" in inner_value
                flat[inner] = inner_value["score"] if is_score else inner_value
        elif isinstance(value, list) and any(isinstance(item, dict) for item in value):
            flat.update(_item_columns(key, value))
        elif isinstance(value, list):
            flat[key] = "; ".join(str(item) for item in value)
        else:
            flat[key] = value
    return flat


def _item_columns(key: str, items: list[Any]) -> dict[str, Any]:
    columns: dict[str, Any] = {}
    for position, item in enumerate(items, start=1):
        if not isinstance(item, dict):
            continue
        name = next((str(item[n]) for n in ITEM_NAMES if n in item), str(position))
        for field, value in item.items():
            if field not in ITEM_NAMES and not isinstance(value, dict | list):
                columns[f"{key}.{name}.{field}"] = value
    return columns


def _all_keys(rows: Sequence[dict[str, Any]]) -> list[str]:
    names: dict[str, None] = {}
    for row in rows:
        names.update(dict.fromkeys(row))
    return list(names)


def _csv(rows: Sequence[dict[str, Any]], names: Sequence[str]) -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(names), extrasaction="ignore")
    writer.writeheader()
    writer.writerows({k: _csv_value(v) for k, v in row.items()} for row in rows)
    return buffer.getvalue()


def _csv_value(value: Any) -> Any:
    return ("true" if value else "false") if isinstance(value, bool) else value


def scores_table(rows: Sequence[dict[str, Any]], set_names: dict[str, str] | None = None) -> str:
    """The scores for people: one block per comparison set, its heading, Vietnamese columns."""
    # here, not at the top: the columns load the notice texts, which `status` never shows
    from service.score_columns import score_sets, terminal_columns

    blocks = []
    for score_set in score_sets(rows):
        where = (set_names or {}).get(score_set.parent_code or "", score_set.parent_code)
        heading = f"{score_set.name} thuộc {where}" if where else score_set.name
        heading += f" ({len(score_set.rows)} đơn vị)"
        columns = terminal_columns(score_set.rows)
        blocks.append(f"{heading}\n{_columns_table(score_set.rows, columns)}")
    return "\n\n".join(blocks)


def _columns_table(rows: Sequence[dict[str, Any]], columns: Sequence[Column]) -> str:
    cells = [[_typed_cell(c.value(row), c.kind) for c in columns] for row in rows]
    names = [column.heading for column in columns]
    widths = [max([len(name), *(len(line[i]) for line in cells)]) for i, name in enumerate(names)]
    lines = ["  ".join(name.ljust(width) for name, width in zip(names, widths, strict=True))]
    lines.append("  ".join("-" * width for width in widths))
    for line in cells:
        lines.append(
            "  ".join(
                cell.ljust(width) if column.kind == "text" else cell.rjust(width)
                for cell, width, column in zip(line, widths, columns, strict=True)
            )
        )
    return "\n".join(lines)


def _typed_cell(value: Any, kind: str) -> str:
    if value is None or value == "":
        return "-"
    if kind == "delta" and isinstance(value, int | float):
        return signed(value)
    if kind == "signed_integer" and isinstance(value, int):
        return f"+{value}" if value > 0 else str(value)
    return _cell(value)


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
