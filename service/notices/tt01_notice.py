"""The nine-criteria Báo cáo read from the database: a district's units and their levels;
and which kinds, schemes and periods a notice is written for at all.

The edge for `tt01_report` (pure): the units of the set are its members'
latest snapshots for the quarter or year; each unit's level is its table's
LEVEL row, else read from its name (`level_by_name`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy.orm import Session

from service.notices.documents import Issuer, Notice
from service.notices.texts import NoticeTexts
from service.notices.tt01_report import tt01_baocao
from service.notices.tt01_texts import Tt01Texts
from service.periods import Period
from service.scoring.tt01 import LEVEL, TT01_KIND, level_of
from service.snapshots import latest_units

#: Who issues, the Thông tư's title, the notices' texts and the report's own.
Wording = tuple[Issuer, str, NoticeTexts, Tt01Texts]


def tt01_notice(
    session: Session, rows: Sequence[dict[str, Any]], unit: str, period: Period, wording: Wording
) -> tuple[Notice, list[int]] | None:
    """The Báo cáo of the units whose parent is `unit` and the snapshots it was built
    from; None when the set has no units for `period`."""
    members = [r for r in rows if r["parent_code"] == unit]
    if not members:
        return None
    units = [u for u in latest_units(session, TT01_KIND, str(period)) if u.parent_code == unit]
    levels = {
        stored.label: level
        for stored in units
        if (figure := stored.figures.get(LEVEL)) and (level := level_of(figure.text_value))
    }
    issuer, title, texts, words = wording
    document = tt01_baocao(members, levels, issuer, period, title, texts, words)
    return document, [u.snapshot_id for u in units if u.snapshot_id is not None]


def period_problem(kind: str, scheme: str, period: Period) -> str | None:
    """Why no notice of `kind` and `scheme` is written for `period` (one line), or None:
    the nine-criteria scheme has a quarterly or yearly Báo cáo only, the other
    schemes a monthly Công văn and Báo cáo."""
    if scheme == TT01_KIND:
        if kind != "baocao":
            return f"--kind {kind} --scheme tt01: the nine-criteria scheme has a Báo cáo only"
        if period.kind == "month":
            quarter = f"{period.year}-Q{(period.number - 1) // 3 + 1}"
            return (
                f"--period {period}: the nine-criteria Báo cáo is written for a quarter "
                f"({quarter}) or a year ({period.year})"
            )
        return None
    if period.kind != "month":
        return (
            f"--period {period}: the {kind} of scheme {scheme} is written for a month "
            f"(e.g. {period.last_day:%Y-%m})"
        )
    return None
