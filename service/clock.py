"""Time as dvcwatch keeps it: stored in UTC, shown and reasoned about in Vietnam."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

LOCAL_TZ = ZoneInfo("Asia/Ho_Chi_Minh")


def utcnow() -> dt.datetime:
    """Now, as the naive UTC value every table stores."""
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


def local_today() -> dt.date:
    """Today's date in Asia/Ho_Chi_Minh (what officials call today)."""
    return dt.datetime.now(LOCAL_TZ).date()


def to_local(stored: dt.datetime) -> dt.datetime:
    """A stored naive-UTC time as an aware Asia/Ho_Chi_Minh time."""
    return stored.replace(tzinfo=dt.UTC).astimezone(LOCAL_TZ)
