"""Codes and names: what a person reads is what the text holds (no invisible characters)."""

from __future__ import annotations

import sys
import unicodedata

import pytest

from service.sources.identifiers import code_problem, name_problem

FORMAT_CHARACTERS = [
    chr(point) for point in range(sys.maxunicode + 1) if unicodedata.category(chr(point)) == "Cf"
]


def test_every_format_character_is_refused_in_codes_and_names() -> None:
    """Checked against this Python's Unicode data: a newer Unicode adding one fails here."""
    accepted = [
        f"U+{ord(character):04X}"
        for character in FORMAT_CHARACTERS
        if code_problem(f"H21{character}227") is None or name_problem(f"UBND{character}xã") is None
    ]
    assert accepted == []


@pytest.mark.parametrize("character", ["\u202e", "\u200b", "\u2066", "\ufeff", "\u00ad"])
def test_a_format_character_is_named_in_the_reason(character: str) -> None:
    shown = f"U+{ord(character):04X}"
    assert code_problem(f"H21.{character}227") == (
        f"{shown} may not appear in a code "
        "(no whitespace, control or format characters, / \\ quotes or ;)"
    )
    assert name_problem(f"UBND xã {character}Bình") == (
        f"{shown} (a control or format character) may not appear in a name"
    )


@pytest.mark.parametrize(
    "name", ["UBND xã Bình Thành", "Sở Tư pháp tỉnh Phú Thọ", "UBND phường Hoà Bình (cũ)"]
)
def test_vietnamese_names_and_portal_codes_still_pass(name: str) -> None:
    assert name_problem(name) is None
    for code in ("H21.227", "TUACHUA.THITRAN", "019d2be3-6a88-732b-8b17-b68020c8553a"):
        assert code_problem(code) is None
