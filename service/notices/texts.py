"""The editable texts of the notices, read from `templates/notices/texts.toml`.

Prose an office may want to word its own way lives in that file, not in
code: per-axis instructions, recommendations, headings, labels. An office
overrides any part of it with a `texts.toml` in its own template folder;
tables merge key by key and a list replaces the whole list. Every text is
checked once, when loaded: a missing key, a wrong type or an unknown
placeholder is a `TextsError` naming the file and the key. Tables keyed by an
axis or a count use the registry's words (`service.indicators`: an axis code, a
count's key or figure code); any other key is refused, so renaming a count
there cannot leave a text silently unused.
"""

from __future__ import annotations

import string
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

from service import indicators

#: The bundled templates and texts (an office's own folder is searched first).
TEMPLATES_DIR = Path(__file__).resolve().parents[2] / "templates" / "notices"
TEXTS_FILE = "texts.toml"

#: The only placeholders a text may use (see the head of texts.toml).
PLACEHOLDERS = frozenset(
    {
        "unit_name",
        "unit_head",
        "period_long",
        "period_short",
        "previous_long",
        "previous_short",
        "area",
        "issuer_short",
        "scheme_title",
        "set_name",
        "document_number",
        "document_date",
        "as_of",
    }
)


_SUMMARY_KINDS: dict[str, Literal["count", "rate"]] = {"count": "count", "rate": "rate"}


class TextsError(ValueError):
    """A texts file is unreadable or invalid; the message names the file and the key."""


@dataclass(frozen=True)
class SummaryRow:
    """A row of the Công văn's Phụ lục II: a count or a rate figure, by code."""

    code: str
    kind: Literal["count", "rate"]
    label: str


@dataclass(frozen=True)
class CongVanTexts:
    subject: str
    opening: tuple[str, ...]
    scores_heading: str
    details_heading: str
    details: tuple[str, ...]
    instructions_heading: str
    instructions: tuple[str, ...]
    fell: Mapping[str, tuple[str, ...]]  # axis code → instructions when it fell
    outstanding: Mapping[str, str]  # key of a row's `counts` → instruction with {count}
    closing: tuple[str, ...]
    running_note: str  # after the opening when the figures are not the month's final ones
    closing_without_comparison: tuple[str, ...]  # when nothing fell, or nothing compares
    appendix_1_title: str
    appendix_2_title: str
    appendix_note: str
    summary_rows: tuple[SummaryRow, ...]


@dataclass(frozen=True)
class BaoCaoTexts:
    title: str
    subject: str
    opening: tuple[str, ...]
    results_heading: str
    results_heading_unclassified: str  # for a scheme without classes (the 766 index)
    results_note: str
    general_heading: str
    achievements_heading: str
    achievements: tuple[str, ...]
    shortcomings_heading: str
    shortcomings: tuple[str, ...]
    recommendations_heading: str
    recommendations: tuple[str, ...]  # said every time
    outstanding: Mapping[str, str]  # key of a row's `counts` → recommendation with {units}
    closing: tuple[str, ...]
    appendix_title: str
    appendix_subtitle: str
    appendix_subtitle_unclassified: str  # for a scheme without classes (the 766 index)
    appendix_note: str
    count_phrases: Mapping[str, str]  # key of a row's `counts` → phrase
    zero_score_phrases: Mapping[str, str]  # indicator code → phrase


@dataclass(frozen=True)
class NoticeTexts:
    class_order: tuple[str, ...]
    set_names: Mapping[str, str]  # unit group (COMMUNE, AGENCY) → "xã, phường"
    axis_names: Mapping[str, str]
    indicator_labels: Mapping[str, str]  # in Phụ lục I order
    column_labels: Mapping[str, str]
    congvan: CongVanTexts
    baocao: BaoCaoTexts


def fill(text: str, values: Mapping[str, str]) -> str:
    """`text` with its placeholders replaced; `values` must hold every placeholder
    in `PLACEHOLDERS` that the text uses (loading has checked there are no others)."""
    return text.format_map(values)


@lru_cache(maxsize=1)
def default_texts() -> NoticeTexts:
    """The bundled texts (read once)."""
    return load_texts(None)


def load_texts(override_dir: Path | None) -> NoticeTexts:
    """The bundled texts, overridden by `override_dir/texts.toml` when that file exists."""
    return _parse(*texts_data(override_dir))


def texts_data(override_dir: Path | None) -> tuple[TextsReader, dict[str, Any]]:
    """The parsed texts file (bundled, merged with the office's) and a reader naming it."""
    bundled = TEMPLATES_DIR / TEXTS_FILE
    data = _read(bundled)
    source = str(bundled)
    if override_dir is not None and (override_dir / TEXTS_FILE).is_file():
        data = _merge(data, _read(override_dir / TEXTS_FILE))
        source = f"{override_dir / TEXTS_FILE} (over {bundled.name})"
    return TextsReader(source), data


def _read(path: Path) -> dict[str, Any]:
    """The texts file, read as every TOML file of dvcwatch is (UTF-8, a BOM allowed)."""
    from service.config import ConfigError, parse_toml_file

    try:
        return parse_toml_file(path)
    except OSError as error:
        raise TextsError(f"{path}: {error}") from error
    except ConfigError as error:
        raise TextsError(str(error)) from None


def _merge(base: dict[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in override.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), Mapping):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = value
    return merged


class TextsReader:
    """Typed reads of the parsed TOML; every error names the file and the key."""

    def __init__(self, source: str) -> None:
        self.source = source

    def fail(self, key: str, problem: str) -> TextsError:
        return TextsError(f"{self.source}: {key}: {problem}")

    def table(self, data: Mapping[str, Any], key: str, where: str) -> Mapping[str, Any]:
        value = data.get(key)
        if not isinstance(value, Mapping):
            raise self.fail(f"{where}{key}", "missing, or not a table")
        return value

    def text(self, data: Mapping[str, Any], key: str, where: str = "") -> str:
        value = data.get(key)
        if not isinstance(value, str):
            raise self.fail(f"{where}{key}", "missing, or not a text")
        self._check_placeholders(value, f"{where}{key}")
        return value

    def lines(self, data: Mapping[str, Any], key: str, where: str = "") -> tuple[str, ...]:
        value = data.get(key)
        if not isinstance(value, list) or not all(isinstance(line, str) for line in value):
            raise self.fail(f"{where}{key}", "missing, or not a list of texts")
        for line in value:
            self._check_placeholders(line, f"{where}{key}")
        return tuple(value)

    def texts(
        self, data: Mapping[str, Any], key: str, where: str = "", also: frozenset[str] = frozenset()
    ) -> dict[str, str]:
        """A table of texts; `also` are placeholders allowed here beyond `PLACEHOLDERS`."""
        table = self.table(data, key, where)
        found = {}
        for name in table:
            value = table[name]
            if not isinstance(value, str):
                raise self.fail(f"{where}{key}.{name}", "missing, or not a text")
            self._check_placeholders(value, f"{where}{key}.{name}", also)
            found[name] = value
        return found

    def registered(
        self, table: Mapping[str, Any], where: str, known: Mapping[str, object]
    ) -> Mapping[str, Any]:
        """`table`, whose keys must be registry words (`known`: axes or counts)."""
        for name in table:
            if name not in known:
                raise self.fail(f"{where}.{name}", f"unknown; known: {', '.join(known)}")
        return table

    def _check_placeholders(self, text: str, key: str, also: frozenset[str] = frozenset()) -> None:
        try:
            fields = {name for _, name, _, _ in string.Formatter().parse(text) if name is not None}
        except ValueError as error:
            raise self.fail(key, f"{error} (a literal brace is written twice)") from error
        unknown = sorted(name for name in fields if name not in PLACEHOLDERS | also)
        if unknown:
            known = ", ".join(sorted(PLACEHOLDERS | also))
            raise self.fail(key, f"unknown placeholder {{{unknown[0]}}}; known: {known}")


def _parse(read: TextsReader, data: Mapping[str, Any]) -> NoticeTexts:
    return NoticeTexts(
        class_order=read.lines(data, "class_order"),
        set_names=read.texts(data, "set_names"),
        axis_names=read.registered(read.texts(data, "axis_names"), "axis_names", indicators.AXES),
        indicator_labels=read.texts(data, "indicator_labels"),
        column_labels=read.texts(data, "column_labels"),
        congvan=_congvan(read, read.table(data, "congvan", "")),
        baocao=_baocao(read, read.table(data, "baocao", "")),
    )


def _congvan(read: TextsReader, data: Mapping[str, Any]) -> CongVanTexts:
    at = "congvan."
    fell = read.registered(read.table(data, "fell", at), f"{at}fell", indicators.AXES)
    return CongVanTexts(
        subject=read.text(data, "subject", at),
        opening=read.lines(data, "opening", at),
        scores_heading=read.text(data, "scores_heading", at),
        details_heading=read.text(data, "details_heading", at),
        details=read.lines(data, "details", at),
        instructions_heading=read.text(data, "instructions_heading", at),
        instructions=read.lines(data, "instructions", at),
        fell={axis: read.lines(fell, axis, f"{at}fell.") for axis in fell},
        outstanding=read.registered(
            read.texts(data, "outstanding", at, also=frozenset({"count"})),
            f"{at}outstanding",
            indicators.BY_KEY,
        ),
        closing=read.lines(data, "closing", at),
        running_note=read.text(data, "running_note", at),
        closing_without_comparison=read.lines(data, "closing_without_comparison", at),
        appendix_1_title=read.text(data, "appendix_1_title", at),
        appendix_2_title=read.text(data, "appendix_2_title", at),
        appendix_note=read.text(data, "appendix_note", at),
        summary_rows=_summary_rows(read, data.get("summary_rows"), f"{at}summary_rows"),
    )


def _summary_rows(read: TextsReader, rows: Any, where: str) -> tuple[SummaryRow, ...]:
    if not isinstance(rows, list) or not all(isinstance(row, Mapping) for row in rows):
        raise read.fail(where, "missing, or not a list of tables")
    parsed = []
    for index, row in enumerate(rows, start=1):
        at = f"{where}[{index}]."
        kind = _SUMMARY_KINDS.get(read.text(row, "kind", at))
        if kind is None:
            raise read.fail(f"{at}kind", "is neither 'count' nor 'rate'")
        code = read.text(row, "code", at)
        if kind == "count" and code not in indicators.COUNTS:
            known = ", ".join(indicators.COUNTS)
            raise read.fail(f"{at}code", f"unknown count {code!r}; known: {known}")
        parsed.append(SummaryRow(code, kind, read.text(row, "label", at)))
    return tuple(parsed)


def _baocao(read: TextsReader, data: Mapping[str, Any]) -> BaoCaoTexts:
    def text(key: str) -> str:
        return read.text(data, key, "baocao.")

    def lines(key: str) -> tuple[str, ...]:
        return read.lines(data, key, "baocao.")

    return BaoCaoTexts(
        title=text("title"),
        subject=text("subject"),
        opening=lines("opening"),
        results_heading=text("results_heading"),
        results_heading_unclassified=text("results_heading_unclassified"),
        results_note=text("results_note"),
        general_heading=text("general_heading"),
        achievements_heading=text("achievements_heading"),
        achievements=lines("achievements"),
        shortcomings_heading=text("shortcomings_heading"),
        shortcomings=lines("shortcomings"),
        recommendations_heading=text("recommendations_heading"),
        recommendations=lines("recommendations"),
        outstanding=read.registered(
            read.texts(data, "outstanding", "baocao.", also=frozenset({"units"})),
            "baocao.outstanding",
            indicators.BY_KEY,
        ),
        closing=lines("closing"),
        appendix_title=text("appendix_title"),
        appendix_subtitle=text("appendix_subtitle"),
        appendix_subtitle_unclassified=text("appendix_subtitle_unclassified"),
        appendix_note=text("appendix_note"),
        count_phrases=read.registered(
            read.texts(data, "count_phrases", "baocao."), "baocao.count_phrases", indicators.BY_KEY
        ),
        zero_score_phrases=read.texts(data, "zero_score_phrases", "baocao."),
    )
