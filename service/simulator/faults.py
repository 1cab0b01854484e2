"""Misbehaviours the simulator can be told to show: delays, refusals, damaged answers.

A `Fault` hits a number of requests to one endpoint (or any); a `FaultBook`
holds the injected faults and spends their hits. `refusal` is the page that
answers instead of the source, `damaged` spoils a successful answer's content,
and `service.simulator.wire` spoils its delivery (trickle, huge, gzip bomb, reset,
redirect loop).
"""

from __future__ import annotations

import json
import random
import threading
from dataclasses import dataclass

from service.simulator.queries import encode_envelope
from service.simulator.replies import Reply, html_reply
from service.simulator.wire import WIRE_FAULTS

REFUSALS = ("5xx", "429", "403", "firewall")  # answer instead of the source
#: Spoil a successful answer's content; after the first two, `field` of the first unit
#: record (or, for "metrics.KEY", of its first metric) becomes the named value.
DAMAGES = ("truncated", "missing_field", "nan", "infinity", "object", "long_text")
FAULT_KINDS = ("delay", *REFUSALS, *WIRE_FAULTS, *DAMAGES)
LONG_TEXT = 300  # characters, when `size` does not say


@dataclass(frozen=True)
class Fault:
    """A misbehaviour that hits the next `times` requests to `endpoint` (None: any; -1: forever).

    "delay" sleeps `seconds`, then answers normally; "5xx" answers 503; "429" answers
    429 with Retry-After: 30; "403" answers 403; "firewall" answers 200 with the web
    firewall's HTML "Request Rejected" page; "truncated" cuts a 201 body in the middle;
    "missing_field" removes `field` from every unit record of a 201 body; "nan",
    "infinity", "object" and "long_text" set `field` of its first unit record (with
    "metrics.KEY": KEY of that record's first metric) to NaN, Infinity, a JSON object
    or a string of `size` characters (300 if 0). The wire
    faults (`service.simulator.wire`) use `seconds` and `size` as that module says.
    """

    kind: str
    endpoint: str | None = None
    times: int = 1
    seconds: float = 0.0
    field: str = "totalScore"
    size: int = 0

    def __post_init__(self) -> None:
        if self.kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault kind {self.kind!r}; known: {', '.join(FAULT_KINDS)}")
        if self.times == 0 or self.times < -1:
            raise ValueError("a fault's times is a positive count or -1 (forever)")
        if self.seconds < 0 or self.size < 0:
            raise ValueError("a fault's seconds and size cannot be negative")

    @classmethod
    def from_json(cls, body: object) -> Fault:
        """A fault from its JSON object (the HTTP control endpoint); ValueError if malformed."""
        types: dict[str, tuple[type, ...]] = {
            "kind": (str,),
            "endpoint": (str, type(None)),
            "times": (int,),
            "seconds": (int, float),
            "field": (str,),
            "size": (int,),
        }
        if not isinstance(body, dict) or set(body) - set(types):
            raise ValueError(f"a fault is a JSON object with keys among {', '.join(types)}")
        for key, value in body.items():
            if isinstance(value, bool) or not isinstance(value, types[key]):
                raise ValueError(f"fault {key} has the wrong type")
        return cls(**body)

    @classmethod
    def from_spec(cls, spec: str) -> Fault:
        """A fault from the command line's KIND[:ENDPOINT[:TIMES]] (an empty endpoint: any)."""
        kind, _, rest = spec.partition(":")
        endpoint, _, times = rest.partition(":")
        try:
            return cls(kind, endpoint or None, int(times) if times else 1)
        except ValueError as exc:
            raise ValueError(f"--fault {spec!r}: {exc}") from exc


@dataclass
class _Pending:
    fault: Fault
    left: int


class FaultBook:
    """The injected faults and the hits each has left; safe to use from several threads."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._pending: list[_Pending] = []

    def add(self, fault: Fault) -> None:
        with self._lock:
            self._pending.append(_Pending(fault, fault.times))

    def clear(self) -> None:
        with self._lock:
            self._pending.clear()

    def take(self, endpoint: str, kinds: tuple[str, ...], every: bool = False) -> list[Fault]:
        """The faults of `kinds` hitting a request to `endpoint` (the oldest one unless
        `every`), each spending one hit."""
        hits = []
        with self._lock:
            for pending in self._pending:
                if pending.fault.kind in kinds and pending.fault.endpoint in (None, endpoint):
                    hits.append(pending.fault)
                    pending.left -= 1 if pending.left > 0 else 0
                    if not every:
                        break
            self._pending = [pending for pending in self._pending if pending.left != 0]
        return hits


def refusal(fault: Fault) -> Reply:
    """What answers instead of the source under a refusal `fault` (5xx, 429, 403, firewall)."""
    if fault.kind == "5xx":
        return html_reply(
            503,
            "503 Service Temporarily Unavailable",
            "<center><h1>503 Service Temporarily Unavailable</h1></center>",
        )
    if fault.kind == "429":
        return html_reply(
            429,
            "429 Too Many Requests",
            "<center><h1>429 Too Many Requests</h1></center>",
            ("Retry-After", "30"),
        )
    if fault.kind == "403":
        return html_reply(403, "403 Forbidden", "<center><h1>403 Forbidden</h1></center>")
    # The F5 web firewall in front of the portal answers a block with 200 and this page.
    support_id = random.randrange(10**18, 10**19)
    return html_reply(
        200,
        "Request Rejected",
        "The requested URL was rejected. Please consult with your administrator."
        f"<br><br>Your support ID is: {support_id}<br><br>"
        "<a href='javascript:history.back();'>[Go Back]</a>",
    )


def damaged(reply: Reply, fault: Fault) -> Reply:
    """`reply` (a 201 envelope) cut in half, without `fault.field` in its unit records,
    or with a spoilt value in its first unit record (see `Fault`)."""
    if fault.kind == "truncated":
        return Reply(
            reply.status, reply.body[: len(reply.body) // 2], reply.content_type, reply.headers
        )
    data = json.loads(reply.body)["data"]
    records = data.get("evaluation", data.get("children", []))
    if fault.kind == "missing_field":
        for record in records:
            record.pop(fault.field, None)
    elif records:
        _spoil(records[0], fault)
    return Reply(reply.status, encode_envelope(data), reply.content_type, reply.headers)


def _spoil(record: dict[str, object], fault: Fault) -> None:
    spoilt = {
        "nan": float("nan"),
        "infinity": float("inf"),
        "object": {"status": "WARNING", "level": 2},
        "long_text": "X" * (fault.size or LONG_TEXT),
    }[fault.kind]
    head, _, key = fault.field.partition(".")
    if not key:
        record[head] = spoilt
        return
    items = record.get(head)
    if isinstance(items, list) and items and isinstance(items[0], dict):
        items[0][key] = spoilt
