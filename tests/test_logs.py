"""Log lines carry a priority journald reads when standard error is the journal."""

from __future__ import annotations

import json
import logging
import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from service import logs
from service.logs import fold_library_tracebacks


@pytest.fixture
def restore_logging() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


def journal_of(path: Path) -> dict[str, str]:
    status = os.stat(path)
    return {"JOURNAL_STREAM": f"{status.st_dev}:{status.st_ino}"}


def test_lines_to_the_journal_start_with_their_syslog_priority(tmp_path, restore_logging):
    path = tmp_path / "stderr"
    with path.open("w", encoding="utf-8") as stream:
        logs.configure(stream, journal_of(path))
        log = logging.getLogger("dvcwatch.test")
        log.info("synced")
        log.warning("sync failed")
        log.error("notice failed")
        try:
            raise ValueError("boom")
        except ValueError:
            log.exception("a bug")
    lines = path.read_text(encoding="utf-8").splitlines()
    assert lines[:3] == [
        "<6>dvcwatch.test: synced",
        "<4>dvcwatch.test: sync failed",
        "<3>dvcwatch.test: notice failed",
    ]
    assert lines[3] == "<3>dvcwatch.test: a bug"
    # The traceback stays in the same journal entry: its lines carry no priority of their own.
    assert all(line.startswith("    ") for line in lines[4:]) and len(lines) > 4


def test_lines_on_a_terminal_name_their_level_in_words(tmp_path, restore_logging):
    path, other = tmp_path / "stderr", tmp_path / "journal"
    other.write_text("", encoding="utf-8")
    with path.open("w", encoding="utf-8") as stream:
        logs.configure(stream, journal_of(other))  # the journal is another stream
        logging.getLogger("dvcwatch.test").warning("sync failed")
    assert path.read_text(encoding="utf-8") == "WARNING dvcwatch.test: sync failed\n"


def test_a_stream_without_a_file_is_never_the_journal(restore_logging):
    import io

    assert not logs.writes_to_journal(io.StringIO(), {"JOURNAL_STREAM": "1:2"})


@pytest.mark.parametrize(
    ("logger", "folded"),
    [("telegram.ext.Updater", True), ("httpx", True), ("service.sync", False),
     ("dvcwatch.bot", False), ("jobs.scheduler", False), ("asyncio", False)],
)  # fmt: skip
def test_a_librarys_traceback_is_one_line_and_ours_is_kept(logger, folded):
    """A library's traceback (python-telegram-bot's for an answer that is not JSON) is
    its message and the exception's first line; ours is a bug and keeps its traceback."""
    fold_library_tracebacks()
    try:
        json.loads("<html>")
    except ValueError:
        record = logging.getLogger(logger).makeRecord(
            logger, logging.ERROR, __file__, 1, "Can not load invalid JSON data", (),
            sys.exc_info(),
        )  # fmt: skip
    assert (record.exc_info is None) is folded
    if folded:
        assert record.getMessage() == (
            "Can not load invalid JSON data (JSONDecodeError: Expecting value: line 1 column 1 "
            "(char 0))"
        )
