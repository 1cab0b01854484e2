"""Who covers what (the bot's doors): a unit's people, heads, offices, operators."""

from __future__ import annotations

import pytest

from service.delivery.directory import Directory, Person, coverage


def person(person_id: str, units: set[str], active: bool = True) -> Person:
    return Person(
        person_id, person_id, "", frozenset(units), frozenset({"*"}), "console", person_id, active
    )


LAN = person("lan", {"H44.116"})
HEAD = person("head", set())
OFFICE = person("office", set())
OPS = person("ops", set())
ALL = person("all", {"*"})
GONE = person("gone", {"H44.116"}, active=False)
FALLBACK = person("fallback", set())
DIRECTORY = Directory(
    (LAN, HEAD, OFFICE, OPS, ALL, GONE, FALLBACK),
    heads={"H44.100": "head"},
    offices={"H44": "office"},
    operators=("ops",),
    fallback="fallback",
)

# (person, unit, province, covered)
CASES = [
    (LAN, "H44.116", "H44", True),
    (LAN, "H44.100", "H44", False),
    (LAN, None, "H44", False),  # an alert about the data, not a unit
    (HEAD, "H44.100", "H44", True),
    (HEAD, "H44.116", "H44", False),
    (OFFICE, "H44.100", "H44", True),
    (OFFICE, "H44", None, True),  # the province's own figures
    (OFFICE, "H01.101", "H01", False),
    (OPS, "H44.116", "H44", True),
    (OPS, None, None, True),
    (OPS, "H01.101", "H01", False),
    (ALL, "H01.101", "H01", True),
    (GONE, "H44.116", "H44", False),
    # the fallback takes any unit nobody covers, and its summaries say "/status <mã>"
    (FALLBACK, "H44.116", "H44", True),
    (FALLBACK, "H01.101", "H01", False),
]


@pytest.mark.parametrize(
    ("who", "unit", "province", "covered"),
    CASES,
    ids=[f"{who.id}-{unit}-{covered}" for who, unit, _, covered in CASES],
)
def test_coverage_follows_units_heads_offices_and_operators(who, unit, province, covered):
    assert coverage(DIRECTORY, who, watched=("H44",)).includes(unit, province) is covered
