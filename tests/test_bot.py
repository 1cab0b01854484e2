"""The bot through python-telegram-bot and the fake Bot API: acknowledgements, commands,
and its doors: who may see a unit, who may acknowledge, and presses it cannot read."""

from __future__ import annotations

import asyncio
import datetime as dt
import re
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import select
from telegram import Update

from service.alerts.models import Alert, AlertEvent, EventKind
from service.bot import addressed_to, build_application, start_polling
from service.bot_replies import EVERY_UNIT, HELP, BotUnavailable, status_reply
from service.channels.base import Button, Message, Recipient
from service.channels.telegram import TelegramChannel
from service.delivery.directory import Coverage, Directory, Person
from service.delivery.models import Delivery, DeliveryStatus
from service.indicators import NATIONAL
from service.periods import Period
from service.scoring.report import score_rows
from service.simulator.simulator import PortalSimulator, ReplaySource
from service.sync import sync_province
from tests.conftest import FAST_PORTAL, PHU_THO, first_commune
from tests.fakes.telegram_server import DEFAULT_TOKEN, FakeTelegram

LAN = Person(
    "lan",
    "Nguyễn Thị Lan",
    "Hộ tịch",
    frozenset({"H44.116"}),
    frozenset({"*"}),
    "telegram",
    "100000001",
)
HOA = Person(
    "hoa",
    "Trần Thu Hoà",
    "Kế toán",
    frozenset({"H44.100"}),
    frozenset({"*"}),
    "telegram",
    "100000002",
)
ONE_STOP = Person(  # a group chat: one entry for everyone in it
    "mot-cua",
    "Bộ phận Một cửa",
    "",
    frozenset({"H44.116"}),
    frozenset({"*"}),
    "telegram",
    "-1001000000004",
)
OFFICE = Person("vp", "Văn phòng UBND tỉnh", "", frozenset(), frozenset(), "telegram", "100000009")
OPERATOR = Person("ops", "Minh", "", frozenset(), frozenset(), "telegram", "100000010")
DIRECTORY = Directory((LAN,))
WHOLE = Directory((LAN, HOA, ONE_STOP, OFFICE, OPERATOR), offices={"H44": "vp"}, operators=("ops",))
STRANGER = 555


@pytest.fixture
def telegram() -> Iterator[FakeTelegram]:
    with FakeTelegram() as server:
        yield server


def dispatch(
    app,
    telegram: FakeTelegram,
    update: dict[str, Any],
    directory: Directory = DIRECTORY,
    provinces: tuple[str, ...] = (),
) -> None:
    """Hand one update to the real python-telegram-bot application."""

    async def go() -> None:
        application = build_application(
            DEFAULT_TOKEN, telegram.base_url, app.sessions(), directory, app.schemes, provinces
        )
        async with application:
            await application.process_update(Update.de_json(update, application.bot))

    asyncio.run(go())


def sent_alert(app, telegram: FakeTelegram, to: Person = LAN) -> tuple[int, str]:
    """An alert on H44.116 delivered to `to`'s chat through the channel; returns (alert id,
    message id)."""
    with app.sessions().begin() as session:
        alert = Alert(
            fingerprint="overdue|H44.116",
            rule_id="overdue",
            topic="overdue",
            unit_code="H44.116",
            province_code="H44",
            sequence=1,
            severity="warning",
            state="firing",
            label="UBND xã Bình Phú",
            magnitude=3,
        )
        session.add(alert)
        session.flush()
        event = AlertEvent(
            alert_id=alert.id,
            sequence=1,
            kind=EventKind.FIRED,
            magnitude=3,
            text_html="⚠️ 3 hồ sơ quá hạn.",
        )
        session.add(event)
        session.flush()
        alert_id = alert.id
        delivery = Delivery(
            idempotency_key="k1",
            event_id=event.id,
            alert_id=alert_id,
            person_id=to.id,
            channel="telegram",
            address=to.address,
            text_html=event.text_html,
            status=DeliveryStatus.SENT,
        )
        session.add(delivery)

    async def send() -> str:
        channel = TelegramChannel(
            DEFAULT_TOKEN, base_url=telegram.base_url, base_file_url=telegram.base_file_url
        )
        message = Message(
            "<b>UBND xã Bình Phú</b>\n⚠️ 3 hồ sơ quá hạn.",
            (Button("Đã tiếp nhận", f"ack:{alert_id}"),),
        )
        try:
            receipt = await channel.send(Recipient(to.address, to.name), message)
        finally:
            await channel.close()
        return receipt.last_message_id

    return alert_id, asyncio.run(send())


def test_an_acknowledgement_from_a_recipient_is_recorded_and_shown(app, telegram):
    alert_id, message_id = sent_alert(app, telegram)
    update = telegram.push_callback_query(int(LAN.address), int(message_id), f"ack:{alert_id}")
    dispatch(app, telegram, update)
    with app.sessions()() as session:
        alert = session.get_one(Alert, alert_id)
    assert alert.acknowledged_by == "Nguyễn Thị Lan" and alert.acknowledged_at is not None
    edited = telegram.message(LAN.address, message_id)
    assert edited is not None and "Đã tiếp nhận bởi Nguyễn Thị Lan lúc" in edited["text"]
    assert re.search(r"lúc \d\d:\d\d ngày \d\d/\d{1,2}/\d{4}$", edited["text"])  # 30/9/2024
    [answer] = telegram.calls("answerCallbackQuery")
    assert answer.params["text"] == "Đã ghi nhận."


def test_an_acknowledgement_from_another_chat_is_refused(app, telegram):
    alert_id, message_id = sent_alert(app, telegram)
    update = telegram.push_callback_query(STRANGER, int(message_id), f"ack:{alert_id}")
    dispatch(app, telegram, update)
    with app.sessions()() as session:
        assert session.get_one(Alert, alert_id).acknowledged_at is None
    [answer] = telegram.calls("answerCallbackQuery")
    assert "không thể xác nhận" in answer.params["text"]
    assert telegram.calls("editMessageText") == []


def test_start_tells_anyone_their_chat_id(app, telegram):
    dispatch(app, telegram, telegram.push_message(STRANGER, "/start"))
    [reply] = telegram.sent_texts(STRANGER)
    assert f"Mã chat của bạn: {STRANGER}" in reply


def test_status_and_help_answer_only_chats_in_the_directory(app, telegram):
    dispatch(app, telegram, telegram.push_message(STRANGER, "/status H44.116"))
    dispatch(app, telegram, telegram.push_message(STRANGER, "/help"))
    assert all("chưa có trong danh bạ" in text for text in telegram.sent_texts(STRANGER))
    dispatch(app, telegram, telegram.push_message(int(LAN.address), "/help"))
    assert "/status" in telegram.sent_texts(LAN.address)[0]


def test_status_shows_the_units_scores_rank_and_open_alerts(app, telegram):
    with PortalSimulator(ReplaySource(PHU_THO)) as simulator:
        portal = FAST_PORTAL.model_copy(update={"base_url": simulator.base_url})
        sync_province(app.sessions(), portal, "H44", Period.parse("2026-08"), dt.date(2026, 9, 10))
    sent_alert(app, telegram)
    dispatch(app, telegram, telegram.push_message(int(LAN.address), "/status"))
    text = telegram.sent_texts(LAN.address)[-1]
    assert "<b>UBND xã Bình Phú</b> (H44.116)" in text and "- Tỉnh" not in text
    assert "Tháng 8/2026: 64,08/100 điểm, xếp hạng 66/148" in text
    assert "• 3 hồ sơ quá hạn." in text  # the alert's words, without its sign
    with app.sessions()() as session:
        assert session.scalars(select(Alert)).first() is not None


def synced(app, today: dt.date = dt.date(2026, 9, 10)) -> None:
    with PortalSimulator(ReplaySource(PHU_THO)) as simulator:
        portal = FAST_PORTAL.model_copy(update={"base_url": simulator.base_url})
        sync_province(app.sessions(), portal, "H44", Period.parse("2026-08"), today)


def test_a_status_of_a_running_month_says_its_figures_are_provisional_and_as_of_when(app, telegram):
    synced(app, dt.date(2026, 8, 20))  # August is still running: read on the 20th
    dispatch(app, telegram, telegram.push_message(int(LAN.address), "/status"))
    [text] = telegram.sent_texts(LAN.address)
    assert "Tháng 8/2026, tạm tính đến ngày 20/8/2026: 64,08/100 điểm" in text


def test_the_status_of_a_province_counts_its_units_and_open_alerts(app, telegram):
    synced(app)
    sent_alert(app, telegram)
    dispatch(app, telegram, telegram.push_message(int(OFFICE.address), "/status"), WHOLE)
    [text] = telegram.sent_texts(OFFICE.address)
    assert "không có số liệu" not in text
    assert text.startswith("<b>UBND tỉnh Phú Thọ</b> (H44)\nTháng 8/2026: ")
    assert "• 1 đơn vị có hồ sơ quá hạn" in text and "/status H44." in text


def test_a_status_of_many_units_comes_in_parts_each_whole_and_within_the_limit(app, telegram):
    synced(app)
    with app.sessions()() as session:
        rows = score_rows(session, app.schemes, NATIONAL, Period.parse("2026-08"), parent="H44")
    many = Person(
        "many",
        "Nhiều",
        "",
        frozenset(r["unit_code"] for r in rows),
        frozenset(),
        "telegram",
        "100000011",
    )
    dispatch(app, telegram, telegram.push_message(100000011, "/status"), Directory((many,)))
    replies = [c for c in telegram.calls("sendMessage") if c.chat_id == "100000011"]
    assert len(replies) > 1 and {c.status for c in replies} == {200}
    texts = [c.params["text"] for c in replies]
    assert all(len(t.encode("utf-16-le")) // 2 <= 4096 and t.startswith("<b>") for t in texts)
    assert sum(t.count("/100 điểm") for t in texts) == len(rows)


def test_a_bare_status_of_a_person_of_every_unit_asks_for_a_code(app):
    synced(app)
    with app.sessions()() as session:
        text = status_reply(
            session, app.schemes, Coverage(frozenset({"*"})), None, Period.parse("2026-08")
        )
    assert text == EVERY_UNIT


def test_any_other_command_or_a_private_text_is_answered_with_the_help(app, telegram):
    for text in ("/foo", "xin chào"):
        dispatch(app, telegram, telegram.push_message(int(LAN.address), text))
    assert telegram.sent_texts(LAN.address) == [HELP, HELP]


def test_in_a_group_only_a_command_addressed_to_this_bot_gets_the_help(app, telegram):
    """A group holds other bots and people talking: an unknown command of theirs, or
    their text, is not answered; `/lenh@<this bot>` is."""
    group = int(ONE_STOP.address)
    for text in ("/foo", "/foo@other_bot", "/status@other_bot", "xin chào", "/start@other_bot"):
        dispatch(app, telegram, telegram.push_message(group, text), WHOLE)
    assert telegram.sent_texts(ONE_STOP.address) == []
    dispatch(app, telegram, telegram.push_message(group, "/foo@DVCWatch_Test_Bot"), WHOLE)
    dispatch(app, telegram, telegram.push_message(group, "/help"), WHOLE)
    assert telegram.sent_texts(ONE_STOP.address) == [HELP, HELP]


@pytest.mark.parametrize(
    ("text", "username", "addressed"),
    [
        ("/foo@bot_a extra words", "bot_a", True),
        ("/foo@BOT_A", "bot_a", True),
        ("/foo", "bot_a", False),
        ("/foo@bot_b", "bot_a", False),
        ("/foo@", "bot_a", False),
        ("", "bot_a", False),
        ("   ", "bot_a", False),
        (None, "bot_a", False),
        ("/foo@bot_a", None, False),
    ],
)
def test_a_command_is_addressed_to_the_bot_it_names(text, username, addressed):
    assert addressed_to(text, username) is addressed


def acknowledged_by(app, alert_id: int) -> str | None:
    with app.sessions()() as session:
        return session.get_one(Alert, alert_id).acknowledged_by


def test_status_refuses_a_unit_the_person_does_not_cover(app, telegram):
    synced(app)
    dispatch(app, telegram, telegram.push_message(int(LAN.address), "/status H44.100"), WHOLE)
    [reply] = telegram.sent_texts(LAN.address)
    assert "không phụ trách đơn vị H44.100" in reply and "điểm" not in reply
    dispatch(app, telegram, telegram.push_message(int(HOA.address), "/status H44.100"), WHOLE)
    assert "UBND phường Việt Trì" in telegram.sent_texts(HOA.address)[-1]


def test_status_of_an_unknown_or_hostile_code_is_a_refusal(app, telegram):
    synced(app)
    for code in ("H99.1", "<b>x</b>", "H44.116'--"):
        dispatch(app, telegram, telegram.push_message(int(LAN.address), f"/status {code}"), WHOLE)
    replies = telegram.sent_texts(LAN.address)
    assert len(replies) == 3 and all("không phụ trách" in reply for reply in replies)
    assert "&lt;b&gt;x&lt;/b&gt;" in replies[1]


def test_the_province_office_and_operators_see_every_unit_of_their_province(app, telegram):
    synced(app)
    for person in (OFFICE, OPERATOR):
        update = telegram.push_message(int(person.address), "/status H44.100")
        dispatch(app, telegram, update, WHOLE, provinces=("H44",))
        assert "UBND phường Việt Trì" in telegram.sent_texts(person.address)[-1]
    dispatch(app, telegram, telegram.push_message(int(OFFICE.address), "/status"), WHOLE)
    assert "không phụ trách" not in telegram.sent_texts(OFFICE.address)[-1]
    update = telegram.push_message(int(OPERATOR.address), "/status H44.100")
    dispatch(app, telegram, update, WHOLE, provinces=("H01",))  # another province's operator
    assert "không phụ trách đơn vị H44.100" in telegram.sent_texts(OPERATOR.address)[-1]


def test_in_a_group_only_a_member_listed_for_the_unit_can_acknowledge(app, telegram):
    alert_id, message_id = sent_alert(app, telegram, to=ONE_STOP)
    group = int(ONE_STOP.address)
    for user in (STRANGER, int(HOA.address)):  # unknown; listed, but for another unit
        update = telegram.push_callback_query(
            group, int(message_id), f"ack:{alert_id}", user_id=user
        )
        dispatch(app, telegram, update, WHOLE)
    assert acknowledged_by(app, alert_id) is None
    refusals = [call.params["text"] for call in telegram.calls("answerCallbackQuery")]
    assert len(refusals) == 2 and all("chỉ người được phân công" in text for text in refusals)
    assert telegram.calls("editMessageText") == []
    update = telegram.push_callback_query(
        group, int(message_id), f"ack:{alert_id}", user_id=int(LAN.address)
    )
    dispatch(app, telegram, update, WHOLE)
    assert acknowledged_by(app, alert_id) == "Nguyễn Thị Lan"
    assert "Đã tiếp nhận bởi Nguyễn Thị Lan" in telegram.message(group, message_id)["text"]


def test_a_private_recipient_cannot_acknowledge_for_another_chat(app, telegram):
    alert_id, message_id = sent_alert(app, telegram, to=LAN)
    update = telegram.push_callback_query(
        int(HOA.address), int(message_id), f"ack:{alert_id}", user_id=int(HOA.address)
    )
    dispatch(app, telegram, update, WHOLE)
    assert acknowledged_by(app, alert_id) is None


@pytest.mark.parametrize(
    "data",
    ["ack:" + "9" * 23, "ack:", "ack:0", "ack:-1", "ack:١٢", "garbage", "", "ack:12abc"],
    ids=["23-digit", "no-id", "zero", "negative", "arabic-digits", "garbage", "empty", "suffix"],
)
def test_a_malformed_press_is_answered_with_a_polite_refusal(app, telegram, data, caplog):
    _, message_id = sent_alert(app, telegram)
    update = telegram.push_callback_query(int(LAN.address), int(message_id), data)
    dispatch(app, telegram, update)
    [answer] = telegram.calls("answerCallbackQuery")
    assert (
        answer.params["text"]
        == "Xin lỗi, nút này không hợp lệ. Hãy nhấn «Đã tiếp nhận» dưới tin cảnh báo."
    )
    assert [r for r in caplog.records if r.levelname in ("ERROR", "CRITICAL")] == []


def test_a_status_scores_the_sets_of_the_units_asked_for_alone(three_provinces, app, sets_read):
    """/status of a person with a commune in two provinces reads those two sets, each
    alone, and gives each unit the rank the country's analysis gives it."""
    august = Period.parse("2026-08")
    with three_provinces() as session:
        first, third = first_commune(session, "H01"), first_commune(session, "H03")
        country = {r["unit_code"]: r for r in score_rows(session, app.schemes, NATIONAL, august)}
        sets_read.clear()
        view = Coverage(units=frozenset({first, third}))
        reply = status_reply(session, app.schemes, view, None, august)
    assert sorted(map(sorted, sets_read)) == [["H01"], ["H01"], ["H03"], ["H03"]]
    for code in (first, third):
        row = country[code]
        assert f"({code})" in reply
        assert f"xếp hạng {row['rank']:02d}/{row['rank_of']}" in reply


def test_a_refused_start_is_one_line_never_the_token_in_any_letter_case(app, telegram):
    """A Bot API that refuses deleteWebhook (polling's first call) quoting the request's
    path, which python-telegram-bot lower-cases: one line, the token scrubbed."""
    path = f"/bot{DEFAULT_TOKEN}/deleteWebhook"
    telegram.fail(
        "deleteWebhook", "bad_request", description=f"Bad Request: chat not found at {path}"
    )

    async def go() -> str:
        application = build_application(
            DEFAULT_TOKEN, telegram.base_url, app.sessions(), DIRECTORY, app.schemes
        )
        with pytest.raises(BotUnavailable) as refused:
            await start_polling(application, "DVCWATCH_TELEGRAM_TOKEN")
        assert not application.running
        return str(refused.value)

    said = asyncio.run(go())
    assert said.startswith("the Telegram Bot API refused to start the bot: ")
    assert DEFAULT_TOKEN.split(":")[1].lower() not in said.lower() and "<token>" in said
    assert "\n" not in said
