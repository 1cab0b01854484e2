"""A fake Telegram Bot API server on 127.0.0.1, for tests that drive the real
python-telegram-bot (or any HTTP client) without touching api.telegram.org.

It answers `POST` (or `GET`) `/bot<token>/<method>` with JSON, form or multipart bodies
as Telegram does: `{"ok": true, "result": …}` with Message, User and Chat objects
python-telegram-bot can read, or `{"ok": false, "error_code": …, "description": …}`.
It is strict where Telegram is: HTML that Telegram would refuse (an unknown tag, a bare
"<" or "&", an unclosed tag), a text over 4,096 UTF-16 units or a caption over 1,024,
an edit to a missing or unchanged message, and a wrong token all get Telegram's errors.

    with FakeTelegram() as telegram:
        bot = Bot(telegram.token, base_url=telegram.base_url)
        telegram.fail("sendMessage", "blocked", chat_id=42)
        ...
        assert telegram.sent_texts(7) == ["<b>Xin chào</b>"]

Every request is recorded in arrival order (`calls`), and `on_request` (if given) is
called with each one, in the server's thread, before it is answered: a test can act at
an exact request (kill the sender in the middle of it). Failures are injected per
method and chat (`fail`); a "delay" answers late, and still delivers, as a timed-out
request to Telegram may; a "hold" does the same when the test says (`release`), so a
client's timeout never races the fake's delay; a "reset" delivers and then drops the
connection without an answer; a "proxy_error" is a 502 HTML page from something in
front of the API.
`push_message` and `push_callback_query` queue updates for getUpdates, which
long-polls like Telegram, so a polling python-telegram-bot Application works against
it. `visible_text` is its HTML parser on its own, for checking markup in tests.

Keyboards are held to Telegram's limits: at most 100 inline buttons, 8 in a row, and
a reply_markup of at most 10 KB as JSON. With `enforce_limits`, sends beyond
Telegram's rates (30 a second overall, 1 a second per private chat, 20 a minute per
group, each window shortened by `slack` to allow for network jitter) get 429 with
`retry_after`. The rates are kept on `clock` (time.monotonic unless a test gives its
own), so a test that drives the sender's clock drives the server's too.

`python -m tests.fakes.telegram_server [--enforce-limits]` runs it in a process of its
own: it prints its base URL, serves until stopped, and answers `GET /fake/calls` with
every request recorded (method, chat, status, text).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import signal
import sys
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, replace
from html.parser import HTMLParser
from http.server import BaseHTTPRequestHandler
from types import TracebackType
from typing import Any, Literal
from urllib.parse import parse_qsl, urlsplit

from service.loopback_http import LoopbackServer

DEFAULT_TOKEN = "123456789:AAFakeTokenForDvcwatchTests_0123456789"
FailureKind = Literal[
    "retry_after",
    "blocked",
    "kicked",
    "deactivated",
    "chat_not_found",
    "migrated",
    "bad_request",
    "server_error",
    "bad_gateway",
    "delay",
    "hold",
    "reset",
    "proxy_error",
]
MAX_BUTTONS, MAX_BUTTONS_PER_ROW, MAX_MARKUP_BYTES = 100, 8, 10 * 1024
PROXY_PAGE = b"<html><body><h1>502 Bad Gateway</h1></body></html>"
_FAILURES: dict[str, tuple[int, str]] = {
    "retry_after": (429, "Too Many Requests: retry after {retry_after}"),
    "blocked": (403, "Forbidden: bot was blocked by the user"),
    "kicked": (403, "Forbidden: bot was kicked from the group chat"),
    "deactivated": (403, "Forbidden: user is deactivated"),
    "chat_not_found": (400, "Bad Request: chat not found"),
    "migrated": (400, "Bad Request: group chat was upgraded to a supergroup chat"),
    "bad_request": (400, "Bad Request: {description}"),
    "server_error": (500, "Internal Server Error"),
    "bad_gateway": (502, "Bad Gateway"),
}
# Methods that only answer true here; the rest of the API is answered by `_api_*`.
_TRUE_METHODS = {
    "answercallbackquery",
    "setwebhook",
    "setmycommands",
    "deletemycommands",
    "sendchataction",
    "deletemessage",
    "close",
    "logout",
}
NOT_MODIFIED = (
    "Bad Request: message is not modified: specified new message content and reply markup "
    "are exactly the same as a current content and reply markup of the message"
)
# Object-valued parameters: JSON inside a form field.
_JSON_FIELDS = {
    "reply_markup",
    "entities",
    "caption_entities",
    "link_preview_options",
    "allowed_updates",
    "reply_parameters",
    "commands",
    "scope",
    "media",
}


Params = dict[str, Any]


@dataclass(frozen=True)
class UploadedFile:
    """A file part of a multipart request."""

    filename: str
    content: bytes
    content_type: str


@dataclass(frozen=True)
class Call:
    """One request: the method as written in the path, its parameters (form values are
    strings, except JSON fields such as reply_markup, which are decoded), its files, when
    it arrived (time.monotonic) and the HTTP status answered (None while in progress)."""

    method: str
    params: dict[str, Any]
    files: dict[str, UploadedFile]
    received_at: float
    status: int | None = None

    @property
    def chat_id(self) -> str | None:
        value = self.params.get("chat_id")
        return None if value is None else str(value)


@dataclass(frozen=True)
class Reply:
    """An HTTP status and the JSON body to answer with; `raw` replaces the JSON (an
    HTML page), and `drop` closes the connection without answering at all."""

    status: int
    body: dict[str, Any]
    raw: bytes | None = None
    drop: bool = False


Files = dict[str, UploadedFile]


class ApiError(Exception):
    """An answer with ok=false."""

    def __init__(self, status: int, description: str, parameters: dict[str, Any] | None = None):
        super().__init__(description)
        self.status, self.description, self.parameters = status, description, parameters


@dataclass
class _Failure:
    method: str  # lower case, or "*" for any
    kind: str
    chat_id: str | None
    remaining: int | None  # None: until cleared
    skip: int  # matching calls still to let through first
    retry_after: int
    seconds: float
    migrate_to: int | None
    description: str

    def matches(self, method: str, chat_id: str | None) -> bool:
        return self.method in ("*", method) and self.chat_id in (None, chat_id)

    def error(self) -> ApiError:
        status, text = _FAILURES[self.kind]
        description = text.format(retry_after=self.retry_after, description=self.description)
        if self.kind == "retry_after":
            return ApiError(status, description, {"retry_after": self.retry_after})
        if self.kind == "migrated":
            default = int(f"-100{str(self.chat_id or '-1').lstrip('-')}")
            return ApiError(status, description, {"migrate_to_chat_id": self.migrate_to or default})
        return ApiError(status, description)


class FakeTelegram:
    """The fake Bot API for `token`; start it (or use `with`) before use."""

    def __init__(
        self,
        token: str = DEFAULT_TOKEN,
        *,
        enforce_limits: bool = False,
        slack: float = 0.05,
        clock: Callable[[], float] = time.monotonic,
        on_request: Callable[[Call], None] | None = None,
    ) -> None:
        self.token = token
        self.enforce_limits, self.slack, self.clock = enforce_limits, slack, clock
        self.on_request = on_request
        bot_id = int(token.split(":")[0]) if token.split(":")[0].isdigit() else 1
        self.bot_user = {
            "id": bot_id,
            "is_bot": True,
            "first_name": "dvcwatch",
            "username": "dvcwatch_test_bot",
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
        }
        self._state = threading.Condition()
        self._stopping = threading.Event()
        self._releases = 0  # `release()` calls: a held answer goes at the next one
        self._calls: list[Call] = []
        self._failures: list[_Failure] = []
        self._messages: dict[tuple[str, int], dict[str, Any]] = {}
        self._sources: dict[tuple[str, int], str] = {}  # the HTML each message was made from
        self._updates: list[dict[str, Any]] = []
        self._next_message_id = self._next_update_id = 1
        self._sent_at: dict[str, deque[float]] = {}
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> FakeTelegram:
        if self._server is not None:
            raise RuntimeError("the fake Telegram is already running")
        self._stopping.clear()
        self._server = _Server(("127.0.0.1", 0), self)
        self._thread = threading.Thread(
            target=self._server.serve_forever, args=(0.05,), name="fake-telegram", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving; wakes long polls and delayed answers. Idempotent."""
        if self._server is None:
            return
        self._stopping.set()
        with self._state:
            self._state.notify_all()
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join()
        self._server = self._thread = None

    def __enter__(self) -> FakeTelegram:
        return self.start()

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        """What to give python-telegram-bot as `base_url` (it appends the token)."""
        return f"{self._origin()}/bot"

    @property
    def base_file_url(self) -> str:
        return f"{self._origin()}/file/bot"

    def calls(self, method: str | None = None) -> list[Call]:
        """Recorded requests in arrival order, all or those of `method` (any case)."""
        with self._state:
            return [c for c in self._calls if method is None or c.method.lower() == method.lower()]

    def sent_texts(self, chat_id: int | str) -> list[str]:
        """The HTML of every message sent to `chat_id` successfully, in order."""
        return [
            c.params["text"]
            for c in self.calls("sendMessage")
            if c.chat_id == str(chat_id) and c.status == 200
        ]

    def summary(self) -> list[dict[str, Any]]:
        """Every request as plain data: method, chat id, HTTP status, text (or caption)."""
        return [
            {
                "method": c.method,
                "chat_id": c.chat_id,
                "status": c.status,
                "text": c.params.get("text", c.params.get("caption")),
            }
            for c in self.calls()
        ]

    def message(self, chat_id: int | str, message_id: int | str) -> dict[str, Any] | None:
        """A message the bot sent, as it stands now (after edits), as a Bot API object."""
        with self._state:
            return self._messages.get((str(chat_id), int(message_id)))

    def fail(
        self,
        method: str,
        kind: FailureKind,
        *,
        chat_id: int | str | None = None,
        times: int | None = 1,
        retry_after: int = 3,
        seconds: float = 1.0,
        migrate_to: int | None = None,
        description: str = "message can't be sent",
        after: int = 0,
    ) -> None:
        """The next `times` calls (None: all, until `clear_failures`) of `method` ("*" for
        any) to `chat_id` (None for any chat) fail with `kind`: "retry_after" (429 with
        `retry_after`), "blocked", "kicked", "deactivated" (403), "chat_not_found",
        "migrated" (400 with `migrate_to`, default -100 followed by the old id's
        digits), "bad_request" (400 with `description`), "server_error" (500),
        "bad_gateway" (502, the API's JSON); "delay": answer normally after `seconds`;
        "hold": answer normally once the test calls `release` (or the fake stops);
        "reset": deliver, then drop the connection unanswered; "proxy_error": a 502 HTML
        page, nothing delivered. The first
        `after` matching calls go through untouched (to fail the second part of a split
        message, say)."""
        if kind not in ("delay", "hold", "reset", "proxy_error") and kind not in _FAILURES:
            raise ValueError(f"unknown failure kind {kind!r}")
        failure = _Failure(
            method.lower(),
            kind,
            None if chat_id is None else str(chat_id),
            times,
            after,
            retry_after,
            seconds,
            migrate_to,
            description,
        )
        with self._state:
            self._failures.append(failure)

    def clear_failures(self) -> None:
        with self._state:
            self._failures.clear()

    def release(self) -> None:
        """Let every answer a "hold" failure is holding go."""
        with self._state:
            self._releases += 1
            self._state.notify_all()

    def push_update(self, update: dict[str, Any]) -> dict[str, Any]:
        """Queue `update` for getUpdates, numbering it if it has no update_id."""
        with self._state:
            queued = {"update_id": self._next_update_id, **update}
            self._next_update_id = max(self._next_update_id, queued["update_id"]) + 1
            self._updates.append(queued)
            self._state.notify_all()
        return queued

    def push_message(
        self, chat_id: int, text: str, *, user_id: int | None = None, first_name: str = "Lan"
    ) -> dict[str, Any]:
        """Queue a person's text message in `chat_id` (a command gets its bot_command
        entity, as python-telegram-bot's CommandHandler requires). The sender is
        `user_id`, by default the chat itself for a private chat or 1001 in a group."""
        message = self._incoming(chat_id, user_id, first_name)
        message["text"] = text
        if text.startswith("/"):
            command = text.split(maxsplit=1)[0]
            message["entities"] = [
                {
                    "type": "bot_command",
                    "offset": 0,
                    "length": len(command.encode("utf-16-le")) // 2,
                }
            ]
        return self.push_update({"message": message})

    def push_callback_query(
        self,
        chat_id: int,
        message_id: int,
        data: str,
        *,
        user_id: int | None = None,
        first_name: str = "Lan",
    ) -> dict[str, Any]:
        """Queue a press of a button with `data` under the bot's message `message_id`;
        the query's id is `update["callback_query"]["id"]`."""
        sender = self._incoming(chat_id, user_id, first_name)
        with self._state:
            query_id = f"cbq-{self._next_update_id}"
            stored = self._messages.get((str(chat_id), message_id))
        message = stored or {
            "message_id": message_id,
            "date": sender["date"],
            "chat": sender["chat"],
            "text": "",
        }
        query = {
            "id": query_id,
            "from": sender["from"],
            "message": message,
            "chat_instance": f"instance{chat_id}",
            "data": data,
        }
        return self.push_update({"callback_query": query})

    def answer(self, path: str, params: Params, files: Files) -> Reply:
        """The reply to one Bot API request (called by the HTTP handler)."""
        token, _, method = path.removeprefix("/bot").partition("/")
        call = Call(method, params, files, self.clock())
        with self._state:
            self._calls.append(call)
            index = len(self._calls) - 1
        if self.on_request is not None:
            self.on_request(call)
        try:
            if token != self.token:
                raise ApiError(401, "Unauthorized")
            try:
                result = self._perform(method.lower(), params, files)
            except (KeyError, TypeError, ValueError) as error:  # a parameter missing or malformed
                raise ApiError(400, f"Bad Request: {error!r}") from error
            reply = Reply(200, {"ok": True, "result": result})
        except _Broken as broken:
            reply = broken.reply
        except ApiError as error:
            body = {"ok": False, "error_code": error.status, "description": error.description}
            reply = Reply(
                error.status, body | ({"parameters": error.parameters} if error.parameters else {})
            )
        with self._state:
            self._calls[index] = replace(self._calls[index], status=reply.status)
        return reply

    def _perform(self, method: str, params: Params, files: Files) -> Any:
        chat_id = None if params.get("chat_id") is None else str(params["chat_id"])
        failure = self._take_failure(method, chat_id)
        if failure is not None and failure.kind == "delay":
            self._stopping.wait(failure.seconds)
        elif failure is not None and failure.kind == "hold":
            with self._state:
                releases = self._releases
                self._state.wait_for(lambda: self._releases > releases or self._stopping.is_set())
        elif failure is not None and failure.kind == "proxy_error":
            raise _Broken(Reply(502, {}, raw=PROXY_PAGE))
        elif failure is not None and failure.kind != "reset":
            raise failure.error()
        handler = getattr(self, f"_api_{method}", None)
        if handler is None:
            if method in _TRUE_METHODS:
                return True
            raise ApiError(404, "Not Found: method not found")
        if self.enforce_limits and method.startswith(("send", "edit")) and chat_id:
            self._check_rate(chat_id)
        if params.get("reply_markup"):
            _check_markup(params["reply_markup"])
        result = handler(params, files)
        if failure is not None and failure.kind == "reset":  # done, but never answered
            raise _Broken(Reply(200, {}, drop=True))
        return result

    def _take_failure(self, method: str, chat_id: str | None) -> _Failure | None:
        with self._state:
            for failure in self._failures:
                if failure.matches(method, chat_id):
                    if failure.skip > 0:
                        failure.skip -= 1
                        return None
                    if failure.remaining is not None:
                        failure.remaining -= 1
                        if failure.remaining <= 0:
                            self._failures.remove(failure)
                    return failure
        return None

    def _check_rate(self, chat_id: str) -> None:
        """429 if a send to `chat_id` now would break a rate; else count it."""
        group = chat_id.startswith("-")
        windows = [("*", 1.0, 30), (chat_id, 60.0 if group else 1.0, 20 if group else 1)]
        now = self.clock()
        with self._state:
            for key, seconds, most in windows:
                times = self._sent_at.setdefault(key, deque())
                span = seconds * (1 - self.slack)
                while times and times[0] <= now - span:
                    times.popleft()
                if len(times) >= most:
                    wait = max(1, math.ceil(times[0] + span - now))
                    raise ApiError(
                        429, f"Too Many Requests: retry after {wait}", {"retry_after": wait}
                    )
            for key, _, _ in windows:
                self._sent_at[key].append(now)

    def _new_message(self, chat_id: str, fields: dict[str, Any], html: str) -> dict[str, Any]:
        with self._state:
            message = {
                "message_id": self._next_message_id,
                "date": int(time.time()),
                "chat": _chat(chat_id),
                "from": self.bot_user,
                **fields,
            }
            self._next_message_id += 1
            self._messages[(chat_id, message["message_id"])] = message
            self._sources[(chat_id, message["message_id"])] = html
        return message

    def _incoming(self, chat_id: int, user_id: int | None, first_name: str) -> dict[str, Any]:
        """The envelope of a message a person sends in `chat_id`."""
        sender = user_id if user_id is not None else (chat_id if chat_id > 0 else 1001)
        with self._state:
            message_id = self._next_message_id
            self._next_message_id += 1
        user = {"id": sender, "is_bot": False, "first_name": first_name, "language_code": "vi"}
        return {
            "message_id": message_id,
            "date": int(time.time()),
            "chat": _chat(str(chat_id)),
            "from": user,
        }

    def _origin(self) -> str:
        if self._server is None:
            raise RuntimeError("the fake Telegram is not running")
        return f"http://127.0.0.1:{self._server.server_port}"

    # The Bot API methods that do more than answer true: `_api_<method in lower case>`.

    def _api_getme(self, params: Params, files: Files) -> Any:
        return self.bot_user

    def _api_sendmessage(self, params: Params, files: Files) -> Any:
        html = str(params.get("text", ""))
        fields: dict[str, Any] = {"text": _parsed(html, params, 4096, "message text")}
        if params.get("reply_markup"):
            fields["reply_markup"] = params["reply_markup"]
        return self._new_message(_known_chat(params), fields, html)

    def _api_senddocument(self, params: Params, files: Files) -> Any:
        upload = files.get("document")
        if upload is None or not upload.content:
            raise ApiError(400, "Bad Request: there is no document in the request")
        html = str(params.get("caption", ""))
        caption = _parsed(html, params, 1024, "message caption")
        number = len(self._messages)
        document = {
            "file_id": f"document-{number}",
            "file_unique_id": f"unique-{number}",
            "file_name": upload.filename,
            "mime_type": upload.content_type,
            "file_size": len(upload.content),
        }
        fields = {"document": document} | ({"caption": caption} if caption else {})
        return self._new_message(_known_chat(params), fields, html)

    def _api_editmessagetext(self, params: Params, files: Files) -> Any:
        """Edits text and keyboard; a keyboard left out is removed, as Telegram does.
        editMessageReplyMarkup is the same without a text."""
        key = (_known_chat(params), int(params.get("message_id", 0)))
        html = str(params["text"]) if "text" in params else None
        markup = params.get("reply_markup") or None
        with self._state:
            message = self._messages.get(key)
            if message is None:
                raise ApiError(400, "Bad Request: message to edit not found")
            if html in (None, self._sources[key]) and markup == message.get("reply_markup"):
                raise ApiError(400, NOT_MODIFIED)
            edited = {field: value for field, value in message.items() if field != "reply_markup"}
            if html is not None:
                edited["text"] = _parsed(html, params, 4096, "message text")
                self._sources[key] = html
            edited |= {"edit_date": int(time.time())} | ({"reply_markup": markup} if markup else {})
            self._messages[key] = edited
        return edited

    _api_editmessagereplymarkup = _api_editmessagetext

    def _api_getupdates(self, params: Params, files: Files) -> Any:
        """Updates from `offset` on, confirming (dropping) those before it; long-polls up
        to `timeout` seconds while there are none."""
        offset, most = int(params.get("offset", 0)), int(params.get("limit", 100))
        with self._state:
            if offset > 0:
                self._updates = [u for u in self._updates if u["update_id"] >= offset]
            self._state.wait_for(
                lambda: self._updates or self._stopping.is_set(),
                timeout=float(params.get("timeout", 0)),
            )
            return self._updates[:most]

    def _api_deletewebhook(self, params: Params, files: Files) -> Any:
        if str(params.get("drop_pending_updates", "")).lower() == "true":
            with self._state:
                self._updates.clear()
        return True


class _Broken(Exception):
    """A reply that is not the Bot API's JSON (a proxy's page, a dropped connection)."""

    def __init__(self, reply: Reply) -> None:
        super().__init__(reply.status)
        self.reply = reply


def _check_markup(markup: Any) -> None:
    """Telegram's limits on an inline keyboard: 100 buttons, 8 a row, 10 KB of JSON."""
    rows = markup.get("inline_keyboard", []) if isinstance(markup, dict) else []
    if sum(len(row) for row in rows) > MAX_BUTTONS:
        raise ApiError(400, "Bad Request: too many inline keyboard buttons")
    if any(len(row) > MAX_BUTTONS_PER_ROW for row in rows):
        raise ApiError(400, "Bad Request: too many buttons in a row of the inline keyboard")
    if len(json.dumps(markup)) > MAX_MARKUP_BYTES:
        raise ApiError(400, "Bad Request: reply markup is too long")


def _known_chat(params: dict[str, Any]) -> str:
    """The chat id as a string; a name ("@x") or nothing is a chat Telegram cannot find."""
    chat_id = str(params.get("chat_id", ""))
    if not chat_id.lstrip("-").isdigit():
        raise ApiError(400, "Bad Request: chat not found")
    return chat_id


def _chat(chat_id: str) -> dict[str, Any]:
    number = int(chat_id)
    if number > 0:
        return {"id": number, "type": "private", "first_name": f"Người dùng {number}"}
    kind = "supergroup" if chat_id.startswith("-100") else "group"
    return {"id": number, "type": kind, "title": f"Nhóm {number}"}


class _TelegramHtml(HTMLParser):
    """Telegram's HTML entity parsing, as strict as Telegram: the visible text, or an
    ApiError naming what Telegram would refuse."""

    TAGS = {
        "b",
        "strong",
        "i",
        "em",
        "u",
        "ins",
        "s",
        "strike",
        "del",
        "a",
        "code",
        "pre",
        "span",
        "tg-spoiler",
        "tg-emoji",
        "blockquote",
    }
    ENTITIES = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=False)
        self.open: list[str] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in self.TAGS:
            raise _cannot_parse(f'Unsupported start tag "{tag}"')
        self.open.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if not self.open or self.open[-1] != tag:
            raise _cannot_parse(f'Unmatched end tag "{tag}"')
        self.open.pop()

    def handle_data(self, data: str) -> None:
        if "<" in data or "&" in data:
            raise _cannot_parse(f"Unescaped character in {data[:30]!r}")
        self.text.append(data)

    def handle_entityref(self, name: str) -> None:
        if name not in self.ENTITIES:
            raise _cannot_parse(f'Unsupported HTML entity "&{name};"')
        self.text.append(self.ENTITIES[name])

    def handle_charref(self, name: str) -> None:
        self.text.append(chr(int(name[1:], 16) if name[:1] in "xX" else int(name)))


def _cannot_parse(why: str) -> ApiError:
    return ApiError(400, f"Bad Request: can't parse entities: {why}")


def visible_text(html: str) -> str:
    """What Telegram shows of `html` in HTML parse mode; ApiError (400, "can't parse
    entities") for what Telegram would refuse."""
    parser = _TelegramHtml()
    parser.feed(html)
    parser.close()
    if parser.open:
        raise _cannot_parse(f'Can\'t find end tag corresponding to start tag "{parser.open[-1]}"')
    return "".join(parser.text)


def _parsed(text: str, params: Params, most: int, what: str) -> str:
    """The visible text of `text` under the request's parse_mode, checked for Telegram's
    limits (`most` UTF-16 units) as `what` ("message text", "message caption")."""
    if params.get("parse_mode") == "HTML":
        text = visible_text(text)
    if len(text.encode("utf-16-le")) // 2 > most:
        raise ApiError(400, f"Bad Request: {what} is too long")
    if what == "message text" and not text.strip():
        raise ApiError(400, "Bad Request: message text is empty")
    return text


class _Server(LoopbackServer):
    def __init__(self, address: tuple[str, int], fake: FakeTelegram) -> None:
        self.fake = fake
        super().__init__(address, _RequestHandler)


class _RequestHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body are two writes; don't wait for ACKs
    server: _Server

    def do_POST(self) -> None:  # noqa: N802 - the name http.server dispatches to
        body = self._body()
        if body is None:  # the client went away mid-request (killed): nothing arrived
            self.close_connection = True
            return
        self._exchange(body)

    def do_GET(self) -> None:  # noqa: N802
        if self.path == "/fake/calls":
            self._send(Reply(200, {"calls": self.server.fake.summary()}))
            return
        self._exchange(b"")

    def _exchange(self, body: bytes) -> None:
        url = urlsplit(self.path)
        if not url.path.startswith("/bot"):
            self._send(Reply(404, {"ok": False, "error_code": 404, "description": "Not Found"}))
            return
        params: dict[str, Any] = dict(parse_qsl(url.query, keep_blank_values=True))
        try:
            fields, files = decode_body(self.headers.get("Content-Type", ""), body)
        except ValueError as error:
            self._send(Reply(400, {"ok": False, "error_code": 400, "description": str(error)}))
            return
        self._send(self.server.fake.answer(url.path, params | fields, files))

    def _body(self) -> bytes | None:
        """The whole request body, or None when the connection ended before it did."""
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            chunks = []
            while (line := self.rfile.readline()).strip():
                size = int(line.split(b";")[0].strip(), 16)
                if size == 0:
                    self.rfile.readline()
                    return b"".join(chunks)
                chunks.append(self.rfile.read(size))
                if len(chunks[-1]) < size or not self.rfile.readline():
                    return None
            return None
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length)
        return body if len(body) == length else None

    def _send(self, reply: Reply) -> None:
        if reply.drop:
            self.close_connection = True
            self.connection.shutdown(2)  # SHUT_RDWR: the client sees the connection go
            return
        payload = reply.raw or json.dumps(reply.body, ensure_ascii=False).encode("utf-8")
        kind = "text/html" if reply.raw else "application/json"
        try:
            self.send_response(reply.status)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)
        except OSError:
            self.close_connection = True  # the client gave up (a timeout test); fine

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base's name
        pass  # tests read `calls`, not a request log


def decode_body(content_type: str, body: bytes) -> tuple[dict[str, Any], dict[str, UploadedFile]]:
    """Parameters and files of a JSON, form-encoded or multipart request body."""
    kind = content_type.split(";")[0].strip().lower()
    if not body:
        return {}, {}
    if kind == "application/json":
        decoded = json.loads(body)
        if not isinstance(decoded, dict):
            raise ValueError("Bad Request: the JSON body must be an object")
        return decoded, {}
    if kind == "multipart/form-data":
        fields, files = _multipart(content_type, body)
    else:
        fields, files = dict(parse_qsl(body.decode("utf-8"), keep_blank_values=True)), {}
    return {name: _json_field(name, value) for name, value in fields.items()}, files


def _json_field(name: str, value: str) -> Any:
    """Form values are strings; the Bot API's object fields are JSON inside them."""
    return json.loads(value) if name in _JSON_FIELDS and value.startswith(("{", "[")) else value


def _multipart(content_type: str, body: bytes) -> tuple[dict[str, str], dict[str, UploadedFile]]:
    """A multipart/form-data body split by hand, so file bytes come back exactly."""
    boundary = next(
        (
            p.split("=", 1)[1].strip('"')
            for p in content_type.split(";")[1:]
            if p.strip().startswith("boundary=")
        ),
        None,
    )
    if not boundary:
        raise ValueError("Bad Request: multipart body without a boundary")
    fields: dict[str, str] = {}
    files: dict[str, UploadedFile] = {}
    for chunk in body.split(b"--" + boundary.encode())[1:-1]:
        head, _, content = chunk.removeprefix(b"\r\n").partition(b"\r\n\r\n")
        content = content.removesuffix(b"\r\n")
        headers = dict(line.split(":", 1) for line in head.decode("utf-8").split("\r\n"))
        headers = {key.strip().lower(): value.strip() for key, value in headers.items()}
        disposition = dict(_parameters(headers.get("content-disposition", "")))
        if "filename" in disposition:
            content_kind = headers.get("content-type", "application/octet-stream")
            files[disposition["name"]] = UploadedFile(
                disposition["filename"], content, content_kind
            )
        else:
            fields[disposition["name"]] = content.decode("utf-8")
    return fields, files


def _parameters(header: str) -> list[tuple[str, str]]:
    """The name="value" pairs of a Content-Disposition header."""
    pairs = [part.strip().split("=", 1) for part in header.split(";")[1:] if "=" in part]
    return [(key.strip().lower(), value.strip().strip('"')) for key, value in pairs]


def main() -> int:
    """Serve a fake Bot API in this process until SIGTERM, SIGINT or end of input."""
    parser = argparse.ArgumentParser(description="A fake Telegram Bot API on 127.0.0.1.")
    parser.add_argument("--enforce-limits", action="store_true")
    parser.add_argument("--token", default=DEFAULT_TOKEN)
    args = parser.parse_args()
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    with FakeTelegram(args.token, enforce_limits=args.enforce_limits) as fake:
        print(fake.base_url, flush=True)

        def until_end_of_input() -> None:
            sys.stdin.read()
            stop.set()

        threading.Thread(target=until_end_of_input, daemon=True).start()
        with contextlib.suppress(KeyboardInterrupt):
            stop.wait()
    return 0


if __name__ == "__main__":
    sys.exit(main())
