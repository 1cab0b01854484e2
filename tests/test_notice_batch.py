"""`dvcwatch notice --all --parent`: every unit's Công văn of a set, a summary, the exit
code; unknown units and parents named as unknown; a period with no figures said so."""

from __future__ import annotations

import fcntl
import os
import pty
import struct
import subprocess
import sys
import termios
from pathlib import Path

import pytest

from service.cli import main
from service.simulator.simulator import GeneratedSource, PortalSimulator
from tests.conftest import SCHEMES
from tests.test_files import full_disk
from tests.waiting import PATIENCE

MONTH = "2026-10"
DVCWATCH = str(Path(sys.executable).parent / "dvcwatch")


@pytest.fixture
def synced(db_url: str, tmp_path: Path) -> list[str]:
    """Options for a database holding a small generated province's October."""
    config = tmp_path / "dvcwatch.toml"
    config.write_text(
        f'[portal]\npause_seconds = [0, 0]\n[scoring]\nschemes_dir = "{SCHEMES}"\n',
        encoding="utf-8",
    )
    options = ["--db", db_url, "--config", str(config)]
    assert main([*options, "db", "upgrade"]) == 0
    source = GeneratedSource(seed=5, provinces=1, communes=3, agencies=1)
    with PortalSimulator(source) as portal:
        sync = ["sync", "--province", "H01", "--period", MONTH, "--portal-url", portal.base_url]
        assert main([*options, *sync]) == 0
    return options


def test_every_unit_of_a_set_gets_its_notice_once(synced, tmp_path, capsys):
    out = str(tmp_path / "out")
    command = [*synced, "notice", "--all", "--parent", "H01", "--period", MONTH, "--to", "html"]
    capsys.readouterr()
    assert main([*command, "--out", out]) == 0
    shown = capsys.readouterr()
    lines = shown.out.splitlines()
    assert lines[-1] == f"notices of H01 {MONTH}: 4 written, 0 already written, 0 failed"
    written = sorted(Path(out).rglob("*.html"))
    assert len(written) == 4 and all(f"{path}" in shown.out for path in written)
    assert shown.err == ""  # no bar and no \r outside a terminal

    assert main([*command, "--out", out]) == 0
    again = capsys.readouterr().out.splitlines()
    assert again[-1] == f"notices of H01 {MONTH}: 0 written, 4 already written, 0 failed"
    assert sorted(Path(out).rglob("*.html")) == written


@pytest.mark.parametrize(
    ("args", "code", "says"),
    [
        (("--all", "--parent", "H99", "--period", MONTH), 2, "--parent H99: unknown unit"),
        (("--unit", "H01.999", "--period", MONTH), 2, "--unit H01.999: unknown unit"),
        (("--all", "--period", MONTH), 2, "--all needs --parent"),
        (("--period", MONTH), 2, "give --unit CODE, or --all --parent CODE"),
        (("--all", "--parent", "H01", "--period", "2026-05"), 1, "no 766 figures of the units"),
        (("--unit", "H01.101", "--period", "2026-05"), 2, "no 766 figures for 2026-05"),
        (("--all", "--parent", "H01", "--kind", "baocao", "--period", MONTH), 2, "Công văn"),
        (("--unit", "H01.101", "--period", MONTH, "--to", "docx,odt"), 2, "'odt'"),
        # any valid period reaches write_notice, which says what it cannot write
        (("--unit", "H01.101", "--period", "2026-Q3"), 2, "--period 2026-Q3"),
    ],
)
def test_what_cannot_be_written_says_why(synced, tmp_path, capsys, args, code, says):
    capsys.readouterr()
    assert main([*synced, "notice", *args, "--out", str(tmp_path / "out")]) == code
    error = capsys.readouterr().err
    assert error.count("\n") == 1 and says in error, error
    assert not (tmp_path / "out").exists()


def test_on_a_terminal_a_bar_shows_and_is_gone_before_the_summary(synced, tmp_path):
    """Through a pseudo-terminal: tqdm's bar is drawn, then erased, so the summary starts
    on a line of its own (never "...4/4 [00:01]notices of H01 ...")."""
    controller, terminal = pty.openpty()
    fcntl.ioctl(terminal, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 100, 0, 0))
    command = [DVCWATCH, *synced, "notice", "--all", "--parent", "H01", "--period", MONTH,
               "--to", "html", "--out", str(tmp_path / "out")]  # fmt: skip
    process = subprocess.Popen(command, stdout=terminal, stderr=terminal, stdin=terminal)
    os.close(terminal)
    shown = b""
    while True:
        try:
            chunk = os.read(controller, 65536)
        except OSError:  # the terminal's other end closed: the process ended
            break
        if not chunk:
            break
        shown += chunk
    os.close(controller)
    assert process.wait(timeout=PATIENCE) == 0
    text = shown.decode()
    assert "notices H01 2026-10:" in text and "4/4" in text  # the bar was drawn
    summary = text.index("notices of H01 2026-10: 4 written")
    before = text[:summary]
    assert before.endswith("\n") or before.rstrip(" ").endswith("\r"), repr(before[-120:])
    assert "\x1b[K" not in text  # no hand-made line clearing


def test_a_full_disk_fails_its_notice_by_name_and_the_batch_goes_on(
    synced, tmp_path, capsys, monkeypatch
):
    out = tmp_path / "out"
    folder = out / f"congvan-H01.101-{MONTH}"
    command = [*synced, "notice", "--all", "--parent", "H01", "--period", MONTH, "--out", str(out)]
    capsys.readouterr()
    with monkeypatch.context() as disk:
        full_disk(disk, f"/congvan-H01.101-{MONTH}/")
        assert main([*command, "--to", "docx,html"]) == 1
    shown = capsys.readouterr()
    assert shown.out.splitlines()[-1] == (
        f"notices of H01 {MONTH}: 3 written, 0 already written, 1 failed"
    )
    assert shown.err.splitlines() == [
        f"dvcwatch: notice H01.101: {folder}/v1.docx: No space left on device",
        "dvcwatch: 1 notice(s) failed: H01.101",
    ]
    assert list(folder.iterdir()) == []
    assert len(list(out.rglob("v1.html"))) == 3
