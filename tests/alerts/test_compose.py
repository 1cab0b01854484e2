"""Composition at queue time: the parts of a message, each within the limits its
channel declares, lines in order, one acknowledge button per alert."""

from __future__ import annotations

import json

import pytest

from service.channels.base import ChannelLimits
from service.channels.messages import utf16_length
from service.channels.registry import CONSOLE_LIMITS, TELEGRAM_LIMITS
from service.delivery.compose import Line, compose
from tests.fakes.telegram_server import visible_text


def digest(count: int, ack: bool = True) -> list[Line]:
    return [
        Line(
            f"UBND xã <Thử> {n % 7}",
            f"⚠️ <b>{n}</b> hồ sơ quá hạn &amp; chưa đồng bộ (tháng 8/2026).",
            n + 1,
            f"H44.{n:03d} quá hạn" if ack else None,
        )
        for n in range(count)
    ]


def keyboard_bytes(part) -> int:  # type: ignore[no-untyped-def]
    rows = [[{"text": b.text, "callback_data": b.callback_data}] for b in part.message.buttons]
    return len(json.dumps({"inline_keyboard": rows}))


@pytest.mark.parametrize("count", [1, 2, 99, 100, 101, 391, 1000])
def test_every_part_fits_telegrams_limits_and_every_alert_has_one_button(count):
    parts = compose(digest(count), TELEGRAM_LIMITS)
    for part in parts:
        assert utf16_length(part.message.text_html) <= 4096
        visible_text(part.message.text_html)  # Telegram would parse it
        assert len(part.message.buttons) <= 100 and keyboard_bytes(part) <= 10 * 1024
    data = [b.callback_data for p in parts for b in p.message.buttons]
    assert data == [f"ack:{n + 1}" for n in range(count)]
    assert [i for p in parts for i in p.lines] == list(range(count))


def test_a_digest_is_split_between_lines_with_numbered_parts_and_continued_units():
    parts = compose(digest(391), TELEGRAM_LIMITS)
    assert len(parts) >= 4
    for number, part in enumerate(parts, 1):
        assert part.message.text_html.startswith(
            f"<b>dvcwatch: 391 cảnh báo</b> (phần {number}/{len(parts)})"
        )
    assert "(tiếp)" in parts[1].message.text_html


def test_one_alert_is_one_message_with_a_plain_button():
    [part] = compose(digest(1), TELEGRAM_LIMITS)
    assert part.message.text_html.startswith("<b>UBND xã &lt;Thử&gt; 0</b>\n⚠️")
    assert [b.text for b in part.message.buttons] == ["Đã tiếp nhận"]


def test_a_line_longer_than_a_message_is_cut_without_breaking_tags():
    long = Line("Xã", "<b>" + "Hồ sơ quá hạn. " * 800 + "</b>", 5, "H44 quá hạn")
    parts = compose([long], TELEGRAM_LIMITS)
    assert len(parts) >= 3
    assert all(utf16_length(p.message.text_html) <= 4096 for p in parts)
    for part in parts:
        visible_text(part.message.text_html)
    assert [len(p.message.buttons) for p in parts] == [0] * (len(parts) - 1) + [1]


def test_without_limits_everything_is_one_message():
    assert len(compose(digest(1000), CONSOLE_LIMITS)) == 1


def test_a_smaller_declared_limit_is_honoured():
    limits = ChannelLimits(max_message_chars=500, max_buttons=3)
    parts = compose(digest(20), limits)
    assert all(utf16_length(p.message.text_html) <= 500 for p in parts)
    assert all(len(p.message.buttons) <= 3 for p in parts)


@pytest.mark.parametrize("extra", range(0, 40, 3))
def test_a_keyboard_of_long_vietnamese_buttons_fits_as_telegram_measures_it(extra):
    """Buttons whose names are long and Vietnamese (six bytes a letter, escaped): the
    keyboard is what limits a part, measured as python-telegram-bot serialises it (rows
    separated by ", "), and it never goes over Telegram's 10 KB."""
    name = "Đường Ủy ban xã Hưng Lộc Điện Biên" + "ư" * extra
    lines = [Line("Xã", "⚠️ 1 hồ sơ quá hạn.", n + 1, f"{name} {n}") for n in range(300)]
    parts = compose(lines, TELEGRAM_LIMITS)
    assert len(parts) > 2
    for part in parts:
        assert keyboard_bytes(part) <= 10 * 1024, (len(part.message.buttons), extra)
