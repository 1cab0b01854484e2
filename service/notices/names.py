"""Units named as officials write them, and who heads them.

The portal names a commune "UBND xã Bình Phú - Tỉnh Phú Thọ"; a document of
Phú Thọ writes "UBND xã Bình Phú". The head of a People's Committee is its
Chủ tịch ("Chủ tịch UBND xã yêu cầu", seed 004); any other unit (a Sở, a
Ban) is headed by its Thủ trưởng.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

#: The portal's suffix naming the province: " - Tỉnh Phú Thọ", " - Thành phố Hà Nội".
_PROVINCE_SUFFIX = re.compile(r"\s+-\s+(?:Tỉnh|Thành phố|TP\.?)\s+[^-]+$", re.IGNORECASE)
#: "UBND xã …", "Ủy ban nhân dân phường …": a People's Committee and its kind of area.
_COMMITTEE = re.compile(
    r"^(?:UBND|[ỦU][yỷ] ban nhân dân)\s+"
    r"(xã|phường|thị trấn|đặc khu|thị xã|thành phố|huyện|quận|tỉnh)(?=\s|$)",
    re.IGNORECASE,
)


def official_name(name: str) -> str:
    """`name` without the portal's " - Tỉnh …" suffix, its spaces tidied."""
    return _PROVINCE_SUFFIX.sub("", " ".join(name.split()))


def named_officially(row: Mapping[str, Any]) -> dict[str, Any]:
    """A copy of a score row whose `unit_name` is the official name."""
    name = row.get("unit_name")
    return {**row, "unit_name": official_name(str(name))} if name else dict(row)


def unit_head(name: str) -> str:
    """ "Chủ tịch UBND xã" for "UBND xã Bình Phú"; "Thủ trưởng Sở Tư pháp" otherwise."""
    committee = _COMMITTEE.match(official_name(name))
    if committee:
        return f"Chủ tịch UBND {committee.group(1).lower()}"
    return f"Thủ trưởng {official_name(name)}"
