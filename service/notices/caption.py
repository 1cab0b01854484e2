"""What a notice says in a few lines, sent with its file (a caption) or in its place
where the channel cannot carry a file (Zalo): the unit as officials write it, its
score, rank or class, and the dossiers still outstanding; for a Báo cáo, the set's
size, average, best and lowest. A province's own index is named by its legal act.
Plain Vietnamese text; the caller escapes it.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy.orm import Session

from service import indicators
from service.notices.baocao import members_of_set
from service.notices.names import official_name
from service.notices.sets import notice_set
from service.periods import Period
from service.scoring.book import SchemeBook
from service.scoring.report import score_rows
from service.vnformat import number, period_short, two_digits

Row = Mapping[str, Any]
KIND_NAMES = {"congvan": "Công văn", "baocao": "Báo cáo"}


def notice_caption(
    session: Session, book: SchemeBook, kind: str, unit: str, scheme: str, period: str
) -> str:
    """The caption of the notice of `kind` for `unit` (a set's parent for a Báo cáo),
    from the rows of the set the notice reads (`notice_set`), not the country's."""
    parent = notice_set(session, kind, scheme, unit)
    rows = score_rows(session, book, scheme, Period.parse(period), parent=parent)
    head = f"{KIND_NAMES.get(kind, kind)} kết quả đánh giá {period_short(period)}"
    index = _by_index(book, scheme)
    if kind == "baocao":
        members = members_of_set(rows, unit)
        return f"{head} của các đơn vị thuộc {unit}{index}. {_set_summary(members)}".strip()
    row = next((r for r in rows if r.get("unit_code") == unit), None)
    if row is None:
        return f"{head} của {unit}{index}."
    name = official_name(str(row.get("unit_name") or unit))
    return f"{head} của {name} ({unit}){index}. {_unit_summary(row)}".strip()


def _by_index(book: SchemeBook, scheme: str) -> str:
    """ " (theo Quyết định số 459/QĐ-UBND ngày 24/3/2023 của UBND tỉnh Điện Biên)" for a
    province's own index: a person may receive its notice and the national one of the
    same units and month, and tells them apart by it. Nothing for the other indices."""
    provincial = book.provincial.get(scheme)
    return f" (theo {provincial.legal_basis})" if provincial is not None else ""


def _unit_summary(row: Row) -> str:
    parts = []
    total, most = row.get("converted", row.get("total")), row.get("max")
    if total is not None:
        out_of = f"/{number(most)}" if most is not None else ""
        parts.append(f"Điểm tổng hợp {number(total, keep_zeros=True)}{out_of}")
    if row.get("rank") is not None and row.get("rank_of"):
        parts.append(f"xếp hạng {row['rank']}/{row['rank_of']}")
    if row.get("class"):
        parts.append(f"xếp loại {row['class']}")
    outstanding = [
        f"{number(n, 0)} {indicators.ALERTING[key].noun}"
        for key, n in (row.get("counts") or {}).items()
        if n and key in indicators.ALERTING
    ]
    text = ", ".join(parts)
    if outstanding:
        text += ("; còn " if text else "Còn ") + ", ".join(outstanding)
    return f"{text}." if text else ""


def _set_summary(rows: Sequence[Row]) -> str:
    scored = [r for r in rows if r.get("converted", r.get("total")) is not None]
    if not scored:
        return f"{len(rows)} đơn vị, chưa có điểm." if rows else ""
    classes = Counter(str(r["class"]) for r in scored if r.get("class"))
    if classes:  # a scheme that classifies: what the seeds' section 1 says first
        counted = "; ".join(
            f"{two_digits(n)} đơn vị xếp loại {name}" for name, n in classes.most_common()
        )
        share = f"{two_digits(len(scored))}/{two_digits(len(rows))}"
        return f"{share} đơn vị được chấm điểm: {counted}."
    points = [float(r.get("converted", r.get("total"))) for r in scored]
    best = max(scored, key=lambda r: float(r.get("converted", r.get("total"))))
    worst = min(scored, key=lambda r: float(r.get("converted", r.get("total"))))
    return (
        f"{len(scored)} đơn vị được chấm điểm, bình quân {number(sum(points) / len(points))} "
        f"điểm; cao nhất {official_name(str(best.get('unit_name')))}, thấp nhất "
        f"{official_name(str(worst.get('unit_name')))}."
    )
