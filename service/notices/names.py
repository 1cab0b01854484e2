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

#: "UBND ", "Ủy ban nhân dân " before the kind of an area (`area_name`).
_COMMITTEE_WORD = re.compile(r"^(?:UBND|[ỦU][yỷ] ban nhân dân)\s+(?=\w)", re.IGNORECASE)


#: The kind of an area after "UBND", which the portal sometimes capitalises
#: ("UBND Phường Vân Phú", "Văn phòng UBND Tỉnh"); Nghị định 30/2020/NĐ-CP, Phụ lục II
#: writes the common noun in lower case ("UBND phường Vân Phú"), except "Thành phố Hồ
#: Chí Minh", which is written with a capital.
_KIND_AFTER_COMMITTEE = re.compile(
    r"\b(UBND|[ỦU][yỷ] ban nhân dân)\s+(Xã|Phường|Thị [Tt]rấn|Thị [Xx]ã|Đặc [Kk]hu|Huyện|Quận|Tỉnh"
    r"|Thành [Pp]hố(?! Hồ Chí Minh))(?=\s|$)"
)
#: "Sở Nông Nghiệp và Môi Trường": a department's name with every word capitalised.
_DEPARTMENT = re.compile(r"^Sở\s+(.+)$")
#: Fields of a department's name that are names of their own, capitalised word by word
#: in every official text (Bộ Công Thương, Sở Công Thương).
_PROPER_FIELDS = {"công thương": "Công Thương"}


def official_name(name: str) -> str:
    """`name` as a document writes it: without the portal's " - Tỉnh …" suffix, its
    spaces tidied, the kind of an area in lower case after "UBND" and a department's
    name that the portal capitalised word by word in sentence case per field
    ("Sở Nông Nghiệp và Môi Trường" → "Sở Nông nghiệp và Môi trường", "Sở Lao Động -
    Thương Binh và Xã Hội" → "Sở Lao động - Thương binh và Xã hội"), but for a field
    that is a name of its own ("Sở Công Thương")."""
    name = _PROVINCE_SUFFIX.sub("", " ".join(name.split()))
    name = _KIND_AFTER_COMMITTEE.sub(lambda m: f"{m.group(1)} {m.group(2).lower()}", name)
    return _sentence_case_department(name)


def _sentence_case_department(name: str) -> str:
    department = _DEPARTMENT.match(name)
    if department is None:
        return name
    fields = re.split(r"(\s+và\s+|,\s*|\s+-\s+)", department.group(1))
    words = [w for f in fields[::2] for w in f.split()[1:]]
    if not words or not all(w[:1].isupper() for w in words):
        return name  # written as officials write it, or not a list of fields
    fields[::2] = [_first_word_capital(field) for field in fields[::2]]
    return "Sở " + "".join(fields)


def _first_word_capital(field: str) -> str:
    proper = _PROPER_FIELDS.get(field.lower())
    if proper:
        return proper
    first, *rest = field.split()
    return " ".join([first, *(word.lower() for word in rest)])


def bound_number(name: str) -> str:
    """`name` with its final number bound to the word before it by a no-break space:
    "UBND phường Tân Thành 1" never ends a line with "Thành" and starts the next with "1"."""
    return re.sub(r"\s+(\d+)$", "\u00a0\\1", name)


def named_officially(row: Mapping[str, Any]) -> dict[str, Any]:
    """A copy of a score row whose `unit_name` is the official name."""
    name = row.get("unit_name")
    return {**row, "unit_name": official_name(str(name))} if name else dict(row)


def area_name(name: str) -> str:
    """A People's Committee's name as the area it governs, for running text ("số liệu
    tỉnh Phú Thọ"): "UBND tỉnh Phú Thọ" → "tỉnh Phú Thọ"; any other name as written."""
    return _COMMITTEE_WORD.sub("", official_name(name))


def unit_head(name: str) -> str:
    """ "Chủ tịch UBND xã" for "UBND xã Bình Phú"; "Thủ trưởng Sở Tư pháp" otherwise."""
    committee = _COMMITTEE.match(official_name(name))
    if committee:
        return f"Chủ tịch UBND {committee.group(1).lower()}"
    return f"Thủ trưởng {official_name(name)}"
