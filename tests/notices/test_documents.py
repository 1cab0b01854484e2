"""The editable texts every document is written from: an office's overrides and their checks.

(What each document says is in test_congvan.py and test_baocao.py.)
"""

from __future__ import annotations

from pathlib import Path

import pytest

from service.notices.texts import TextsError, default_texts, load_texts


def test_an_office_overrides_some_texts_and_keeps_the_rest(tmp_path: Path) -> None:
    (tmp_path / "texts.toml").write_text(
        '[set_names]\nCOMMUNE = "xã, thị trấn"\n[baocao]\nrecommendations = ["- Riêng {area}."]\n',
        encoding="utf-8",
    )
    texts = load_texts(tmp_path)
    assert texts.set_names["COMMUNE"] == "xã, thị trấn"
    assert texts.set_names["AGENCY"] == default_texts().set_names["AGENCY"]
    assert texts.baocao.recommendations == ("- Riêng {area}.",)
    assert texts.congvan == default_texts().congvan


def test_a_text_with_an_unknown_placeholder_is_refused_naming_the_key(tmp_path: Path) -> None:
    (tmp_path / "texts.toml").write_text('[congvan]\nsubject = "V/v {thang}"\n', encoding="utf-8")
    with pytest.raises(TextsError, match=r"congvan\.subject: unknown placeholder \{thang\}"):
        load_texts(tmp_path)
