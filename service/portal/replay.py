"""What the portal is asked, and what it answered when it was recorded.

A simulated source is asked a `PortalQuery` and gives an `Answer` or raises
`BadRequest` / `NotFound`. That vocabulary lives here, beside the replay of
recorded responses, because a recording is matched by exactly those values.
So does the derivation of ``service-results`` (the ranking) from the six
axis answers: a replay folder rarely records it, and the generated country
reuses it so that both sources agree on how a ranking is made.
"""

from __future__ import annotations

import json
import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path
from typing import Any

from service.periods import Period

JSON = dict[str, Any]

SERVICE_RESULTS = "service-results"
# (axis code, endpoint that scores it, maximum points); order of `groupScores`.
AXES: tuple[tuple[str, str, int], ...] = (
    ("CKMB", "transparency", 18),
    ("TDGQ", "dvc-progress-tree", 20),
    ("CLGQ", "provide-online-tree", 12),
    ("TTTT", "formality-online-payment-tree", 10),
    ("MDHL", "handling-satisfaction", 18),
    ("MDSH", "dossier-digitized", 22),
)
ENDPOINTS = (SERVICE_RESULTS, *(endpoint for _, endpoint, _ in AXES))
DATE_RANGE_ENDPOINT = "handling-satisfaction"
NATIONAL_SCOPE = "ADMINISTRATIVE_UNIT"
DEFAULT_PAGE_SIZE = 10  # the portal's own default is unrecorded; clients always send one
DERIVED_HEADER = ("X-Simulator-Derived", SERVICE_RESULTS)
# The radar merges CLGQ and TTTT into one axis, as the 2022 decision did.
RADAR: tuple[tuple[str, str, tuple[str, ...], int], ...] = (
    ("CKMB", "Công khai, minh bạch", ("CKMB",), 18),
    ("TDGQ", "Tiến độ giải quyết", ("TDGQ",), 20),
    ("ONLINE_SERVICE", "Dịch vụ trực tuyến", ("CLGQ", "TTTT"), 22),
    ("MDHL", "Mức độ hài lòng", ("MDHL",), 18),
    ("MDSH", "Số hóa hồ sơ", ("MDSH",), 22),
)


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
    for candidate in (Period(first.year, "month", first.month),
                      Period(first.year, "quarter", quarter), Period(first.year, "year", 0)):
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
    """Read a request body the way the portal does; raise NotFound or BadRequest."""
    if endpoint not in ENDPOINTS:
        raise NotFound(f"unknown endpoint {endpoint!r}")
    if not isinstance(body, dict):
        raise BadRequest("the body must be a JSON object")
    period = _date_range(body) if endpoint == DATE_RANGE_ENDPOINT else _time_period(body)
    province_id = _text(body, "rootDepartmentId")
    national = endpoint == SERVICE_RESULTS and body.get("departmentType") == NATIONAL_SCOPE
    if province_id is None and not national:
        raise BadRequest("rootDepartmentId is required (or, on service-results, "
                         f"departmentType {NATIONAL_SCOPE})")
    return PortalQuery(
        endpoint, period, province_id,
        formality_id=_text(body, "formalityId") or _text(body, "formalityID"),
        page=_integer(body, "currentPage", 1, 1_000_000, default=1),
        page_size=_integer(body, "pageSize", 1, 1000, default=DEFAULT_PAGE_SIZE),
    )


def _time_period(body: Mapping[str, Any]) -> Period:
    kind = body.get("timeType")
    if kind not in ("month", "quarter", "year"):
        raise BadRequest("timeType must be month, quarter or year")
    year = _integer(body, "year", 2000, 2100)
    if kind == "year":
        return Period(year, kind, 0)
    return Period(year, kind, _integer(body, kind, 1, 12 if kind == "month" else 4))


def _date_range(body: Mapping[str, Any]) -> Period:
    try:
        first, last = (date.fromisoformat(body[field]) for field in ("fromDate", "toDate"))
    except (KeyError, TypeError, ValueError) as exc:
        raise BadRequest("fromDate and toDate must be dates like 2026-08-01") from exc
    return period_spanning(first, last)


def _integer(body: Mapping[str, Any], field: str, low: int, high: int,
             default: int | None = None) -> int:
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


# --- service-results from the six axis answers ----------------------------


def derive_service_results(period: Period, axes: Mapping[str, JSON]) -> JSON:
    """The ranking of one province's units from its axis answers (`data` keyed by axis).

    Per unit, `groupScores` are its six axis totals, `totalScore` their sum; a unit
    absent from an axis scores null there. `childGroup` is AGENCY for units at
    PROVINCE level. The overview is the province's own six totals.
    """
    units = sorted(_unit_cards(axes), key=_ranking)
    agencies = sum(1 for unit in units if unit["childGroup"] == "AGENCY")
    overview = {**_scorecard(_root_identity(axes), _root_groups(axes)), "totalMaxScore": 100,
                "totalUnitsCount": len(units), "agencyCount": agencies,
                "communeCount": len(units) - agencies}
    return _service_results(period, overview, units, [axes])


def derive_province_list(period: Period, provinces: Sequence[Mapping[str, JSON]]) -> JSON:
    """The national list of provinces, one row per province's axis answers."""
    rows = sorted((_scorecard(_root_identity(a), _root_groups(a)) for a in provinces),
                  key=_ranking)
    total = figure(statistics.fmean(row["totalScore"] for row in rows)) if rows else 0
    overview = {"departmentName": "Cả nước", "departmentCode": None, "totalScore": total,
                "totalMaxScore": 100, "ratio": total}
    return _service_results(period, overview, rows, provinces)


def with_score_deltas(current: JSON, previous: JSON) -> JSON:
    """`current` service-results data with scoreDelta and growthPercent against `previous`."""
    before = {row["departmentId"]: row["totalScore"] for row in previous["evaluation"]}
    evaluation = [{**row, "scoreDelta": _delta(row["totalScore"], before.get(row["departmentId"]))}
                  for row in current["evaluation"]]
    now, then = current["overview"]["totalScore"], previous["overview"]["totalScore"]
    overview = dict(current["overview"])
    if "scoreDelta" in overview:
        overview["scoreDelta"] = _delta(now, then)
    growth = figure(100 * (now - then) / then) if then else None
    return {**current, "overview": overview, "growthPercent": growth, "evaluation": evaluation}


def _delta(now: float, then: float | None) -> int | float | None:
    return None if then is None else figure(now - then)


def _service_results(period: Period, overview: JSON, evaluation: list[JSON],
                     provinces: Sequence[Mapping[str, JSON]]) -> JSON:
    average = None
    if period.kind == "month" and evaluation:
        average = figure(statistics.fmean(row["totalScore"] for row in evaluation))
    return {
        "overview": overview,
        "growthPercent": None,
        "radar": _radar(provinces),
        "donuts": _donuts([_root(axes["CLGQ"]) for axes in provinces]),
        "evaluation": evaluation,
        "monthlyChart": [{"month": f"{month:02d}",
                          "averageScore": average if month == period.number else None}
                         for month in range(1, 13)],
        "dossierChart": _dossier_chart([axes["TDGQ"].get("monthlyChart") or []
                                        for axes in provinces]),
    }


def _root(data: JSON) -> JSON:
    return data["overview"] if "overview" in data else data["parent"]


def _records(data: JSON) -> list[JSON]:
    return data["evaluation"] if "evaluation" in data else data["children"]


def _axis_score(record: Mapping[str, Any]) -> float | None:
    # The progress tree names a child's points `score`; everything else `totalScore`.
    return record["totalScore"] if "totalScore" in record else record.get("score")


def _scorecard(identity: Mapping[str, Any], groups: dict[str, Any],
               child_group: str | None = None) -> JSON:
    total = figure(sum(score for score in groups.values() if score is not None))
    card = {"departmentId": identity.get("departmentId"),
            "departmentName": identity.get("departmentName"),
            "departmentCode": identity.get("departmentCode"),
            "totalScore": total, "ratio": total, "scoreDelta": None}
    if child_group is not None:
        card["childGroup"] = child_group
    card["groupScores"] = groups
    return card


def _ranking(card: Mapping[str, Any]) -> tuple[float, str]:
    return -card["totalScore"], card["departmentCode"] or ""


def _merge_identity(identity: JSON, record: Mapping[str, Any]) -> None:
    # Not every endpoint names the code (transparency and satisfaction do not).
    for key in ("departmentId", "departmentName", "departmentCode", "level", "departmentLevel"):
        if record.get(key) is not None:
            identity.setdefault(key, record[key])


def _root_identity(axes: Mapping[str, JSON]) -> JSON:
    identity: JSON = {}
    for code, _, _ in AXES:
        _merge_identity(identity, _root(axes[code]))
    return identity


def _root_groups(axes: Mapping[str, JSON]) -> dict[str, Any]:
    return {code: _axis_score(_root(axes[code])) for code, _, _ in AXES}


def _unit_cards(axes: Mapping[str, JSON]) -> list[JSON]:
    identities: dict[str, JSON] = {}
    scores: dict[str, dict[str, Any]] = {}
    for code, _, _ in AXES:
        for record in _records(axes[code]):
            _merge_identity(identities.setdefault(record["departmentId"], {}), record)
            scores.setdefault(record["departmentId"], {})[code] = _axis_score(record)
    cards = []
    for unit_id, identity in identities.items():
        level = identity.get("level") or identity.get("departmentLevel")
        groups = {code: scores[unit_id].get(code) for code, _, _ in AXES}
        cards.append(_scorecard(identity, groups, "AGENCY" if level == "PROVINCE" else "COMMUNE"))
    return cards


def _radar(provinces: Sequence[Mapping[str, JSON]]) -> list[JSON]:
    groups = [_root_groups(axes) for axes in provinces]
    mean = {code: statistics.fmean(g[code] or 0 for g in groups) if groups else 0
            for code, _, _ in AXES}
    radar = []
    for code, name, members, max_score in RADAR:
        score = figure(sum(mean[member] for member in members))
        radar.append({"code": code, "name": name, "score": score, "maxScore": max_score,
                      "ratio": figure(100 * score / max_score)})
    return radar


def _donuts(online_roots: Sequence[Mapping[str, Any]]) -> JSON:
    def total(key: str) -> int:
        return sum(root.get(key) or 0 for root in online_roots)

    provided = total("fullCount") + total("partialCount")
    return {
        "onlineDossier": _slices((
            ("ONLINE", "Trực tuyến", total("channelOnlineSum")),
            ("OTHER", "Trực tiếp, bưu chính",
             total("channelDirectSum") + total("channelPostalSum")))),
        "onlineProvision": _slices((
            ("FULL", "Toàn trình", total("fullCount")),
            ("PARTIAL", "Một phần", total("partialCount")),
            ("NONE", "Chưa cung cấp", max(0, total("authorityCount") - provided)))),
    }


def _slices(parts: Sequence[tuple[str, str, int]]) -> list[JSON]:
    whole = sum(value for _, _, value in parts)
    return [{"code": code, "name": name, "value": value,
             "percent": figure(100 * value / whole) if whole else None}
            for code, name, value in parts]


def _dossier_chart(charts: Sequence[Sequence[Mapping[str, Any]]]) -> list[JSON]:
    rows = []
    for month in range(1, 13):
        label = f"{month:02d}"
        points = [point for chart in charts for point in chart if point.get("month") == label]
        rows.append({"month": label} | {
            key: figure(statistics.fmean(p[key] for p in points)) if points else None
            for key in ("onTimePct", "overduePct")})
    return rows


# --- the recorded folder ---------------------------------------------------


@dataclass(frozen=True)
class Recording:
    """One recorded response body; `period` None means "whatever period is asked"."""

    endpoint: str
    province_id: str | None
    formality_id: str | None
    period: Period | None
    path: Path

    def answers(self, query: PortalQuery) -> bool:
        return ((self.endpoint, self.province_id, self.formality_id)
                == (query.endpoint, query.province_id, query.formality_id)
                and self.period in (None, query.period))


class ReplaySource:
    """Answers from a folder of recorded portal responses, byte for byte.

    Requests are matched through the folder's ``manifest.json`` (entries with
    ``file``, ``url``, ``payload`` whose file exists) or a crawler's
    ``audit.json`` + ``response.json``; without either, every
    ``<endpoint>/*.json`` answers for the province it holds, whatever period is
    asked. A ``service-results`` the folder lacks is derived from the six axis
    answers and flagged with the header ``X-Simulator-Derived: service-results``.
    """

    def __init__(self, folder: Path) -> None:
        self.folder = Path(folder)
        if not self.folder.is_dir():
            raise ValueError(f"{self.folder}: no such folder of recorded responses")
        self._recordings = _index(self.folder)
        if not self._recordings:
            raise ValueError(f"{self.folder}: no recorded portal responses found")
        self._data: dict[Path, JSON] = {}

    def answer(self, query: PortalQuery) -> Answer:
        """The recorded bytes for `query`, or a derived ranking; NotFound otherwise."""
        recording = self._find(query)
        if recording is not None:
            return Answer(recording.path.read_bytes())
        if query.endpoint != SERVICE_RESULTS:
            raise NotFound(f"no recorded {query.endpoint} for {query.province_id} {query.period}")
        if query.province_id is not None:
            data = derive_service_results(query.period, self._axes(query))
        else:
            data = derive_province_list(query.period, self._all_provinces(query))
        return Answer(encode_envelope(data), (DERIVED_HEADER,))

    def _find(self, query: PortalQuery) -> Recording | None:
        return next((r for r in self._recordings if r.answers(query)), None)

    def _axes(self, query: PortalQuery) -> dict[str, JSON]:
        axes = {}
        for code, endpoint, _ in AXES:
            recording = self._find(query.on(endpoint))
            if recording is None:
                raise NotFound(f"cannot derive service-results for {query.province_id} "
                               f"{query.period}: no recorded {endpoint}")
            axes[code] = self._read(recording.path)
        return axes

    def _all_provinces(self, query: PortalQuery) -> list[dict[str, JSON]]:
        provinces = []
        for province_id in sorted({r.province_id for r in self._recordings if r.province_id}):
            try:
                provinces.append(self._axes(replace(query, province_id=province_id)))
            except NotFound:
                continue  # a province recorded for another period or incompletely
        if not provinces:
            raise NotFound(f"no province has all six axes recorded for {query.period}")
        return provinces

    def _read(self, path: Path) -> JSON:
        if path not in self._data:
            self._data[path] = _load(path)
        return self._data[path]


def _load(path: Path) -> JSON:
    try:
        data = json.loads(path.read_bytes())["data"]
    except (ValueError, KeyError, TypeError) as exc:
        raise ValueError(f"{path}: not a portal response envelope ({exc})") from exc
    if not isinstance(data, dict):
        raise ValueError(f"{path}: `data` is not an object")
    return data


def _index(folder: Path) -> list[Recording]:
    entries: list[tuple[str, object, Path]] = []
    manifest, audit = folder / "manifest.json", folder / "audit.json"
    if manifest.is_file():
        for capture in json.loads(manifest.read_text(encoding="utf-8")).get("captures", []):
            entries.append((capture["url"], capture.get("payload"), folder / capture["file"]))
    elif audit.is_file():
        record = json.loads(audit.read_text(encoding="utf-8"))
        entries.append((record["endpoint"], record.get("request"), folder / "response.json"))
    else:
        return _unlabelled(folder)
    recordings = []
    for url, payload, path in entries:
        try:
            query = parse_query(url.rstrip("/").rsplit("/", 1)[-1], payload)
        except (BadRequest, NotFound):
            continue  # a capture of an endpoint or scope the simulator does not serve
        if path.is_file():
            recordings.append(Recording(query.endpoint, query.province_id,
                                        query.formality_id, query.period, path))
    return recordings


def _unlabelled(folder: Path) -> list[Recording]:
    recordings = []
    for endpoint in ENDPOINTS:
        for path in sorted((folder / endpoint).glob("*.json")):
            data = _load(path)
            if "overview" not in data and "parent" not in data:
                raise ValueError(f"{path}: has neither `overview` nor `parent`")
            recordings.append(Recording(endpoint, _root(data).get("departmentId"), None, None,
                                        path))
    return recordings
