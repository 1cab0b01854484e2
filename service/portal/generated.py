"""A fictional country whose portal answers are generated, deterministically.

Provinces, their agencies (sở, ban) and communes get Vietnamese-looking
fictional names, uuid5 departmentIds and codes like H01, H01.01 (agencies) and
H01.101 (communes). Each unit has habits (volume, on-time share, online
payment ...) drawn once from the seed; each month draws its counts around
them from the seed, the unit and the month, so figures drift from month to
month (a quiet month repeats the one before), and a quarter or a year is the
sum of its months. Scores follow the fitted formulas of docs/domain.md; CLGQ,
which nobody has reproduced, is a plausible figure of at most 12. The answers
carry every field the recorded ones carry, with the same nulls.
"""

from __future__ import annotations

import math
import statistics
import threading
import uuid
import zlib
from collections import Counter, OrderedDict
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass, replace
from functools import reduce
from random import Random
from typing import ClassVar, Generic, TypeVar

from service.periods import Period
from service.portal.replay import (
    AXES,
    JSON,
    SERVICE_RESULTS,
    Answer,
    NotFound,
    PortalQuery,
    derive_province_list,
    derive_service_results,
    encode_envelope,
    figure,
    months_of,
    with_score_deltas,
)

_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "https://dvcwatch.invalid/portal-simulator")
QUIET_PERCENT = 15  # share of unit-months that repeat the month before
PROVINCE, AGENCY, COMMUNE = "PROVINCE", "PROVINCIAL_DEPARTMENT", "COMMUNE_PEOPLE_COMMITTEE"
PROVINCE_STEMS = (("Lam", "Bạch", "Kim", "Ngọc", "Trường", "Nguyệt", "Tùng", "Vọng", "Hạc"),
                  ("Giang", "Nguyên", "Xuyên", "Lĩnh", "Châu", "Điền", "Khê", "Sa", "Đài"))
COMMUNE_STEMS = (("Tân", "Bình", "An", "Thạnh", "Vĩnh", "Đông", "Phước", "Xuân", "Minh",
                  "Đức", "Yên", "Cẩm", "Mỹ", "Gia", "Quang", "Thuận", "Nghĩa", "Hiệp"),
                 ("Phú", "Hòa", "Lợi", "Thành", "Sơn", "Hưng", "Lộc", "Thịnh", "Tiến",
                  "Phong", "Định", "Hải", "Lâm", "Trung", "Điền", "Khánh"))
AGENCY_NAMES = (
    "Văn phòng UBND tỉnh", "Sở Tư pháp", "Sở Tài chính", "Sở Nội vụ", "Sở Y tế", "Sở Xây dựng",
    "Sở Công Thương", "Sở Giáo dục và Đào tạo", "Sở Nông nghiệp và Môi trường",
    "Sở Khoa học và Công nghệ", "Sở Văn hóa, Thể thao và Du lịch", "Sở Dân tộc và Tôn giáo",
    "Sở Ngoại vụ", "Thanh tra tỉnh", "Ban quản lý các khu công nghiệp", "Công an tỉnh",
    "Bảo hiểm xã hội tỉnh", "Thuế tỉnh", "Kho bạc Nhà nước khu vực", "Ban Dân tộc",
    "Sở Giao thông vận tải", "Sở Lao động - Thương binh và Xã hội", "Cục Hải quan",
)
SOURCES = {
    "transparency": "reporting_766_transparency_* and reporting_dvc_calendar Mongo collections",
    "handling-satisfaction": "reporting_766_satisfaction_petition_months, "
                             "reporting_766_satisfaction_dossier_periods",
    "dossier-digitized": "reporting_digitized_dossiers_daily Mongo collection",
}
AXIS_OF_ENDPOINT = {endpoint: code for code, endpoint, _ in AXES}


@dataclass(frozen=True)
class Department:
    """A node of the portal's tree: a province, one of its agencies or one of its communes."""

    department_id: str
    name: str
    code: str
    department_type: str

    @property
    def level(self) -> str:
        return "COMMUNE" if self.department_type == COMMUNE else "PROVINCE"


@dataclass(frozen=True)
class Habits:
    """How a unit usually works: monthly volume and the shares each month varies around."""

    volume: int
    days: float
    on_time: float
    pending: float
    online: float
    clgq: float
    fee_share: float
    pays_online: float
    syncs: float
    satisfied: float
    e_result: float
    digitised: float
    reused: float
    storage: float
    citizen: float
    petitions: float
    formalities: int
    citizen_formalities: float
    fee_formalities: int
    fee_integrated: float
    fee_paid: float


@dataclass(frozen=True)
class Unit:
    department: Department
    habits: Habits


@dataclass(frozen=True)
class Province:
    department: Department
    units: tuple[Unit, ...]  # in the portal's order: by code, compared as text
    office: Habits  # the province's own petitions
    temporary_sync: bool  # its DOSSIER_SYNC denominators carry the portal's "temporary" flag


def build_country(seed: int, provinces: int, communes: int, agencies: int) -> tuple[Province, ...]:
    """The fictional country; `communes` and `agencies` are totals spread over the provinces."""
    if provinces < 1 or communes < 0 or agencies < 0:
        raise ValueError("need at least one province and no negative unit counts")
    if math.ceil(agencies / provinces) > 99:
        raise ValueError("at most 99 agencies per province (codes H01.01 .. H01.99)")
    rng = Random(f"{seed}:provinces")
    stems = [f"{a} {b}" for a in PROVINCE_STEMS[0] for b in PROVINCE_STEMS[1]]
    stems = rng.sample(stems, len(stems))
    return tuple(
        _province(seed, index + 1, stems[index % len(stems)] + _nth(index // len(stems)),
                  _share_of(communes, provinces, index), _share_of(agencies, provinces, index))
        for index in range(provinces))


def _share_of(total: int, parts: int, index: int) -> int:
    return total // parts + (1 if index < total % parts else 0)


def _nth(repeat: int) -> str:
    return f" {repeat + 1}" if repeat else ""


def _department(seed: int, name: str, code: str, department_type: str) -> Department:
    return Department(str(uuid.uuid5(_NAMESPACE, f"{seed}/{code}")), name, code, department_type)


def _province(seed: int, number: int, stem: str, communes: int, agencies: int) -> Province:
    code = f"H{number:02d}"
    rng = Random(f"{seed}:{code}")
    lift = rng.uniform(-1.0, 1.0)  # how much better or worse than average the province runs
    title = f"Thành phố {stem}" if rng.random() < 0.15 else f"tỉnh {stem}"
    suffix = f" - {title[0].upper()}{title[1:]}"
    offices = rng.sample(AGENCY_NAMES, len(AGENCY_NAMES))
    units = [_unit(seed, f"{code}.{i + 1:02d}", AGENCY,
                   offices[i % len(offices)] + _nth(i // len(offices)) + suffix, lift)
             for i in range(agencies)]
    seen: Counter[str] = Counter()
    for i in range(communes):
        kind = "UBND Phường" if rng.random() < 0.25 else "UBND xã"
        stem_name = f"{rng.choice(COMMUNE_STEMS[0])} {rng.choice(COMMUNE_STEMS[1])}"
        seen[stem_name] += 1
        units.append(_unit(seed, f"{code}.{101 + i}", COMMUNE,
                           f"{kind} {stem_name} {seen[stem_name]}", lift))
    office = replace(_habits(rng, True, lift), volume=0, petitions=rng.uniform(40, 250))
    return Province(_department(seed, f"UBND {title}", code, PROVINCE),
                    tuple(sorted(units, key=lambda unit: unit.department.code)),
                    office, rng.random() < 0.6)


def _unit(seed: int, code: str, department_type: str, name: str, lift: float) -> Unit:
    habits = _habits(Random(f"{seed}:{code}:habits"), department_type == AGENCY, lift)
    return Unit(_department(seed, name, code, department_type), habits)


def _habits(rng: Random, agency: bool, lift: float) -> Habits:
    def usual(low: float, high: float) -> float:
        return min(0.995, max(0.0, rng.uniform(low, high) + 0.08 * lift))

    idle = rng.random() < (0.12 if agency else 0.01)  # a few units receive no dossiers
    return Habits(
        volume=0 if idle else round(rng.lognormvariate(5.0 if agency else 6.7, 0.6)),
        days=rng.uniform(1.5, 12.0),
        on_time=1.0 if rng.random() < 0.08 else usual(0.62, 0.99),
        pending=rng.uniform(0.0, 0.3),
        online=rng.uniform(0.85, 0.995),
        clgq=rng.uniform(4.5, 11.0) + 1.5 * lift,
        fee_share=rng.uniform(0.2, 0.6),
        pays_online=1.0 if rng.random() < 0.2 else usual(0.5, 0.98),
        syncs=1.0 if rng.random() < 0.7 else rng.uniform(0.85, 0.99),
        satisfied=usual(0.78, 0.99),
        e_result=usual(0.55, 0.98),
        digitised=usual(0.05, 0.95),
        reused=rng.uniform(0.0, 0.3),
        storage=rng.uniform(0.0, 0.2),
        citizen=usual(0.2, 0.9),
        petitions=rng.choice((0.0, 0.0, 0.0, 0.5, 1.0, 2.0, 4.0)),
        formalities=rng.randint(20, 150) if agency else rng.randint(330, 400),
        citizen_formalities=rng.uniform(0.05, 0.4),
        fee_formalities=rng.randint(1, 10) if agency else rng.randint(25, 40),
        fee_integrated=rng.uniform(0.1, 0.9),
        fee_paid=rng.uniform(0.1, 0.9),
    )


# --- counts ------------------------------------------------------------------

@dataclass(frozen=True)
class Tally:
    """A unit's dossiers, petitions and procedures over a period (see `plus`)."""

    LATEST: ClassVar[frozenset[str]] = frozenset(
        {"formalities", "citizen_formalities", "fee_formalities", "fee_integrated"})
    PEAK: ClassVar[frozenset[str]] = frozenset({"fee_paid_formalities"})
    received: int = 0
    on_time: int = 0
    overdue: int = 0
    processing_days: float = 0.0
    online: int = 0
    postal: int = 0
    clgq_points: float = 0.0  # CLGQ score times dossiers, so periods average by volume
    fee_obligation: int = 0
    paid_online: int = 0
    synced: int = 0
    satisfied: int = 0
    e_result: int = 0
    digitised: int = 0
    reused: int = 0
    storage: int = 0
    citizen: int = 0
    petitions: int = 0
    petitions_on_time: int = 0
    petitions_satisfied: int = 0
    petitions_tthc: int = 0
    petitions_staff: int = 0
    formalities: int = 0
    citizen_formalities: int = 0
    fee_formalities: int = 0
    fee_integrated: int = 0
    fee_paid_formalities: int = 0


@dataclass(frozen=True)
class Catalogue:
    """A province's procedures: publication, online provision, fee procedures."""

    LATEST: ClassVar[frozenset[str]] = frozenset(
        {"content_full", "content_total", "authority", "full", "partial", "online_dossiers",
         "online_services", "formalities", "citizen_formalities", "fee_formalities",
         "fee_integrated", "fee_paid_formalities"})
    PEAK: ClassVar[frozenset[str]] = frozenset()
    publish_done: int
    publish_due: int
    update_done: int
    update_due: int
    content_full: int
    content_total: int
    authority: int
    full: int
    partial: int
    online_dossiers: int
    online_services: int
    formalities: int
    citizen_formalities: int
    fee_formalities: int
    fee_integrated: int
    fee_paid_formalities: int


Counts = TypeVar("Counts", Tally, Catalogue)


def plus(earlier: Counts, later: Counts) -> Counts:
    """Counts of two successive spans: flows add, LATEST fields are the later, PEAK the larger."""
    values = {}
    for name, before in vars(earlier).items():
        after = getattr(later, name)
        values[name] = (after if name in later.LATEST
                        else max(before, after) if name in later.PEAK else before + after)
    return replace(later, **values)


def _part(rng: Random, whole: int, share: float) -> int:
    """About `share` of `whole`; a perfect share stays perfect, so some figures hold still."""
    if share >= 1.0:
        return whole
    return round(whole * min(1.0, max(0.0, share + rng.uniform(-0.03, 0.03))))


def _month_rng(seed: int, code: str, year: int, month: int) -> Random:
    index = year * 12 + month - 1
    while zlib.crc32(f"{seed}:{code}:{index}".encode()) % 100 < QUIET_PERCENT:
        index -= 1
    return Random(f"{seed}:{code}:{index}")


def month_tally(habits: Habits, rng: Random) -> Tally:
    """One month of a unit's counts, drawn around its habits."""
    received = round(habits.volume * rng.uniform(0.8, 1.2))
    on_time = _part(rng, received, habits.on_time)
    late = received - on_time
    online = _part(rng, received, habits.online)
    obligation = _part(rng, received, habits.fee_share)
    petitions = round(habits.petitions * rng.uniform(0.0, 2.0))
    tthc = _part(rng, petitions, 0.7)
    fee_formalities = habits.fee_formalities
    return Tally(
        received=received, on_time=on_time, overdue=late - round(late * habits.pending),
        processing_days=received * habits.days * rng.uniform(0.85, 1.15),
        online=online, postal=min(received - online, _part(rng, received, 0.005)),
        clgq_points=received * min(12.0, max(0.0, habits.clgq + rng.uniform(-0.4, 0.4))),
        fee_obligation=obligation, paid_online=_part(rng, obligation, habits.pays_online),
        synced=_part(rng, received, habits.syncs),
        satisfied=_part(rng, received, habits.satisfied),
        e_result=_part(rng, received, habits.e_result),
        digitised=_part(rng, received, habits.digitised),
        reused=_part(rng, received, habits.reused),
        storage=_part(rng, received, habits.storage),
        citizen=_part(rng, received, habits.citizen),
        petitions=petitions, petitions_on_time=_part(rng, petitions, 0.9),
        petitions_satisfied=_part(rng, petitions, 0.85),
        petitions_tthc=tthc, petitions_staff=petitions - tthc,
        formalities=habits.formalities,
        citizen_formalities=round(habits.formalities * habits.citizen_formalities),
        fee_formalities=fee_formalities,
        fee_integrated=round(fee_formalities * habits.fee_integrated),
        fee_paid_formalities=_part(rng, fee_formalities, habits.fee_paid),
    )


def month_catalogue(seed: int, province: Province, year: int, month: int) -> Catalogue:
    """One month of a province's procedure figures."""
    usual = Random(f"{seed}:{province.department.code}:catalogue")
    rng = Random(f"{seed}:{province.department.code}:catalogue:{year}-{month}")
    authority, services, formalities = (usual.randint(40, 120), usual.randint(1500, 2200),
                                        usual.randint(1100, 1500))
    full = _part(rng, authority, usual.uniform(0.2, 0.5))
    fees = usual.randint(250, 350)
    # Some months publish nothing new: the portal shows no ratio and no points then.
    publish_due, update_due = (0 if rng.random() < 0.08 else rng.randint(3, 40) for _ in "ab")
    content_total = usual.randint(80, 120)
    return Catalogue(
        publish_done=_part(rng, publish_due, usual.uniform(0.75, 1.0)), publish_due=publish_due,
        update_done=_part(rng, update_due, usual.uniform(0.75, 1.0)), update_due=update_due,
        content_full=_part(rng, content_total, 0.97), content_total=content_total,
        authority=authority, full=full,
        partial=_part(rng, authority - full, usual.uniform(0.6, 0.9)),
        online_dossiers=_part(rng, services, usual.uniform(0.15, 0.4)), online_services=services,
        formalities=formalities, citizen_formalities=_part(rng, formalities, 0.25),
        fee_formalities=fees, fee_integrated=_part(rng, fees, usual.uniform(0.1, 0.6)),
        fee_paid_formalities=_part(rng, fees, usual.uniform(0.2, 0.5)),
    )


def total_of(tallies: Sequence[Tally]) -> Tally:
    """Every count summed over several units (procedure counts too: a total has no LATEST)."""
    return Tally(*map(sum, zip(*(vars(tally).values() for tally in tallies), strict=True)))


@dataclass(frozen=True)
class Figures:
    """One province's counts over one period, and per month for the charts."""

    province: Province
    units: tuple[Tally, ...]  # aligned with province.units
    total: Tally  # all units plus the province's own petitions
    catalogue: Catalogue
    months: tuple[tuple[int, Tally, Catalogue], ...]  # (month, total, catalogue)


def province_figures(seed: int, province: Province, period: Period) -> Figures:
    """Counts of every unit of `province` over `period`: the sum of its months."""
    members = [(unit.department.code, unit.habits) for unit in province.units]
    members.append((province.department.code, province.office))
    months = months_of(period)
    columns = [[month_tally(habits, _month_rng(seed, code, period.year, month))
                for code, habits in members] for month in months]
    catalogues = [month_catalogue(seed, province, period.year, month) for month in months]
    units = tuple(reduce(plus, row) for row in zip(*columns, strict=True))
    monthly = zip(months, map(total_of, columns), catalogues, strict=True)
    return Figures(province, units[:-1], total_of(units), reduce(plus, catalogues), tuple(monthly))


# --- the portal's answers ----------------------------------------------------


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
        return {"code": self.code, "name": self.name, "numerator": numerator,
                "denominator": denominator, "ratio": ratio, "score": score,
                "maxScore": self.max_score}


def _scaled(points: float, full_at: float = 1.0) -> Callable[[float], float]:
    return lambda share: min(points, points * share / full_at)


PUBLISH, UPDATE, CONTENT, SYNC = (
    MetricRule("PUBLISH_ON_TIME", "Tỷ lệ TTHC công bố đúng hạn", 6, _scaled(6)),
    MetricRule("PUBLIC_UPDATE_ON_TIME", "Tỷ lệ TTHC cập nhật, công khai đúng hạn", 4, _scaled(4)),
    MetricRule("PUBLIC_CONTENT_FULL", "Tỷ lệ TTHC công khai đầy đủ nội dung", 2, _scaled(2)),
    MetricRule("DOSSIER_SYNC", "Tỷ lệ hồ sơ đồng bộ lên Cổng DVCQG", 6, _scaled(6)),
)
TEMPORARY_SYNC = {"dataQualityStatus": "TEMP_NATIONAL_REPORT_DENOMINATOR",
                  "dataQualityMessage": "Mẫu số BCQG/GRIS đang dùng số tạm, cần thay bằng "
                                        "dữ liệu crawl hệ thống cũ."}
NO_SYNC_REPORT = {"dataQualityStatus": "NO_NATIONAL_REPORT_DATA",
                  "dataQualityMessage": "Không có dữ liệu báo cáo tổng hợp."}
# Satisfaction shows 0, not null, for an empty denominator; no petitions earn full points.
SATISFACTION = (
    MetricRule("PETITION_CLASSIFICATION_TTHC", "Tỷ lệ PAKN về quy định, thủ tục hành chính",
               0, None, (0, None)),
    MetricRule("DOSSIER_RECEIVING_SATISFACTION", "Tỷ lệ hài lòng trong tiếp nhận, giải quyết "
               "TTHC", 6, _scaled(6, full_at=0.9), (0, 0)),
    MetricRule("PETITION_PROCESSING_ON_TIME", "Tỷ lệ PAKN xử lý đúng hạn", 6, _scaled(6), (0, 6)),
    MetricRule("PETITION_HANDLING_SATISFACTION", "Tỷ lệ hài lòng trong xử lý PAKN", 6,
               _scaled(6), (0, 6)),
    MetricRule("PETITION_CLASSIFICATION_STAFF", "Tỷ lệ PAKN về hành vi cán bộ, công chức, "
               "viên chức", 0, None, (0, None)),
)
# SO_HOA is 4 x share: the recorded 80.06 % scores 3.2, not the full 4 points.
DIGITISATION = (
    MetricRule("ORIGINAL_RESULT_AVAILABLE", "Tỷ lệ hồ sơ thủ tục hành chính có cấp kết quả giải "
               "quyết thủ tục hành chính điện tử", 6, _scaled(6)),
    MetricRule("SO_HOA_GIAY_TO_GIAI_QUYET", "Tỷ lệ hồ sơ thủ tục hành chính thực hiện số hóa hồ "
               "sơ", 4, _scaled(4)),
    MetricRule("REUSED_DIGITIZED_DATA", "Tỷ lệ hồ sơ khai thác, sử dụng lại thông tin, dữ liệu "
               "số hóa", 2, _scaled(2, full_at=0.8)),
    MetricRule("SYNCED_WITH_DVCQG_PERSONAL_STORAGE", "Tỷ lệ hồ sơ TTHC được số hóa có kết nối, "
               "chia sẻ dữ liệu phục vụ tái sử dụng", 4, _scaled(4)),
    MetricRule("CITIZEN_DATA_CONNECTED_DOSSIER", "Tỷ lệ hồ sơ TTHC có sử dụng thông tin, dữ liệu "
               "dân cư", 2, _scaled(2)),
    MetricRule("CITIZEN_DATA_CONNECTED_FORMALITY", "Tỷ lệ TTHC triển khai kết nối, chia sẻ dữ "
               "liệu dân cư phục vụ GQ TTHC", 2, _scaled(2)),
    MetricRule("ELECTRONIC_CERTIFIED_COPY", "Tỷ lệ cung cấp dịch vụ chứng thực bản sao điện tử "
               "từ bản chính", 2, _scaled(2), (100, 2)),
)


def _share(numerator: float, denominator: float, scale: float = 100) -> int | float:
    return figure(scale * numerator / denominator) if denominator else 0


def _points(metrics: Sequence[JSON], max_score: int) -> JSON:
    total = figure(sum(m["score"] for m in metrics if m["score"] is not None))
    return {"totalScore": total, "totalMaxScore": max_score, "ratio": _share(total, max_score)}


def _row(department: Department, stt: int, with_code: bool = False) -> JSON:
    row: JSON = {"stt": stt, "departmentId": department.department_id,
                 "departmentName": department.name}
    if with_code:
        row["departmentCode"] = department.code
    return row | {"departmentType": department.department_type,
                  "departmentLevel": department.level,
                  "agencyLevel": "level_1" if department.department_type == PROVINCE else "level_2"}


def _node(department: Department, child: bool = True) -> JSON:
    node = {"departmentId": department.department_id, "departmentName": department.name,
            "departmentCode": department.code}
    return node | {"level": department.level} if child else node


def _members(figures: Figures) -> list[tuple[int, Department, Tally]]:
    return [(stt, unit.department, tally) for stt, (unit, tally)
            in enumerate(zip(figures.province.units, figures.units, strict=True), start=1)]


def _listing(endpoint: str, overview: JSON, evaluation: list[JSON], chart: bool = False) -> JSON:
    head = {"overview": overview, "monthlyChart": []} if chart else {"overview": overview}
    return head | {"evaluation": evaluation, "pagination": None, "source": SOURCES[endpoint]}


def transparency(figures: Figures) -> JSON:
    """CKMB: publication figures are the province's, shared by its units; sync is per unit."""
    catalogue = figures.catalogue
    published = [PUBLISH.show(catalogue.publish_done, catalogue.publish_due),
                 UPDATE.show(catalogue.update_done, catalogue.update_due),
                 CONTENT.show(catalogue.content_full, catalogue.content_total)]

    def scored(tally: Tally) -> JSON:
        sync = SYNC.show(tally.synced, tally.received)
        quality = NO_SYNC_REPORT if not tally.received else (
            TEMPORARY_SYNC if figures.province.temporary_sync else {})
        metrics = [*published, sync | quality]
        return _points(metrics, 18) | {"scoreDelta": None, "metrics": metrics}

    evaluation = [_row(unit, stt) | scored(tally) for stt, unit, tally in _members(figures)]
    average = statistics.fmean(row["totalScore"] for row in evaluation) if evaluation else 0
    overview = (_row(figures.province.department, 1) | scored(figures.total)
                | {"averageScore": figure(average)})
    return _listing("transparency", overview, evaluation, chart=True)


def handling_satisfaction(figures: Figures) -> JSON:
    """MDHL: petitions (PAKN) and dossier satisfaction."""
    def row(stt: int, department: Department, t: Tally) -> JSON:
        metrics = [rule.show(numerator, denominator) for rule, numerator, denominator in zip(
            SATISFACTION, (t.petitions_tthc, t.satisfied, t.petitions_on_time,
                           t.petitions_satisfied, t.petitions_staff),
            (t.petitions, t.received, t.petitions, t.petitions, t.petitions), strict=True)]
        return (_row(department, stt) | _points(metrics, 18)
                | {"scoreDelta": None, "metrics": metrics, "totalPetitions": t.petitions,
                   "classifiedPetitions": t.petitions, "totalDossiers": t.received,
                   "averageScore": None})

    evaluation = [row(*member) for member in _members(figures)]
    overview = row(1, figures.province.department, figures.total)
    return _listing("handling-satisfaction", overview, evaluation)


def dossier_digitized(figures: Figures) -> JSON:
    """MDSH: results issued electronically, digitised and reused dossiers."""
    def row(stt: int, department: Department, t: Tally, formalities: tuple[int, int]) -> JSON:
        per_dossier = (t.e_result, t.digitised, t.reused, t.storage, t.citizen)
        metrics = [rule.show(done, t.received)
                   for rule, done in zip(DIGITISATION[:5], per_dossier, strict=True)]
        # Certified copies have no counts: the portal shows null / null, 100 %, full points.
        metrics += [DIGITISATION[5].show(*formalities), DIGITISATION[6].show(None, None)]
        return (_row(department, stt, with_code=True) | _points(metrics, 22)
                | {"metrics": metrics, "scoreDelta": None})

    evaluation = [row(*member, (member[2].citizen_formalities, member[2].formalities))
                  for member in _members(figures)]
    catalogue = figures.catalogue
    overview = row(1, figures.province.department, figures.total,
                   (catalogue.citizen_formalities, catalogue.formalities))
    return _listing("dossier-digitized", overview, evaluation)


def _month_chart(figures: Figures, point: Callable[[Tally, Catalogue], JSON],
                 label: str) -> list[JSON]:
    by_month = {month: (total, catalogue) for month, total, catalogue in figures.months}
    quiet = {key: 0 for key in point(Tally(), figures.catalogue)}
    return [{label: f"{month:02d}"} | (point(*by_month[month]) if month in by_month else quiet)
            for month in range(1, 13)]


def dvc_progress_tree(figures: Figures) -> JSON:
    """TDGQ: 20 x the share of dossiers handled on time."""
    def progress(t: Tally) -> JSON:
        return {"avgProcessingDays": _share(t.processing_days, t.received, 1),
                "ratio": _share(t.on_time, t.received)}

    children = [_node(unit) | {"totalReceived": t.received, "totalOnTime": t.on_time,
                               "totalOverdue": t.overdue} | progress(t)
                | {"score": _share(t.on_time, t.received, 20), "maxScore": 20, "scoreDelta": None}
                for _, unit, t in _members(figures)]
    total = figures.total
    parent = (_node(figures.province.department, child=False)
              | {"totalReceived": total.received, "totalOnTime": total.on_time,
                 "totalCompleted": total.on_time + total.overdue} | progress(total)
              | {"totalScore": _share(total.on_time, total.received, 20), "totalMaxScore": 20})

    def point(t: Tally, _: Catalogue) -> JSON:
        on_time = _share(t.on_time, t.received)
        return {"onTimePct": on_time, "overduePct": figure(100 - on_time) if t.received else 0}

    return {"parent": parent, "children": children,
            "monthlyChart": _month_chart(figures, point, "month")}


def _clgq(t: Tally) -> JSON:
    score = _share(t.clgq_points, t.received, 1)
    return {"totalScore": score, "totalMaxScore": 12, "ratio": _share(score, 12)}


def provide_online_tree(figures: Figures) -> JSON:
    """CLGQ: a plausible score per unit, its province the volume-weighted mean."""
    children = [_node(unit) | _clgq(t) | {"scoreDelta": None} for _, unit, t in _members(figures)]
    total, catalogue = figures.total, figures.catalogue
    online_on_time = round(total.online * total.on_time / total.received) if total.received else 0
    parent = _node(figures.province.department, child=False) | _clgq(total) | {
        "authorityCount": catalogue.authority, "partialCount": catalogue.partial,
        "fullCount": catalogue.full, "onlineDossierCount": catalogue.online_dossiers,
        "onlineServiceTotal": catalogue.online_services, "channelOnlineSum": total.online,
        "channelDirectSum": total.received - total.online - total.postal,
        "channelPostalSum": total.postal, "channelTotalSum": total.received,
        "onlineOnTimeSum": online_on_time, "onlineOverdueSum": total.online - online_on_time}

    def point(_: Tally, c: Catalogue) -> JSON:
        return {"onlineDossierPct": _share(c.online_dossiers, c.online_services)}

    return {"parent": parent, "children": children,
            "monthlyChart": _month_chart(figures, point, "label")}


def payment_score(paid: int, obligation: int, integrated: int, used: int,
                  fee_total: int) -> int | float:
    """TTTT as fitted: 6 x paid share + min(2, 2.5 x integrated share) + min(2, 2.5 x used share).

    `integrated` fee procedures take online payment, `used` had at least one online payment.
    """
    dossiers = 6 * paid / obligation if obligation else 0.0
    integration = min(2.0, 2.5 * integrated / fee_total) if fee_total else 0.0
    usage = min(2.0, 2.5 * used / fee_total) if fee_total else 0.0
    return figure(figure(dossiers) + figure(integration) + figure(usage))


def formality_online_payment_tree(figures: Figures) -> JSON:
    """TTTT: dossiers paid online and fee procedures integrated with online payment."""
    def payment(t: Tally | Catalogue, paid: int, obligation: int) -> tuple[int | float, JSON]:
        score = payment_score(paid, obligation, t.fee_integrated, t.fee_paid_formalities,
                              t.fee_formalities)
        return score, {"totalDossierOnlinePaymentSuccess": paid,
                       "totalDossierFinancialObligation": obligation,
                       "totalDossierOnlineFormalityPaymentSuccess": t.fee_paid_formalities,
                       "totalFeeDossierFormalityDistinct": t.fee_formalities,
                       "totalFeeDossierFormality": t.fee_integrated,
                       "totalFeeFormality": t.fee_formalities}

    children = []
    for _, unit, tally in _members(figures):
        score, counts = payment(tally, tally.paid_online, tally.fee_obligation)
        children.append(_node(unit) | {"totalMaxScore": 10, "ratio": _share(score, 10),
                                       "totalScore": score} | counts | {"scoreDelta": None})
    total = figures.total
    score, counts = payment(figures.catalogue, total.paid_online, total.fee_obligation)
    # The recorded parent orders its keys differently from its children.
    parent = (_node(figures.province.department, child=False)
              | {"totalMaxScore": 10, "totalScore": score} | counts
              | {"ratio": _share(score, 10)})
    return {"parent": parent, "children": children}


AXIS_ANSWERS: dict[str, Callable[[Figures], JSON]] = {
    "CKMB": transparency, "TDGQ": dvc_progress_tree, "CLGQ": provide_online_tree,
    "TTTT": formality_online_payment_tree, "MDHL": handling_satisfaction,
    "MDSH": dossier_digitized,
}


def _paged(data: JSON, page: int, size: int) -> JSON:
    if "pagination" not in data:
        return data  # the trees answer every unit whatever the page size
    records = data["evaluation"]
    pagination = {"total": len(records), "currentPage": page, "pageSize": size,
                  "totalPages": math.ceil(len(records) / size)}
    start = (page - 1) * size
    return data | {"evaluation": records[start:start + size], "pagination": pagination}


T = TypeVar("T")


class _Memo(Generic[T]):
    """A small least-recently-used cache; the caller holds the lock."""

    def __init__(self, size: int) -> None:
        self._size = size
        self._items: OrderedDict[Hashable, T] = OrderedDict()

    def get(self, key: Hashable, make: Callable[[], T]) -> T:
        if key in self._items:
            self._items.move_to_end(key)
        else:
            self._items[key] = make()
            if len(self._items) > self._size:
                self._items.popitem(last=False)
        return self._items[key]


class GeneratedSource:
    """Answers for a fictional country: the same seed gives the same bytes, any period answers.

    Figures are made lazily per (province, period) and kept in a bounded cache;
    service-results carries scoreDelta against the previous period.
    """

    def __init__(self, seed: int = 1, provinces: int = 1, communes: int = 20,
                 agencies: int = 5) -> None:
        self.seed = seed
        self.provinces = build_country(seed, provinces, communes, agencies)
        self._by_id = {p.department.department_id: p for p in self.provinces}
        self._lock = threading.Lock()
        # Room for every province in a period and the one before: a national ranking's deltas.
        self._answers: _Memo[dict[str, JSON]] = _Memo(2 * provinces + 8)
        self._bodies: _Memo[bytes] = _Memo(512)

    def answer(self, query: PortalQuery) -> Answer:
        """The generated answer to `query`; NotFound for an unknown province or a formality."""
        if query.formality_id is not None:
            raise NotFound("the generated country has no procedure catalogue to filter by")
        if query.province_id is not None and query.province_id not in self._by_id:
            raise NotFound(f"no province with departmentId {query.province_id}")
        with self._lock:
            return Answer(self._bodies.get(query, lambda: encode_envelope(self._data(query))))

    def _data(self, query: PortalQuery) -> JSON:
        if query.endpoint == SERVICE_RESULTS:
            return with_score_deltas(self._ranking(query.province_id, query.period),
                                     self._ranking(query.province_id, query.period.previous()))
        axes = self._axes(self._by_id[query.province_id or ""], query.period)
        return _paged(axes[AXIS_OF_ENDPOINT[query.endpoint]], query.page, query.page_size)

    def _ranking(self, province_id: str | None, period: Period) -> JSON:
        if province_id is None:
            return derive_province_list(period, [self._axes(p, period) for p in self.provinces])
        return derive_service_results(period, self._axes(self._by_id[province_id], period))

    def _axes(self, province: Province, period: Period) -> dict[str, JSON]:
        def make() -> dict[str, JSON]:
            figures = province_figures(self.seed, province, period)
            return {code: build(figures) for code, build in AXIS_ANSWERS.items()}

        return self._answers.get((province.department.code, period), make)
