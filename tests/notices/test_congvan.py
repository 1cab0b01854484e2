"""What the Công văn says, from the real document's figures (seed 004)."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from datetime import date
from typing import Any

import pytest

from service.notices.congvan import CongVan, congvan
from service.notices.documents import Issuer, Notice
from service.notices.texts import default_texts
from service.vnformat import BLANK
from tests.notices import BINH_THANH_ISSUER, binh_thanh_figures, binh_thanh_row

ISSUED = date(2024, 10, 5)


def binh_thanh(
    row: dict[str, Any] | None = None,
    previous: dict[str, Any] | None = None,
    issuer: Issuer = BINH_THANH_ISSUER,
    issued_on: date | None = ISSUED,
    compare: bool = True,
) -> CongVan:
    return congvan(
        row or binh_thanh_row(),
        (previous or binh_thanh_row(8)) if compare else None,
        binh_thanh_figures(9),
        binh_thanh_figures(8) if compare else None,
        issuer,
        "2024-09",
        issued_on,
    )


def strings(value: Any) -> Iterator[str]:
    """Every text of a notice, however deep."""
    if isinstance(value, str):
        yield value
    elif dataclasses.is_dataclass(value):
        for field in dataclasses.fields(value):
            yield from strings(getattr(value, field.name))
    elif isinstance(value, tuple | list):
        for item in value:
            yield from strings(item)


def text(notice: Notice) -> str:
    return "\n".join(strings(notice))


def scores(notice: Notice) -> tuple[str, ...]:
    return notice.sections[0].paragraphs


def test_each_axis_is_reported_with_its_change_in_words() -> None:
    assert scores(binh_thanh())[:6] == (
        "1.1. Điểm số trục nội dung Công khai minh bạch đạt 17,5/18 điểm, "
        "tăng 3,8 điểm so với tháng 8/2024.",
        "1.2. Điểm số trục nội dung Tiến độ giải quyết đạt 18,6/20 điểm, "
        "tăng 2,3 điểm so với tháng 8/2024.",
        "1.3. Điểm số trục nội dung Dịch vụ công trực tuyến đạt 7,2/12 điểm, "
        "giảm 0,1 điểm so với tháng 8/2024.",
        "1.4. Điểm số trục nội dung Thanh toán trực tuyến đạt 10/10 điểm, "
        "giữ nguyên điểm so với tháng 8/2024.",
        "1.5. Điểm số trục nội dung Mức độ hài lòng đạt 18/18 điểm, "
        "tăng 0,6 điểm so với tháng 8/2024.",
        "1.6. Điểm số trục nội dung Số hóa hồ sơ, kết quả TTHC đạt 19,7/22 điểm, "
        "giảm 0,2 điểm so với tháng 8/2024.",
    )


def test_the_total_and_the_rank_are_reported_with_their_changes() -> None:
    assert scores(binh_thanh())[6] == (
        "1.7. Điểm tổng hợp đạt 93,81/100 điểm, tăng 6,84 điểm; xếp hạng 03/23 xã, phường "
        "và tăng 18 bậc trên bảng xếp hạng so với tháng 8/2024."
    )


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"rank_change": -2}, "xếp hạng 03/23 xã, phường và giảm 2 bậc trên bảng xếp hạng"),
        ({"rank_change": 0}, "xếp hạng 03/23 xã, phường và giữ nguyên thứ hạng so với"),
        ({"rank_tied": True}, "xếp đồng hạng 03/23 xã, phường"),
        ({"rank_of": None}, "tăng 6,84 điểm; xếp hạng 03 và tăng 18 bậc"),  # imported rank
        ({"rank_change": None}, "tăng 6,84 điểm so với tháng 8/2024; xếp hạng 03/23 xã, phường."),
        ({"total_delta": 0.0}, "đạt 93,81/100 điểm, giữ nguyên điểm; xếp hạng"),
    ],
)
def test_rank_wording(changes: dict[str, Any], expected: str) -> None:
    assert expected in scores(binh_thanh(binh_thanh_row(**changes)))[6]


def test_an_unranked_unit_is_given_no_rank() -> None:
    total = scores(binh_thanh(binh_thanh_row(rank=None, rank_change=None)))[6]
    assert total == "1.7. Điểm tổng hợp đạt 93,81/100 điểm, tăng 6,84 điểm so với tháng 8/2024."


def test_without_a_previous_month_no_change_is_claimed() -> None:
    notice = binh_thanh(compare=False)
    said_once, *sentences = scores(notice)
    assert said_once == "(Chưa có số liệu tháng 8/2024 để so sánh.)"
    assert sentences[0] == "1.1. Điểm số trục nội dung Công khai minh bạch đạt 17,5/18 điểm."
    for sentence in sentences:
        assert "tăng" not in sentence and "giảm" not in sentence and "so sánh" not in sentence
    assert sentences[6] == "1.7. Điểm tổng hợp đạt 93,81/100 điểm; xếp hạng 03/23 xã, phường."
    assert not any("giảm điểm so với" in line for line in notice.sections[2].paragraphs)
    first_appendix = notice.appendices[0].tables[0]
    assert not any("8/2024" in column for column in first_appendix.columns)
    assert {len(row.cells) for row in first_appendix.rows} == {len(first_appendix.columns)}
    assert "so với" not in " ".join(notice.closing)


def test_no_change_is_drawn_across_a_change_of_source() -> None:
    notice = binh_thanh(previous=binh_thanh_row(8, source="portal-766:2026"))
    assert scores(notice)[:2] == (
        "(Không so sánh với tháng 8/2024 do thay đổi nguồn hoặc phương pháp tính.)",
        "1.1. Điểm số trục nội dung Công khai minh bạch đạt 17,5/18 điểm.",
    )


def test_a_missing_axis_says_there_is_no_data() -> None:
    row = binh_thanh_row()
    del row["axes"]["MDHL"]
    row["axes"]["CLGQ"] = {"score": None, "max": 12, "delta": None}
    sentences = scores(binh_thanh(row))
    assert (
        sentences[2]
        == "1.3. Điểm số trục nội dung Dịch vụ công trực tuyến: chưa có số liệu tháng 9/2024."
    )
    assert (
        sentences[4] == "1.5. Điểm số trục nội dung Mức độ hài lòng: chưa có số liệu tháng 9/2024."
    )


def test_instructions_are_chosen_for_the_axes_that_fell() -> None:
    instructions = binh_thanh().sections[2].paragraphs
    fell = default_texts().congvan.fell
    assert instructions[0] == (
        "- Khắc phục các trục nội dung giảm điểm so với tháng 8/2024: Dịch vụ công trực tuyến "
        "(giảm 0,1 điểm); Số hóa hồ sơ, kết quả TTHC (giảm 0,2 điểm)."
    )
    assert fell["CLGQ"][0] in instructions and fell["MDSH"][0] in instructions
    assert fell["CKMB"][0] not in instructions and fell["TTTT"][0] not in instructions
    assert set(default_texts().congvan.instructions) <= set(instructions)


def test_an_outstanding_count_is_asked_for_once_with_its_number() -> None:
    """Every axis fell and every count is outstanding: each instruction is said once, the
    counts with their numbers; the lines said when an axis fell do not repeat them."""
    row = binh_thanh_row()
    for code in ("CKMB", "TDGQ", "TTTT", "MDSH"):
        row["axes"][code]["delta"] = -0.5
    row["counts"] = {"overdue": 95, "not_digitised": 772, "not_paid_online": 1174, "unsynced": 3}
    lines = binh_thanh(row).sections[2].paragraphs
    said = "\n".join(lines)
    assert said.count("quá hạn") == 1 and "dứt điểm 95 hồ sơ quá hạn" in said
    assert said.count("số hóa thành phần hồ sơ") == 1 and "còn 772 hồ sơ chưa được số hóa" in said
    assert said.count("hướng dẫn người dân, doanh nghiệp thanh toán trực tuyến") == 1
    assert "còn 1.174 hồ sơ có nghĩa vụ tài chính chưa thanh toán trực tuyến" in said
    assert said.count("đồng bộ") == 2 and "đồng bộ đầy đủ 3 hồ sơ chưa đồng bộ" in said
    assert len(set(lines)) == len(lines) == 11  # what fell, 4 counts, 5 axes, the standing one
    assert "và trả kết quả và kế toán" not in said


def test_the_closing_asks_to_remedy_a_fall_only_when_an_axis_fell() -> None:
    texts = default_texts().congvan
    assert binh_thanh().closing == tuple(
        line.replace("{unit_name}", "Xã Bình Thành")
        .replace("{period_long}", "tháng 9 năm 2024")
        .replace("{previous_short}", "tháng 8/2024")
        for line in texts.closing
    )
    row = binh_thanh_row()
    for axis in row["axes"].values():
        axis["delta"] = abs(axis["delta"] or 0)
    closing = " ".join(binh_thanh(row).closing)
    assert "giảm điểm" not in closing and "khắc phục những nội dung còn hạn chế" in closing
    assert not any("giảm điểm" in line for line in binh_thanh(row).sections[2].paragraphs)


def test_a_month_read_before_its_end_is_said_to_be_provisional_as_of_its_day() -> None:
    """A notice of the running month: the day the figures were read, never the month's
    last day still to come."""
    row = binh_thanh_row(completeness="running", as_of="2024-09-17")
    notice = binh_thanh(row, binh_thanh_row(8, completeness="final", as_of="2024-08-31"))
    assert notice.opening[-1] == (
        "Số liệu tháng 9 năm 2024 là số liệu tạm tính đến ngày 17/9/2024, "
        "chưa phải kết quả chốt của tháng."
    )
    first, second = (appendix.tables[0].columns for appendix in notice.appendices)
    assert "Số liệu ngày 17/9/2024" in first and "Số liệu ngày 31/8/2024" in first
    assert "Ngày 17/9/2024" in second
    assert "30/9/2024" not in text(notice)
    final = binh_thanh(binh_thanh_row(completeness="final", as_of="2024-09-30"))
    assert "tạm tính" not in text(final)
    assert "Số liệu ngày 30/9/2024" in final.appendices[0].tables[0].columns


def test_the_opening_says_who_gives_notice_of_what() -> None:
    assert (
        binh_thanh()
        .opening[0]
        .endswith(
            "trên môi trường điện tử. UBND xã Bình Thành thông báo kết quả đánh giá của "
            "Xã Bình Thành tháng 9 năm 2024 trên Cổng Dịch vụ công quốc gia như sau:"
        )
    )


def test_header_subject_addressees_signature_and_copies() -> None:
    notice = binh_thanh()
    assert notice.header.body_name_lines == ("ỦY BAN NHÂN DÂN", "XÃ BÌNH THÀNH")
    assert notice.header.number_line == f"Số: {BLANK}/UBND-VP"
    assert notice.header.place_date == "Bình Thành, ngày 05 tháng 10 năm 2024"
    assert notice.subject == (
        "V/v kết quả đánh giá chất lượng phục vụ người dân, doanh nghiệp trong giải quyết "
        "thủ tục hành chính, cung cấp dịch vụ công trên cổng DVCQG tháng 9 năm 2024"
    )
    assert notice.addressees == (
        "- Các cơ quan đơn vị đóng trên địa bàn xã;",
        "- Các bộ phận chuyên môn thuộc UBND xã;",
        "- 14 xóm.",
    )
    assert (notice.signature.signing_for, notice.signature.title, notice.signature.name) == (
        "TM. ỦY BAN NHÂN DÂN",
        "CHỦ TỊCH",
        "Ma Khánh Sơn",
    )
    assert notice.copies == ("- Như trên;", "- BTV Đảng ủy xã;", "- TT HĐND xã;", "- Lưu: VT, VP.")


def test_what_is_not_configured_is_left_blank_never_invented() -> None:
    notice = binh_thanh(issuer=Issuer(), issued_on=None)
    assert notice.header.body_name_lines == (BLANK,)
    assert notice.header.body_parent == ""
    assert notice.header.number_line == f"Số: {BLANK}/{BLANK}"
    assert notice.header.place_date == f"{BLANK}, ngày {BLANK} tháng 10 năm 2024"
    assert notice.addressees == (BLANK,)
    assert notice.signature.name == BLANK
    assert notice.appendices[0].note == (
        f"(Kèm theo Công văn số {BLANK}/{BLANK} ngày {BLANK}/10/2024 của {BLANK})"
    )


def test_dates_are_real_calendar_days() -> None:
    everything = text(binh_thanh())
    assert "31/9" not in everything
    assert "Số liệu ngày 30/9/2024" in everything and "Số liệu ngày 31/8/2024" in everything


def test_phu_luc_i_lists_every_indicator_both_months_and_the_change() -> None:
    rows = {row.cells[1]: row.cells for row in binh_thanh().appendices[0].tables[0].rows}
    assert rows["Công khai, minh bạch (điểm)"] == (
        "I",
        "Công khai, minh bạch (điểm)",
        "13,7",
        "",
        "17,5",
        "",
        "+ 3,8",
    )
    assert rows["Dịch vụ công trực tuyến (điểm)"][-1] == "- 0,1"
    assert rows["Thanh toán trực tuyến (điểm)"][-1] == "0"
    assert rows["Tỷ lệ hồ sơ đồng bộ lên Cổng DVCQG"][2:] == (
        "239/323",
        "73,99%",
        "295/313",
        "94,25%",
        "+ 20,26 điểm phần trăm".replace(" ", "\u00a0"),
    )
    assert rows["Tỷ lệ hồ sơ thanh toán trực tuyến"][2:] == (
        "4.642/4.808",
        "96,55%",
        "4.763/4.906",
        "97,09%",
        "+ 0,54 điểm phần trăm".replace(" ", "\u00a0"),
    )
    assert rows["Điểm tổng hợp"][2:] == (
        "86,97/100 điểm", "", "93,81/100 điểm", "", "Tăng 6,84 điểm"
    )  # fmt: skip
    assert rows["Xếp hạng trong các xã, phường"][2:] == ("21/23", "", "03/23", "", "Tăng 18 bậc")


def test_phu_luc_ii_has_overdue_counts_and_rates() -> None:
    appendix = binh_thanh().appendices[1]
    assert appendix.title == "PHỤ LỤC II. THỐNG KÊ CHI TIẾT CỦA XÃ BÌNH THÀNH THÁNG 9 NĂM 2024"
    rows = {row.cells[1]: row.cells[2:] for row in appendix.tables[0].rows}
    assert rows["Số lượng hồ sơ quá hạn"] == ("4", "3", "- 1")
    assert rows["Tỷ lệ hồ sơ TTHC số hóa hồ sơ, kết quả giải quyết"] == (
        "99,58%",
        "97,04%",
        "- 2,54 điểm phần trăm".replace(" ", "\u00a0"),
    )
    assert rows["Tỷ lệ nộp hồ sơ trực tuyến"] == ("-", "-", "")  # no such figure: no data


def test_a_metric_with_nothing_arisen_has_no_rate_and_no_change() -> None:
    """The portal reports 0% for a rate over no dossiers; the notice writes "Không phát
    sinh" and "-", and claims no change in points against it."""
    quiet = {"PETITION_PROCESSING_ON_TIME": _metric_none_arisen()}
    notice = congvan(
        binh_thanh_row(),
        binh_thanh_row(8),
        binh_thanh_figures(9) | quiet,
        binh_thanh_figures(8) | quiet,
        BINH_THANH_ISSUER,
        "2024-09",
        ISSUED,
    )
    rows = {row.cells[1]: row.cells[2:] for row in notice.appendices[0].tables[0].rows}
    label = default_texts().indicator_labels["PETITION_PROCESSING_ON_TIME"]
    assert rows[label] == ("Không phát sinh", "-", "Không phát sinh", "-", "")


def _metric_none_arisen() -> Any:
    from service.figures import FigureValue

    return FigureValue("PETITION_PROCESSING_ON_TIME", "metric", 0.0, axis="MDHL", numerator=0,
                       denominator=0, ratio=0.0)  # fmt: skip


def test_one_recipient_is_written_on_the_line_of_kinh_gui() -> None:
    one = dataclasses.replace(
        BINH_THANH_ISSUER, recipients=("Các bộ phận chuyên môn thuộc UBND xã",)
    )
    assert binh_thanh(issuer=one).addressees == ("Các bộ phận chuyên môn thuộc UBND xã.",)


def test_a_name_ending_in_a_number_keeps_it_on_its_line() -> None:
    """ "PHỤ LỤC II ... UBND PHƯỜNG TÂN THÀNH / 1 THÁNG 11": the number is bound."""
    notice = binh_thanh(binh_thanh_row(unit_name="UBND phường Tân Thành 1"))
    assert "TÂN THÀNH\u00a01 THÁNG 9 NĂM 2024" in notice.appendices[1].title
    assert "Tân Thành\u00a01 tháng 9 năm 2024" in notice.opening[0]
