"""Worked examples the notice tests share, taken from the real documents in ../shared/seeds.

`binh_thanh_*`: xã Bình Thành, tháng 8 and 9/2024 (seed 004): the axis
scores, total and rank as the portal reported them, and the detailed
figures of its Phụ lục I and II. `tua_chua_rows`: the 12 communes of huyện
Tủa Chùa, tháng 3/2024 (seed 000), in the row shape `appraisal_rows()` gives.
"""

from __future__ import annotations

from typing import Any

from service.figures import FigureValue
from service.notices.documents import Issuer
from service.scoring.changes import score_change

#: axis → (September, August, maximum), as the Công văn reports them.
BINH_THANH_AXES = {
    "CKMB": (17.5, 13.7, 18),
    "TDGQ": (18.6, 16.3, 20),
    "CLGQ": (7.2, 7.3, 12),
    "TTTT": (10.0, 10.0, 10),
    "MDHL": (18.0, 17.4, 18),
    "MDSH": (19.7, 19.9, 22),
}

BINH_THANH_ISSUER = Issuer(
    body_name="Ủy ban nhân dân\nxã Bình Thành",
    number_pattern="UBND-VP",
    place="Bình Thành",
    signer_name="Ma Khánh Sơn",
    recipients=(
        "Các cơ quan đơn vị đóng trên địa bàn xã",
        "Các bộ phận chuyên môn thuộc UBND xã",
        "14 xóm",
    ),
    copies=("BTV Đảng ủy xã", "TT HĐND xã"),
    short_name="UBND xã Bình Thành",
)


def binh_thanh_row(month: int = 9, **changes: Any) -> dict[str, Any]:
    """The unit's score row for September (with changes) or August (without)."""
    now = month == 9
    row = {
        "unit_code": "THAINGUYEN.BINHTHANH",
        "unit_name": "Xã Bình Thành",
        "parent_code": "THAINGUYEN.DINHHOA",
        "group": "COMMUNE",
        "period": f"2024-{month:02d}",
        "scheme": "766",
        "source": "portal-766",
        "total": 93.81 if now else 86.97,
        "max": 100,
        "converted": 93.81 if now else 86.97,
        "class": None,
        "rank": 3 if now else 21,
        "rank_of": 23,
        "rank_tied": False,
        "previous_rank": 21 if now else None,
        "total_delta": 6.84 if now else None,
        "rank_change": 18 if now else None,
        "axes": {
            code: {
                "score": september if now else august,
                "max": maximum,
                "delta": score_change(september, august) if now else None,
            }
            for code, (september, august, maximum) in BINH_THANH_AXES.items()
        },
        "counts": {"overdue": 3 if now else 4, "not_digitised": 9, "not_paid_online": 143},
        "below_average": [],
        "what_it_takes": [],
        "mismatches": [],
        "not_applicable": [],
    }
    return row | changes


def _metric(code: str, axis: str, numerator: float | None, denominator: float | None,
            ratio: float | None = None) -> FigureValue:  # fmt: skip
    return FigureValue(
        code, "metric", None, axis=axis, numerator=numerator, denominator=denominator, ratio=ratio
    )


def binh_thanh_figures(month: int = 9) -> dict[str, FigureValue]:
    """The detailed figures of Phụ lục I and II (the payment metric carries no ratio,
    as the portal's payment tree does not)."""
    now = month == 9
    figures = [
        _metric("DOSSIER_SYNC", "CKMB", *((295, 313, 94.25) if now else (239, 323, 73.99))),
        _metric("PROCESSED_ON_TIME", "TDGQ", None, None, 93.31 if now else 81.38),
        _metric("ONLINE_PAYMENT", "TTTT", *((4763, 4906) if now else (4642, 4808))),
        _metric("SO_HOA_GIAY_TO_GIAI_QUYET", "MDSH", None, None, 97.04 if now else 99.58),
        FigureValue("OVERDUE", "count", 3 if now else 4),
    ]
    return {figure.code: figure for figure in figures}


#: Tủa Chùa's appendix, March 2024: unit → points of CKMB.3, TDGQ, DVTT.1, DVTT.2,
#: SHHS.1, SHHS.2, MDHL.1-3 (CKMB.1 and CKMB.2 do not apply), total, converted, class.
TUA_CHUA = [
    ("UBND thị trấn", (10, 30, 10, 5.81, 5, 10, 5, 5, 5), 85.81, 95.34, "Xuất sắc"),
    ("UBND xã Mường Báng", (10, 30, 10, 4.64, 5, 10, 5, 5, 5), 84.64, 94.04, "Xuất sắc"),
    ("UBND xã Tủa Thàng", (10, 30, 10, 2.98, 5, 10, 5, 5, 5), 82.98, 92.20, "Xuất sắc"),
    ("UBND xã Mường Đun", (10, 30, 10, 2.03, 5, 10, 5, 5, 5), 82.03, 91.14, "Xuất sắc"),
    ("UBND xã Sín Chải", (10, 30, 10, 1.42, 5, 10, 5, 5, 5), 81.42, 90.47, "Xuất sắc"),
    ("UBND xã Trung Thu", (10, 30, 10, 1.30, 5, 10, 5, 5, 5), 81.30, 90.33, "Xuất sắc"),
    ("UBND xã Sính Phình", (10, 30, 10, 0.96, 5, 10, 5, 5, 5), 80.96, 89.96, "Tốt"),
    ("UBND xã Huổi Só", (10, 30, 10, 0, 5, 10, 5, 5, 5), 80.00, 88.89, "Tốt"),
    ("UBND xã Lao Xả Phình", (10, 30, 10, 0, 5, 10, 5, 5, 5), 80.00, 88.89, "Tốt"),
    ("UBND xã Tả Phìn", (10, 30, 10, 0, 5, 10, 5, 5, 5), 80.00, 88.89, "Tốt"),
    ("UBND xã Xá Nhè", (10, 30, 10, 0, 5, 9.66, 5, 5, 5), 79.66, 88.51, "Tốt"),
    ("UBND xã Tả Sìn Thàng", (10, 30, 10, 0, 0.45, 10, 5, 5, 5), 75.45, 83.83, "Tốt"),
]
TUA_CHUA_CODES = (
    "CKMB.3",
    "TDGQ",
    "DVTT.1",
    "DVTT.2",
    "SHHS.1",
    "SHHS.2",
    "MDHL.1",
    "MDHL.2",
    "MDHL.3",
)
TUA_CHUA_MAXIMA = {"CKMB.1": 5, "CKMB.2": 5, "CKMB.3": 10, "TDGQ": 30, "DVTT.1": 10,
                   "DVTT.2": 10, "SHHS.1": 5, "SHHS.2": 10, "MDHL.1": 5, "MDHL.2": 5,
                   "MDHL.3": 5}  # fmt: skip
#: What the report says in words (not in its table): its counts of non-digitised dossiers.
TUA_CHUA_COUNTS = {
    "UBND xã Xá Nhè": {"not_digitised": 1},
    "UBND xã Tả Sìn Thàng": {"no_e_result": 2},
}

TUA_CHUA_ISSUER = Issuer(
    body_parent=None,
    body_name="Ủy ban nhân dân\nhuyện Tủa Chùa",
    number_pattern="BC-UBND",
    place="Tủa Chùa",
    recipients=("Văn phòng UBND tỉnh", "Lđ. UBND huyện"),
    copies=("UBND các xã, thị trấn",),
    short_name="UBND huyện Tủa Chùa",
    area_name="huyện Tủa Chùa",
    set_name="xã, thị trấn",
)


def tua_chua_rows() -> list[dict[str, Any]]:
    """The 12 rows, ranked with ties (the three at 88,89 share 8th; the next is 11th)."""
    rows = []
    for place, (name, points, total, converted, class_name) in enumerate(TUA_CHUA, start=1):
        scores = dict(zip(TUA_CHUA_CODES, points, strict=True))
        rank = {9: 8, 10: 8}.get(place, place)
        rows.append(
            {
                "unit_code": f"TUACHUA.{place:02d}",
                "unit_name": name,
                "parent_code": "TUACHUA",
                "group": "COMMUNE",
                "period": "2024-03",
                "scheme": "provincial:dienbien-459",
                "source": "import",
                "total": total,
                "max": 90.0,
                "converted": converted,
                "class": class_name,
                "rank": rank,
                "rank_of": 12,
                "rank_tied": rank == 8,
                "total_delta": None,
                "rank_change": None,
                "axes": {
                    code: {"score": scores.get(code), "max": maximum, "delta": None}
                    for code, maximum in TUA_CHUA_MAXIMA.items()
                },
                "counts": TUA_CHUA_COUNTS.get(name, {}),
                "mismatches": [],
                "not_applicable": ["CKMB.1", "CKMB.2"],
            }
        )
    return rows
