"""The national index (766) as officials read it, from stored snapshots.

Pure: takes `StoredUnit` values, returns plain rows (dicts) ready for JSON,
CSV or a table. The portal's figures are shown as stored, never re-derived.
"""

from __future__ import annotations

from typing import Any

from service.figures import AXES, COUNT_CODES
from service.snapshots import StoredUnit


def unit_row(unit: StoredUnit) -> dict[str, Any]:
    """One unit's row: identity, the portal's total, the six axes and the counts."""
    total = unit.figures.get("TOTAL")
    axes = {}
    for code, maximum in AXES.items():
        figure = unit.figures.get(code)
        axes[code] = {
            "score": figure.value if figure else None,
            "max": figure.max_value if figure and figure.max_value is not None else maximum,
        }
    counts = {}
    for key, code in COUNT_CODES.items():
        figure = unit.figures.get(code)
        counts[key] = int(figure.value) if figure and figure.value is not None else None
    return {
        "unit_code": unit.code or unit.department_id,
        "unit_name": unit.name,
        "group": unit.group,
        "period": unit.period,
        "as_of": unit.as_of.isoformat(),
        "completeness": unit.completeness,
        "total": total.value if total else None,
        "axes": axes,
        "counts": counts,
    }
