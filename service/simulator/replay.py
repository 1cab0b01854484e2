"""The portal as it answered when it was recorded.

`ReplaySource` serves a folder of recorded responses byte for byte, matched
by the `PortalQuery` each was asked; a ranking the folder lacks is derived
from its six axis answers (`service.simulator.derived`) and flagged as such.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from pathlib import Path

from service.periods import Period
from service.portal.api import BY_AXIS, ENDPOINTS, SERVICE_RESULTS
from service.simulator.derived import derive_province_list, derive_service_results
from service.simulator.queries import (
    JSON,
    Answer,
    BadRequest,
    NotFound,
    PortalQuery,
    encode_envelope,
    parse_query,
)

DERIVED_HEADER = ("X-Simulator-Derived", SERVICE_RESULTS.name)


@dataclass(frozen=True)
class Recording:
    """One recorded response body; `period` None means "whatever period is asked"."""

    endpoint: str
    province_id: str | None
    formality_id: str | None
    period: Period | None
    path: Path

    def answers(self, query: PortalQuery) -> bool:
        return (self.endpoint, self.province_id, self.formality_id) == (
            query.endpoint,
            query.province_id,
            query.formality_id,
        ) and self.period in (None, query.period)


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
        if query.endpoint != SERVICE_RESULTS.name:
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
        for code, endpoint in BY_AXIS.items():
            recording = self._find(query.on(endpoint.name))
            if recording is None:
                raise NotFound(
                    f"cannot derive {SERVICE_RESULTS.name} for {query.province_id} "
                    f"{query.period}: no recorded {endpoint.name}"
                )
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
            recordings.append(
                Recording(query.endpoint, query.province_id, query.formality_id, query.period, path)
            )
    return recordings


def _unlabelled(folder: Path) -> list[Recording]:
    recordings = []
    for name, endpoint in ENDPOINTS.items():
        for path in sorted((folder / name).glob("*.json")):
            root = _load(path).get(endpoint.root_key)
            if not isinstance(root, dict):
                raise ValueError(f"{path}: has no `{endpoint.root_key}`")
            recordings.append(Recording(name, root.get("departmentId"), None, None, path))
    return recordings
