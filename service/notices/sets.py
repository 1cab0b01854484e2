"""The comparison set a notice reads: a Báo cáo is about the set under its unit, a
Công văn compares its unit within the set of the unit's parent (its province). Only
that set's snapshots are read and scored, however many provinces are watched."""

from __future__ import annotations

from sqlalchemy.orm import Session

from service.delivery.fanout import province_of
from service.scoring.tt01 import TT01_KIND


def notice_set(session: Session, kind: str, scheme: str, unit: str) -> str | None:
    """The parent code of the set a notice of `kind` and `scheme` about `unit` reads;
    None (every unit) for tt01, whose offices are appraised together."""
    if scheme == TT01_KIND:
        return None
    return unit if kind == "baocao" else province_of(session, unit)
