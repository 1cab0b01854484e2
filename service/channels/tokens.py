"""Bot tokens kept out of sight: every Bot API URL holds the token, so a channel scrubs
it from the error texts it raises (`scrub`) and registers it once built
(`redact_token_in_logs`), after which no log record of the process shows it, whichever
logger makes the record (httpx's request lines, a client library's debug lines, ours).
"""

from __future__ import annotations

import logging
import re
from urllib.parse import quote

REDACTED = "<token>"


def scrub(text: str, token: str) -> str:
    """`text` with `token` (as written or URL-quoted, in any letter case: a client library
    may lower-case the text of an error that quotes the request's path) replaced by
    "<token>"."""
    forms = sorted({token, quote(token, safe="")}, key=len, reverse=True)
    pattern = "|".join(re.escape(form) for form in forms if form)
    return re.sub(pattern, REDACTED, text, flags=re.IGNORECASE) if pattern else text


def holds(text: str, token: str) -> bool:
    """Whether `scrub` would change `text`."""
    return scrub(text, token) != text


class _LogRedactor:
    """Scrubs registered tokens from every log record as it is made, whichever logger
    makes it (httpx, httpcore, python-telegram-bot, ours) and however logging is set up."""

    def __init__(self) -> None:
        self.tokens: set[str] = set()
        self.installed = False

    def install(self) -> None:
        if self.installed:
            return
        make_record = logging.getLogRecordFactory()

        def redacting_factory(*args: object, **kwargs: object) -> logging.LogRecord:
            record = make_record(*args, **kwargs)
            self.redact(record)
            return record

        logging.setLogRecordFactory(redacting_factory)
        self.installed = True

    def redact(self, record: logging.LogRecord) -> None:
        try:
            text = record.getMessage()
        except Exception:  # a malformed logging call; logging reports it itself
            return
        if any(holds(text, token) for token in self.tokens):
            record.msg, record.args = self.scrub(text), ()
        if record.exc_info and record.exc_info[1] is not None:
            trace = logging.Formatter().formatException(record.exc_info)
            if any(holds(trace, token) for token in self.tokens):
                record.exc_text = self.scrub(trace)  # formatters reuse a set exc_text

    def scrub(self, text: str) -> str:
        for token in self.tokens:
            text = scrub(text, token)
        return text


_REDACTOR = _LogRedactor()


def scrub_registered(text: str) -> str:
    """`text` without any token registered by `redact_token_in_logs`."""
    return _REDACTOR.scrub(text)


def redact_token_in_logs(token: str) -> None:
    """From now on no log record of this process shows `token` (nor its URL-quoted
    form): it reads "<token>". Idempotent; call it for any bot built outside this
    module too (the chat bot's Application polls getUpdates with the token in the URL)."""
    _REDACTOR.tokens.add(token)
    _REDACTOR.install()
