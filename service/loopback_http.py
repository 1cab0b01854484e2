"""The HTTP server dvcwatch runs beside itself: `/healthz` and `/metrics`, the portal
simulator, and the fake chat servers of the tests and the soak.

A client that goes away in the middle of a request (killed, timed out, its connection
reset) is ordinary for a server: it is one log line, not the traceback `socketserver`
prints to stderr by default. Any other error in a handler is a bug and keeps its
traceback.
"""

from __future__ import annotations

import logging
import sys
from http.server import ThreadingHTTPServer
from typing import Any

log = logging.getLogger(__name__)


class LoopbackServer(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False

    def handle_error(self, request: Any, client_address: Any) -> None:
        error = sys.exc_info()[1]
        if isinstance(error, ConnectionError):
            log.info("a client at %s went away mid-request: %s", client_address, error)
            return
        super().handle_error(request, client_address)
