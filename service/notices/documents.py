"""What a notice says: a unit's Công văn and a comparison set's Báo cáo, as values.

Pure: takes score rows (plain dicts, as `national_rows()` and
`appraisal_rows()` give them), figures by code (`FigureValue`), the issuer's
configuration and the editable texts; returns frozen dataclasses whose
every string is final Vietnamese text, laid out by any template (docx,
HTML). Nothing is invented: what the issuer has not configured is a blank
(`BLANK`) for the official to fill; a change is claimed only against a
comparable previous period (same source); a rank only where the analysis
gave one.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from service.figures import AXES, COUNT_CODES, FigureValue
from service.notices.texts import NoticeTexts, default_texts, fill
from service.notices.vnformat import (
    BLANK,
    blank_compact_date,
    blank_long_date,
    change_words,
    compact_date,
    long_date,
    number,
    period_long,
    period_short,
    rank,
    rank_change_words,
    roman,
    signed,
    two_digits,
)
from service.periods import Period
from service.scoring.changes import round2

Row = Mapping[str, Any]
Figures = Mapping[str, FigureValue]
#: The six axes in the order the Công văn lists them.
AXIS_ORDER: tuple[str, ...] = tuple(AXES)


@dataclass(frozen=True)
class Issuer:
    """Who issues a document, from the per-unit configuration.

    Anything None is left blank for the official to fill, never guessed.
    `body_name` may hold "\\n" to break lines ("Ủy ban nhân dân\\nxã Bình
    Thành"); `number_pattern` is the symbol after the number ("UBND-VP"),
    the number itself is always the clerk's. `recipients` are the "Kính gửi"
    of a Công văn and the first "Nơi nhận" of a Báo cáo; `copies` are the
    further "Nơi nhận"; `set_name` overrides the texts' name of the set.
    """

    body_parent: str | None = None
    body_name: str | None = None
    number_pattern: str | None = None
    place: str | None = None
    signer_title: str | None = "CHỦ TỊCH"
    signer_name: str | None = None
    recipients: tuple[str, ...] = ()
    archive_line: str = "Lưu: VT, VP."
    signing_for: str | None = "TM. ỦY BAN NHÂN DÂN"
    copies: tuple[str, ...] = ()
    short_name: str | None = None
    area_name: str | None = None
    set_name: str | None = None


@dataclass(frozen=True)
class Header:
    """The two-column head (Nghị định 30): body and number left, motto and date right."""

    body_parent: str  # upright capitals; "" when there is none
    body_name_lines: tuple[str, ...]  # bold capitals
    number_line: str  # "Số: ……/UBND-VP"
    place_date: str  # "Bình Thành, ngày 05 tháng 10 năm 2024"

    @property
    def body_name(self) -> str:
        return "\n".join(self.body_name_lines)


@dataclass(frozen=True)
class Section:
    heading: str
    paragraphs: tuple[str, ...]


@dataclass(frozen=True)
class TableRow:
    cells: tuple[str, ...]
    strong: bool = False  # a group or total row, set in bold


@dataclass(frozen=True)
class Table:
    """A bordered table; the first two columns are the number and the name."""

    caption: str
    columns: tuple[str, ...]
    rows: tuple[TableRow, ...]


@dataclass(frozen=True)
class Chart:
    """A place for a chart: the renderer puts the image named `key` there, if given."""

    key: str
    caption: str


@dataclass(frozen=True)
class Appendix:
    title: str
    subtitle: str
    note: str
    tables: tuple[Table, ...]
    charts: tuple[Chart, ...] = ()


@dataclass(frozen=True)
class Signature:
    signing_for: str  # "TM. ỦY BAN NHÂN DÂN"
    title: str  # "CHỦ TỊCH"
    name: str  # "" until configured


@dataclass(frozen=True)
class Notice:
    """What every notice has, in reading order; templates lay it out."""

    kind: str  # "congvan" or "baocao"
    header: Header
    title: str  # "BÁO CÁO"; "" for a Công văn
    subject: str  # "V/v ..." under the number, or the report's subject under its title
    addressees: tuple[str, ...]  # "Kính gửi:" lines; () for a report
    opening: tuple[str, ...]
    sections: tuple[Section, ...]
    closing: tuple[str, ...]
    signature: Signature
    copies: tuple[str, ...]  # "Nơi nhận:" lines, ending "- Lưu: VT, VP."
    appendices: tuple[Appendix, ...]


@dataclass(frozen=True)
class CongVan(Notice):
    unit_code: str
    unit_name: str
    period: str


@dataclass(frozen=True)
class BaoCao(Notice):
    period: str
    units: int  # in the set
    scored: int  # with a total


@dataclass(frozen=True)
class Against:
    """The previous period a document compares with, and whether it may."""

    short: str  # "tháng 8/2024"
    comparable: bool
    reason: str  # why there is no change, when there is none

    def change(self, delta: float | None, same: str = "giữ nguyên điểm") -> str:
        """ "tăng 3,8 điểm so với tháng 8/2024", or the honest reason for no change."""
        if delta is None or not self.comparable:
            return self.reason
        return f"{change_words(delta, same=same)} so với {self.short}"


def _against(period: Period, previous: Row | None, current: Row) -> Against:
    """Comparable only with a previous row of the same source (series)."""
    short = period_short(period.previous())
    if previous is None:
        return Against(short, False, f"chưa có số liệu {short} để so sánh")
    if previous.get("source") != current.get("source"):
        reason = f"không so sánh với {short} do thay đổi nguồn hoặc phương pháp tính"
        return Against(short, False, reason)
    return Against(short, True, f"chưa có số liệu {short} để so sánh")


def _as_period(period: Period | str) -> Period:
    return Period.parse(period) if isinstance(period, str) else period


def _header(issuer: Issuer, period: Period, issued_on: dt.date | None) -> Header:
    """Blank number always; blank day (in the month after the period) until issued."""
    names = issuer.body_name.upper().split("\n") if issuer.body_name else [BLANK]
    return Header(
        body_parent=(issuer.body_parent or "").upper(),
        body_name_lines=tuple(line.strip() for line in names),
        number_line=f"Số: {_document_number(issuer)}",
        place_date=f"{issuer.place or BLANK}, {_issue_date_words(period, issued_on)}",
    )


def _document_number(issuer: Issuer) -> str:
    return f"{BLANK}/{issuer.number_pattern or BLANK}"


def _issue_month(period: Period) -> dt.date:
    return period.last_day + dt.timedelta(days=1)


def _issue_date_words(period: Period, issued_on: dt.date | None) -> str:
    if issued_on is not None:
        return long_date(issued_on)
    month = _issue_month(period)
    return blank_long_date(month.year, month.month)


def _issue_date_compact(period: Period, issued_on: dt.date | None) -> str:
    if issued_on is not None:
        return compact_date(issued_on)
    month = _issue_month(period)
    return blank_compact_date(month.year, month.month)


def _listed(items: Sequence[str]) -> tuple[str, ...]:
    """ "- a;", "- b;", "- c." whatever dashes and stops the items came with."""
    cleaned = [item.strip().lstrip("-").strip().rstrip(";.").strip() for item in items]
    last = len(cleaned) - 1
    return tuple(f"- {text}{'.' if i == last else ';'}" for i, text in enumerate(cleaned))


def _signature(issuer: Issuer) -> Signature:
    return Signature(issuer.signing_for or "", issuer.signer_title or "", issuer.signer_name or "")


def _placeholders(
    period: Period, issuer: Issuer, issued_on: dt.date | None, **more: str
) -> dict[str, str]:
    """Every placeholder a text may use (see texts.toml), blank when not configured."""
    previous = period.previous()
    return {
        "unit_name": BLANK,
        "set_name": BLANK,
        "scheme_title": BLANK,
        "period_long": period_long(period),
        "period_short": period_short(period),
        "previous_long": period_long(previous),
        "previous_short": period_short(previous),
        "area": issuer.area_name or BLANK,
        "issuer_short": issuer.short_name or BLANK,
        "document_number": _document_number(issuer),
        "document_date": _issue_date_compact(period, issued_on),
    } | more


def _filled(lines: Sequence[str], values: Mapping[str, str]) -> tuple[str, ...]:
    return tuple(fill(line, values) for line in lines)


def _set_name(issuer: Issuer, texts: NoticeTexts, group: str | None) -> str:
    return issuer.set_name or texts.set_names.get(group or "", "đơn vị")


def _rank_clause(row: Row, set_label: str) -> str | None:
    """ "xếp hạng 03/23 xã, phường" ("xếp đồng hạng" when tied); None when unranked.
    Without the size of the set (an imported rank) nothing is said about the set."""
    place = row.get("rank")
    if place is None:
        return None
    of = row.get("rank_of")
    words = "xếp đồng hạng" if row.get("rank_tied") else "xếp hạng"
    return f"{words} {rank(place, of)}" + (f" {set_label}" if of is not None else "")


def _score_of(row: Row) -> str:
    return f"{number(row.get('total'))}/{number(row.get('max'))} điểm"


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
    month = _as_period(period)
    compare = _against(month, previous_month_row, unit_row)
    unit_name = str(unit_row.get("unit_name") or BLANK)
    values = _placeholders(
        month,
        issuer,
        issued_on,
        unit_name=unit_name,
        set_name=_set_name(issuer, texts, unit_row.get("group")),
    )
    words = texts.congvan
    return CongVan(
        kind="congvan",
        header=_header(issuer, month, issued_on),
        title="",
        subject=fill(words.subject, values),
        addressees=_listed(issuer.recipients) if issuer.recipients else (BLANK,),
        opening=_filled(words.opening, values),
        sections=_congvan_sections(unit_row, compare, texts, values),
        closing=_filled(words.closing, values),
        signature=_signature(issuer),
        copies=_listed(("Như trên", *issuer.copies, issuer.archive_line)),
        appendices=_congvan_appendices(
            month,
            unit_row,
            previous_month_row,
            figures_now,
            figures_before or {},
            compare,
            texts,
            values,
        ),
        unit_code=str(unit_row.get("unit_code") or ""),
        unit_name=unit_name,
        period=str(month),
    )


def _congvan_sections(
    row: Row, compare: Against, texts: NoticeTexts, values: Mapping[str, str]
) -> tuple[Section, ...]:
    """1. the scores; 2. where the details are; 3. the chairman's instructions."""
    words = texts.congvan
    scores = (*_axis_sentences(row, compare, texts, values), _total_sentence(row, compare, values))
    return (
        Section(fill(words.scores_heading, values), scores),
        Section(fill(words.details_heading, values), _filled(words.details, values)),
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
        sentences.append(f"{lead} {reached}, {compare.change(axis.get('delta'))}.")
    return sentences


def _total_sentence(row: Row, compare: Against, values: Mapping[str, str]) -> str:
    """The total with its change, and the rank with its change when both are known."""
    lead = f"1.{len(AXIS_ORDER) + 1}. Điểm tổng hợp"
    if row.get("total") is None:
        return f"{lead}: chưa có số liệu {values['period_short']}."
    score = f"{lead} đạt {_score_of(row)}"
    ranked = _rank_clause(row, values["set_name"])
    delta = row.get("total_delta") if compare.comparable else None
    moved = row.get("rank_change") if compare.comparable and ranked else None
    if delta is not None and moved is not None:
        places = rank_change_words(moved) + (" trên bảng xếp hạng" if moved else "")
        change = change_words(delta, same="giữ nguyên điểm")
        return f"{score}, {change}; {ranked} và {places} so với {compare.short}."
    first = f"{score}, {compare.change(delta)}"
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
    """What fell, in one line, then each fallen axis's instructions, then the standing ones."""
    fallen = _fallen_axes(row, compare)
    lines: list[str] = []
    if fallen:
        named = "; ".join(
            f"{texts.axis_names.get(code, code)} ({change_words(row['axes'][code]['delta'])})"
            for code in fallen
        )
        lines.append(f"- Các trục nội dung giảm điểm so với {compare.short}: {named}.")
    chosen = [line for code in fallen for line in texts.congvan.fell.get(code, ())]
    chosen.extend(texts.congvan.instructions)
    lines.extend(fill(line, values) for line in chosen)
    return tuple(dict.fromkeys(lines))


# Phụ lục I and II of the Công văn ----------------------------------------------------


def _congvan_appendices(
    term: Period,
    row: Row,
    previous: Row | None,
    now: Figures,
    before: Figures,
    compare: Against,
    texts: NoticeTexts,
    values: Mapping[str, str],
) -> tuple[Appendix, ...]:
    """Phụ lục I (every indicator, both months, the change) and Phụ lục II (counts, rates)."""
    day_now, day_before = compact_date(term.last_day), compact_date(term.previous().last_day)
    note = fill(texts.congvan.appendix_note, values)
    charts = (
        Chart("axes", f"Điểm các trục nội dung {values['period_short']} và {compare.short}"),
        Chart("place", f"Điểm tổng hợp của các {values['set_name']} {values['period_short']}"),
        Chart("trend", "Điểm tổng hợp qua các tháng"),
    )
    columns = ("STT", "Nội dung")
    first = Table(
        "",
        (
            *columns,
            f"Số liệu ngày {day_before}",
            f"Tỷ lệ ngày {day_before}",
            f"Số liệu ngày {day_now}",
            f"Tỷ lệ ngày {day_now}",
            f"Tăng (+)/Giảm (-) so với ngày {day_before}",
        ),
        _indicator_rows(row, previous, now, before, compare, texts, values["set_name"]),
    )
    second = Table(
        "",
        (*columns, f"Ngày {day_before}", f"Ngày {day_now}", "Tăng (+)/Giảm (-)"),
        _summary_rows(row, previous, now, before, compare, texts),
    )
    return (
        Appendix(fill(texts.congvan.appendix_1_title, values).upper(), "", note, (first,), charts),
        Appendix(fill(texts.congvan.appendix_2_title, values).upper(), "", note, (second,)),
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


def _indicator_rows(
    row: Row,
    previous: Row | None,
    now: Figures,
    before: Figures,
    compare: Against,
    texts: NoticeTexts,
    set_label: str,
) -> tuple[TableRow, ...]:
    """Each axis (points) followed by its metrics (counts and rates); the total and rank last."""
    rows: list[TableRow] = []
    axes = row.get("axes") or {}
    for index, axis in enumerate(AXIS_ORDER, start=1):
        score_now = _axis_score(row, now, axis)
        score_before = _axis_score(previous, before, axis) if previous or before else None
        delta = (axes.get(axis) or {}).get("delta") if compare.comparable else None
        name = texts.column_labels.get(axis, texts.axis_names.get(axis, axis))
        cells = (roman(index), f"{name} (điểm)", number(score_before), "", number(score_now), "")
        rows.append(TableRow((*cells, signed(delta, missing="")), strong=True))
        codes = _metrics_of(axis, now, before, order=list(texts.indicator_labels))
        for sub, code in enumerate(codes, start=1):
            was, is_ = before.get(code), now.get(code)
            rows.append(
                TableRow(
                    (
                        f"{index}.{sub}",
                        texts.indicator_labels.get(code, code),
                        _fraction(was),
                        _rate_text(_rate(was)),
                        _fraction(is_),
                        _rate_text(_rate(is_)),
                        _rate_change(_rate(is_), _rate(was), compare),
                    )
                )
            )
    rows.append(_total_row(row, previous, compare, set_label))
    return tuple(rows)


def _standing(row: Row | None, set_label: str) -> str:
    if row is None or row.get("total") is None:
        return "-"
    ranked = _rank_clause(row, set_label)
    return f"Đạt {_score_of(row)}" + (f"; {ranked}" if ranked else "")


def _total_row(row: Row, previous: Row | None, compare: Against, set_label: str) -> TableRow:
    changes = []
    if compare.comparable and row.get("total_delta") is not None:
        changes.append(change_words(row["total_delta"], same="giữ nguyên điểm"))
    if compare.comparable and row.get("rank_change") is not None:
        changes.append(rank_change_words(row["rank_change"]))
    change = ", ".join(changes)
    cells = (
        "",
        "Điểm tổng hợp và xếp hạng",
        _standing(previous, set_label),
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


def _summary_rows(
    row: Row,
    previous: Row | None,
    now: Figures,
    before: Figures,
    compare: Against,
    texts: NoticeTexts,
) -> tuple[TableRow, ...]:
    """Phụ lục II: the configured counts and rates, both periods, and the change."""
    rows = []
    for index, item in enumerate(texts.congvan.summary_rows, start=1):
        if item.kind == "count":
            is_, was = _count_value(row, now, item.code), _count_value(previous, before, item.code)
            change = signed(is_ - was) if is_ is not None and was is not None else ""
            cells = (number(was, 0), number(is_, 0), change if compare.comparable else "")
        else:
            is_, was = _rate(now.get(item.code)), _rate(before.get(item.code))
            cells = (_rate_text(was), _rate_text(is_), _rate_change(is_, was, compare))
        rows.append(TableRow((str(index), item.label, *cells)))
    return tuple(rows)


# The Báo cáo of a comparison set ------------------------------------------------------


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
    term = _as_period(period)
    ranked = sorted(rows_of_a_set, key=lambda r: (r.get("rank") is None, r.get("rank") or 0))
    group = ranked[0].get("group") if ranked else None
    values = _placeholders(
        term,
        issuer,
        issued_on,
        set_name=_set_name(issuer, texts, group),
        scheme_title=scheme_title or BLANK,
    )
    words = texts.baocao
    return BaoCao(
        kind="baocao",
        header=_header(issuer, term, issued_on),
        title=words.title,
        subject=fill(words.subject, values),
        addressees=(),
        opening=_filled(words.opening, values),
        sections=_baocao_sections(ranked, previous_rows, term, texts, values),
        closing=_filled(words.closing, values),
        signature=_signature(issuer),
        copies=_listed((*issuer.recipients, *issuer.copies, issuer.archive_line)),
        appendices=(_ranking_appendix(ranked, texts, values),),
        period=str(term),
        units=len(ranked),
        scored=sum(1 for r in ranked if r.get("total") is not None),
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
    results = (_results_sentence(rows, values, texts), fill(words.results_note, values))
    improved = _filled(words.achievements, values) + _improvements(rows, previous_rows, term, texts)
    short = _filled(words.shortcomings, values) + _shortcomings(rows, texts)
    return (
        Section(fill(words.results_heading, values), results),
        Section(fill(words.general_heading, values), ()),
        Section(fill(words.achievements_heading, values), improved),
        Section(fill(words.shortcomings_heading, values), short),
        Section(
            fill(words.recommendations_heading, values),
            _filled(words.recommendations, values),
        ),
    )


def _class_of(row: Row) -> str | None:
    label = row.get("class") or row.get("status")
    return str(label) if label else None


def _results_sentence(rows: Sequence[Row], values: Mapping[str, str], texts: NoticeTexts) -> str:
    """ "Thực hiện chấm điểm, đánh giá 12/12 xã, thị trấn. Trong đó, 06 đơn vị xếp loại
    Xuất sắc, 06 đơn vị xếp loại Tốt." (classes in the texts' order)."""
    scored = sum(1 for r in rows if r.get("total") is not None)
    sentence = (
        f"Thực hiện chấm điểm, đánh giá {two_digits(scored)}/{two_digits(len(rows))} "
        f"{values['set_name']}."
    )
    counts = Counter(label for r in rows if (label := _class_of(r)))
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
    risen = [r for r in compared if r["total_delta"] > 0]
    if risen:
        named = "; ".join(f"{r['unit_name']} ({change_words(r['total_delta'])})" for r in risen)
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
    """Units named under each shortfall: with their counts ("Xã Xá Nhè 01 hồ sơ"), or
    for an indicator scored 0. Phrases shared by several keys are listed once."""
    named: dict[str, list[str]] = {}
    for key, phrase in texts.baocao.count_phrases.items():
        for r in rows:
            count = (r.get("counts") or {}).get(key)
            if count:
                named.setdefault(phrase, []).append(
                    f"{r['unit_name']} {two_digits(int(count))} hồ sơ"
                )
    for code, phrase in texts.baocao.zero_score_phrases.items():
        for r in rows:
            score = ((r.get("axes") or {}).get(code) or {}).get("score")
            if score == 0 and code not in (r.get("not_applicable") or ()):
                named.setdefault(phrase, []).append(str(r["unit_name"]))
    return tuple(f"- {phrase}: {'; '.join(units)}." for phrase, units in named.items())


def _indicator_codes(rows: Sequence[Row]) -> list[str]:
    return list(dict.fromkeys(code for r in rows for code in (r.get("axes") or {})))


def _ranking_appendix(
    rows: Sequence[Row], texts: NoticeTexts, values: Mapping[str, str]
) -> Appendix:
    """Every unit in rank order: indicator points ('-' when not applicable or no data),
    total, converted score and, when the scheme classifies, the class."""
    codes = _indicator_codes(rows)
    maxima = {c: next(((r["axes"].get(c) or {}).get("max") for r in rows), None) for c in codes}
    classified = any(_class_of(r) for r in rows)
    columns = (
        "Xếp hạng",
        "Tên cơ quan, đơn vị",
        *(f"{texts.column_labels.get(c, c)} ({number(maxima[c])})" for c in codes),
        "Điểm đạt được",
        "Tổng điểm quy đổi",
        *(("Xếp loại",) if classified else ()),
    )
    body = []
    for r in rows:
        axes, skipped = r.get("axes") or {}, set(r.get("not_applicable") or ())
        points = ("-" if c in skipped else number((axes.get(c) or {}).get("score")) for c in codes)
        body.append(
            TableRow(
                (
                    str(r["rank"]) if r.get("rank") is not None else "-",
                    str(r.get("unit_name") or ""),
                    *points,
                    number(r.get("total"), keep_zeros=True),
                    number(r.get("converted"), keep_zeros=True),
                    *((_class_of(r) or "-",) if classified else ()),
                )
            )
        )
    return Appendix(
        fill(texts.baocao.appendix_title, values).upper(),
        fill(texts.baocao.appendix_subtitle, values).upper(),
        fill(texts.baocao.appendix_note, values),
        (Table("", columns, tuple(body)),),
        (Chart("place", f"Điểm tổng hợp của các {values['set_name']} {values['period_short']}"),),
    )
