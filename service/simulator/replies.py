"""What the simulator sends back over HTTP: a status, a body and its headers.

The portal answers its own errors with a small JSON object and the proxies in
front of it (nginx, the web firewall) with HTML pages; both are made here.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

JSON_TYPE = "application/json; charset=utf-8"
HTML_TYPE = "text/html; charset=utf-8"


@dataclass(frozen=True)
class Reply:
    """One HTTP reply: status, body, its Content-Type and any extra headers."""

    status: int
    body: bytes
    content_type: str = JSON_TYPE
    headers: tuple[tuple[str, str], ...] = ()


def error_reply(status: int, code: str, message: str) -> Reply:
    """The portal's JSON error, e.g. 404 NOT_FOUND or 400 BAD_REQUEST, with `message`."""
    body = json.dumps({"code": code, "message": message}, ensure_ascii=False, separators=(",", ":"))
    return Reply(status, body.encode("utf-8"))


def html_reply(status: int, title: str, text: str, *headers: tuple[str, str]) -> Reply:
    """A bare HTML page titled `title`, as a proxy answers."""
    page = f"<html><head><title>{title}</title></head><body>{text}</body></html>"
    return Reply(status, page.encode("utf-8"), HTML_TYPE, headers)
