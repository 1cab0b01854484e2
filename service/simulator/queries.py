"""What the portal is asked, and the form of what it answers.

Every simulated source is asked a `PortalQuery`, read from a request body by
`parse_query` the way the portal reads it, and gives an `Answer` or raises
`BadRequest` (HTTP 400) / `NotFound` (HTTP 404). A recording is matched by
exactly these values. `encode_envelope` and `figure` are the portal's way of
writing a body and a number, shared by every source. What each endpoint is asked
(its period's form, the key of one procedure) is its row of `service.portal.api`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import date
from typing import Any

from service.periods import Period
from service.portal import api
from service.portal.api import NATIONAL_SCOPE, SERVICE_RESULTS, PeriodForm

JSON = dict[str, Any]

DEFAULT_PAGE_SIZE = 10  # the portal's own default is unrecorded; clients always send one


class BadRequest(ValueError):
    """The request is not one the portal accepts (HTTP 400); the message names the field."""


class NotFound(LookupError):
    """The source has no answer for this endpoint, province or period (HTTP 404)."""


def months_of(period: Period) -> tuple[int, ...]:
    """The calendar months (1-12) a period covers."""
    return tuple(range(period.first_day.month, period.last_day.month + 1))


def period_spanning(first: date, last: date) -> Period:
    """The month, quarter or year that is exactly `first`..`last`, else `BadRequest`."""
    quarter = (first.month - 1) // 3 + 1
    for candidate in (
        Period(first.year, "month", first.month),
        Period(first.year, "quarter", quarter),
        Period(first.year, "year", 0),
    ):
        if (candidate.first_day, candidate.last_day) == (first, last):
            return candidate
    raise BadRequest(f"fromDate {first} .. toDate {last} is not a whole month, quarter or year")


@dataclass(frozen=True)
class PortalQuery:
    """One evaluation request; `province_id` None asks for the national list of provinces."""

    endpoint: str
    period: Period
    province_id: str | None = None
    formality_id: str | None = None
    page: int = 1
    page_size: int = DEFAULT_PAGE_SIZE

    def on(self, endpoint: str) -> PortalQuery:
        return replace(self, endpoint=endpoint)


@dataclass(frozen=True)
class Answer:
    """A successful response body (HTTP 201) and any extra headers."""

    body: bytes
    headers: tuple[tuple[str, str], ...] = ()


def parse_query(endpoint: str, body: object) -> PortalQuery:
    """Read a request body the way the portal does; raise NotFound or BadRequest.

    One procedure is asked for under the endpoint's own key (`formalityId`, or
    `formalityID` on dossier-digitized); any other key is ignored, like every field
    the endpoint does not read.
    """
    asked = api.ENDPOINTS.get(endpoint)
    if asked is None:
        raise NotFound(f"unknown endpoint {endpoint!r}")
    if not isinstance(body, dict):
        raise BadRequest("the body must be a JSON object")
    dates = asked.period_form is PeriodForm.DATES
    period = _date_range(body) if dates else _time_period(body)
    province_id = _text(body, api.ROOT_DEPARTMENT)
    national = asked is SERVICE_RESULTS and body.get(api.SCOPE) == NATIONAL_SCOPE
    if province_id is None and not national:
        raise BadRequest(
            f"{api.ROOT_DEPARTMENT} is required (or, on {SERVICE_RESULTS.name}, "
            f"{api.SCOPE} {NATIONAL_SCOPE})"
        )
    procedure = asked.single_procedure_key
    return PortalQuery(
        endpoint,
        period,
        province_id,
        formality_id=_text(body, procedure) if procedure else None,
        page=_integer(body, api.PAGE, 1, 1_000_000, default=1),
        page_size=_integer(body, api.PAGE_SIZE, 1, 1000, default=DEFAULT_PAGE_SIZE),
    )


def _time_period(body: Mapping[str, Any]) -> Period:
    kind = body.get(api.TIME_TYPE)
    if kind not in ("month", "quarter", "year"):
        raise BadRequest(f"{api.TIME_TYPE} must be month, quarter or year")
    year = _integer(body, api.YEAR, 2000, 2100)
    if kind == "year":
        return Period(year, kind, 0)
    return Period(year, kind, _integer(body, kind, 1, 12 if kind == "month" else 4))


def _date_range(body: Mapping[str, Any]) -> Period:
    try:
        first, last = (date.fromisoformat(body[field]) for field in (api.FROM_DATE, api.TO_DATE))
    except (KeyError, TypeError, ValueError) as exc:
        dates = f"{api.FROM_DATE} and {api.TO_DATE}"
        raise BadRequest(f"{dates} must be dates like 2026-08-01") from exc
    return period_spanning(first, last)


def _integer(
    body: Mapping[str, Any], field: str, low: int, high: int, default: int | None = None
) -> int:
    value = body.get(field, default)
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise BadRequest(f"{field} must be an integer from {low} to {high}")
    return value


def _text(body: Mapping[str, Any], field: str) -> str | None:
    value = body.get(field)
    if value is not None and (not isinstance(value, str) or not value):
        raise BadRequest(f"{field} must be a non-empty string")
    return value


def figure(value: float) -> int | float:
    """`value` rounded to 2 decimals, whole numbers as int: the portal prints 6, not 6.0."""
    rounded = round(float(value), 2)
    return int(rounded) if rounded.is_integer() else rounded


def encode_envelope(data: object) -> bytes:
    """The portal's compact UTF-8 success envelope around `data`."""
    envelope = {"code": "OK", "data": data, "message": "OK"}
    return json.dumps(envelope, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
