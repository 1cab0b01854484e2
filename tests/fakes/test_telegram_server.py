"""The fake Bot API over real HTTP: bodies, strictness, injected failures, updates that
python-telegram-bot reads, long polling, rate limits, and recording under threads."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import threading
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, MessageEntity, Update
from telegram.ext import ApplicationBuilder, CallbackQueryHandler, CommandHandler

from tests.fakes.telegram_server import DEFAULT_TOKEN, FakeTelegram
from tests.waiting import until, wait_until

KEYBOARD = {"inline_keyboard": [[{"text": "Đã tiếp nhận", "callback_data": "ack:7"}]]}


@pytest.fixture
def telegram() -> Iterator[FakeTelegram]:
    with FakeTelegram() as fake:
        yield fake


def api(fake: FakeTelegram, method: str, token: str | None = None, **body: Any) -> Any:
    """The decoded answer to a Bot API request (body as `json=`, `data=` or `files=`)."""
    url = f"{fake.base_url}{token or fake.token}/{method}"
    timeout = body.pop("timeout", 5)
    return requests.post(url, timeout=timeout, **body).json()


def test_getme_answers_with_the_bot_user(telegram):
    answer = api(telegram, "getMe")
    assert answer["ok"] is True and answer["result"]["is_bot"] is True
    assert answer["result"]["id"] == int(telegram.token.split(":")[0])


def test_json_form_and_multipart_bodies_are_all_read(telegram):
    api(telegram, "sendMessage", json={"chat_id": 7, "text": "json", "reply_markup": KEYBOARD})
    api(telegram, "sendMessage", data={"chat_id": "7", "text": "form"})
    content = b"\x00\x01\r\n--not-a-boundary\r\n\xff"
    files = {"document": ("Báo cáo.docx", content, "application/octet-stream")}
    api(telegram, "sendDocument", data={"chat_id": "7", "caption": "tệp"}, files=files)
    first, second, third = telegram.calls()
    assert first.params == {"chat_id": 7, "text": "json", "reply_markup": KEYBOARD}
    assert second.params == {"chat_id": "7", "text": "form"}
    assert third.params == {"chat_id": "7", "caption": "tệp"}
    assert third.files["document"].content == content
    assert third.files["document"].filename == "Báo cáo.docx"
    assert telegram.sent_texts(7) == ["json", "form"]


def test_a_wrong_token_is_unauthorized_and_an_unknown_method_not_found(telegram):
    assert api(telegram, "getMe", token="1:wrong") == {
        "ok": False,
        "error_code": 401,
        "description": "Unauthorized",
    }
    assert api(telegram, "sendTelepathy")["error_code"] == 404


@pytest.mark.parametrize(
    "text",
    ["<blink>x</blink>", "a < b", "<b>không đóng", "<b><i>x</b></i>", "&nbsp;", "a & b"],
)
def test_html_telegram_would_refuse_is_refused(telegram, text):
    answer = api(telegram, "sendMessage", json={"chat_id": 7, "text": text, "parse_mode": "HTML"})
    assert answer["error_code"] == 400 and "can't parse entities" in answer["description"]


def test_texts_over_telegrams_limits_are_refused(telegram):
    long_text = {"chat_id": 7, "text": "đ" * 4097}
    assert api(telegram, "sendMessage", json=long_text)["description"].endswith("too long")
    assert api(telegram, "sendMessage", json={"chat_id": 7, "text": "đ" * 4096})["ok"]
    markup_only = {"chat_id": 7, "text": "<b> </b>", "parse_mode": "HTML"}
    assert "empty" in api(telegram, "sendMessage", json=markup_only)["description"]


def test_failures_apply_to_their_method_and_chat_as_many_times_as_asked(telegram):
    telegram.fail("sendMessage", "blocked", chat_id=1, times=2)
    codes = [
        api(telegram, "sendMessage", json={"chat_id": chat, "text": "x"}).get("error_code", 200)
        for chat in (2, 1, 1, 1)
    ]
    assert codes == [200, 403, 403, 200]
    assert api(telegram, "getMe")["ok"]


def test_a_429_carries_retry_after_and_a_migration_the_new_id(telegram):
    telegram.fail("*", "retry_after", retry_after=9)
    telegram.fail("sendMessage", "migrated", chat_id=-55)
    assert api(telegram, "getMe")["parameters"] == {"retry_after": 9}
    migrated = api(telegram, "sendMessage", json={"chat_id": -55, "text": "x"})
    assert migrated["parameters"] == {"migrate_to_chat_id": -10055}


def test_a_failure_without_a_count_lasts_until_cleared(telegram):
    telegram.fail("sendMessage", "server_error", times=None)
    for _ in range(3):
        assert api(telegram, "sendMessage", json={"chat_id": 1, "text": "x"})["error_code"] == 500
    telegram.clear_failures()
    assert api(telegram, "sendMessage", json={"chat_id": 1, "text": "x"})["ok"]


def test_a_held_answer_times_out_but_still_delivers(telegram):
    telegram.fail("sendMessage", "hold")
    with pytest.raises(requests.Timeout):
        api(telegram, "sendMessage", json={"chat_id": 3, "text": "trễ"}, timeout=0.1)
    assert telegram.sent_texts(3) == []  # held: not yet done
    telegram.release()
    assert wait_until(lambda: telegram.sent_texts(3), "the held message to be done") == ["trễ"]


def test_an_edit_of_a_missing_or_unchanged_message_is_refused(telegram):
    sent = api(telegram, "sendMessage", json={"chat_id": 5, "text": "a", "reply_markup": KEYBOARD})
    edit = {"chat_id": 5, "message_id": sent["result"]["message_id"], "text": "a"}
    assert (
        "message to edit not found"
        in api(telegram, "editMessageText", json=edit | {"message_id": 999})["description"]
    )
    assert (
        "not modified"
        in api(telegram, "editMessageText", json=edit | {"reply_markup": KEYBOARD})["description"]
    )
    assert api(telegram, "editMessageText", json=edit)["result"].get("reply_markup") is None
    malformed = api(telegram, "editMessageText", json=edit | {"message_id": "một"})
    assert malformed["error_code"] == 400


def test_python_telegram_bot_reads_pushed_commands_and_button_presses(telegram):
    sent = api(telegram, "sendMessage", json={"chat_id": 42, "text": "x", "reply_markup": KEYBOARD})
    telegram.push_message(42, "/status H21.227")
    press = telegram.push_callback_query(42, sent["result"]["message_id"], "ack:7")

    async def read() -> tuple[Any, ...]:
        async with Bot(telegram.token, base_url=telegram.base_url) as bot:
            updates = await bot.get_updates()
            confirmed = await bot.get_updates(offset=updates[-1].update_id + 1)
            return updates, confirmed

    (command, button), confirmed = asyncio.run(read())
    assert command.message.text == "/status H21.227" and command.effective_chat.id == 42
    assert command.message.entities[0].type == MessageEntity.BOT_COMMAND
    assert button.callback_query.data == "ack:7"
    assert button.callback_query.id == press["callback_query"]["id"]
    assert button.callback_query.message.message_id == sent["result"]["message_id"]
    assert confirmed == ()


def test_get_updates_long_polls_until_an_update_arrives(telegram):
    answers: list[Any] = []
    body = {"json": {"timeout": 600}, "timeout": 700}
    poll = threading.Thread(target=lambda: answers.append(api(telegram, "getUpdates", **body)))
    poll.start()
    wait_until(lambda: telegram.calls("getUpdates"), "the long poll to reach the fake")
    assert poll.is_alive() and answers == []  # nothing to answer yet: it waits
    telegram.push_message(42, "/start")
    poll.join()
    assert answers[0]["result"][0]["message"]["text"] == "/start"


def test_stopping_wakes_a_long_poll():
    """A poll that would wait ten minutes ends when the fake stops."""
    fake = FakeTelegram().start()
    url = f"{fake.base_url}{fake.token}/getUpdates"
    answers: list[requests.Response] = []
    poll = threading.Thread(
        target=lambda: answers.append(requests.post(url, json={"timeout": 600}, timeout=700))
    )
    poll.start()
    wait_until(lambda: fake.calls("getUpdates"), "the long poll to reach the fake")
    fake.stop()
    wait_until(lambda: not poll.is_alive(), "the poll to end with the fake")
    assert answers[0].json() == {"ok": True, "result": []}


class SteppedClock:
    """Seconds that move only when the test moves them."""

    def __init__(self) -> None:
        self.now = 500.0

    def __call__(self) -> float:
        return self.now


def test_enforced_limits_answer_429_past_telegrams_rates_on_the_given_clock():
    clock = SteppedClock()
    with FakeTelegram(enforce_limits=True, slack=0, clock=clock) as fake:
        send = lambda chat: api(fake, "sendMessage", json={"chat_id": chat, "text": "x"})  # noqa: E731
        one_chat = [send(9), send(9)]
        assert one_chat[0]["ok"] and one_chat[1]["parameters"]["retry_after"] >= 1
        clock.now += 1.0
        assert send(9)["ok"]  # a second later the chat may have the next one
        clock.now += 1.0
        codes = [send(100 + n).get("error_code") for n in range(31)]
        assert codes[:30] == [None] * 30 and codes[30] == 429  # 30 a second overall
        clock.now += 1.0
        assert send(200)["ok"]
        group = [send(-300).get("error_code") for _ in range(21)]
    assert group[:20] == [None] * 20 and group[20] == 429  # 20 a minute to a group


@pytest.mark.parametrize(
    ("keyboard", "refusal"),
    [
        ([[{"text": f"b{n}", "callback_data": f"d{n}"}] for n in range(101)], "too many"),
        ([[{"text": f"b{n}", "callback_data": f"d{n}"} for n in range(9)]], "in a row"),
        ([[{"text": "Đ" * 60, "callback_data": f"ack:{n}"}] for n in range(30)], "too long"),
    ],
)
def test_keyboards_over_telegrams_limits_are_refused(telegram, keyboard, refusal):
    markup = {"inline_keyboard": keyboard}
    answer = api(telegram, "sendMessage", json={"chat_id": 7, "text": "x", "reply_markup": markup})
    assert answer["error_code"] == 400 and refusal in answer["description"]
    fits = {"inline_keyboard": keyboard[:8] if len(keyboard) > 1 else [keyboard[0][:8]]}
    assert api(telegram, "sendMessage", json={"chat_id": 7, "text": "x", "reply_markup": fits})[
        "ok"
    ]
    assert telegram.sent_texts(7) == ["x"]


def test_the_length_limit_counts_the_visible_text_not_the_markup(telegram):
    html = "<b>" + "&lt;" * 4096 + "</b>"  # 4,096 characters once parsed
    body = {"chat_id": 7, "text": html, "parse_mode": "HTML"}
    assert api(telegram, "sendMessage", json=body)["ok"]
    body["text"] = "<b>" + "&lt;" * 4097 + "</b>"
    assert api(telegram, "sendMessage", json=body)["description"].endswith("too long")


def test_a_caption_over_1024_characters_is_refused(telegram):
    files = {"document": ("a.pdf", b"%PDF", "application/pdf")}
    long_caption = api(
        telegram, "sendDocument", data={"chat_id": "7", "caption": "đ" * 1025}, files=files
    )
    assert long_caption["description"] == "Bad Request: message caption is too long"
    assert api(telegram, "sendDocument", data={"chat_id": "7", "caption": "đ" * 1024}, files=files)[
        "ok"
    ]


def test_a_reset_delivers_then_drops_the_connection_and_a_proxy_answers_html(telegram):
    telegram.fail("sendMessage", "reset")
    with pytest.raises(requests.ConnectionError):
        api(telegram, "sendMessage", json={"chat_id": 3, "text": "mất"})
    assert [call.status for call in telegram.calls("sendMessage")] == [200]
    telegram.fail("sendMessage", "proxy_error")
    url = f"{telegram.base_url}{telegram.token}/sendMessage"
    answer = requests.post(url, json={"chat_id": 3, "text": "x"}, timeout=5)
    assert answer.status_code == 502 and answer.text.startswith("<html>")
    assert telegram.message(3, 1) is not None and telegram.message(3, 2) is None


def test_each_request_is_shown_to_on_request_before_it_is_answered():
    seen: list[tuple[str, int | None]] = []
    fake = FakeTelegram(on_request=lambda call: seen.append((call.method, call.status)))
    with fake:
        api(fake, "sendMessage", json={"chat_id": 3, "text": "x"})
    assert seen == [("sendMessage", None)]


def test_in_a_process_of_its_own_it_serves_and_lists_its_calls():
    command = [sys.executable, "-m", "tests.fakes.telegram_server", "--enforce-limits"]
    server = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert server.stdout is not None
        base_url = server.stdout.readline().strip()
        answer = requests.post(
            f"{base_url}{DEFAULT_TOKEN}/sendMessage",
            json={"chat_id": 4, "text": "ở xa"},
            timeout=10,
        )
        assert answer.json()["ok"]
        origin = base_url.removesuffix("/bot")
        calls = requests.get(f"{origin}/fake/calls", timeout=10).json()["calls"]
        assert calls == [{"method": "sendMessage", "chat_id": "4", "status": 200, "text": "ở xa"}]
    finally:
        server.terminate()
        server.wait(timeout=10)
    assert server.returncode == 0


def test_calls_from_many_threads_are_all_recorded_with_distinct_message_ids(telegram):
    ids: list[int] = []

    def send(chat: int) -> None:
        for n in range(5):
            sent = api(telegram, "sendMessage", json={"chat_id": chat, "text": f"tin {n}"})
            ids.append(sent["result"]["message_id"])

    threads = [threading.Thread(target=send, args=(chat,)) for chat in range(1, 7)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(telegram.calls("sendMessage")) == 30 and len(set(ids)) == 30
    assert all(telegram.sent_texts(chat) == [f"tin {n}" for n in range(5)] for chat in range(1, 7))


def test_a_polling_application_answers_a_command_and_a_button_press(telegram):
    async def start(update: Update, context: Any) -> None:
        assert update.message is not None and update.effective_chat is not None
        await update.message.reply_text(f"Mã trò chuyện: {update.effective_chat.id}")

    async def acknowledge(update: Update, context: Any) -> None:
        query = update.callback_query
        assert query is not None
        await query.answer("Đã ghi nhận")
        await query.edit_message_text(f"Đã tiếp nhận bởi {query.from_user.first_name}")

    async def converse() -> int:
        application = ApplicationBuilder().token(telegram.token).base_url(telegram.base_url).build()
        application.add_handler(CommandHandler("start", start))
        application.add_handler(CallbackQueryHandler(acknowledge))
        button = InlineKeyboardButton("Đã tiếp nhận", callback_data="ack:7")
        async with application:
            markup = InlineKeyboardMarkup([[button]])
            alert = await application.bot.send_message(42, "Cảnh báo", reply_markup=markup)
            await application.start()
            assert application.updater is not None
            await application.updater.start_polling(poll_interval=0.0, timeout=1)
            telegram.push_message(42, "/start", first_name="Lan")
            telegram.push_callback_query(42, alert.message_id, "ack:7", first_name="Lan")
            await until(lambda: telegram.calls("editMessageText"), "the button press handled")
            await application.updater.stop()
            await application.stop()
        return alert.message_id

    alert_id = asyncio.run(converse())
    assert telegram.sent_texts(42) == ["Cảnh báo", "Mã trò chuyện: 42"]
    assert telegram.calls("answerCallbackQuery")[0].params["text"] == "Đã ghi nhận"
    shown = telegram.message(42, alert_id)
    assert shown is not None and shown["text"] == "Đã tiếp nhận bởi Lan"
    assert "reply_markup" not in shown
