"""Log records as the journal reads them: a priority journald understands, one line each.

Under systemd, standard error is a stream to the journal and `JOURNAL_STREAM` names it
(device:inode). There each line starts with the syslog priority in angle brackets (`<4>` for a
warning), which journald strips and stores as the entry's priority (`SyslogLevelPrefix=`, on by
default), so `journalctl -u dvcwatch -p warning` finds every warning and error. On a terminal
the level is written as a word instead.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from typing import TextIO

from service.channels.tokens import scrub_registered

#: Python's levels as syslog priorities (RFC 5424: 3 error, 4 warning, 6 info, 7 debug).
PRIORITIES = {
    logging.CRITICAL: 2,
    logging.ERROR: 3,
    logging.WARNING: 4,
    logging.INFO: 6,
    logging.DEBUG: 7,
}
#: Libraries whose INFO lines say nothing an operator acts on.
CHATTY = ("apscheduler", "alembic", "httpx", "telegram")
#: The loggers of dvcwatch's own code (named "dvcwatch.…" or by module) and asyncio's
#: (a task of ours that failed): a traceback of theirs is a bug, and is kept.
OWN = ("dvcwatch", "service.", "jobs.", "bench.", "asyncio")
_FOLDED_CHARS = 300


class JournalFormatter(logging.Formatter):
    """`<4>dvcwatch.sync: message`; a traceback's lines are folded into the same entry."""

    def format(self, record: logging.LogRecord) -> str:
        priority = PRIORITIES.get(record.levelno, 6 if record.levelno < logging.WARNING else 3)
        text = super().format(record).replace("\n", "\n    ")
        return f"<{priority}>{text}"


def writes_to_journal(stream: TextIO, environ: Mapping[str, str]) -> bool:
    """Whether `stream` is the journal stream systemd connected (JOURNAL_STREAM=dev:inode)."""
    device, _, inode = environ.get("JOURNAL_STREAM", "").partition(":")
    try:
        status = os.fstat(stream.fileno())
    except (OSError, ValueError):
        return False
    return f"{status.st_dev}:{status.st_ino}" == f"{device}:{inode}"


def configure(stream: TextIO, environ: Mapping[str, str]) -> None:
    """Log INFO and above to `stream`, with priorities when it is the journal."""
    handler = logging.StreamHandler(stream)
    if writes_to_journal(stream, environ):
        handler.setFormatter(JournalFormatter("%(name)s: %(message)s"))
    else:
        handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.INFO)
    for chatty in CHATTY:
        logging.getLogger(chatty).setLevel(logging.WARNING)


def fold_library_tracebacks() -> None:
    """From now on a library's log record that carries a traceback (python-telegram-bot
    logs one for an answer that is not JSON) is one line instead: its message and the
    exception's first line. dvcwatch reports the failure itself, in its words; a
    traceback is only ever printed for a bug of its own. Idempotent."""
    global _folding
    if _folding:
        return
    make_record = logging.getLogRecordFactory()

    def folding_factory(*args: object, **kwargs: object) -> logging.LogRecord:
        record = make_record(*args, **kwargs)
        failure = record.exc_info[1] if record.exc_info else None
        if failure is not None and not record.name.startswith(OWN):
            try:
                said = record.getMessage()
            except Exception:  # a malformed logging call; logging reports it itself
                return record
            last = f"{type(failure).__name__}: {failure}".splitlines()[0][:_FOLDED_CHARS]
            # a token redactor installed before this factory has not seen these words
            record.msg, record.args = scrub_registered(f"{said} ({last})"), ()
            record.exc_info, record.exc_text = None, None
        return record

    logging.setLogRecordFactory(folding_factory)
    _folding = True


_folding = False
