"""The Báo cáo of the nine-criteria scheme (tt01) for a quarter or a year, as a value
(model: seed 002, Điện Biên Đông, Quý I năm 2021).

Pure: takes the appraised score rows of a district's units (`appraisal_rows()`),
each unit's level (huyện: the specialised agencies; xã: communes and towns),
the issuer and the texts; returns a `Tt01BaoCao` whose every string is final
Vietnamese text: the grounds; per level how many units were scored out of how
many, how many fall in each class, did not score themselves, had no dossiers
("Cấp huyện: … 07 đơn vị đạt loại Xuất sắc; 01 đơn vị đạt loại Tốt; …"); the
appraisal, naming every self-score the office corrected and every ĐTB that
does not add up; and the appendix grouped by level.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from service.notices.baocao import short_list
from service.notices.documents import (
    Issuer,
    Notice,
    Row,
    Section,
    filled,
    header_of,
    listed,
    placeholders,
    signature_of,
)
from service.notices.names import named_officially
from service.notices.texts import NoticeTexts, fill
from service.notices.tt01_appendix import in_report_order, tt01_appendix
from service.notices.tt01_texts import Tt01Texts
from service.periods import Period
from service.scoring.tt01 import LEVELS, NO_DOSSIERS, UNSCORED, level_by_name
from service.vnformat import BLANK, number, two_digits


@dataclass(frozen=True)
class Tt01BaoCao(Notice):
    period: str
    units: int  # of the district, both levels
    scored: int  # with a total


def tt01_baocao(
    rows: Sequence[Row],
    levels: Mapping[str, str],
    issuer: Issuer,
    period: Period,
    scheme_title: str,
    texts: NoticeTexts,
    words: Tt01Texts,
    issued_on: dt.date | None = None,
) -> Tt01BaoCao:
    """The report of `rows` (one district's units) for a quarter or a year. `levels`
    maps a unit code to its level; a unit it lacks is placed by its name."""
    by_level = _by_level([named_officially(r) for r in rows], levels)
    values = placeholders(period, issuer, issued_on, scheme_title=scheme_title or BLANK)
    sections = (
        Section(fill(words.deployment_heading, values), filled(words.deployment, values)),
        Section(fill(words.results_heading, values), ()),
        Section(fill(words.classes_heading, values), _results(by_level, texts, words, values)),
        Section(fill(words.appraisal_heading, values), _appraisal(by_level, words, values)),
        Section(fill(words.use_heading, values), filled(words.use, values)),
        Section(fill(words.difficulties_heading, values), _difficulties(by_level, words, values)),
    )
    every = [row for level_rows in by_level.values() for row in level_rows]
    return Tt01BaoCao(
        kind="baocao",
        header=header_of(issuer, period, issued_on),
        title=words.title,
        subject=fill(words.subject, values),
        addressees=(),
        opening=filled(words.opening, values),
        sections=sections,
        closing=filled(words.closing, values),
        signature=signature_of(issuer),
        copies=listed((*issuer.recipients, *issuer.copies, issuer.archive_line)),
        appendices=(tt01_appendix(by_level, words, values),),
        period=str(period),
        units=len(every),
        scored=sum(1 for r in every if r.get("total") is not None),
    )


def _by_level(rows: Sequence[Row], levels: Mapping[str, str]) -> dict[str, list[Row]]:
    """The rows of each level that has units (agencies first), in the report's order."""
    grouped: dict[str, list[Row]] = {level: [] for level in LEVELS}
    for row in rows:
        code, name = str(row.get("unit_code")), str(row.get("unit_name") or "")
        grouped[levels.get(code) or level_by_name(name)].append(row)
    return {level: in_report_order(found) for level, found in grouped.items() if found}


def _results(
    by_level: Mapping[str, Sequence[Row]],
    texts: NoticeTexts,
    words: Tt01Texts,
    values: Mapping[str, str],
) -> tuple[str, ...]:
    lines = [_level_line(words.level_names[level], rows, texts) for level, rows in by_level.items()]
    return (*filled(words.classes_intro, values), *lines, fill(words.results_note, values))


def _level_line(name: str, rows: Sequence[Row], texts: NoticeTexts) -> str:
    """ "- Cấp huyện: 04/06 đơn vị được chấm điểm: 03 đơn vị đạt loại Xuất sắc; 01 đơn vị
    đạt loại Tốt; 01 đơn vị chưa thực hiện việc chấm điểm (Phòng Nội vụ); 01 đơn vị
    chưa phát sinh hồ sơ (Phòng Văn hóa và Thông tin)." (classes in the texts' order)."""
    scored = [r for r in rows if r.get("total") is not None]
    counts = Counter(str(r["class"]) for r in scored if r.get("class"))
    order = {label: index for index, label in enumerate(texts.class_order)}
    parts = [
        f"{two_digits(counts[label])} đơn vị đạt loại {label}"
        for label in sorted(counts, key=lambda label: order.get(label, len(order)))
    ]
    for status, words in ((UNSCORED, "chưa thực hiện việc chấm điểm"),
                          (NO_DOSSIERS, "chưa phát sinh hồ sơ")):  # fmt: skip
        named = [str(r["unit_name"]) for r in rows if r.get("status") == status]
        if named:
            parts.append(f"{two_digits(len(named))} đơn vị {words} ({short_list(named)})")
    head = f"- {name}: {two_digits(len(scored))}/{two_digits(len(rows))} đơn vị được chấm điểm"
    return f"{head}: {'; '.join(parts)}." if parts else f"{head}."


def _appraisal(
    by_level: Mapping[str, Sequence[Row]], words: Tt01Texts, values: Mapping[str, str]
) -> tuple[str, ...]:
    """Every self-score the office corrected and every ĐTB that does not add up, by name."""
    lines = [
        line
        for rows in by_level.values()
        for row in rows
        for line in _corrections(row)
    ]  # fmt: skip
    if not lines:
        return (fill(words.appraisal_agrees, values),)
    return (fill(words.appraisal_intro, values), *lines)


def _corrections(row: Row) -> list[str]:
    found = {m["field"]: m for m in row.get("mismatches") or ()}
    name, total, label = row["unit_name"], row.get("total"), row.get("class")
    appraised = (
        f"kết quả thẩm định {number(total, keep_zeros=True)} điểm, đạt loại {label}"
        if total is not None and label
        else f"kết quả thẩm định: {_lower_first(str(row.get('status') or BLANK))}"
    )
    lines = []
    if "TOTAL" in found:
        reported = number(found["TOTAL"]["reported"], keep_zeros=True)
        lines.append(f"- {name} tự chấm {reported} điểm; {appraised}.")
    elif "CLASS" in found:
        lines.append(f"- {name} tự xếp loại {found['CLASS']['reported']}; {appraised}.")
    if "DTB" in found:
        reported = number(found["DTB"]["reported"], keep_zeros=True)
        computed = number(found["DTB"]["computed"], keep_zeros=True)
        lines.append(
            f"- {name} tự chấm ĐTB CCVC, BP một cửa {reported} điểm; tổng điểm tiêu chí 1 "
            f"đến tiêu chí 5 sau thẩm định là {computed} điểm."
        )
    return lines


def _lower_first(text: str) -> str:
    """ "không phát sinh TTHC" from "Không phát sinh TTHC" (an abbreviation kept)."""
    return text[:1].lower() + text[1:]


def _difficulties(
    by_level: Mapping[str, Sequence[Row]], words: Tt01Texts, values: Mapping[str, str]
) -> tuple[str, ...]:
    """The units that did not score themselves first (named), then the office's words."""
    unscored = [
        str(row["unit_name"])
        for rows in by_level.values()
        for row in rows
        if row.get("status") == UNSCORED
    ]
    named: tuple[str, ...] = ()
    if unscored:
        named = (
            f"- {two_digits(len(unscored))} đơn vị chưa thực hiện việc chấm điểm đánh giá việc "
            f"giải quyết TTHC {values['period_long']}: {short_list(unscored)}.",
        )
    return (*named, *filled(words.difficulties, values))
