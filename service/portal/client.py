"""The national portal's evaluation API, fetched politely with `requests`.

One request at a time, a randomised pause before each one, an honest
User-Agent. Timeouts, connection errors and 5xx are retried with backoff; a
403, a 429 or the web firewall's "Request Rejected" page stops the run at
once (`PortalBlocked`). Every read is bounded (`transport`): a deadline per
request and one for the client's whole run, a decompressed size limit and a
redirect limit. Every response, good or bad, is handed to the `archive`
callback before anything reads it, so the raw evidence is kept whatever
happens next (`before_wait` lets the archive commit in the client's pauses);
an answer over the size limit is archived as its first
`ARCHIVED_PREFIX_BYTES` with a note saying so.
"""

from __future__ import annotations

import datetime as dt
import random
import time
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar
from urllib.parse import quote, urlsplit

import msgspec
import requests
from bs4 import BeautifulSoup

from service.clock import utcnow
from service.config import PortalSettings
from service.periods import Period
from service.portal import api
from service.portal.api import API_PREFIX, PAGE_PATH, SERVICE_RESULTS, period_fields
from service.portal.checks import has_long_integer, read_json
from service.portal.transport import (
    ACCEPT_ENCODING,
    BodyTooLarge,
    Bounds,
    DeadlinePassed,
    ExchangeFailed,
    exchange,
)
from service.urls import shown, without_secrets

MAX_PAGES = 50  # a province fits in one or two pages; more means something is wrong
_FIREWALL_MARKERS = ("request rejected", "the requested url was rejected")
_FIREWALL_PAGE_BYTES = 65_536  # the firewall's page is small; a large HTML page is not it
#: How much of an answer over the size limit is archived (evidence, not a copy).
ARCHIVED_PREFIX_BYTES = 1_048_576
#: The status of every answer the API's envelope is read from (POST: 201 Created).
READ_STATUS = 201


@dataclass(frozen=True)
class PortalResponse:
    """What came back for one request (or why nothing did), as archived."""

    endpoint: str
    request_body: dict[str, Any]
    status: int | None
    content_type: str | None
    body: bytes
    fetched_at: dt.datetime
    error: str | None = None


class PortalError(Exception):
    """A failed fetch; `kind` classifies it for the run record and metrics."""

    kind = "portal"

    def __init__(self, endpoint: str, url: str, message: str) -> None:
        super().__init__(f"{endpoint}: {without_secrets(message, url)} ({shown(url)})")
        self.endpoint = endpoint
        self.url = shown(url)  # a proxy's password or a key never reaches a message


class PortalBlocked(PortalError):
    """403, 429 or the firewall page: stop the whole run, never work around it."""

    kind = "blocked"


class PortalUnavailable(PortalError):
    """Timeouts, connection errors or 5xx that outlasted the retries."""

    kind = "unavailable"


class PortalBadResponse(PortalError):
    """An answer that is not the API's JSON envelope (HTML, truncated JSON, wrong code),
    too large, or behind too many redirects."""

    kind = "bad_response"


class PortalRunDeadline(PortalError):
    """The run's deadline (`run_deadline_seconds`) passed: no further request is made."""

    kind = "deadline"


Archive = Callable[[PortalResponse], None]
T = TypeVar("T")


class EnvironmentOnce(requests.Session):
    """A `requests.Session` reading the environment's proxies and CA bundle once per
    address, not at every request: they are the process's for its life, and requests
    scanning the whole environment twice a request was a tenth of a national sync's
    CPU. A request's own proxies are merged as requests merges them."""

    def __init__(self) -> None:
        super().__init__()
        self._read: dict[tuple[object, ...], Any] = {}

    def merge_environment_settings(
        self, url: Any, proxies: Any, stream: Any, verify: Any, cert: Any
    ) -> Any:
        if proxies:
            return super().merge_environment_settings(url, proxies, stream, verify, cert)
        parts = urlsplit(str(url))
        key = (parts.scheme, parts.netloc, stream, verify, cert, self.trust_env)
        if key not in self._read:
            self._read[key] = super().merge_environment_settings(url, {}, stream, verify, cert)
        settings = self._read[key]
        return {**settings, "proxies": dict(settings["proxies"])}


class PortalClient:
    """Fetches the evaluation datasets of one province and period."""

    def __init__(
        self,
        settings: PortalSettings,
        archive: Archive,
        session: requests.Session | None = None,
        sleep: Callable[[float], None] = time.sleep,
        rng: random.Random | None = None,
        clock: Callable[[], float] = time.monotonic,
        before_wait: Callable[[], None] = lambda: None,
        follows: bool = False,
    ) -> None:
        """The run's deadline starts now (`settings.run_deadline_seconds` on `clock`).
        `before_wait` is called before each pause or backoff (the archive commits then).
        `follows`: another client's requests come just before this one's (the provinces
        of one `dvcwatch sync`), so its first request is paused before too."""
        self.settings = settings
        self.archive = archive
        self._before_wait = before_wait
        self.session = session or EnvironmentOnce()
        self.session.headers.update(self._headers())
        self._sleep = sleep
        self._rng = rng or random.Random()
        self._clock = clock
        self._run_ends = clock() + settings.run_deadline_seconds
        self._requests_made = int(follows)  # a pause before each request but a first

    def _headers(self) -> dict[str, str]:
        origin = self.settings.base_url.rstrip("/")
        return {
            "User-Agent": ascii_header(self.settings.user_agent),
            "Content-Type": "application/json",
            "Accept": "application/json",
            "Accept-Encoding": ACCEPT_ENCODING,
            "Origin": origin,
            "Referer": origin + PAGE_PATH,
        }

    def province_body(self, endpoint: str, province_id: str, period: Period) -> dict[str, Any]:
        """The request body the portal's pages send for one province and period."""
        return {
            api.ROOT_DEPARTMENT: province_id,
            api.PAGE: 1,
            api.PAGE_SIZE: self.settings.page_size,
            **period_fields(endpoint, period),
        }

    def fetch_province(self, endpoint: str, province_id: str, period: Period) -> Any:
        """The whole dataset: further pages (`pagination.totalPages`) are fetched and joined."""
        body = self.province_body(endpoint, province_id, period)
        data = self.post(endpoint, body)
        for page in range(2, _total_pages(data) + 1):
            more = self.post(endpoint, {**body, api.PAGE: page})
            _join_page(endpoint, data, more, page)
        return data

    def fetch_pages(self, endpoint: str, province_id: str, period: Period) -> list[bytes]:
        """The bodies of the pages `fetch_province` joins, each checked as it checks them,
        without decoding the units they list (a sync reads them elsewhere, once:
        `plain.read_plain`)."""
        body = self.province_body(endpoint, province_id, period)
        first = self.posted(endpoint, body, checked_page)
        pages = [first]
        for page in range(2, first.total_pages + 1):
            pages.append(self.posted(endpoint, {**body, api.PAGE: page}, checked_page))
            if not (first.lists_units and pages[-1].lists_units):
                raise _no_unit_list(endpoint, page)
        return [page.body for page in pages]

    def fetch_provinces(self, period: Period) -> Any:
        """The 34 provinces (`service-results` for ADMINISTRATIVE_UNIT)."""
        body = {api.SCOPE: api.NATIONAL_SCOPE, **SERVICE_RESULTS.period_fields(period)}
        return self.post(SERVICE_RESULTS.name, body)

    def post(self, endpoint: str, body: dict[str, Any]) -> Any:
        """POST one request and return the envelope's `data`, retrying what may pass."""
        return self.posted(endpoint, body, read_envelope)

    def posted(
        self, endpoint: str, body: dict[str, Any], read: Callable[[str, str, int, bytes], T]
    ) -> T:
        """POST one request and return what `read` makes of the answer that came whole
        (`read_envelope`: its `data`), retrying what may pass."""
        url = self.settings.base_url.rstrip("/") + API_PREFIX + endpoint
        attempts = self.settings.retries + 1
        for attempt in range(1, attempts + 1):
            self._pause(endpoint, url)
            try:
                return self._attempt(endpoint, url, body, read)
            except PortalUnavailable:
                if attempt == attempts:
                    raise
                self._wait(endpoint, url, self.settings.backoff_seconds * 2 ** (attempt - 1))
        raise AssertionError("unreachable")  # pragma: no cover

    def _pause(self, endpoint: str, url: str) -> None:
        low, high = self.settings.pause_seconds
        if self._requests_made and high > 0:
            self._wait(endpoint, url, self._rng.uniform(low, high))
        self._requests_made += 1

    def _wait(self, endpoint: str, url: str, seconds: float) -> None:
        """Sleep, unless the run's deadline would pass first."""
        if self._clock() + seconds >= self._run_ends:
            raise self._run_deadline(endpoint, url)
        self._before_wait()
        self._sleep(seconds)

    def _run_deadline(self, endpoint: str, url: str) -> PortalRunDeadline:
        return PortalRunDeadline(
            endpoint,
            url,
            f"the run's deadline of {self.settings.run_deadline_seconds:g} s "
            "(portal.run_deadline_seconds) passed",
        )

    def _attempt(
        self,
        endpoint: str,
        url: str,
        body: dict[str, Any],
        read: Callable[[str, str, int, bytes], T],
    ) -> T:
        now = self._clock()
        if now >= self._run_ends:
            raise self._run_deadline(endpoint, url)
        bounds = Bounds(
            min(now + self.settings.request_deadline_seconds, self._run_ends),
            self.settings.timeout_seconds,
            self.settings.max_body_bytes,
            self.settings.max_redirects,
        )
        try:
            answer = exchange(self.session, url, body, bounds, self._clock)
        except ExchangeFailed as failure:
            self._archive_failure(endpoint, body, failure)
            raise self._classify(endpoint, url, failure) from None
        self.archive(
            PortalResponse(
                endpoint, body, answer.status, answer.content_type, answer.body, utcnow()
            )
        )
        return read(endpoint, url, answer.status, answer.body)

    def _classify(self, endpoint: str, url: str, failure: ExchangeFailed) -> PortalError:
        """The `PortalError` of a failed exchange: retried only if it may pass."""
        if isinstance(failure, DeadlinePassed):
            if self._clock() >= self._run_ends:
                return self._run_deadline(endpoint, url)
            limit = self.settings.request_deadline_seconds
            return PortalUnavailable(
                endpoint,
                url,
                f"timed out: no whole answer within the request deadline of {limit:g} s "
                f"(portal.request_deadline_seconds); {failure}",
            )
        if isinstance(failure, BodyTooLarge):
            return PortalBadResponse(endpoint, url, f"{failure} (portal.max_body_bytes)")
        if failure.retriable:
            return PortalUnavailable(endpoint, url, str(failure))
        return PortalBadResponse(endpoint, url, str(failure))

    def _archive_failure(
        self, endpoint: str, body: dict[str, Any], failure: ExchangeFailed
    ) -> None:
        """What arrived of a failed exchange, with why it is incomplete."""
        kept = bytes(failure.partial[:ARCHIVED_PREFIX_BYTES])
        note = str(failure)
        if len(failure.partial) > len(kept):
            note += f"; only the first {len(kept)} bytes are kept"
        self.archive(
            PortalResponse(
                endpoint, body, failure.status, failure.content_type, kept, utcnow(), note
            )
        )


def _total_pages(data: Any) -> int:
    pagination = data.get("pagination") if isinstance(data, dict) else None
    pages = pagination.get("totalPages") if isinstance(pagination, dict) else None
    if not isinstance(pages, int) or pages < 1:
        return 1
    return min(pages, MAX_PAGES)


def joined(endpoint: str, pages: list[bytes]) -> Any:
    """The dataset `fetch_province` returned, read again from the bodies of its pages
    (each already accepted by `read_envelope`)."""
    data = read_json(pages[0])["data"]
    for page, body in enumerate(pages[1:], start=2):
        _join_page(endpoint, data, read_json(body)["data"], page)
    return data


def _join_page(endpoint: str, data: dict[str, Any], more: Any, page: int) -> None:
    """Append page `page`'s units to the first page's list (same shape or a clear error)."""
    key = api.ENDPOINTS[endpoint].list_key
    units = more.get(key) if isinstance(more, dict) else None
    if not isinstance(units, list) or not isinstance(data.get(key), list):
        raise _no_unit_list(endpoint, page)
    data[key].extend(units)


def _no_unit_list(endpoint: str, page: int) -> PortalBadResponse:
    return PortalBadResponse(endpoint, API_PREFIX + endpoint, f"page {page} has no unit list")


def read_envelope(endpoint: str, url: str, status: int, body: bytes) -> Any:
    """Check a response and return its `data`; raise the right `PortalError` otherwise."""
    if looks_like_firewall_page(body):
        raise PortalBlocked(endpoint, url, "the portal's web firewall rejected the request")
    if status in (403, 429):
        raise PortalBlocked(endpoint, url, f"HTTP {status}: the portal refused the request")
    if status >= 500:
        raise PortalUnavailable(endpoint, url, f"HTTP {status}")
    if status != READ_STATUS:
        raise PortalBadResponse(endpoint, url, f"HTTP {status}, expected {READ_STATUS}")
    try:
        envelope = read_json(body)
    except ValueError as exc:
        raise PortalBadResponse(endpoint, url, f"the body is not valid JSON: {exc}") from None
    if not isinstance(envelope, dict) or envelope.get("code") != "OK" or "data" not in envelope:
        raise PortalBadResponse(
            endpoint, url, f"not the API envelope {{code: OK, data}}: {body[:120]!r}"
        )
    return envelope["data"]


@dataclass(frozen=True)
class Page:
    """One page of a province's dataset, checked (`checked_page`)."""

    body: bytes
    total_pages: int  # as the page says (`_total_pages`)
    lists_units: bool  # its data holds the endpoint's list of units


def _peek(endpoint: api.Endpoint) -> msgspec.json.Decoder[Any]:
    """A decoder of a page of `endpoint` reading only its envelope's `code`, its
    pagination and where its list of units is (left undecoded)."""
    data = msgspec.defstruct(
        f"{endpoint.name}-peeked-data",
        [("pagination", Any, None), (endpoint.list_key, msgspec.Raw, msgspec.Raw(b"null"))],
    )
    return msgspec.json.Decoder(
        msgspec.defstruct(f"{endpoint.name}-peeked", [("code", Any), ("data", data)])
    )


_PEEKS = {name: _peek(endpoint) for name, endpoint in api.ENDPOINTS.items()}


def checked_page(endpoint: str, url: str, status: int, body: bytes) -> Page:
    """A page as `read_envelope` checks it, with its page count and whether it lists
    units, without decoding the units: msgspec skips what it is not asked for, in
    valid JSON of valid UTF-8 (checked too: msgspec does not look inside a string it
    skips). Anything else, and a body `read_json` would read with `json` (a long integer,
    which msgspec skips where `json` may refuse it), is read by `read_envelope`, raising
    what it raises."""
    if status == READ_STATUS and not has_long_integer(body):
        try:
            body.decode()
            peeked = _PEEKS[endpoint].decode(body)
        except (UnicodeDecodeError, msgspec.DecodeError, msgspec.ValidationError, RecursionError):
            peeked = None
        if peeked is not None and peeked.code == "OK":
            data = peeked.data
            units = getattr(data, api.ENDPOINTS[endpoint].list_key)
            pages = _total_pages({"pagination": data.pagination})
            return Page(body, pages, bytes(units).startswith(b"["))
    data = read_envelope(endpoint, url, status, body)
    units = data.get(api.ENDPOINTS[endpoint].list_key) if isinstance(data, dict) else None
    return Page(body, _total_pages(data), isinstance(units, list))


def looks_like_firewall_page(body: bytes) -> bool:
    """True for the HTML page the web firewall serves instead of JSON."""
    head = body.lstrip()[:1]
    if head != b"<" or len(body) > _FIREWALL_PAGE_BYTES:
        return False
    text = BeautifulSoup(body, "html.parser").get_text(" ").lower()
    return any(marker in text for marker in _FIREWALL_MARKERS)


def ascii_header(text: str) -> str:
    """A header value HTTP/1.1 carries (visible ASCII): Vietnamese letters lose their marks
    ("Văn phòng UBND tỉnh" -> "Van phong UBND tinh", đ -> d), which keeps the value readable
    in the portal's logs; anything else outside ASCII is percent-encoded as UTF-8, and
    control characters (a line break would end the header) become spaces."""
    plain = unicodedata.normalize("NFKD", text.replace("đ", "d").replace("Đ", "D"))
    kept = "".join(char for char in plain if not unicodedata.combining(char))
    spaced = "".join(" " if unicodedata.category(char) == "Cc" else char for char in kept)
    return quote(" ".join(spaced.split()), safe=" !\"#$&'()*+,/:;<=>?@[\\]^_`{|}~")
