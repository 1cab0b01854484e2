"""A fake Zalo Bot Platform API on 127.0.0.1, for tests that drive the real Zalo channel
(`service/channels/zalo.py`) without touching bot-api.zaloplatforms.com.

The Zalo Bot API has the Telegram Bot API's shape (`POST /bot<token>/<method>`,
answers `{ok, result}` or `{ok: false, error_code, description, parameters}`), so this
is the fake Telegram (`telegram_server.FakeTelegram`: its HTTP server, request log,
`on_request` hook and injected failures) speaking Zalo's methods and holding a client
to what dvcwatch declares for Zalo (`ZALO_LIMITS`), each an assumption about the live
platform:

- sendMessage `{chat_id, text}`: plain text of at most 2,000 characters (400 beyond);
  a chat not in `chats` (when given) is 400 "chat not found";
- with `enforce_limits`, more than one message a second to a chat or more than
  `ZALO_LIMITS.messages_per_second` overall gets 429 with `parameters.retry_after`,
  counted on `clock` as requests arrive (a test's own clock drives it; each one-second
  window shortened by `slack` for network jitter);
- a wrong token is 401;
- getUpdates long-polls up to its `timeout` and answers one update (its `result` is
  the update object), or 408 "Request timeout" when none came; `push_text` queues a
  person's message.

    with FakeZalo(chats={"c1"}) as zalo:
        channel = ZaloChannel(zalo.token, base_url=zalo.base_url)
        zalo.fail("sendMessage", "blocked", chat_id="c1")
        zalo.push_text("c1", "OK 12")   # a reply the bot reads with getUpdates
"""

from __future__ import annotations

import math
import time
from collections import deque
from collections.abc import Callable
from typing import Any

from service.channels.zalo import ZALO_LIMITS, ZALO_TEXT_LIMIT
from tests.fakes.telegram_server import ApiError, Call, FakeTelegram, Files, Params

DEFAULT_TOKEN = "3141592653589793238:ZaloFakeTokenForDvcwatchTests"


class FakeZalo(FakeTelegram):
    """The fake Zalo Bot API for `token`; start it (or use `with`) before use. Failures
    (`fail`) are the fake Telegram's: "blocked" (403), "chat_not_found" (400),
    "retry_after" (429), "server_error" (500), "delay", "hold", "reset", "proxy_error"."""

    def __init__(
        self,
        token: str = DEFAULT_TOKEN,
        *,
        chats: set[str] | None = None,
        enforce_limits: bool = False,
        slack: float = 0.0,
        clock: Callable[[], float] = time.monotonic,
        on_request: Callable[[Call], None] | None = None,
    ) -> None:
        super().__init__(
            token, enforce_limits=enforce_limits, slack=slack, clock=clock, on_request=on_request
        )
        self.chats = chats

    def push_text(
        self,
        chat_id: str,
        text: str,
        *,
        user_id: str | None = None,
        group: bool = False,
        name: str = "Lan",
    ) -> dict[str, Any]:
        """Queue a person's text message for getUpdates; in a group, from `user_id`."""
        with self._state:
            message_id = f"in-{self._next_message_id}"
            self._next_message_id += 1
        message = {
            "message_id": message_id,
            "from": {"id": user_id or chat_id, "display_name": name, "is_bot": False},
            "chat": {"id": chat_id, "chat_type": "GROUP" if group else "PRIVATE"},
            "date": int(time.time() * 1000),
            "text": text,
        }
        return self.push_update({"event_name": "message.text.received", "message": message})

    def _api_getme(self, params: Params, files: Files) -> Any:
        return {"id": "dvcwatch-bot", "account_name": "bot.dvcwatch", "can_join_groups": True}

    def _api_sendmessage(self, params: Params, files: Files) -> Any:
        chat_id, text = str(params.get("chat_id") or ""), str(params.get("text") or "")
        if not chat_id or (self.chats is not None and chat_id not in self.chats):
            raise ApiError(400, "Bad Request: chat not found")
        if not text.strip():
            raise ApiError(400, "Bad Request: text is empty")
        if len(text) > ZALO_TEXT_LIMIT:
            raise ApiError(400, f"Bad Request: text is over {ZALO_TEXT_LIMIT} characters")
        with self._state:
            message_id = f"m{self._next_message_id}"
            self._next_message_id += 1
        return {"message_id": message_id, "date": int(time.time() * 1000)}

    def _api_getupdates(self, params: Params, files: Files) -> Any:
        """The oldest update not yet taken; 408 when none came within `timeout`."""
        with self._state:
            self._state.wait_for(
                lambda: self._updates or self._stopping.is_set(),
                timeout=float(params.get("timeout") or 0),
            )
            if not self._updates:
                raise ApiError(408, "Request timeout")
            return self._updates.pop(0)

    def _check_rate(self, chat_id: str) -> None:
        """429 if a send to `chat_id` now would break a declared rate; else count it."""
        overall = int(ZALO_LIMITS.messages_per_second or 1)
        windows = [("*", overall), (chat_id, int(ZALO_LIMITS.per_chat_per_second or 1))]
        now, span = self.clock(), 1.0 - self.slack
        with self._state:
            for key, most in windows:
                times = self._sent_at.setdefault(key, deque())
                while times and times[0] <= now - span + 1e-6:  # 1e-6: float sums of gaps
                    times.popleft()
                if len(times) >= most:
                    wait = max(1, math.ceil(times[0] + span - now))
                    raise ApiError(429, "Too Many Requests", {"retry_after": wait})
            for key, _ in windows:
                self._sent_at[key].append(now)
