"""The console channel prints what a reader would see, with the same interface."""

from __future__ import annotations

import asyncio
import io
from datetime import datetime

from service.channels.base import Button, Document, Message, Receipt, Recipient
from service.channels.console import ConsoleChannel

LAN = Recipient("4242", "Nguyễn Thị Lan")
SENT_AT = datetime(2026, 9, 1, 1, 30)


def console(stream: io.StringIO | None = None) -> ConsoleChannel:
    return ConsoleChannel(stream, now=lambda: SENT_AT)


def test_a_message_is_printed_as_plain_text_with_its_buttons():
    stream = io.StringIO()
    html = (
        "<b>UBND xã Bình Thành</b>: 3 hồ sơ &lt;quá hạn&gt;\n"
        'Xem <a href="https://dichvucong.gov.vn/p/home">cổng</a>'
    )
    message = Message(html, (Button("Đã tiếp nhận", "ack:1"), Button("Chi tiết", "d:1")))
    receipt = asyncio.run(console(stream).send(LAN, message))
    assert stream.getvalue() == (
        "── #1 → Nguyễn Thị Lan (4242) ──\n"
        "UBND xã Bình Thành: 3 hồ sơ <quá hạn>\n"
        "Xem cổng (https://dichvucong.gov.vn/p/home)\n"
        "[Đã tiếp nhận] [Chi tiết]\n"
        "\n"
    )
    assert receipt == Receipt("console", ("1",), SENT_AT)


def test_receipts_carry_increasing_ids_and_an_edit_keeps_its_id():
    stream = io.StringIO()
    channel = console(stream)

    async def exchange() -> list[Receipt]:
        first = await channel.send(LAN, Message("Quá hạn 3 hồ sơ", (Button("Đã tiếp nhận", "a"),)))
        second = await channel.send(LAN, Message("Quá hạn 7 hồ sơ"))
        edited = await channel.edit(LAN, first, Message("Quá hạn 3 hồ sơ — <i>Lan</i> đã nhận"))
        return [first, second, edited]

    receipts = asyncio.run(exchange())
    assert [r.message_ids for r in receipts] == [("1",), ("2",), ("1",)]
    assert "── #1 → Nguyễn Thị Lan (4242) · đã sửa ──\nQuá hạn 3 hồ sơ — Lan đã nhận\n" in (
        stream.getvalue()
    )


def test_a_document_is_announced_with_its_name_size_and_caption():
    stream = io.StringIO()
    document = Document("Công văn 08-2026.docx", b"x" * 12345, "<b>Công văn</b> tháng 08")
    asyncio.run(console(stream).send_document(LAN, document))
    assert stream.getvalue().splitlines()[1:3] == [
        "[Tệp đính kèm: Công văn 08-2026.docx, 12.345 byte]",
        "Công văn tháng 08",
    ]


def test_without_a_stream_it_writes_to_standard_output(capsys):
    asyncio.run(console().send(LAN, Message("<b>Xin chào</b>")))
    assert capsys.readouterr().out == "── #1 → Nguyễn Thị Lan (4242) ──\nXin chào\n\n"
