"""Telegram HTML: escaping, the UTF-16 length rule, splitting at lines, words, atoms."""

from __future__ import annotations

import re
import unicodedata

import pytest

from service.channels.messages import (
    escape_html,
    plain_text,
    split_message,
    utf16_length,
)
from tests.fakes.telegram_server import visible_text

UNITS = ["UBND xã Bình Thành", "UBND phường Âu Cơ", "UBND xã Hạ Hòa", "UBND xã Đoan Hùng"]


def overdue_digest(lines: int) -> str:
    """A digest as alerts write them: a bold title, then one line per unit and dossier."""
    rows = [
        f"• <b>{escape_html(UNITS[i % 4])}</b>: hồ sơ <code>H21.{i:05d}</code> quá hạn "
        f"{i % 9 + 1} ngày, cán bộ <i>Nguyễn Thị Lan &amp; Trần Văn Đức</i>"
        for i in range(lines)
    ]
    return "<b>Hồ sơ quá hạn tháng 08/2026</b>\n" + "\n".join(rows)


def test_escape_html_makes_user_text_inert():
    assert escape_html("<b>Lan</b> & \"Đức\" 'x'") == (
        "&lt;b&gt;Lan&lt;/b&gt; &amp; &quot;Đức&quot; &#x27;x&#x27;"
    )
    assert visible_text(escape_html("a < b & c > d")) == "a < b & c > d"


@pytest.mark.parametrize(
    ("text", "units"),
    [
        ("Bình Thành", 10),  # precomposed Vietnamese: one unit per letter
        (unicodedata.normalize("NFD", "Bình Thành"), 12),  # decomposed: marks count too
        ("Đạt 🎉", 6),  # an emoji outside the BMP is two units
        ("<b>x</b>", 8),  # markup counts: we measure the HTML, not the parsed text
    ],
)
def test_length_is_counted_in_utf16_code_units(text, units):
    assert utf16_length(text) == units


def test_a_message_that_fits_comes_back_unchanged():
    text = overdue_digest(3)
    assert split_message(text) == [text]


def test_a_long_vietnamese_digest_is_cut_at_line_boundaries_in_order():
    text = overdue_digest(120)
    parts = split_message(text, 4096)
    assert len(parts) >= 3
    assert all(utf16_length(part) <= 4096 for part in parts)
    lines = text.split("\n")
    assert [line for part in parts for line in part.split("\n")] == lines
    for part in parts:
        visible_text(part)  # each part is HTML Telegram accepts


def test_an_over_long_line_is_cut_after_a_word_and_its_tags_reopened():
    words = ["Ủy", "ban", "nhân", "dân", "xã", "Bình", "Thành", "chưa", "số", "hóa"] * 8
    text = '<a href="https://dichvucong.gov.vn/p/home">' + "<b>" + " ".join(words) + "</b></a>"
    parts = split_message(text, 120)
    assert len(parts) > 1 and all(utf16_length(part) <= 120 for part in parts)
    for part in parts:
        assert part.startswith('<a href="https://dichvucong.gov.vn/p/home"><b>')
        assert part.endswith("</b></a>")
        assert all(word in words for word in visible_text(part).split(" "))
    assert " ".join(visible_text(part) for part in parts) == " ".join(words)


def test_a_word_longer_than_a_part_is_cut_between_characters_never_in_an_entity():
    text = "<code>" + "&amp;đ" * 100 + "</code>"
    parts = split_message(text, 50)
    assert all(utf16_length(part) <= 50 for part in parts)
    assert all(re.fullmatch(r"<code>(&amp;|đ)+</code>", part) for part in parts)
    assert "".join(visible_text(part) for part in parts) == "&đ" * 100


def test_an_emoji_is_never_cut_in_half():
    parts = split_message("🎉" * 30, 7)
    assert parts == ["🎉🎉🎉"] * 10


def test_blank_lines_at_a_cut_leave_no_empty_part():
    text = "Dòng một\n\n\n\nDòng hai"
    assert split_message(text, 10) == ["Dòng một", "Dòng hai"]


def test_a_limit_too_small_for_the_open_tags_is_refused():
    with pytest.raises(ValueError, match="cannot hold"):
        split_message('<a href="https://dichvucong.gov.vn">' + "x" * 40 + "</a>", 20)


@pytest.mark.parametrize(
    ("html_text", "shown"),
    [
        ("<b>Cảnh báo</b>: 3 hồ sơ &lt;quá hạn&gt;", "Cảnh báo: 3 hồ sơ <quá hạn>"),
        ("Chi tiết: <a href='https://dvc.vn/?a=1&amp;b=2'>cổng</a>", "Chi tiết: cổng (https://dvc.vn/?a=1&b=2)"),
        ("<code>H21.227</code> &quot;Tốt&quot; &#x27;A&#x27;", "H21.227 \"Tốt\" 'A'"),
    ],
)  # fmt: skip
def test_plain_text_is_what_a_reader_sees(html_text, shown):
    assert plain_text(html_text) == shown
