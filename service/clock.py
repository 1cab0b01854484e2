"""Time as dvcwatch keeps it: stored in UTC, shown and reasoned about in Vietnam.

Every reading of "now" in the service goes through `utcnow` (and `local_today`, which
follows it), so a process that must live in simulated time (the soak, `bench/soak.py`)
sets one source with `use_clock` and the whole service follows it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from zoneinfo import ZoneInfo

LOCAL_TZ = ZoneInfo("Asia/Ho_Chi_Minh")

_source: Callable[[], dt.datetime] | None = None  # naive UTC; None: the wall clock


def use_clock(source: Callable[[], dt.datetime] | None) -> None:
    """Read "now" from `source` (naive UTC) in this process; None goes back to the wall clock."""
    global _source
    _source = source


def utcnow() -> dt.datetime:
    """Now, as the naive UTC value every table stores."""
    if _source is not None:
        return _source()
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


def local_today() -> dt.date:
    """Today's date in Asia/Ho_Chi_Minh (what officials call today)."""
    return to_local(utcnow()).date()


def to_local(stored: dt.datetime) -> dt.datetime:
    """A stored naive-UTC time as an aware Asia/Ho_Chi_Minh time."""
    return stored.replace(tzinfo=dt.UTC).astimezone(LOCAL_TZ)
