"""What a notice says follows from the unit's own figures and the issuer's configuration."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from service.notices.baocao import SHORT_LIST, baocao
from service.notices.documents import Issuer
from service.notices.names import official_name, unit_head
from tests.notices import BINH_THANH_ISSUER, binh_thanh_row, tua_chua_rows
from tests.notices.test_congvan import binh_thanh


@pytest.mark.parametrize(
    "authority, authority_of, title, expected",
    [
        ("TM.", "Ủy ban nhân dân", "Chủ tịch", ("TM. ỦY BAN NHÂN DÂN", "CHỦ TỊCH")),
        ("KT.", "Chủ tịch", "Phó Chủ tịch", ("KT. CHỦ TỊCH", "PHÓ CHỦ TỊCH")),
        ("TL.", "CHỦ TỊCH", "CHÁNH VĂN PHÒNG", ("TL. CHỦ TỊCH", "CHÁNH VĂN PHÒNG")),
        ("TUQ.", "CHỦ TỊCH", "GIÁM ĐỐC SỞ", ("TUQ. CHỦ TỊCH", "GIÁM ĐỐC SỞ")),
        (None, None, "CHỦ TỊCH", ("", "CHỦ TỊCH")),
    ],
)
def test_the_signature_reads_the_configured_authority_over_the_title(
    authority: str | None, authority_of: str | None, title: str, expected: tuple[str, str]
) -> None:
    issuer = replace(
        BINH_THANH_ISSUER, authority=authority, authority_of=authority_of, signer_title=title
    )
    signature = binh_thanh(issuer=issuer).signature
    assert (signature.signing_for, signature.title) == expected


@pytest.mark.parametrize(
    "portal, official, head",
    [
        ("UBND xã Bình Phú - Tỉnh Phú Thọ", "UBND xã Bình Phú", "Chủ tịch UBND xã"),
        ("UBND phường Việt Trì - Tỉnh Phú Thọ", "UBND phường Việt Trì", "Chủ tịch UBND phường"),
        ("Sở Tư pháp - Thành phố Hà Nội", "Sở Tư pháp", "Thủ trưởng Sở Tư pháp"),
        ("UBND xã Bình Thành", "UBND xã Bình Thành", "Chủ tịch UBND xã"),
        # the portal's capitals (Phú Thọ 2026-08), as Nghị định 30's Phụ lục II writes them
        ("UBND Phường Vân Phú - Tỉnh Phú Thọ", "UBND phường Vân Phú", "Chủ tịch UBND phường"),
        ("Văn phòng UBND Tỉnh", "Văn phòng UBND tỉnh", "Thủ trưởng Văn phòng UBND tỉnh"),
        ("UBND Thành Phố Việt Trì", "UBND thành phố Việt Trì", "Chủ tịch UBND thành phố"),
        ("UBND Thành phố Hồ Chí Minh", "UBND Thành phố Hồ Chí Minh", "Chủ tịch UBND thành phố"),
        (
            "Sở Nông Nghiệp và Môi Trường",
            "Sở Nông nghiệp và Môi trường",
            "Thủ trưởng Sở Nông nghiệp và Môi trường",
        ),
        (
            "Sở Văn Hóa, Thể Thao và Du Lịch",
            "Sở Văn hóa, Thể thao và Du lịch",
            "Thủ trưởng Sở Văn hóa, Thể thao và Du lịch",
        ),
        ("Sở Ngoại vụ", "Sở Ngoại vụ", "Thủ trưởng Sở Ngoại vụ"),
        # a name of its own keeps its capitals (Bộ Công Thương); a dash separates fields
        ("Sở Công Thương - Tỉnh Phú Thọ", "Sở Công Thương", "Thủ trưởng Sở Công Thương"),
        ("Sở Công thương", "Sở Công thương", "Thủ trưởng Sở Công thương"),
        (
            "Sở Lao Động - Thương Binh và Xã Hội",
            "Sở Lao động - Thương binh và Xã hội",
            "Thủ trưởng Sở Lao động - Thương binh và Xã hội",
        ),
        ("Sở KH&CN", "Sở KH&CN", "Thủ trưởng Sở KH&CN"),
    ],
)
def test_units_are_named_and_headed_as_officials_write_them(
    portal: str, official: str, head: str
) -> None:
    assert official_name(portal) == official and unit_head(portal) == head
    assert official_name(official) == official  # a name already official stays as it is


def test_the_cong_van_names_the_unit_officially_and_its_head_in_section_3() -> None:
    notice = binh_thanh(binh_thanh_row(unit_name="UBND xã Bình Thành - Tỉnh Thái Nguyên"))
    text = " ".join(
        [*notice.opening, *(s.heading for s in notice.sections), *notice.closing]
    )  # fmt: skip
    assert "- Tỉnh" not in text and "UBND xã Bình Thành" in text
    assert notice.sections[2].heading == "3. Chủ tịch UBND xã yêu cầu"


def test_section_3_asks_for_what_the_units_own_counts_show_outstanding() -> None:
    row: dict[str, Any] = binh_thanh_row()
    row["counts"] = {"overdue": 95, "not_digitised": 0, "not_paid_online": 1174, "unsynced": 0}
    lines = " ".join(binh_thanh(row).sections[2].paragraphs)
    assert "95 hồ sơ quá hạn" in lines and "1.174 hồ sơ có nghĩa vụ tài chính" in lines
    assert "chưa được số hóa" not in lines and "chưa đồng bộ" not in lines
    row["counts"] = {}
    assert "hồ sơ quá hạn" not in " ".join(binh_thanh(row).sections[2].paragraphs)


def test_without_a_previous_month_nothing_is_compared_with_it() -> None:
    notice = binh_thanh(compare=False)
    captions = [chart.caption for appendix in notice.appendices for chart in appendix.charts]
    assert not any("8/2024" in caption for caption in captions)
    assert "tháng 8/2024" not in " ".join(notice.closing)


def _many_communes(count: int) -> list[dict[str, Any]]:
    rows = []
    for index in range(count):
        row = binh_thanh_row(unit_name=f"UBND xã Số {index} - Tỉnh Phú Thọ")
        row.update(unit_code=f"X{index}", rank=index + 1, rank_of=count, total=90.0 - index / 2)
        row.update(converted=row["total"], counts={"overdue": index + 1})
        rows.append(row)
    return rows


def test_a_bao_cao_of_148_communes_names_the_worst_few_and_counts_the_rest() -> None:
    report = baocao(_many_communes(148), None, Issuer(), "2024-09", "QĐ 766")
    shortfalls = report.sections[3].paragraphs
    overdue = next(line for line in shortfalls if "quá hạn" in line)
    assert overdue.count("hồ sơ);") == SHORT_LIST - 1
    assert overdue.startswith("- Còn hồ sơ giải quyết quá hạn: UBND xã Số 147 (148 hồ sơ);")
    assert f"và {148 - SHORT_LIST} đơn vị khác (chi tiết tại Phụ lục)" in overdue
    assert "- Tỉnh" not in " ".join(shortfalls)
    outstanding = report.appendices[0].tables[1]
    assert len(outstanding.rows) == 148


def test_a_count_after_a_name_ending_in_a_number_stands_apart_from_it() -> None:
    rows = _many_communes(2)
    rows[0].update(unit_name="UBND phường 12", counts={"overdue": 1628})
    rows[1].update(unit_name="UBND xã Xá Nhè", counts={"overdue": 1})
    shortfalls = baocao(rows, None, Issuer(), "2024-09", "QĐ 766").sections[3].paragraphs
    overdue = next(line for line in shortfalls if "quá hạn" in line)
    assert overdue == (
        "- Còn hồ sơ giải quyết quá hạn: UBND phường 12 (1.628 hồ sơ); UBND xã Xá Nhè 01 hồ sơ."
    )


def test_the_766_bao_caos_section_1_gives_scores_not_classes() -> None:
    report = baocao(_many_communes(148), None, Issuer(), "2024-09", "QĐ 766")
    results = report.sections[0]
    assert results.heading == "1. Kết quả đánh giá"
    text = " ".join(results.paragraphs)
    assert "xếp loại" not in text
    assert "bình quân đạt 53,25 điểm" in text and "cao nhất là UBND xã Số 0 (90 điểm)" in text
    assert "74 đơn vị đạt trên mức bình quân, 74 đơn vị dưới mức bình quân" in text
    assert "XẾP LOẠI" not in report.appendices[0].subtitle


def test_a_classifying_schemes_section_1_names_each_classes_units() -> None:
    report = baocao(tua_chua_rows(), None, Issuer(), "2024-03", "QĐ 459")
    assert report.sections[0].heading == "1. Kết quả đánh giá, xếp loại"
    lines = report.sections[0].paragraphs
    assert any(line.startswith("- Xếp loại Xuất sắc: ") for line in lines)
    assert any(line.startswith("- Xếp loại Tốt: ") for line in lines)


def test_a_bao_cao_of_one_unit_neither_ranks_it_against_itself_nor_counts_zeros() -> None:
    report = baocao(_many_communes(1), None, Issuer(), "2024-09", "QĐ 766")
    said = "\n".join(report.sections[0].paragraphs)
    assert "UBND xã Số 0 là đơn vị duy nhất được đánh giá, điểm tổng hợp đạt 90 điểm." in said
    assert "cao nhất" not in said and "thấp nhất" not in said and "00 đơn vị" not in said


def test_a_list_one_longer_than_the_short_list_names_everyone() -> None:
    report = baocao(_many_communes(SHORT_LIST + 1), None, Issuer(), "2024-09", "QĐ 766")
    overdue = next(line for line in report.sections[3].paragraphs if "quá hạn" in line)
    assert "đơn vị khác" not in overdue and overdue.count("hồ sơ)") == SHORT_LIST + 1
