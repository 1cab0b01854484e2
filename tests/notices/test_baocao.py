"""What the Báo cáo says, from the real document's figures (seed 000)."""

from __future__ import annotations

from typing import Any

from service.notices.baocao import BaoCao, baocao
from service.notices.documents import Issuer
from service.notices.texts import default_texts
from service.vnformat import BLANK
from tests.notices import TUA_CHUA_ISSUER, binh_thanh_row, tua_chua_rows

SCHEME_TITLE = "Quyết định số 459/QĐ-UBND ngày 24/3/2023 của UBND tỉnh Điện Biên"


def tua_chua(previous: list[dict[str, Any]] | None = None, **changes: Any) -> BaoCao:
    rows = [row | changes for row in tua_chua_rows()]
    return baocao(rows, previous, TUA_CHUA_ISSUER, "2024-03", SCHEME_TITLE, default_texts())


def test_the_report_counts_the_units_scored_and_each_class() -> None:
    report = tua_chua()
    assert report.sections[0].paragraphs[0] == (
        "Thực hiện chấm điểm, đánh giá 12/12 xã, thị trấn. "
        "Trong đó, 06 đơn vị xếp loại Xuất sắc, 06 đơn vị xếp loại Tốt."
    )
    assert (report.units, report.scored) == (12, 12)
    assert report.title == "BÁO CÁO"
    assert report.header.place_date == f"Tủa Chùa, ngày {BLANK} tháng 4 năm 2024"


def test_the_report_names_the_units_that_fell_short_with_their_counts() -> None:
    shortcomings = tua_chua().sections[3].paragraphs
    assert shortcomings == (
        "- Chưa số hóa thành phần hồ sơ khi giải quyết thủ tục hành chính: "
        "UBND xã Xá Nhè 01 hồ sơ.",
        "- Chưa số hóa kết quả giải quyết thủ tục hành chính: UBND xã Tả Sìn Thàng 02 hồ sơ.",
        "- Không thực hiện thanh toán trực tuyến: UBND xã Huổi Só; UBND xã Lao Xả Phình; "
        "UBND xã Tả Phìn; UBND xã Xá Nhè; UBND xã Tả Sìn Thàng.",
    )


def test_the_ranked_appendix_shows_points_not_applicable_totals_and_classes() -> None:
    table = tua_chua().appendices[0].tables[0]
    assert table.columns[:3] == ("Xếp hạng", "Tên cơ quan, đơn vị", "CKMB.\u200b1 (5)")
    assert table.columns[-3:] == ("Điểm đạt được", "Tổng điểm quy đổi", "Xếp loại")
    assert table.rows[0].cells == (
        "1", "UBND thị trấn", "-", "-", "10", "30", "10", "5,81", "5", "10", "5", "5", "5",
        "85,81", "95,34", "Xuất sắc",
    )  # fmt: skip
    assert [row.cells[0] for row in table.rows] == [
        "1", "2", "3", "4", "5", "6", "7", "8", "8", "8", "11", "12"
    ]  # fmt: skip
    assert table.rows[7].cells[-3:] == ("80,00", "88,89", "Tốt")


def test_the_report_claims_improvement_only_against_comparable_figures() -> None:
    assert tua_chua().sections[2].paragraphs == ("- Chưa có số liệu tháng 2/2024 để so sánh.",)
    previous = [row | {"class": "Tốt"} for row in tua_chua_rows()]
    risen = tua_chua(previous, total_delta=0.0)
    risen_rows = [row | {"total_delta": 0.0} for row in tua_chua_rows()]
    risen_rows[0]["total_delta"] = 1.25
    report = baocao(risen_rows, previous, TUA_CHUA_ISSUER, "2024-03", SCHEME_TITLE, default_texts())
    assert report.sections[2].paragraphs[0] == (
        "- 01/12 đơn vị tăng điểm so với tháng 2/2024: UBND thị trấn (tăng 1,25 điểm)."
    )
    assert (
        report.sections[2]
        .paragraphs[1]
        .startswith(
            "- Đơn vị nâng xếp loại so với tháng 2/2024: UBND thị trấn (từ Tốt lên Xuất sắc);"
        )
    )
    assert risen.sections[2].paragraphs[0] == "- Không có đơn vị tăng điểm so với tháng 2/2024."


def test_a_national_report_has_no_class_column() -> None:
    rows = [binh_thanh_row(), binh_thanh_row(unit_code="X2", unit_name="Xã Phú Đình", rank=4)]
    report = baocao(rows, None, Issuer(), "2024-09", "Quyết định số 766/QĐ-TTg", default_texts())
    table = report.appendices[0].tables[0]
    assert "Xếp loại" not in table.columns
    assert table.columns[2] == "Công khai, minh bạch (18)"
    # a column of points as seed 000's appendix writes it ("1.30", "10"): 17,50 beside 18,45
    assert table.rows[0].cells[2:4] == ("17,50", "18,60")
    assert report.sections[0].paragraphs[0] == "Thực hiện chấm điểm, đánh giá 02/02 xã, phường."


STANDING_RECOMMENDATION = (
    "- Đề nghị Chủ tịch UBND các xã, thị trấn quan tâm chỉ đạo triển khai các nhiệm vụ công "
    "tác kiểm soát TTHC, thực hiện cơ chế một cửa, một cửa liên thông và thực hiện TTHC trên "
    "môi trường điện tử; kịp thời khắc phục những tồn tại, hạn chế đã nêu trong báo cáo, nhằm "
    "nâng cao chất lượng phục vụ người dân, doanh nghiệp."
)
DIGITISATION_RECOMMENDATION = (
    "- Tổ chức kiểm điểm cá nhân được giao giải quyết TTHC còn chưa thực hiện số hóa đầy đủ "
    "thành phần hồ sơ và kết quả giải quyết thủ tục hành chính tại {units}."
)


def test_the_recommendations_name_the_units_whose_dossiers_are_not_digitised() -> None:
    """Seed 000: the review of who did not digitise follows from Xá Nhè's 01 dossier
    without its components digitised and Tả Sìn Thàng's 02 without an electronic result;
    both are named, the larger shortfall first, and the sentence is said once."""
    recommendations = tua_chua().sections[4].paragraphs
    assert recommendations == (
        STANDING_RECOMMENDATION,
        DIGITISATION_RECOMMENDATION.format(units="UBND xã Tả Sìn Thàng; UBND xã Xá Nhè"),
    )


def test_the_recommendations_say_nothing_of_digitisation_when_every_dossier_is() -> None:
    digitised = tua_chua(counts={"overdue": 0, "not_digitised": 0, "no_e_result": 0})
    assert digitised.sections[4].paragraphs == (STANDING_RECOMMENDATION,)
    assert not any("số hóa" in p for p in digitised.sections[4].paragraphs)


def test_the_recommendations_name_a_few_units_and_count_the_others() -> None:
    rows = [
        row | {"counts": {"not_digitised": place}}
        for place, row in enumerate(tua_chua_rows(), start=1)
    ]
    report = baocao(rows, None, TUA_CHUA_ISSUER, "2024-03", SCHEME_TITLE, default_texts())
    assert report.sections[4].paragraphs[1] == DIGITISATION_RECOMMENDATION.format(
        units="UBND xã Tả Sìn Thàng; UBND xã Xá Nhè; UBND xã Tả Phìn; UBND xã Lao Xả Phình; "
        "UBND xã Huổi Só và 07 đơn vị khác (chi tiết tại Phụ lục)"
    )
