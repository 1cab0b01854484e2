"""The Công văn of one unit for one period, as a value (model: seed 004).

Pure: takes the unit's score rows (plain dicts, as `national_rows()` gives
them) for the month and the month before, its figures by code
(`FigureValue`), the issuer's configuration and the editable texts; returns
a `CongVan` whose every string is final Vietnamese text. A change is
claimed only against a comparable previous month (same source); a rank
only where the analysis gave one. Phụ lục I and II are built in
`congvan_appendices.py`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass

from service.notices.congvan_appendices import (
    TwoMonths,
    congvan_appendices,
    rank_clause,
    reading_day,
    score_of,
)
from service.notices.documents import (
    AXIS_ORDER,
    Against,
    Figures,
    Issuer,
    Notice,
    Row,
    Section,
    as_period,
    filled,
    header_of,
    listed,
    placeholders,
    set_name_of,
    signature_of,
)
from service.notices.names import bound_number, named_officially, unit_head
from service.notices.texts import CongVanTexts, NoticeTexts, default_texts, fill
from service.periods import Period
from service.vnformat import (
    BLANK,
    capitalised,
    change_words,
    compact_date,
    number,
    period_short,
    rank_change_words,
)


@dataclass(frozen=True)
class CongVan(Notice):
    unit_code: str
    unit_name: str
    period: str


def congvan(
    unit_row: Row,
    previous_month_row: Row | None,
    figures_now: Figures,
    figures_before: Figures | None,
    issuer: Issuer,
    period: Period | str,
    issued_on: dt.date | None,
    texts: NoticeTexts | None = None,
) -> CongVan:
    """The Công văn of one unit for one period (model: seed 004).

    `figures_now`/`figures_before` map figure codes to `FigureValue` for
    Phụ lục I and II; `texts` defaults to the bundled texts.
    """
    texts = texts or default_texts()
    month = as_period(period)
    unit_row = named_officially(unit_row)
    compare = _against(month, previous_month_row, unit_row)
    months = TwoMonths(unit_row, previous_month_row, figures_now, figures_before or {}, compare)
    values = _congvan_placeholders(month, issuer, issued_on, unit_row, texts)
    words = texts.congvan
    return CongVan(
        kind="congvan",
        header=header_of(issuer, month, issued_on),
        title="",
        subject=fill(words.subject, values),
        addressees=addressees_of(issuer.recipients),
        opening=filled(words.opening, values) + _running_note(unit_row, words, values),
        sections=_congvan_sections(unit_row, compare, texts, values),
        closing=filled(
            words.closing if _fallen_axes(unit_row, compare) else words.closing_without_comparison,
            values,
        ),
        signature=signature_of(issuer),
        copies=listed(("Như trên", *issuer.copies, issuer.archive_line)),
        appendices=congvan_appendices(month, months, texts, values),
        unit_code=str(unit_row.get("unit_code") or ""),
        unit_name=values["unit_name"],
        period=str(month),
    )


def comparable(previous: Row | None, current: Row) -> bool:
    """A unit's month may be compared with the one before only when that month has
    figures from the same source (series): the rule of the text and of its charts."""
    return previous is not None and previous.get("source") == current.get("source")


def _against(period: Period, previous: Row | None, current: Row) -> Against:
    """Comparable only with a previous row of the same source (series)."""
    short = period_short(period.previous())
    if previous is None:
        return Against(short, False, f"chưa có số liệu {short} để so sánh")
    if not comparable(previous, current):
        reason = f"không so sánh với {short} do thay đổi nguồn hoặc phương pháp tính"
        return Against(short, False, reason)
    return Against(short, True, f"chưa có số liệu {short} để so sánh")


def addressees_of(recipients: tuple[str, ...]) -> tuple[str, ...]:
    """The "Kính gửi" lines: one recipient is written on the line of "Kính gửi:" itself
    ("Kính gửi: Sở Nội vụ."), several as a list ("- A;" … "- C."), none as the blank."""
    if not recipients:
        return (BLANK,)
    if len(recipients) == 1:
        return (f"{recipients[0].strip().rstrip(';.').strip()}.",)
    return listed(recipients)


def _congvan_placeholders(
    month: Period, issuer: Issuer, issued_on: dt.date | None, row: Row, texts: NoticeTexts
) -> dict[str, str]:
    """The placeholders of a Công văn: the common ones, the unit's name, its head and its set."""
    name = str(row.get("unit_name") or "")
    return placeholders(
        month,
        issuer,
        issued_on,
        unit_name=bound_number(name) if name else BLANK,
        unit_head=unit_head(name) if name else BLANK,
        set_name=set_name_of(issuer, texts, row.get("group")),
        as_of=compact_date(reading_day(row, month)),
    )


def _running_note(row: Row, words: CongVanTexts, values: Mapping[str, str]) -> tuple[str, ...]:
    """The note that the figures are provisional, for a month read before its final
    figures (a month not over: the portal's figures change daily)."""
    return (fill(words.running_note, values),) if row.get("completeness") == "running" else ()


def _congvan_sections(
    row: Row, compare: Against, texts: NoticeTexts, values: Mapping[str, str]
) -> tuple[Section, ...]:
    """1. the scores; 2. where the details are; 3. the chairman's instructions."""
    words = texts.congvan
    # Nothing to compare with: said once, before the scores, not after each of them.
    reason = () if compare.comparable else (f"({capitalised(compare.reason)}.)",)
    sentences = (
        *_axis_sentences(row, compare, texts, values),
        _total_sentence(row, compare, values),
    )
    scores = (*reason, *sentences)
    return (
        Section(fill(words.scores_heading, values), scores),
        Section(fill(words.details_heading, values), filled(words.details, values)),
        Section(
            fill(words.instructions_heading, values), _instructions(row, compare, texts, values)
        ),
    )


def _axis_sentences(
    row: Row, compare: Against, texts: NoticeTexts, values: Mapping[str, str]
) -> list[str]:
    """ "1.1. Điểm số trục nội dung Công khai minh bạch đạt 17,5/18 điểm, tăng 3,8 điểm
    so với tháng 8/2024." for each axis in `AXIS_ORDER`."""
    axes = row.get("axes") or {}
    sentences = []
    for index, code in enumerate(AXIS_ORDER, start=1):
        axis = axes.get(code) or {}
        lead = f"1.{index}. Điểm số trục nội dung {texts.axis_names.get(code, code)}"
        if axis.get("score") is None:
            sentences.append(f"{lead}: chưa có số liệu {values['period_short']}.")
            continue
        reached = f"đạt {number(axis['score'])}/{number(axis.get('max'))} điểm"
        if compare.comparable:
            reached += f", {compare.change(axis.get('delta'))}"
        sentences.append(f"{lead} {reached}.")
    return sentences


def _total_sentence(row: Row, compare: Against, values: Mapping[str, str]) -> str:
    """The total with its change, and the rank with its change when both are known."""
    lead = f"1.{len(AXIS_ORDER) + 1}. Điểm tổng hợp"
    if row.get("total") is None:
        return f"{lead}: chưa có số liệu {values['period_short']}."
    score = f"{lead} đạt {score_of(row)}"
    ranked = rank_clause(row, values["set_name"])
    delta = row.get("total_delta") if compare.comparable else None
    moved = row.get("rank_change") if compare.comparable and ranked else None
    if delta is not None and moved is not None:
        places = rank_change_words(moved) + (" trên bảng xếp hạng" if moved else "")
        change = change_words(delta, same="giữ nguyên điểm")
        return f"{score}, {change}; {ranked} và {places} so với {compare.short}."
    first = f"{score}, {compare.change(delta)}" if compare.comparable else score
    return f"{first}; {ranked}." if ranked else f"{first}."


def _fallen_axes(row: Row, compare: Against) -> list[str]:
    """The axes whose score fell since the comparable previous period, in order."""
    if not compare.comparable:
        return []
    axes = row.get("axes") or {}
    return [
        code
        for code in AXIS_ORDER
        if (axes.get(code) or {}).get("delta") is not None and axes[code]["delta"] < 0
    ]


def _instructions(
    row: Row, compare: Against, texts: NoticeTexts, values: Mapping[str, str]
) -> tuple[str, ...]:
    """What the unit's own figures call for: what fell, in one line; each outstanding
    count's instruction with its number; each fallen axis's instructions; then the
    standing ones."""
    fallen = _fallen_axes(row, compare)
    lines: list[str] = []
    if fallen:
        named = "; ".join(
            f"{texts.axis_names.get(code, code)} ({change_words(row['axes'][code]['delta'])})"
            for code in fallen
        )
        lines.append(f"- Khắc phục các trục nội dung giảm điểm so với {compare.short}: {named}.")
    counts = row.get("counts") or {}
    for key, line in texts.congvan.outstanding.items():
        if counts.get(key):
            lines.append(fill(line, {**values, "count": number(counts[key], 0)}))
    chosen = [line for code in fallen for line in texts.congvan.fell.get(code, ())]
    chosen.extend(texts.congvan.instructions)
    lines.extend(fill(line, values) for line in chosen)
    return tuple(dict.fromkeys(lines))
