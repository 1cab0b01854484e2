"""What every scores row starts with: which unit, set, period, scheme and snapshot."""

from __future__ import annotations

from typing import Any

from service.snapshots import StoredUnit


def identity(unit: StoredUnit, scheme: str) -> dict[str, Any]:
    return {
        "unit_code": unit.label,
        "unit_name": unit.name,
        "parent_code": unit.parent_code,
        "group": unit.group,
        "period": unit.period,
        "scheme": scheme,
        "source": unit.source,
        "as_of": unit.as_of.isoformat(),
        "completeness": unit.completeness,
    }
