"""The index's vocabulary, in one place: the national scheme, its six axes and its counts.

Every other module names an axis, a count or the national scheme through this
registry (`AXES`, `COUNTS`, `NATIONAL` and the rows below), never by spelling the
word again; `tests/test_indicators.py` walks the code and the templates to keep it so.

- An **axis** (trục) of the national index (Quyết định 766/QĐ-TTg, `domain.md`):
  its code, its maximum and its Vietnamese name (the portal's endpoint that scores
  it is a row of `service/portal/api.py`).
- A **metric** (sub-indicator) the portal lists in an axis's `metrics[]` (`domain.md`):
  its code, the axis, the portal's name for it and its maximum.
- A **count** of dossiers (or procedures): its figure code (as stored), its key in output rows,
  rules and the staff directory's topics, where the portal gives it, the axis it
  belongs to, the Vietnamese words that name it, and the what-it-takes indicator
  that says how to bring it down. A count with `alerts` set is an alert topic and a
  column of `dvcwatch scores`.

Adding a count that alerts is one row here plus its reader in `portal/parse.py`
(and a rule in `config/rules.toml` that names its key, to make it fire).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

#: The national index's scheme id (Quyết định 766/QĐ-TTg, 2022): snapshots, rows, `--scheme`.
NATIONAL = "766"


@dataclass(frozen=True)
class Axis:
    """One axis of the national index (100 points over the six)."""

    code: str  # CKMB ...
    name: str  # "Công khai, minh bạch"
    maximum: float
    scheme: str = NATIONAL


@dataclass(frozen=True)
class Metric:
    """A sub-indicator of an axis, as the portal lists it in `metrics[]`."""

    code: str  # PUBLISH_ON_TIME ...
    axis: str
    name: str  # the portal's: "Tỷ lệ TTHC công bố đúng hạn"
    maximum: int  # its points; 0: counted, never scored
    scheme: str = NATIONAL


@dataclass(frozen=True)
class Count:
    """A number the portal gives per unit (dossiers, procedures); see the module doc."""

    code: str  # the figure code, as stored: OVERDUE
    key: str  # output rows, rules, directory topics: overdue
    axis: str
    portal: tuple[str, ...]  # the portal's field, metric, or (whole, part) of a difference
    noun: str  # what a message counts: "hồ sơ quá hạn"
    heading: str  # a spreadsheet's column: "Hồ sơ quá hạn"
    short: str  # a terminal's column: "Quá hạn"
    topic_name: str  # a button's short name: "quá hạn"
    effort: str | None = None  # the what-it-takes indicator that brings it down
    alerts: bool = False  # an alert topic and a column of the scores
    reported: bool = False  # in every score row's `counts` though no alert is about it
    scheme: str = NATIONAL


CKMB = Axis("CKMB", "Công khai, minh bạch", 18)
TDGQ = Axis("TDGQ", "Tiến độ giải quyết", 20)
CLGQ = Axis("CLGQ", "Dịch vụ công trực tuyến", 12)
TTTT = Axis("TTTT", "Thanh toán trực tuyến", 10)
MDHL = Axis("MDHL", "Mức độ hài lòng", 18)
MDSH = Axis("MDSH", "Số hóa hồ sơ", 22)

#: The six axes by code, in the portal's order.
AXES: Mapping[str, Axis] = {axis.code: axis for axis in (CKMB, TDGQ, CLGQ, TTTT, MDHL, MDSH)}

# The metrics of the transparency (CKMB), satisfaction (MDHL) and digitisation (MDSH)
# answers, in the order the portal lists them.
PUBLISH_ON_TIME = Metric("PUBLISH_ON_TIME", CKMB.code, "Tỷ lệ TTHC công bố đúng hạn", 6)
PUBLIC_UPDATE_ON_TIME = Metric(
    "PUBLIC_UPDATE_ON_TIME", CKMB.code, "Tỷ lệ TTHC cập nhật, công khai đúng hạn", 4
)
PUBLIC_CONTENT_FULL = Metric(
    "PUBLIC_CONTENT_FULL", CKMB.code, "Tỷ lệ TTHC công khai đầy đủ nội dung", 2
)
DOSSIER_SYNC = Metric("DOSSIER_SYNC", CKMB.code, "Tỷ lệ hồ sơ đồng bộ lên Cổng DVCQG", 6)
PETITION_CLASSIFICATION_TTHC = Metric(
    "PETITION_CLASSIFICATION_TTHC", MDHL.code, "Tỷ lệ PAKN về quy định, thủ tục hành chính", 0
)
DOSSIER_RECEIVING_SATISFACTION = Metric(
    "DOSSIER_RECEIVING_SATISFACTION", MDHL.code,
    "Tỷ lệ hài lòng trong tiếp nhận, giải quyết TTHC", 6,
)  # fmt: skip
PETITION_PROCESSING_ON_TIME = Metric(
    "PETITION_PROCESSING_ON_TIME", MDHL.code, "Tỷ lệ PAKN xử lý đúng hạn", 6
)
PETITION_HANDLING_SATISFACTION = Metric(
    "PETITION_HANDLING_SATISFACTION", MDHL.code, "Tỷ lệ hài lòng trong xử lý PAKN", 6
)
PETITION_CLASSIFICATION_STAFF = Metric(
    "PETITION_CLASSIFICATION_STAFF", MDHL.code,
    "Tỷ lệ PAKN về hành vi cán bộ, công chức, viên chức", 0,
)  # fmt: skip
ORIGINAL_RESULT_AVAILABLE = Metric(
    "ORIGINAL_RESULT_AVAILABLE", MDSH.code,
    "Tỷ lệ hồ sơ thủ tục hành chính có cấp kết quả giải quyết thủ tục hành chính điện tử", 6,
)  # fmt: skip
SO_HOA_GIAY_TO_GIAI_QUYET = Metric(
    "SO_HOA_GIAY_TO_GIAI_QUYET", MDSH.code,
    "Tỷ lệ hồ sơ thủ tục hành chính thực hiện số hóa hồ sơ", 4,
)  # fmt: skip
REUSED_DIGITIZED_DATA = Metric(
    "REUSED_DIGITIZED_DATA", MDSH.code,
    "Tỷ lệ hồ sơ khai thác, sử dụng lại thông tin, dữ liệu số hóa", 2,
)  # fmt: skip
SYNCED_WITH_DVCQG_PERSONAL_STORAGE = Metric(
    "SYNCED_WITH_DVCQG_PERSONAL_STORAGE", MDSH.code,
    "Tỷ lệ hồ sơ TTHC được số hóa có kết nối, chia sẻ dữ liệu phục vụ tái sử dụng", 4,
)  # fmt: skip
CITIZEN_DATA_CONNECTED_DOSSIER = Metric(
    "CITIZEN_DATA_CONNECTED_DOSSIER", MDSH.code,
    "Tỷ lệ hồ sơ TTHC có sử dụng thông tin, dữ liệu dân cư", 2,
)  # fmt: skip
CITIZEN_DATA_CONNECTED_FORMALITY = Metric(
    "CITIZEN_DATA_CONNECTED_FORMALITY", MDSH.code,
    "Tỷ lệ TTHC triển khai kết nối, chia sẻ dữ liệu dân cư phục vụ GQ TTHC", 2,
)  # fmt: skip
ELECTRONIC_CERTIFIED_COPY = Metric(
    "ELECTRONIC_CERTIFIED_COPY", MDSH.code,
    "Tỷ lệ cung cấp dịch vụ chứng thực bản sao điện tử từ bản chính", 2,
)  # fmt: skip

#: Every metric by code, in the portal's order.
METRICS: Mapping[str, Metric] = {
    metric.code: metric
    for metric in (
        PUBLISH_ON_TIME, PUBLIC_UPDATE_ON_TIME, PUBLIC_CONTENT_FULL, DOSSIER_SYNC,
        PETITION_CLASSIFICATION_TTHC, DOSSIER_RECEIVING_SATISFACTION,
        PETITION_PROCESSING_ON_TIME, PETITION_HANDLING_SATISFACTION,
        PETITION_CLASSIFICATION_STAFF, ORIGINAL_RESULT_AVAILABLE, SO_HOA_GIAY_TO_GIAI_QUYET,
        REUSED_DIGITIZED_DATA, SYNCED_WITH_DVCQG_PERSONAL_STORAGE,
        CITIZEN_DATA_CONNECTED_DOSSIER, CITIZEN_DATA_CONNECTED_FORMALITY,
        ELECTRONIC_CERTIFIED_COPY,
    )
}  # fmt: skip

RECEIVED = Count(
    "RECEIVED", "received", TDGQ.code, ("totalReceived",),
    "hồ sơ tiếp nhận", "Hồ sơ tiếp nhận", "Tiếp nhận", "tiếp nhận",
)  # fmt: skip
ON_TIME = Count(
    "ON_TIME", "on_time", TDGQ.code, ("totalOnTime",),
    "hồ sơ đúng hạn", "Hồ sơ đúng hạn", "Đúng hạn", "đúng hạn",
)  # fmt: skip
OVERDUE = Count(
    "OVERDUE", "overdue", TDGQ.code, ("totalOverdue",),
    "hồ sơ quá hạn", "Hồ sơ quá hạn", "Quá hạn", "quá hạn",
    effort=TDGQ.code, alerts=True,
)  # fmt: skip
NOT_DIGITISED = Count(
    "NOT_DIGITISED", "not_digitised", MDSH.code, (SO_HOA_GIAY_TO_GIAI_QUYET.code,),
    "hồ sơ chưa số hóa", "Hồ sơ chưa số hóa", "Chưa số hóa", "chưa số hóa",
    effort=SO_HOA_GIAY_TO_GIAI_QUYET.code, alerts=True,
)  # fmt: skip
NO_E_RESULT = Count(
    "NO_E_RESULT", "no_e_result", MDSH.code, (ORIGINAL_RESULT_AVAILABLE.code,),
    "hồ sơ chưa có kết quả điện tử", "Hồ sơ chưa có kết quả điện tử", "Chưa KQĐT",
    "chưa có kết quả điện tử", reported=True,  # a column of seed 000's Báo cáo appendix
)  # fmt: skip
NOT_PAID_ONLINE = Count(
    "NOT_PAID_ONLINE", "not_paid_online", TTTT.code,
    ("totalDossierFinancialObligation", "totalDossierOnlinePaymentSuccess"),
    "hồ sơ chưa thanh toán trực tuyến", "Hồ sơ chưa thanh toán trực tuyến", "Chưa TTTT",
    "chưa thanh toán trực tuyến", effort="ONLINE_PAYMENT", alerts=True,
)  # fmt: skip
FEE_FORMALITY_NOT_PAID_ONLINE = Count(
    "FEE_FORMALITY_NOT_PAID_ONLINE", "fee_formality_not_paid_online", TTTT.code,
    ("totalFeeFormality", "totalDossierOnlineFormalityPaymentSuccess"),
    "thủ tục có phí chưa có giao dịch thanh toán trực tuyến",
    "TTHC có phí chưa có giao dịch thanh toán trực tuyến", "TTHC chưa TTTT",
    "thủ tục chưa thanh toán trực tuyến",
)  # fmt: skip
UNSYNCED = Count(
    "UNSYNCED", "unsynced", CKMB.code, (DOSSIER_SYNC.code,),
    "hồ sơ chưa đồng bộ lên Cổng DVCQG", "Hồ sơ chưa đồng bộ", "Chưa đồng bộ", "chưa đồng bộ",
    effort=DOSSIER_SYNC.code, alerts=True,
)  # fmt: skip

#: Every count by figure code.
COUNTS: Mapping[str, Count] = {
    count.code: count
    for count in (
        RECEIVED, ON_TIME, OVERDUE, NOT_DIGITISED, NO_E_RESULT, NOT_PAID_ONLINE,
        FEE_FORMALITY_NOT_PAID_ONLINE, UNSYNCED,
    )
}  # fmt: skip
#: The counts people act on (alert topics, scores' columns), by output key, in this order.
ALERTING: Mapping[str, Count] = {count.key: count for count in COUNTS.values() if count.alerts}
#: The counts of a score row (`counts` of `dvcwatch scores`, the notices): the alerting
#: ones and those a document reports.
IN_ROWS: Mapping[str, Count] = {
    count.key: count for count in COUNTS.values() if count.alerts or count.reported
}
#: Every count by output key.
BY_KEY: Mapping[str, Count] = {count.key: count for count in COUNTS.values()}


def count_nouns() -> dict[str, str]:
    """Output key → the noun a message counts with ("hồ sơ quá hạn"), for templates."""
    return {key: count.noun for key, count in ALERTING.items()}


def axis_names() -> dict[str, str]:
    """Axis code → its Vietnamese name ("Công khai, minh bạch"), for templates."""
    return {code: axis.name for code, axis in AXES.items()}
