"""The Báo cáo of one comparison set for one period, as a value (model: seed 000).

Pure: takes the score rows of a set (plain dicts, as `national_rows()` and
`appraisal_rows()` give them) for the period and the one before, the
issuer's configuration and the editable texts; returns a `BaoCao` whose
every string is final Vietnamese text: how many units were scored and in
which class, what improved (claimed only against comparable figures of the
previous period), who fell short, the recommendations those shortfalls call for
(naming the units concerned) and an appendix ranking every unit.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from service.notices.baocao_appendix import class_of, ranking_appendix
from service.notices.documents import (
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
from service.notices.names import bound_number, named_officially
from service.notices.texts import NoticeTexts, default_texts, fill
from service.periods import Period
from service.scoring.changes import round2
from service.vnformat import BLANK, change_words, number, period_short, two_digits

#: How many units a list in the text names before "và N đơn vị khác".
SHORT_LIST = 5


def members_of_set(rows: Sequence[dict[str, Any]], parent: str) -> list[dict[str, Any]]:
    """The units a Báo cáo of the set under `parent` covers: its communes (or the
    units of an imported set), not the province's own agencies."""
    return [r for r in rows if r["parent_code"] == parent and r["group"] != "AGENCY"]


@dataclass(frozen=True)
class BaoCao(Notice):
    period: str
    units: int  # in the set
    scored: int  # with a total


def baocao(
    rows_of_a_set: Sequence[Row],
    previous_rows: Sequence[Row] | None,
    issuer: Issuer,
    period: Period | str,
    scheme_title: str,
    texts: NoticeTexts | None = None,
    issued_on: dt.date | None = None,
) -> BaoCao:
    """The Báo cáo of one comparison set for one period (model: seed 000).

    `rows_of_a_set` are the score rows of the set (national or provincial);
    `previous_rows` those of the previous period, None when there are none
    (then no improvement is claimed). `texts` defaults to the bundled texts.
    """
    texts = texts or default_texts()
    term = as_period(period)
    ranked = _in_rank_order([named_officially(r) for r in rows_of_a_set])
    values = _baocao_placeholders(term, issuer, issued_on, ranked, scheme_title, texts)
    words = texts.baocao
    return BaoCao(
        kind="baocao",
        header=header_of(issuer, term, issued_on),
        title=words.title,
        subject=fill(words.subject, values),
        addressees=(),
        opening=filled(words.opening, values),
        sections=_baocao_sections(ranked, previous_rows, term, texts, values),
        closing=filled(words.closing, values),
        signature=signature_of(issuer),
        copies=listed((*issuer.recipients, *issuer.copies, issuer.archive_line)),
        appendices=(ranking_appendix(ranked, texts, values),),
        period=str(term),
        units=len(ranked),
        scored=sum(1 for r in ranked if r.get("total") is not None),
    )


def _in_rank_order(rows: Sequence[Row]) -> list[Row]:
    """Ranked units first, by rank; the unranked after them, in the order given."""
    return sorted(rows, key=lambda r: (r.get("rank") is None, r.get("rank") or 0))


def _baocao_placeholders(
    term: Period,
    issuer: Issuer,
    issued_on: dt.date | None,
    ranked: Sequence[Row],
    scheme_title: str,
    texts: NoticeTexts,
) -> dict[str, str]:
    """The placeholders of a Báo cáo: the common ones, the set's name (from the group of
    its first unit) and the title of the scoring scheme."""
    group = ranked[0].get("group") if ranked else None
    return placeholders(
        term,
        issuer,
        issued_on,
        set_name=set_name_of(issuer, texts, group),
        scheme_title=scheme_title or BLANK,
    )


def _baocao_sections(
    rows: Sequence[Row],
    previous_rows: Sequence[Row] | None,
    term: Period,
    texts: NoticeTexts,
    values: Mapping[str, str],
) -> tuple[Section, ...]:
    """1. results and classes; 2. assessment: what improved, shortcomings; 3. recommendations."""
    words = texts.baocao
    classified = any(class_of(r) for r in rows)
    results = (
        _results_sentence(rows, values, texts),
        *(_class_lists(rows, texts) if classified else _score_lines(rows)),
        fill(words.results_note, values),
    )
    heading = words.results_heading if classified else words.results_heading_unclassified
    improved = filled(words.achievements, values) + _improvements(rows, previous_rows, term, texts)
    short = filled(words.shortcomings, values) + _shortcomings(rows, texts)
    return (
        Section(fill(heading, values), results),
        Section(fill(words.general_heading, values), ()),
        Section(fill(words.achievements_heading, values), improved),
        Section(fill(words.shortcomings_heading, values), short),
        Section(
            fill(words.recommendations_heading, values),
            filled(words.recommendations, values) + _recommendations(rows, texts, values),
        ),
    )


def _results_sentence(rows: Sequence[Row], values: Mapping[str, str], texts: NoticeTexts) -> str:
    """ "Thực hiện chấm điểm, đánh giá 12/12 xã, thị trấn. Trong đó, 06 đơn vị xếp loại
    Xuất sắc, 06 đơn vị xếp loại Tốt." (classes in the texts' order)."""
    scored = sum(1 for r in rows if r.get("total") is not None)
    sentence = (
        f"Thực hiện chấm điểm, đánh giá {two_digits(scored)}/{two_digits(len(rows))} "
        f"{values['set_name']}."
    )
    counts = Counter(label for r in rows if (label := class_of(r)))
    if not counts:
        return sentence
    order = {name: index for index, name in enumerate(texts.class_order)}
    parts = [
        f"{two_digits(counts[name])} đơn vị "
        + (f"xếp loại {name}" if name in order else name[:1].lower() + name[1:])
        for name in sorted(counts, key=lambda n: order.get(n, len(order)))
    ]
    return f"{sentence} Trong đó, {', '.join(parts)}."


def _improvements(
    rows: Sequence[Row], previous_rows: Sequence[Row] | None, term: Period, texts: NoticeTexts
) -> tuple[str, ...]:
    """The units whose score rose, and those that moved up a class, since the previous
    period. Without comparable figures (none, or another source) nothing is claimed."""
    short = period_short(term.previous())
    compared = [r for r in rows if r.get("total_delta") is not None]
    if previous_rows is None or not compared:
        return (f"- Chưa có số liệu {short} để so sánh.",)
    risen = sorted((r for r in compared if r["total_delta"] > 0), key=lambda r: -r["total_delta"])
    if risen:
        named = short_list([f"{r['unit_name']} ({change_words(r['total_delta'])})" for r in risen])
        lines = [
            f"- {two_digits(len(risen))}/{two_digits(len(compared))} đơn vị tăng điểm "
            f"so với {short}: {named}."
        ]
    else:
        lines = [f"- Không có đơn vị tăng điểm so với {short}."]
    raised = _raised_classes(compared, previous_rows, texts.class_order)
    if raised:
        lines.append(f"- Đơn vị nâng xếp loại so với {short}: {'; '.join(raised)}.")
    return tuple(lines)


def _raised_classes(
    rows: Sequence[Row], previous_rows: Sequence[Row], class_order: Sequence[str]
) -> list[str]:
    """ "UBND xã A (từ Tốt lên Xuất sắc)" for each unit now in a better class than before."""
    order = {name: index for index, name in enumerate(class_order)}
    before = {(r.get("unit_code"), r.get("source")): r.get("class") for r in previous_rows}
    raised = []
    for row in rows:
        now, was = row.get("class"), before.get((row.get("unit_code"), row.get("source")))
        if now in order and was in order and order[str(now)] < order[str(was)]:
            raised.append(f"{row['unit_name']} (từ {was} lên {now})")
    return raised


def _shortcomings(rows: Sequence[Row], texts: NoticeTexts) -> tuple[str, ...]:
    """Under each shortfall the units with the most ("UBND xã Xá Nhè 01 hồ sơ"), or
    those scoring 0 on an indicator, at most `SHORT_LIST` named and the others
    counted, pointing to the appendix. Phrases shared by several keys are listed once."""
    named: dict[str, list[tuple[float, str]]] = {}
    for key, phrase in texts.baocao.count_phrases.items():
        for r in rows:
            count = (r.get("counts") or {}).get(key)
            if count:
                item = (count, _with_count(str(r["unit_name"]), int(count)))
                named.setdefault(phrase, []).append(item)
    for code, phrase in texts.baocao.zero_score_phrases.items():
        for r in rows:
            score = ((r.get("axes") or {}).get(code) or {}).get("score")
            if score == 0 and code not in (r.get("not_applicable") or ()):
                named.setdefault(phrase, []).append((0, str(r["unit_name"])))
    lines = []
    for phrase, units in named.items():
        ordered = [text for _, text in sorted(units, key=lambda unit: -unit[0])]
        lines.append(f"- {phrase}: {short_list(ordered)}.")
    return tuple(lines)


def _recommendations(
    rows: Sequence[Row], texts: NoticeTexts, values: Mapping[str, str]
) -> tuple[str, ...]:
    """What the set's own figures call for: each recommendation of `baocao.outstanding`
    whose count some units have above zero, naming them (`short_list`), the most
    outstanding first. A text shared by several counts is said once, naming the units
    of any of them; an empty text is not said."""
    outstanding: dict[str, dict[str, float]] = {}  # text → unit name → its dossiers
    for key, text in texts.baocao.outstanding.items():
        for r in rows:
            count = (r.get("counts") or {}).get(key)
            if text and count:
                units = outstanding.setdefault(text, {})
                name = bound_number(str(r["unit_name"]))
                units[name] = units.get(name, 0) + count
    return tuple(
        fill(text, {**values, "units": short_list(sorted(units, key=lambda n: -units[n]))})
        for text, units in outstanding.items()
    )


def _with_count(unit_name: str, count: int) -> str:
    """ "UBND xã Xá Nhè 01 hồ sơ", as the seeds write it; a name that ends in a number
    takes the count in brackets, "UBND phường 12 (1.628 hồ sơ)", so the two numbers
    never run together."""
    if unit_name[-1:].isdigit():
        return f"{unit_name} ({two_digits(count)} hồ sơ)"
    return f"{unit_name} {two_digits(count)} hồ sơ"


def short_list(items: Sequence[str]) -> str:
    """The first `SHORT_LIST` of `items` joined by "; ", then "và N đơn vị khác (chi
    tiết tại Phụ lục)" for the rest: never a paragraph of a whole province. One more
    than the list is named rather than counted ("và 01 đơn vị khác" names no one)."""
    if len(items) <= SHORT_LIST + 1:
        return "; ".join(items)
    rest = len(items) - SHORT_LIST
    return (
        f"{'; '.join(items[:SHORT_LIST])} và {two_digits(rest)} đơn vị khác (chi tiết tại Phụ lục)"
    )


def _class_lists(rows: Sequence[Row], texts: NoticeTexts) -> tuple[str, ...]:
    """ "- Xếp loại Xuất sắc: UBND xã A; UBND xã B." for each class, in the texts' order."""
    order = {name: index for index, name in enumerate(texts.class_order)}
    classes: dict[str, list[str]] = {}
    for r in rows:
        if label := class_of(r):
            classes.setdefault(label, []).append(str(r["unit_name"]))
    ordered = sorted(classes, key=lambda name: order.get(name, len(order)))
    return tuple(f"- Xếp loại {name}: {short_list(classes[name])}." for name in ordered)


def _score_lines(rows: Sequence[Row]) -> tuple[str, ...]:
    """Where the scheme does not classify (the 766 index): the set's average, its
    best and worst, and how many units stand above and below the average."""
    scored = [(r, float(t)) for r in rows if (t := r.get("converted", r.get("total"))) is not None]
    if not scored:
        return ()
    mean = round2(sum(t for _, t in scored) / len(scored))
    best, worst = max(scored, key=lambda item: item[1]), min(scored, key=lambda item: item[1])
    above = sum(1 for _, t in scored if t > mean)
    below = sum(1 for _, t in scored if t < mean)
    if len(scored) == 1:  # a set of one: no best, worst or average to compare with
        return (
            f"- {best[0]['unit_name']} là đơn vị duy nhất được đánh giá, điểm tổng hợp đạt "
            f"{number(best[1])} điểm.",
        )
    return (
        f"- Điểm tổng hợp bình quân đạt {number(mean)} điểm; cao nhất là "
        f"{best[0]['unit_name']} ({number(best[1])} điểm), thấp nhất là "
        f"{worst[0]['unit_name']} ({number(worst[1])} điểm).",
        f"- {two_digits(above)} đơn vị đạt trên mức bình quân, {two_digits(below)} đơn vị "
        "dưới mức bình quân.",
    )
