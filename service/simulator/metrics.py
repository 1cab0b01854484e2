"""How the portal shows a sub-indicator (a metric) and the points it earns.

A `MetricRule` turns a numerator and a denominator into the portal's metric
record (ratio in percent, score, maximum); the tables below are the rules of
the transparency (CKMB), satisfaction (MDHL) and digitisation (MDSH) answers,
for the metrics of the registry (`service.indicators`: code, name, maximum)
with the fitted scores of docs/domain.md.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from service import indicators
from service.simulator.queries import JSON, figure


@dataclass(frozen=True)
class MetricRule:
    """How the portal shows one sub-indicator; `score` maps a share (0..1) to points."""

    metric: indicators.Metric
    score: Callable[[float], float] | None  # None: counted, never scored
    when_empty: tuple[float | None, float | None] = (None, None)  # (ratio, score) if 0/0

    @property
    def code(self) -> str:
        return self.metric.code

    def show(self, numerator: int | None, denominator: int | None) -> JSON:
        ratio, score = self.when_empty
        if denominator:
            share = (numerator or 0) / denominator
            ratio = figure(100 * share)
            score = None if self.score is None else figure(self.score(share))
        return {
            "code": self.metric.code,
            "name": self.metric.name,
            "numerator": numerator,
            "denominator": denominator,
            "ratio": ratio,
            "score": score,
            "maxScore": self.metric.maximum,
        }


def _scaled(
    metric: indicators.Metric,
    full_at: float = 1.0,
    when_empty: tuple[float | None, float | None] = (None, None),
) -> MetricRule:
    """The metric's maximum times its share, full at `full_at`."""
    points = metric.maximum
    return MetricRule(metric, lambda share: min(points, points * share / full_at), when_empty)


PUBLISH, UPDATE, CONTENT, SYNC = (
    _scaled(indicators.PUBLISH_ON_TIME),
    _scaled(indicators.PUBLIC_UPDATE_ON_TIME),
    _scaled(indicators.PUBLIC_CONTENT_FULL),
    _scaled(indicators.DOSSIER_SYNC),
)
TEMPORARY_SYNC = {
    "dataQualityStatus": "TEMP_NATIONAL_REPORT_DENOMINATOR",
    "dataQualityMessage": "Mẫu số BCQG/GRIS đang dùng số tạm, cần thay bằng "
    "dữ liệu crawl hệ thống cũ.",
}
NO_SYNC_REPORT = {
    "dataQualityStatus": "NO_NATIONAL_REPORT_DATA",
    "dataQualityMessage": "Không có dữ liệu báo cáo tổng hợp.",
}
# Satisfaction shows 0, not null, for an empty denominator; no petitions earn full points.
SATISFACTION = (
    MetricRule(indicators.PETITION_CLASSIFICATION_TTHC, None, (0, None)),
    _scaled(indicators.DOSSIER_RECEIVING_SATISFACTION, full_at=0.9, when_empty=(0, 0)),
    _scaled(indicators.PETITION_PROCESSING_ON_TIME, when_empty=(0, 6)),
    _scaled(indicators.PETITION_HANDLING_SATISFACTION, when_empty=(0, 6)),
    MetricRule(indicators.PETITION_CLASSIFICATION_STAFF, None, (0, None)),
)
# SO_HOA is 4 x share: the recorded 80.06 % scores 3.2, not the full 4 points.
DIGITISATION = (
    _scaled(indicators.ORIGINAL_RESULT_AVAILABLE),
    _scaled(indicators.SO_HOA_GIAY_TO_GIAI_QUYET),
    _scaled(indicators.REUSED_DIGITIZED_DATA, full_at=0.8),
    _scaled(indicators.SYNCED_WITH_DVCQG_PERSONAL_STORAGE),
    _scaled(indicators.CITIZEN_DATA_CONNECTED_DOSSIER),
    _scaled(indicators.CITIZEN_DATA_CONNECTED_FORMALITY),
    _scaled(indicators.ELECTRONIC_CERTIFIED_COPY, when_empty=(100, 2)),
)


def scaled_share(numerator: float, denominator: float, scale: float = 100) -> int | float:
    """`scale` x numerator / denominator as the portal prints it; 0 when the denominator is 0."""
    return figure(scale * numerator / denominator) if denominator else 0


def axis_total(metrics: Sequence[JSON], max_score: int) -> JSON:
    """An axis's total of its metric records' scores, its maximum and its ratio."""
    total = figure(sum(m["score"] for m in metrics if m["score"] is not None))
    return {
        "totalScore": total,
        "totalMaxScore": max_score,
        "ratio": scaled_share(total, max_score),
    }
