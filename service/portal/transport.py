"""One HTTP exchange with the portal, bounded in time, size and redirects.

`requests` alone bounds only the silence between two reads: an answer that
trickles a few bytes a second never times out, and `response.content`
decompresses a gzip body whole before anyone can count it. So the body is read
here in pieces, without letting urllib3 decode it, and every piece is checked
against the exchange's `Bounds`: the deadline (each socket wait is cut to the
time left), the decompressed size (inflated with a cap on the output, so a
compressed bomb never expands in memory) and, before that, the number of
redirects followed. A failure raises `ExchangeFailed` with what had arrived.
"""

from __future__ import annotations

import time
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urljoin

import requests
import urllib3

CHUNK_BYTES = 65_536
#: What the client accepts, so that it knows how to count what it is sent.
ACCEPT_ENCODING = "gzip, deflate"
_INFLATE_WBITS = {
    "gzip": 16 + zlib.MAX_WBITS,
    "x-gzip": 16 + zlib.MAX_WBITS,
    "deflate": 32 + zlib.MAX_WBITS,
}


@dataclass(frozen=True)
class Bounds:
    """What one exchange may cost: `deadline` on the `time.monotonic` clock, the longest
    silence between two reads, the decompressed body size and the redirects followed."""

    deadline: float
    read_timeout: float
    max_body_bytes: int
    max_redirects: int


@dataclass(frozen=True)
class Exchange:
    """A complete answer: status, content type and the decompressed body (within bounds)."""

    status: int
    content_type: str | None
    body: bytes


class ExchangeFailed(Exception):
    """No complete answer. `retriable`: a timeout or a lost connection, which may pass;
    `partial`: the decompressed bytes that did arrive (at most the size limit);
    `status`/`content_type`: of the answer, when its headers came."""

    def __init__(
        self,
        message: str,
        *,
        retriable: bool,
        partial: bytes | bytearray = b"",
        status: int | None = None,
        content_type: str | None = None,
    ) -> None:
        super().__init__(message)
        self.retriable = retriable
        self.partial = partial
        self.status = status
        self.content_type = content_type


class DeadlinePassed(ExchangeFailed):
    """The deadline came before the answer was whole."""


class BodyTooLarge(ExchangeFailed):
    """The decompressed body grew past the size limit; `partial` is its first bytes."""


def exchange(
    session: requests.Session,
    url: str,
    body: dict[str, Any] | None,
    bounds: Bounds,
    clock: Callable[[], float] = time.monotonic,
) -> Exchange:
    """POST `body` as JSON to `url` and read the whole answer within `bounds`.

    Redirects are followed by hand, up to `bounds.max_redirects` (303, and 301/302
    after a POST, continue as GET, as browsers do). Raises `ExchangeFailed`.
    """
    method, payload, asked = "POST", body, url
    for _hop in range(bounds.max_redirects + 1):
        response = _send(session, method, url, payload, bounds, clock)
        try:
            if not response.is_redirect:
                return _read(response, bounds, clock)
            url = urljoin(url, response.headers["Location"])
        finally:
            response.close()
        if response.status_code == 303 or (response.status_code in (301, 302) and method == "POST"):
            method, payload = "GET", None
    where = "" if url == asked else f" (the last to {url:.200})"
    raise ExchangeFailed(f"more than {bounds.max_redirects} redirects{where}", retriable=False)


def _send(
    session: requests.Session,
    method: str,
    url: str,
    payload: dict[str, Any] | None,
    bounds: Bounds,
    clock: Callable[[], float],
) -> requests.Response:
    """The answer's status and headers; its body is left unread."""
    wait = _wait(bounds, clock)
    try:
        return session.request(
            method, url, json=payload, timeout=(wait, wait), stream=True, allow_redirects=False
        )
    except requests.Timeout:
        raise _timed_out(bounds, clock) from None
    except requests.ConnectionError as exc:
        raise ExchangeFailed(f"connection failed: {_reason(exc)}", retriable=True) from None
    except requests.RequestException as exc:  # a malformed URL or Location, a bad header
        raise ExchangeFailed(f"the request could not be made: {exc}", retriable=False) from None


def _reason(exc: BaseException) -> str:
    """The system's words under requests' and urllib3's wrappers ("Connection refused",
    "Name or service not known"), else the exception's own text."""
    pending: list[object] = [exc]
    seen: set[int] = set()
    while pending:
        current = pending.pop(0)
        if not isinstance(current, BaseException) or id(current) in seen:
            continue
        seen.add(id(current))
        if isinstance(current, OSError) and current.strerror:
            return str(current.strerror)
        pending += [*current.args, getattr(current, "reason", None)]
        pending += [current.__cause__, current.__context__]
    return str(exc)


def _read(response: requests.Response, bounds: Bounds, clock: Callable[[], float]) -> Exchange:
    status, content_type = response.status_code, response.headers.get("Content-Type")
    raw = response.raw
    inflater = Inflater(bounds.max_body_bytes)
    failure: ExchangeFailed
    try:
        inflater.start(response.headers.get("Content-Encoding"))
        while piece := _next_piece(raw, _wait(bounds, clock)):
            inflater.feed(piece)
        inflater.finish()
    except urllib3.exceptions.ReadTimeoutError:
        failure = _timed_out(bounds, clock, f" after {len(inflater.body)} bytes of the body")
    except (urllib3.exceptions.HTTPError, OSError) as exc:
        # urllib3 puts its sentence first and the socket's error after it.
        reason = exc.args[0] if exc.args and isinstance(exc.args[0], str) else exc
        failure = ExchangeFailed(
            f"the connection broke after {len(inflater.body)} bytes of the body: {reason}",
            retriable=True,
        )
    except ExchangeFailed as exc:
        failure = exc
    else:
        raw.release_conn()  # read to its end: the connection may serve the next request
        return Exchange(status, content_type, bytes(inflater.body))
    failure.status, failure.content_type = status, content_type
    failure.partial = failure.partial or inflater.body
    raise failure


def _wait(bounds: Bounds, clock: Callable[[], float]) -> float:
    """How long the next socket wait may last: the read timeout, cut to the time left."""
    left = bounds.deadline - clock()
    if left <= 0:
        raise DeadlinePassed("the deadline passed before the answer was whole", retriable=True)
    return min(bounds.read_timeout, left)


def _next_piece(raw: Any, wait: float) -> bytes:
    """The next bytes of the body as they came (b"" at its end), waiting at most `wait`.

    urllib3 sets the socket's timeout once per request; the time left shrinks with
    every piece, so it is set again before each read. `read1` returns what one
    socket read gave, where `read(n)` would wait for all n bytes.
    """
    sock = getattr(getattr(raw, "connection", None), "sock", None)
    if sock is not None:
        sock.settimeout(wait)
    return bytes(raw.read1(CHUNK_BYTES, decode_content=False))


def _timed_out(bounds: Bounds, clock: Callable[[], float], where: str = "") -> ExchangeFailed:
    """A socket wait ended: the deadline if it has come, else the read timeout."""
    if clock() >= bounds.deadline:
        return DeadlinePassed(f"the deadline passed{where}", retriable=True)
    return ExchangeFailed(f"timed out{where}", retriable=True)


class Inflater:
    """Decompresses as the pieces arrive, never holding more than `limit` + 1 bytes."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.body = bytearray()
        self._decoder: Any = None  # a zlib decompressor, or None for an uncompressed body
        self._fed = False

    def start(self, encoding: str | None) -> None:
        """Expect a body in `encoding` (the Content-Encoding header; None: identity)."""
        name = (encoding or "identity").strip().lower()
        if name == "identity":
            return
        if name not in _INFLATE_WBITS:
            raise ExchangeFailed(f"unsupported Content-Encoding {encoding!r:.40}", retriable=False)
        self._decoder = zlib.decompressobj(_INFLATE_WBITS[name])

    def feed(self, piece: bytes) -> None:
        if self._decoder is None:
            self._keep(piece)
            return
        self._fed = True
        try:
            data = piece
            while data:
                if self._decoder.eof:
                    # Concatenated gzip members are one body (RFC 1952), as urllib3 reads it.
                    data, self._decoder = self._decoder.unused_data or data, _gzip_member()
                self._keep(self._decoder.decompress(data, self._room()))
                data = self._decoder.unconsumed_tail or self._decoder.unused_data
        except zlib.error as exc:
            raise ExchangeFailed(
                f"the compressed body is corrupt: {exc}", retriable=False
            ) from None

    def finish(self) -> None:
        """The body ended: a compressed one must have ended where its format says."""
        if self._decoder is not None and self._fed and not self._decoder.eof:
            raise ExchangeFailed("the compressed body ends too early", retriable=True)

    def _room(self) -> int:
        """At most one byte past the limit, enough to know it was passed (never 0,
        which zlib reads as "no limit")."""
        return self.limit + 1 - len(self.body)

    def _keep(self, data: bytes) -> None:
        self.body += data
        if len(self.body) > self.limit:
            del self.body[self.limit :]
            raise BodyTooLarge(
                f"the body is larger than the limit of {self.limit} bytes (decompressed)",
                retriable=False,
            )


def _gzip_member() -> Any:
    return zlib.decompressobj(16 + zlib.MAX_WBITS)
