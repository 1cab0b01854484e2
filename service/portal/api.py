"""The portal's evaluation API as it goes over the wire: one row per endpoint.

Each `Endpoint` says what the client, the parser, the simulator and the tests
need to know about one endpoint of ``/api/v1/reporting/evaluation/``
(`docs/portal-api.md`): its path, the axis it scores (a row of
`service.indicators`, which owns the axis's code, name and maximum), the form
of the period it is asked for, the keys of its answer (the province's record,
the list of units, where a record keeps its points) and the key that narrows it
to one procedure. Nothing else spells an endpoint's path: `tests/test_indicators.py`
walks the code to keep it so.

Adding an endpoint is a row here plus its reader in `portal/parse.py`
(`FIGURE_READERS`, keyed by the row), and, for the simulator to serve it, an
answer in `service.simulator` (`generated.AXIS_ANSWERS`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import Enum
from typing import Any

from service import indicators
from service.periods import Period

#: The path every evaluation endpoint lives under, on the portal's origin.
API_PREFIX = "/api/v1/reporting/evaluation/"
#: The page whose scripts call the API: the client's Referer.
PAGE_PATH = "/danh-gia-chat-luong-phuc-vu"

# The request's keys.
ROOT_DEPARTMENT = "rootDepartmentId"  # a province: all of its units
SCOPE = "departmentType"  # with NATIONAL_SCOPE and no root, service-results lists the provinces
NATIONAL_SCOPE = "ADMINISTRATIVE_UNIT"
PAGE = "currentPage"
PAGE_SIZE = "pageSize"
TIME_TYPE = "timeType"  # month | quarter | year, with `year` and `month` or `quarter`
YEAR = "year"
FROM_DATE, TO_DATE = "fromDate", "toDate"


class PeriodForm(Enum):
    """How an endpoint is asked for a period."""

    TIME_TYPE = "timeType"  # timeType, year, and month or quarter
    DATES = "dates"  # fromDate / toDate, the period's first and last day


@dataclass(frozen=True)
class Scores:
    """The keys of a record's points and their maximum."""

    score: str
    maximum: str


TOTAL_SCORES = Scores("totalScore", "totalMaxScore")
#: The progress tree's units: `score`/`maxScore` (its province keeps `totalScore`).
SHORT_SCORES = Scores("score", "maxScore")


@dataclass(frozen=True)
class Endpoint:
    """One endpoint of the evaluation API (see the module doc)."""

    name: str  # the path after API_PREFIX
    axis: indicators.Axis | None  # None: the ranking over all six
    period_form: PeriodForm
    root_key: str  # the province's own record: `overview` or `parent`
    list_key: str  # its units: `evaluation` or `children`
    single_procedure_key: str | None  # narrows the answer to one procedure (formality)
    unit_scores: Scores = TOTAL_SCORES
    root_scores: Scores = TOTAL_SCORES

    def scores(self, is_root: bool) -> Scores:
        """Where a record of this answer keeps its points: the province's or a unit's."""
        return self.root_scores if is_root else self.unit_scores

    def period_fields(self, period: Period) -> dict[str, Any]:
        """The request's period, in this endpoint's form."""
        if self.period_form is PeriodForm.DATES:
            return {FROM_DATE: period.first_day.isoformat(), TO_DATE: period.last_day.isoformat()}
        fields: dict[str, Any] = {TIME_TYPE: period.kind, YEAR: period.year}
        if period.kind != "year":
            fields[period.kind] = period.number
        return fields


_BY_TIME, _BY_DATES = PeriodForm.TIME_TYPE, PeriodForm.DATES
_LISTING = ("overview", "evaluation")  # (root_key, list_key) of the paged listings
_TREE = ("parent", "children")  # of the trees, which answer every unit at once

SERVICE_RESULTS = Endpoint("service-results", None, _BY_TIME, *_LISTING, None)
TRANSPARENCY = Endpoint("transparency", indicators.CKMB, _BY_TIME, *_LISTING, "formalityId")
DVC_PROGRESS_TREE = Endpoint(
    "dvc-progress-tree", indicators.TDGQ, _BY_TIME, *_TREE, "formalityId", SHORT_SCORES
)
PROVIDE_ONLINE_TREE = Endpoint(
    "provide-online-tree", indicators.CLGQ, _BY_TIME, *_TREE, "formalityId"
)
FORMALITY_ONLINE_PAYMENT_TREE = Endpoint(
    "formality-online-payment-tree", indicators.TTTT, _BY_TIME, *_TREE, "formalityId"
)
HANDLING_SATISFACTION = Endpoint(
    "handling-satisfaction", indicators.MDHL, _BY_DATES, *_LISTING, None
)
DOSSIER_DIGITIZED = Endpoint(
    "dossier-digitized", indicators.MDSH, _BY_TIME, *_LISTING, "formalityID"
)


def _by_axis(*endpoints: Endpoint) -> dict[str, Endpoint]:
    """Axis code → its endpoint: one endpoint for each axis of the registry, in its order."""
    found = {e.axis.code: e for e in endpoints if e.axis is not None}
    if list(found) != list(indicators.AXES) or len(found) != len(endpoints):
        raise ValueError(f"one endpoint per axis of {list(indicators.AXES)}, got {list(found)}")
    return found


#: The endpoint that scores each axis, by axis code, in the registry's order.
BY_AXIS: Mapping[str, Endpoint] = _by_axis(
    TRANSPARENCY, DVC_PROGRESS_TREE, PROVIDE_ONLINE_TREE, FORMALITY_ONLINE_PAYMENT_TREE,
    HANDLING_SATISFACTION, DOSSIER_DIGITIZED,
)  # fmt: skip
#: Every endpoint by name, in the order one province-period is fetched: the ranking,
#: then the six axes.
ENDPOINTS: Mapping[str, Endpoint] = {e.name: e for e in (SERVICE_RESULTS, *BY_AXIS.values())}
#: The axis endpoints' names → the axis each scores.
AXIS_OF: Mapping[str, str] = {endpoint.name: code for code, endpoint in BY_AXIS.items()}
#: Everything one province-period needs, in the order it is fetched.
PROVINCE_ENDPOINTS: tuple[str, ...] = tuple(ENDPOINTS)


def period_fields(endpoint: str, period: Period) -> dict[str, Any]:
    """`timeType`/`year`/`month`/`quarter`, or `fromDate`/`toDate`, as `endpoint` takes them."""
    return ENDPOINTS[endpoint].period_fields(period)
