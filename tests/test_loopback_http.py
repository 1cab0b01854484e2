"""A client that resets its connection mid-request is one log line at the servers
dvcwatch runs (health, the portal simulator, the fake Telegram), not a traceback."""

from __future__ import annotations

import logging
import socket
import struct
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from urllib.parse import urlsplit

import pytest
from sqlalchemy.orm import sessionmaker

from service.health import HealthServer
from service.simulator.simulator import GeneratedSource, PortalSimulator
from tests.fakes.telegram_server import FakeTelegram
from tests.waiting import wait_until


def address_of(base_url: str) -> tuple[str, int]:
    parts = urlsplit(base_url)
    return str(parts.hostname), int(parts.port or 0)


@contextmanager
def health() -> Iterator[tuple[str, int]]:
    # The reset request never reaches a handler: no database is asked.
    server = HealthServer("127.0.0.1:0", sessionmaker(), overdue=lambda _now: []).start()
    try:
        yield "127.0.0.1", server.port
    finally:
        server.stop()


@contextmanager
def simulator() -> Iterator[tuple[str, int]]:
    with PortalSimulator(GeneratedSource(seed=1, provinces=1, communes=1, agencies=1)) as sim:
        yield address_of(sim.base_url)


@contextmanager
def telegram() -> Iterator[tuple[str, int]]:
    with FakeTelegram() as fake:
        yield address_of(fake.base_url)


def reset_mid_request(address: tuple[str, int]) -> None:
    """Half a request line, then a reset (SO_LINGER 0: the close sends RST)."""
    client = socket.create_connection(address, timeout=30)
    client.sendall(b"POST /some")
    client.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    client.close()


@pytest.mark.parametrize("server", [health, simulator, telegram])
def test_a_client_resetting_its_connection_is_one_log_line_not_a_traceback(
    server: Callable[..., AbstractContextManager[tuple[str, int]]], caplog, capfd
):
    caplog.set_level(logging.INFO, logger="service.loopback_http")
    with server() as address:
        reset_mid_request(address)
        record = wait_until(
            lambda: [r for r in caplog.records if "went away" in r.getMessage()],
            "the server's line about the client that went away",
        )
    assert len(record) == 1 and "Connection reset" in record[0].getMessage()
    assert "Traceback" not in capfd.readouterr().err
