"""A notice in a few lines: what goes with its file, and in its place where a channel
cannot carry one (Zalo). Phú Thọ 2026-08, as the portal gave it."""

from __future__ import annotations

from service.app import App
from service.indicators import NATIONAL
from service.notices.caption import notice_caption
from service.periods import Period
from service.scoring.report import score_rows
from service.vnformat import number
from tests.conftest import first_commune


def test_a_cong_vans_caption_names_the_unit_its_score_rank_and_what_is_outstanding(
    phu_tho, app: App
):
    with phu_tho() as session:
        text = notice_caption(session, app.schemes, "congvan", "H44.116", NATIONAL, "2026-08")
    assert text == (
        "Công văn kết quả đánh giá tháng 8/2026 của UBND xã Bình Phú (H44.116). "
        "Điểm tổng hợp 64,08/100, xếp hạng 66/148; còn 95 hồ sơ quá hạn, "
        "772 hồ sơ chưa số hóa, 100 hồ sơ chưa thanh toán trực tuyến."
    )


def test_a_bao_caos_caption_sums_up_the_set(phu_tho, app: App):
    with phu_tho() as session:
        text = notice_caption(session, app.schemes, "baocao", "H44", NATIONAL, "2026-08")
    assert text.startswith("Báo cáo kết quả đánh giá tháng 8/2026 của các đơn vị thuộc H44. ")
    assert "148 đơn vị được chấm điểm, bình quân" in text
    assert "cao nhất UBND xã Yên Phú" in text and "- Tỉnh" not in text
    assert len(text) < 1024  # a Telegram caption


def test_a_unit_without_figures_is_named_by_its_code(phu_tho, app: App):
    with phu_tho() as session:
        text = notice_caption(session, app.schemes, "congvan", "H44.999", NATIONAL, "2026-07")
    assert text == "Công văn kết quả đánh giá tháng 7/2026 của H44.999."


def test_a_caption_scores_its_units_set_alone_with_the_countrys_rank(
    three_provinces, app: App, sets_read
):
    """A notice day with every province watched wrote each caption from a national
    analysis; a caption reads its set only, and says what the country's analysis says."""
    august = Period.parse("2026-08")
    with three_provinces() as session:
        code = first_commune(session, "H02")
        country = {r["unit_code"]: r for r in score_rows(session, app.schemes, NATIONAL, august)}
        sets_read.clear()
        text = notice_caption(session, app.schemes, "congvan", code, NATIONAL, "2026-08")
        assert sets_read and all(parents == {"H02"} for parents in sets_read)
        row = country[code]
        assert f"({code}). Điểm tổng hợp {number(row['total'], keep_zeros=True)}/100" in text
        assert f"xếp hạng {row['rank']}/{row['rank_of']}" in text
        sets_read.clear()
        text = notice_caption(session, app.schemes, "baocao", "H03", NATIONAL, "2026-08")
        assert sets_read and all(parents == {"H03"} for parents in sets_read)
        members = [
            r for r in country.values() if r["parent_code"] == "H03" and r["group"] != "AGENCY"
        ]
        assert f"{len(members)} đơn vị được chấm điểm" in text
