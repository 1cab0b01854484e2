"""The portal's evaluation API over HTTP on the loopback, serving one source.

`PortalSimulator` answers as the portal does (POST a JSON body, HTTP 201 and
the ``{"code":"OK","data":...,"message":"OK"}`` envelope) with what its source
answers, after the injected faults (`service.simulator.faults`) have had their
say. Faults are injected from Python or over HTTP (``POST`` / ``DELETE
/_simulator/faults``), so a test can drive a simulator running in another
process.
"""

from __future__ import annotations

import ipaddress
import json
import logging
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict
from http.server import BaseHTTPRequestHandler
from types import TracebackType
from typing import Any, Protocol
from urllib.parse import urlsplit

from service.loopback_http import LoopbackServer
from service.portal.api import API_PREFIX
from service.simulator.faults import DAMAGES, REFUSALS, Fault, FaultBook, damaged, refusal
from service.simulator.queries import (
    Answer,
    BadRequest,
    NotFound,
    PortalQuery,
    encode_envelope,
    parse_query,
)
from service.simulator.replies import Reply, error_reply
from service.simulator.wire import WIRE_FAULTS, Streamed, on_the_wire, write_streamed

logger = logging.getLogger(__name__)

FAULTS_PATH = "/_simulator/faults"


class PortalSource(Protocol):
    """What the simulator serves: an answer per query, or BadRequest / NotFound."""

    def answer(self, query: PortalQuery) -> Answer: ...


def is_loopback(host: str) -> bool:
    """Whether `host` is localhost or a loopback address (127.0.0.0/8, ::1)."""
    try:
        return host == "localhost" or ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class PortalSimulator:
    """A portal on the loopback serving `source`, in a background thread once started.

    `requests_log` holds (endpoint, request body) of every portal request in arrival
    order; `max_concurrent` the most portal requests ever served at the same moment.
    A "delay" fault waits with `sleep` (time.sleep; a test may hold the answer with its
    own, until it has seen the request waiting).
    """

    def __init__(
        self,
        source: PortalSource,
        host: str = "127.0.0.1",
        port: int = 0,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if not is_loopback(host):
            raise ValueError(f"the simulator listens on the loopback only, not {host!r}")
        self.source, self.host, self.port = source, host, port
        self.sleep = sleep
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
        self._thread = threading.Thread(
            target=self._server.serve_forever, args=(0.1,), name="portal-simulator", daemon=True
        )
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

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
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

    def reply_to(self, path: str, raw_body: bytes) -> Reply | Streamed:
        """The reply to a portal request: faults first, then the source's answer, spoilt
        in its content and then in its delivery if a fault says so."""
        endpoint = path.removeprefix(API_PREFIX)
        body = _decoded(raw_body)
        with self._lock:
            self.requests_log.append((endpoint, body if isinstance(body, dict) else {}))
        for delay in self._faults.take(endpoint, ("delay",), every=True):
            self.sleep(delay.seconds)
        refusals = self._faults.take(endpoint, REFUSALS)
        if refusals:
            return refusal(refusals[0])
        reply = self._answer(path, endpoint, body)
        damages = self._faults.take(endpoint, DAMAGES) if reply.status == 201 else []
        reply = damaged(reply, damages[0]) if damages else reply
        wire = self._faults.take(endpoint, WIRE_FAULTS)
        if not wire:
            return reply
        return on_the_wire(wire[0].kind, reply, path, wire[0].seconds, wire[0].size)

    def _answer(self, path: str, endpoint: str, body: object) -> Reply:
        if not path.startswith(API_PREFIX):
            return error_reply(404, "NOT_FOUND", f"no such path {path}")
        try:
            answer = self.source.answer(parse_query(endpoint, body))
        except BadRequest as exc:
            return error_reply(400, "BAD_REQUEST", str(exc))
        except NotFound as exc:
            return error_reply(404, "NOT_FOUND", str(exc))
        return Reply(201, answer.body, headers=answer.headers)

    def control(self, method: str, raw_body: bytes) -> Reply:
        """The fault control endpoint: POST adds a fault, DELETE clears them all."""
        if method == "DELETE":
            self.clear_faults()
            return Reply(200, encode_envelope(None))
        try:
            fault = Fault.from_json(_decoded(raw_body))
        except (TypeError, ValueError) as exc:
            return error_reply(400, "BAD_REQUEST", str(exc))
        self.inject(fault)
        return Reply(201, encode_envelope(asdict(fault)))


def _decoded(raw_body: bytes) -> object:
    try:
        return json.loads(raw_body)
    except ValueError:
        return None  # read as "not a JSON object", which every endpoint refuses


class _Server(LoopbackServer):
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
        self._send(error_reply(404, "NOT_FOUND", "the portal answers POST requests only"))

    def _exchange(self, method: str) -> None:
        path = urlsplit(self.path).path
        length = self.headers.get("Content-Length") or "0"
        if not length.isdigit():
            self.close_connection = True  # the unread body would garble the next request
            self._send(error_reply(400, "BAD_REQUEST", "Content-Length must be a byte count"))
            return
        raw_body = self.rfile.read(int(length))
        simulator = self.server.simulator
        if path == FAULTS_PATH:
            self._send(simulator.control(method, raw_body))
            return
        with simulator.serving():
            try:
                reply = (
                    simulator.reply_to(path, raw_body)
                    if method == "POST"
                    else error_reply(404, "NOT_FOUND", f"no {method} on {path}")
                )
            except Exception:  # a simulator bug: answer like a failing server, keep serving
                logger.exception("portal simulator failed on %s", path)
                reply = error_reply(500, "INTERNAL_SERVER_ERROR", "simulator error")
            if isinstance(reply, Streamed):  # a slow delivery is still being served
                self._send(reply)
                return
        # Out of flight before the answer leaves: a client that sends its next request as
        # soon as it has read this one must never find this one still counted.
        self._send(reply)

    def _send(self, reply: Reply | Streamed) -> None:
        streamed = isinstance(reply, Streamed)
        length = reply.length if isinstance(reply, Streamed) else len(reply.body)
        try:
            self.send_response(reply.status)
            self.send_header("Content-Type", reply.content_type)
            if length is None:
                self.send_header("Transfer-Encoding", "chunked")
            else:
                self.send_header("Content-Length", str(length))
            for name, value in reply.headers:
                self.send_header(name, value)
            self.end_headers()
            if isinstance(reply, Streamed):
                self.close_connection = True  # a spoilt delivery leaves no reusable connection
                write_streamed(reply, self.wfile, self.connection)
            else:
                self.wfile.write(reply.body)
        except (BrokenPipeError, ConnectionResetError):
            logger.debug("the client left before its answer (a timeout, or a killed process)")
        except OSError:
            if not streamed:
                raise
            logger.debug("the client hung up during a spoilt delivery")

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base's name
        logger.debug("%s " + format, self.address_string(), *args)
