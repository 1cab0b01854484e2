"""Fixtures of the notices' tests: the command line on a configured Bình Thành."""

from __future__ import annotations

import pytest

from service.cli import main
from tests.conftest import SCHEMES


@pytest.fixture
def cli(app, tmp_path):
    config = tmp_path / "dvcwatch.toml"
    config.write_text(
        f'[scoring]\nschemes_dir = "{SCHEMES}"\n'
        '[[notices.units]]\nunit = "BINHTHANH"\n[notices.units.issuer]\n'
        'body_parent = "ỦY BAN NHÂN DÂN HUYỆN ĐẠI TỪ"\n'
        'body_name = "ỦY BAN NHÂN DÂN\\nXÃ BÌNH THÀNH"\n'
        'number_pattern = "UBND-VP"\nplace = "Bình Thành"\n'
        'recipients = ["Các bộ phận chuyên môn thuộc UBND xã"]\n',
        encoding="utf-8",
    )

    def run(*args: str) -> int:
        return main([*args, "--db", app.settings.database.url, "--config", str(config)])

    return run
