"""Value types shared by every input and the snapshot store: a unit and its figures.

These are plain values, independent of where they came from (the portal's API,
an imported table) and of the database. Codes follow `domain.md`: axes
(CKMB, TDGQ, CLGQ, TTTT, MDHL, MDSH), the portal's sub-indicators
(DOSSIER_SYNC, ...), counts (OVERDUE, NOT_DIGITISED, ...) and TOTAL.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field, fields

#: The six axes (trục) of the national index and their maxima (100 in all).
AXES: dict[str, float] = {
    "CKMB": 18,  # Công khai, minh bạch: transparency
    "TDGQ": 20,  # Tiến độ giải quyết: processing on time
    "CLGQ": 12,  # Dịch vụ công trực tuyến: online services
    "TTTT": 10,  # Thanh toán trực tuyến: online payment
    "MDHL": 18,  # Mức độ hài lòng: satisfaction
    "MDSH": 22,  # Số hóa hồ sơ: digitisation
}

#: The counts people act on (alert topics), by the key used in output.
COUNT_CODES: dict[str, str] = {
    "overdue": "OVERDUE",
    "not_digitised": "NOT_DIGITISED",
    "not_paid_online": "NOT_PAID_ONLINE",
    "unsynced": "UNSYNCED",
}


@dataclass(frozen=True)
class FigureValue:
    """One number about a unit; `value` None means "no data", never 0."""

    code: str
    kind: str
    value: float | None
    max_value: float | None = None
    axis: str | None = None
    numerator: float | None = None
    denominator: float | None = None
    ratio: float | None = None
    text_value: str | None = None
    quality_status: str | None = None
    quality_message: str | None = None


@dataclass(frozen=True)
class UnitRecord:
    """A unit as an input describes it, with all of its figures for one period."""

    department_id: str | None
    code: str | None
    name: str
    group: str
    figures: tuple[FigureValue, ...] = field(default=())

    def figure(self, code: str) -> FigureValue | None:
        return next((f for f in self.figures if f.code == code), None)


FIGURE_FIELDS: tuple[str, ...] = tuple(f.name for f in fields(FigureValue))


def content_sha256(figures: tuple[FigureValue, ...]) -> str:
    """A fingerprint of a unit's figures, independent of their order."""
    rows = sorted(([getattr(f, name) for name in FIGURE_FIELDS] for f in figures), key=_by_code)
    canonical = json.dumps(rows, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def _by_code(row: list[object]) -> str:
    return str(row[0])
