"""The portal of a fictional country, its answers generated deterministically.

`GeneratedSource` answers any period for the provinces of
`service.simulator.country`: it counts their units' work over the period
(`service.simulator.counts`), writes the six axis answers from those counts
(`service.simulator.listing_answers`, `service.simulator.tree_answers`) and derives
the rankings from them (`service.simulator.derived`), as the replay does.
"""

from __future__ import annotations

import math
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

from service import indicators
from service.periods import Period
from service.portal.api import AXIS_OF, SERVICE_RESULTS
from service.simulator.country import Province, build_country
from service.simulator.counts import Figures, province_figures
from service.simulator.derived import (
    derive_province_list,
    derive_service_results,
    with_score_deltas,
)
from service.simulator.listing_answers import (
    dossier_digitized,
    handling_satisfaction,
    transparency,
)
from service.simulator.queries import (
    JSON,
    Answer,
    NotFound,
    PortalQuery,
    encode_envelope,
)
from service.simulator.tree_answers import (
    dvc_progress_tree,
    formality_online_payment_tree,
    provide_online_tree,
)

#: Each axis's generated answer, by axis code.
AXIS_ANSWERS: dict[str, Callable[[Figures], JSON]] = {
    indicators.CKMB.code: transparency,
    indicators.TDGQ.code: dvc_progress_tree,
    indicators.CLGQ.code: provide_online_tree,
    indicators.TTTT.code: formality_online_payment_tree,
    indicators.MDHL.code: handling_satisfaction,
    indicators.MDSH.code: dossier_digitized,
}


def _paged(data: JSON, page: int, size: int) -> JSON:
    if "pagination" not in data:
        return data  # the trees answer every unit whatever the page size
    records = data["evaluation"]
    pagination = {
        "total": len(records),
        "currentPage": page,
        "pageSize": size,
        "totalPages": math.ceil(len(records) / size),
    }
    start = (page - 1) * size
    return data | {"evaluation": records[start : start + size], "pagination": pagination}


T = TypeVar("T")


class _Memo(Generic[T]):
    """A small least-recently-used cache; the caller holds the lock."""

    def __init__(self, size: int) -> None:
        self._size = size
        self._items: OrderedDict[Hashable, T] = OrderedDict()

    def get(self, key: Hashable, make: Callable[[], T]) -> T:
        if key in self._items:
            self._items.move_to_end(key)
        else:
            self._items[key] = make()
            if len(self._items) > self._size:
                self._items.popitem(last=False)
        return self._items[key]


class GeneratedSource:
    """Answers for a fictional country: the same seed gives the same bytes, any period answers.

    Figures are made lazily per (province, period) and kept in a bounded cache;
    service-results carries scoreDelta against the previous period.
    """

    def __init__(
        self, seed: int = 1, provinces: int = 1, communes: int = 20, agencies: int = 5
    ) -> None:
        self.seed = seed
        self.provinces = build_country(seed, provinces, communes, agencies)
        self._by_id = {p.department.department_id: p for p in self.provinces}
        self._lock = threading.Lock()
        # Room for every province in a period and the one before: a national ranking's deltas.
        self._answers: _Memo[dict[str, JSON]] = _Memo(2 * provinces + 8)
        self._bodies: _Memo[bytes] = _Memo(512)

    def answer(self, query: PortalQuery) -> Answer:
        """The generated answer to `query`; NotFound for an unknown province or a formality."""
        if query.formality_id is not None:
            raise NotFound("the generated country has no procedure catalogue to filter by")
        if query.province_id is not None and query.province_id not in self._by_id:
            raise NotFound(f"no province with departmentId {query.province_id}")
        with self._lock:
            return Answer(self._bodies.get(query, lambda: encode_envelope(self._data(query))))

    def _data(self, query: PortalQuery) -> JSON:
        if query.endpoint == SERVICE_RESULTS.name:
            return with_score_deltas(
                self._ranking(query.province_id, query.period),
                self._ranking(query.province_id, query.period.previous()),
            )
        axes = self._axes(self._by_id[query.province_id or ""], query.period)
        return _paged(axes[AXIS_OF[query.endpoint]], query.page, query.page_size)

    def _ranking(self, province_id: str | None, period: Period) -> JSON:
        if province_id is None:
            return derive_province_list(period, [self._axes(p, period) for p in self.provinces])
        return derive_service_results(period, self._axes(self._by_id[province_id], period))

    def _axes(self, province: Province, period: Period) -> dict[str, JSON]:
        def make() -> dict[str, JSON]:
            figures = province_figures(self.seed, province, period)
            return {code: build(figures) for code, build in AXIS_ANSWERS.items()}

        return self._answers.get((province.department.code, period), make)
