"""The fictional country the generated portal reports on: provinces and their units.

Provinces, their agencies (sở, ban) and communes get Vietnamese-looking
fictional names, uuid5 departmentIds and codes like H01, H01.01 (agencies) and
H01.101 (communes). Each unit has habits (volume, on-time share, online
payment ...) drawn once from the seed; `service.simulator.counts` draws each
month's figures around them.
"""

from __future__ import annotations

import math
import uuid
from collections import Counter
from dataclasses import dataclass, replace
from random import Random

_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "https://dvcwatch.invalid/portal-simulator")
PROVINCE, AGENCY, COMMUNE = "PROVINCE", "PROVINCIAL_DEPARTMENT", "COMMUNE_PEOPLE_COMMITTEE"
PROVINCE_STEMS = (
    ("Lam", "Bạch", "Kim", "Ngọc", "Trường", "Nguyệt", "Tùng", "Vọng", "Hạc"),
    ("Giang", "Nguyên", "Xuyên", "Lĩnh", "Châu", "Điền", "Khê", "Sa", "Đài"),
)
COMMUNE_STEMS = (
    (
        "Tân",
        "Bình",
        "An",
        "Thạnh",
        "Vĩnh",
        "Đông",
        "Phước",
        "Xuân",
        "Minh",
        "Đức",
        "Yên",
        "Cẩm",
        "Mỹ",
        "Gia",
        "Quang",
        "Thuận",
        "Nghĩa",
        "Hiệp",
    ),
    (
        "Phú",
        "Hòa",
        "Lợi",
        "Thành",
        "Sơn",
        "Hưng",
        "Lộc",
        "Thịnh",
        "Tiến",
        "Phong",
        "Định",
        "Hải",
        "Lâm",
        "Trung",
        "Điền",
        "Khánh",
    ),
)
AGENCY_NAMES = (
    "Văn phòng UBND tỉnh",
    "Sở Tư pháp",
    "Sở Tài chính",
    "Sở Nội vụ",
    "Sở Y tế",
    "Sở Xây dựng",
    "Sở Công Thương",
    "Sở Giáo dục và Đào tạo",
    "Sở Nông nghiệp và Môi trường",
    "Sở Khoa học và Công nghệ",
    "Sở Văn hóa, Thể thao và Du lịch",
    "Sở Dân tộc và Tôn giáo",
    "Sở Ngoại vụ",
    "Thanh tra tỉnh",
    "Ban quản lý các khu công nghiệp",
    "Công an tỉnh",
    "Bảo hiểm xã hội tỉnh",
    "Thuế tỉnh",
    "Kho bạc Nhà nước khu vực",
    "Ban Dân tộc",
    "Sở Giao thông vận tải",
    "Sở Lao động - Thương binh và Xã hội",
    "Cục Hải quan",
)


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
        _province(
            seed,
            index + 1,
            stems[index % len(stems)] + _nth(index // len(stems)),
            _share_of(communes, provinces, index),
            _share_of(agencies, provinces, index),
        )
        for index in range(provinces)
    )


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
    units = [
        _unit(
            seed,
            f"{code}.{i + 1:02d}",
            AGENCY,
            offices[i % len(offices)] + _nth(i // len(offices)) + suffix,
            lift,
        )
        for i in range(agencies)
    ]
    seen: Counter[str] = Counter()
    for i in range(communes):
        kind = "UBND Phường" if rng.random() < 0.25 else "UBND xã"
        stem_name = f"{rng.choice(COMMUNE_STEMS[0])} {rng.choice(COMMUNE_STEMS[1])}"
        seen[stem_name] += 1
        units.append(
            _unit(seed, f"{code}.{101 + i}", COMMUNE, f"{kind} {stem_name} {seen[stem_name]}", lift)
        )
    office = replace(_habits(rng, True, lift), volume=0, petitions=rng.uniform(40, 250))
    return Province(
        _department(seed, f"UBND {title}", code, PROVINCE),
        tuple(sorted(units, key=lambda unit: unit.department.code)),
        office,
        rng.random() < 0.6,
    )


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
