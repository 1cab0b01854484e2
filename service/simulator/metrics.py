"""How the portal shows a sub-indicator (a metric) and the points it earns.

A `MetricRule` turns a numerator and a denominator into the portal's metric
record (ratio in percent, score, maximum); the tables below are the rules of
the transparency (CKMB), satisfaction (MDHL) and digitisation (MDSH) answers,
with the names and codes the portal prints and the fitted scores of
docs/domain.md.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from service.simulator.queries import JSON, figure


@dataclass(frozen=True)
class MetricRule:
    """How the portal shows one sub-indicator; `score` maps a share (0..1) to points."""

    code: str
    name: str
    max_score: int
    score: Callable[[float], float] | None  # None: counted, never scored
    when_empty: tuple[float | None, float | None] = (None, None)  # (ratio, score) if 0/0

    def show(self, numerator: int | None, denominator: int | None) -> JSON:
        ratio, score = self.when_empty
        if denominator:
            share = (numerator or 0) / denominator
            ratio = figure(100 * share)
            score = None if self.score is None else figure(self.score(share))
        return {
            "code": self.code,
            "name": self.name,
            "numerator": numerator,
            "denominator": denominator,
            "ratio": ratio,
            "score": score,
            "maxScore": self.max_score,
        }


def _scaled(points: float, full_at: float = 1.0) -> Callable[[float], float]:
    return lambda share: min(points, points * share / full_at)


PUBLISH, UPDATE, CONTENT, SYNC = (
    MetricRule("PUBLISH_ON_TIME", "Tỷ lệ TTHC công bố đúng hạn", 6, _scaled(6)),
    MetricRule("PUBLIC_UPDATE_ON_TIME", "Tỷ lệ TTHC cập nhật, công khai đúng hạn", 4, _scaled(4)),
    MetricRule("PUBLIC_CONTENT_FULL", "Tỷ lệ TTHC công khai đầy đủ nội dung", 2, _scaled(2)),
    MetricRule("DOSSIER_SYNC", "Tỷ lệ hồ sơ đồng bộ lên Cổng DVCQG", 6, _scaled(6)),
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
    MetricRule(
        "PETITION_CLASSIFICATION_TTHC",
        "Tỷ lệ PAKN về quy định, thủ tục hành chính",
        0,
        None,
        (0, None),
    ),
    MetricRule(
        "DOSSIER_RECEIVING_SATISFACTION",
        "Tỷ lệ hài lòng trong tiếp nhận, giải quyết TTHC",
        6,
        _scaled(6, full_at=0.9),
        (0, 0),
    ),
    MetricRule("PETITION_PROCESSING_ON_TIME", "Tỷ lệ PAKN xử lý đúng hạn", 6, _scaled(6), (0, 6)),
    MetricRule(
        "PETITION_HANDLING_SATISFACTION", "Tỷ lệ hài lòng trong xử lý PAKN", 6, _scaled(6), (0, 6)
    ),
    MetricRule(
        "PETITION_CLASSIFICATION_STAFF",
        "Tỷ lệ PAKN về hành vi cán bộ, công chức, viên chức",
        0,
        None,
        (0, None),
    ),
)
# SO_HOA is 4 x share: the recorded 80.06 % scores 3.2, not the full 4 points.
DIGITISATION = (
    MetricRule(
        "ORIGINAL_RESULT_AVAILABLE",
        "Tỷ lệ hồ sơ thủ tục hành chính có cấp kết quả giải quyết thủ tục hành chính điện tử",
        6,
        _scaled(6),
    ),
    MetricRule(
        "SO_HOA_GIAY_TO_GIAI_QUYET",
        "Tỷ lệ hồ sơ thủ tục hành chính thực hiện số hóa hồ sơ",
        4,
        _scaled(4),
    ),
    MetricRule(
        "REUSED_DIGITIZED_DATA",
        "Tỷ lệ hồ sơ khai thác, sử dụng lại thông tin, dữ liệu số hóa",
        2,
        _scaled(2, full_at=0.8),
    ),
    MetricRule(
        "SYNCED_WITH_DVCQG_PERSONAL_STORAGE",
        "Tỷ lệ hồ sơ TTHC được số hóa có kết nối, chia sẻ dữ liệu phục vụ tái sử dụng",
        4,
        _scaled(4),
    ),
    MetricRule(
        "CITIZEN_DATA_CONNECTED_DOSSIER",
        "Tỷ lệ hồ sơ TTHC có sử dụng thông tin, dữ liệu dân cư",
        2,
        _scaled(2),
    ),
    MetricRule(
        "CITIZEN_DATA_CONNECTED_FORMALITY",
        "Tỷ lệ TTHC triển khai kết nối, chia sẻ dữ liệu dân cư phục vụ GQ TTHC",
        2,
        _scaled(2),
    ),
    MetricRule(
        "ELECTRONIC_CERTIFIED_COPY",
        "Tỷ lệ cung cấp dịch vụ chứng thực bản sao điện tử từ bản chính",
        2,
        _scaled(2),
        (100, 2),
    ),
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
