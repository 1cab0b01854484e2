"""The national portal's evaluation API on the loopback, for the demo, tests and benchmarks.

`PortalSimulator` serves a source over HTTP the way the portal does (POST a
JSON body, HTTP 201 and the ``{"code":"OK","data":...,"message":"OK"}``
envelope): `ReplaySource` answers with recorded responses, `GeneratedSource`
with a fictional country. It can be told to misbehave (`Fault`) from Python
or over HTTP (``POST`` / ``DELETE /_simulator/faults``), so a test can drive
a simulator running in another process. `main` is the command line.
"""

from __future__ import annotations

import argparse
import ipaddress
import json
import logging
import random
import signal
import socket
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import Any, Protocol
from urllib.parse import urlsplit

from service.portal.generated import GeneratedSource
from service.portal.replay import (
    Answer,
    BadRequest,
    NotFound,
    PortalQuery,
    ReplaySource,
    encode_envelope,
    parse_query,
)

__all__ = ["Fault", "GeneratedSource", "PortalSimulator", "ReplaySource", "main"]

logger = logging.getLogger(__name__)

API_PREFIX = "/api/v1/reporting/evaluation/"
FAULTS_PATH = "/_simulator/faults"
JSON_TYPE = "application/json; charset=utf-8"
HTML_TYPE = "text/html; charset=utf-8"
REFUSALS = ("5xx", "429", "403", "firewall")  # answer instead of the source
DAMAGES = ("truncated", "missing_field")  # spoil a successful answer
FAULT_KINDS = ("delay", *REFUSALS, *DAMAGES)


@dataclass(frozen=True)
class Fault:
    """A misbehaviour that hits the next `times` requests to `endpoint` (None: any; -1: forever).

    "delay" sleeps `seconds`, then answers normally; "5xx" answers 503; "429" answers
    429 with Retry-After: 30; "403" answers 403; "firewall" answers 200 with the web
    firewall's HTML "Request Rejected" page; "truncated" cuts a 201 body in the middle;
    "missing_field" removes `field` from every unit record of a 201 body.
    """

    kind: str
    endpoint: str | None = None
    times: int = 1
    seconds: float = 0.0
    field: str = "totalScore"

    def __post_init__(self) -> None:
        if self.kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault kind {self.kind!r}; known: {', '.join(FAULT_KINDS)}")
        if self.times == 0 or self.times < -1:
            raise ValueError("a fault's times is a positive count or -1 (forever)")
        if self.seconds < 0:
            raise ValueError("a delay cannot be negative")

    @classmethod
    def from_json(cls, body: object) -> Fault:
        """A fault from its JSON object (the HTTP control endpoint); ValueError if malformed."""
        types: dict[str, tuple[type, ...]] = {"kind": (str,), "endpoint": (str, type(None)),
                                              "times": (int,), "seconds": (int, float),
                                              "field": (str,)}
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


@dataclass(frozen=True)
class Reply:
    status: int
    body: bytes
    content_type: str = JSON_TYPE
    headers: tuple[tuple[str, str], ...] = ()


def _error(status: int, code: str, message: str) -> Reply:
    body = json.dumps({"code": code, "message": message}, ensure_ascii=False,
                      separators=(",", ":"))
    return Reply(status, body.encode("utf-8"))


def _html(status: int, title: str, text: str, *headers: tuple[str, str]) -> Reply:
    page = f"<html><head><title>{title}</title></head><body>{text}</body></html>"
    return Reply(status, page.encode("utf-8"), HTML_TYPE, headers)


def _refusal(fault: Fault) -> Reply:
    if fault.kind == "5xx":
        return _html(503, "503 Service Temporarily Unavailable",
                     "<center><h1>503 Service Temporarily Unavailable</h1></center>")
    if fault.kind == "429":
        return _html(429, "429 Too Many Requests", "<center><h1>429 Too Many Requests</h1>"
                     "</center>", ("Retry-After", "30"))
    if fault.kind == "403":
        return _html(403, "403 Forbidden", "<center><h1>403 Forbidden</h1></center>")
    # The F5 web firewall in front of the portal answers a block with 200 and this page.
    support_id = random.randrange(10**18, 10**19)
    return _html(200, "Request Rejected",
                 "The requested URL was rejected. Please consult with your administrator."
                 f"<br><br>Your support ID is: {support_id}<br><br>"
                 "<a href='javascript:history.back();'>[Go Back]</a>")


def _damaged(reply: Reply, fault: Fault) -> Reply:
    if fault.kind == "truncated":
        return Reply(reply.status, reply.body[: len(reply.body) // 2], reply.content_type,
                     reply.headers)
    data = json.loads(reply.body)["data"]
    for record in data.get("evaluation", data.get("children", [])):
        record.pop(fault.field, None)
    return Reply(reply.status, encode_envelope(data), reply.content_type, reply.headers)


class PortalSource(Protocol):
    """What the simulator serves: an answer per query, or BadRequest / NotFound."""

    def answer(self, query: PortalQuery) -> Answer: ...


def is_loopback(host: str) -> bool:
    try:
        return host == "localhost" or ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class PortalSimulator:
    """A portal on the loopback serving `source`, in a background thread once started.

    `requests_log` holds (endpoint, request body) of every portal request in arrival
    order; `max_concurrent` the most portal requests ever served at the same moment.
    """

    def __init__(self, source: PortalSource, host: str = "127.0.0.1", port: int = 0) -> None:
        if not is_loopback(host):
            raise ValueError(f"the simulator listens on the loopback only, not {host!r}")
        self.source, self.host, self.port = source, host, port
        self.requests_log: list[tuple[str, dict[str, Any]]] = []
        self.max_concurrent = 0
        self._faults = FaultBook()
        self._lock = threading.Lock()
        self._in_flight = 0
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> str:
        """Listen and serve in a daemon thread; returns the base URL."""
        if self._server is not None:
            raise RuntimeError("the simulator is already running")
        self._server = _Server((self.host, self.port), self)
        # A short poll interval makes stop() quick; idle, it costs ten wake-ups a second.
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.1,),
                                        name="portal-simulator", daemon=True)
        self._thread.start()
        return self.base_url

    def stop(self) -> None:
        """Stop serving and release the port; does nothing if not running."""
        if self._server is None:
            return
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join()
        self._server = self._thread = None

    def __enter__(self) -> PortalSimulator:
        self.start()
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        if self._server is None:
            raise RuntimeError("the simulator is not running")
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self._server.server_port}"

    def inject(self, fault: Fault) -> None:
        self._faults.add(fault)

    def clear_faults(self) -> None:
        self._faults.clear()

    @contextmanager
    def serving(self) -> Iterator[None]:
        """Counts a portal request as in flight while the block runs."""
        with self._lock:
            self._in_flight += 1
            self.max_concurrent = max(self.max_concurrent, self._in_flight)
        try:
            yield
        finally:
            with self._lock:
                self._in_flight -= 1

    def reply_to(self, path: str, raw_body: bytes) -> Reply:
        """The reply to a portal request: faults first, then the source's answer."""
        endpoint = path.removeprefix(API_PREFIX)
        body = _decoded(raw_body)
        with self._lock:
            self.requests_log.append((endpoint, body if isinstance(body, dict) else {}))
        for delay in self._faults.take(endpoint, ("delay",), every=True):
            time.sleep(delay.seconds)
        refusals = self._faults.take(endpoint, REFUSALS)
        if refusals:
            return _refusal(refusals[0])
        reply = self._answer(path, endpoint, body)
        damages = self._faults.take(endpoint, DAMAGES) if reply.status == 201 else []
        return _damaged(reply, damages[0]) if damages else reply

    def _answer(self, path: str, endpoint: str, body: object) -> Reply:
        if not path.startswith(API_PREFIX):
            return _error(404, "NOT_FOUND", f"no such path {path}")
        try:
            answer = self.source.answer(parse_query(endpoint, body))
        except BadRequest as exc:
            return _error(400, "BAD_REQUEST", str(exc))
        except NotFound as exc:
            return _error(404, "NOT_FOUND", str(exc))
        return Reply(201, answer.body, headers=answer.headers)

    def control(self, method: str, raw_body: bytes) -> Reply:
        """The fault control endpoint: POST adds a fault, DELETE clears them all."""
        if method == "DELETE":
            self.clear_faults()
            return Reply(200, encode_envelope(None))
        try:
            fault = Fault.from_json(_decoded(raw_body))
        except (TypeError, ValueError) as exc:
            return _error(400, "BAD_REQUEST", str(exc))
        self.inject(fault)
        return Reply(201, encode_envelope(asdict(fault)))


def _decoded(raw_body: bytes) -> object:
    try:
        return json.loads(raw_body)
    except ValueError:
        return None  # read as "not a JSON object", which every endpoint refuses


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False

    def __init__(self, address: tuple[str, int], simulator: PortalSimulator) -> None:
        self.simulator = simulator
        self.address_family = socket.AF_INET6 if ":" in address[0] else socket.AF_INET
        super().__init__(address, _Handler)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Headers and body go out in two writes; with Nagle on, the body would wait for
    # the client's delayed ACK (~40 ms) on every kept-alive request.
    disable_nagle_algorithm = True
    server: _Server

    def do_POST(self) -> None:  # noqa: N802 - the name http.server dispatches to
        self._exchange("POST")

    def do_DELETE(self) -> None:  # noqa: N802
        self._exchange("DELETE")

    def do_GET(self) -> None:  # noqa: N802
        self._send(_error(404, "NOT_FOUND", "the portal answers POST requests only"))

    def _exchange(self, method: str) -> None:
        path = urlsplit(self.path).path
        length = self.headers.get("Content-Length") or "0"
        if not length.isdigit():
            self.close_connection = True  # the unread body would garble the next request
            self._send(_error(400, "BAD_REQUEST", "Content-Length must be a byte count"))
            return
        raw_body = self.rfile.read(int(length))
        simulator = self.server.simulator
        if path == FAULTS_PATH:
            self._send(simulator.control(method, raw_body))
            return
        with simulator.serving():
            try:
                reply = (simulator.reply_to(path, raw_body) if method == "POST"
                         else _error(404, "NOT_FOUND", f"no {method} on {path}"))
            except Exception:  # a simulator bug: answer like a failing server, keep serving
                logger.exception("portal simulator failed on %s", path)
                reply = _error(500, "INTERNAL_SERVER_ERROR", "simulator error")
            self._send(reply)

    def _send(self, reply: Reply) -> None:
        try:
            self.send_response(reply.status)
            self.send_header("Content-Type", reply.content_type)
            self.send_header("Content-Length", str(len(reply.body)))
            for name, value in reply.headers:
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(reply.body)
        except (BrokenPipeError, ConnectionResetError):
            logger.debug("the client left before its answer (a timeout, or a killed process)")

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base's name
        logger.debug("%s " + format, self.address_string(), *args)


def _arguments() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m service.portal.simulator",
        description="Serve the national portal's evaluation API on the loopback.")
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--replay", metavar="DIR", help="serve the recorded responses in DIR")
    source.add_argument("--generate", action="store_true", help="serve a fictional country")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--provinces", type=int, default=1)
    parser.add_argument("--communes", type=int, default=20, help="total over all provinces")
    parser.add_argument("--agencies", type=int, default=5, help="total over all provinces")
    parser.add_argument("--host", default="127.0.0.1", help="a loopback address")
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
    parser.add_argument("--fault", action="append", default=[], metavar="KIND[:ENDPOINT[:TIMES]]",
                        help=f"inject a fault; KIND is one of {', '.join(FAULT_KINDS)}")
    parser.add_argument("--delay", type=float, default=0.0, metavar="SECONDS",
                        help="delay every request by SECONDS")
    return parser


def main(argv: list[str] | None = None) -> int:
    """Serve until SIGTERM or SIGINT; 0 when stopped so, 2 on bad usage, 1 if it cannot listen."""
    args = _arguments().parse_args(argv)
    if not is_loopback(args.host):
        print(f"refusing to listen on {args.host}: the simulator serves the loopback only",
              file=sys.stderr)
        return 2
    try:
        source: PortalSource = (ReplaySource(Path(args.replay)) if args.replay else
                                GeneratedSource(args.seed, args.provinces, args.communes,
                                                args.agencies))
        faults = [Fault.from_spec(spec) for spec in args.fault]
        if args.delay:
            faults.append(Fault("delay", times=-1, seconds=args.delay))
    except ValueError as exc:
        print(f"dvcwatch portal simulator: {exc}", file=sys.stderr)
        return 2
    stopping = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stopping.set())
    simulator = PortalSimulator(source, args.host, args.port)
    try:
        simulator.start()
    except OSError as exc:
        print(f"dvcwatch portal simulator: cannot listen on {args.host}:{args.port}: {exc}",
              file=sys.stderr)
        return 1
    for fault in faults:
        simulator.inject(fault)
    print(f"dvcwatch portal simulator listening on {simulator.base_url}", flush=True)
    try:
        while not stopping.wait(0.5):
            pass
    finally:
        simulator.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
