"""`dvcwatch demo` shows the whole product: scores, alerts on the console, documents."""

from __future__ import annotations

import datetime as dt
import io

from docx import Document

from service import demo


def test_the_demo_syncs_two_months_alerts_and_writes_both_documents(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    shown = io.StringIO()
    assert demo.run(tmp_path / "out", shown, today=dt.date(2026, 11, 22)) == 0
    text = shown.getvalue()
    assert "synced 2026-09" in text and "synced 2026-10" in text
    assert "hồ sơ quá hạn" in text and "[Đã tiếp nhận" in text
    documents = sorted((tmp_path / "out").rglob("*.docx"))
    assert [d.parent.name.split("-")[0] for d in documents] == ["baocao", "congvan"]
    congvan = "\n".join(p.text for p in Document(str(documents[1])).paragraphs)
    assert "tháng 10 năm 2026" in congvan and "so với tháng 9/2026" in congvan
    assert (tmp_path / "var" / "demo.db").exists()


def test_the_demo_in_a_given_database_names_it_and_refuses_one_with_figures(
    tmp_path, capsys, monkeypatch
):
    from service.cli import main

    monkeypatch.chdir(tmp_path)
    url = f"sqlite:///{tmp_path / 'mine.db'}"
    out = str(tmp_path / "out")
    assert main(["--db", url, "demo", "--out", out]) == 0
    shown = capsys.readouterr().out
    assert f"Everything is in {url}" in shown and "demo.db" not in shown
    assert not (tmp_path / "var").exists()
    assert main(["demo", "--db", url, "--out", out]) == 2  # never mixed with real data
    assert capsys.readouterr().err.strip() == (
        f"dvcwatch: --db {url} already holds figures: the demo needs an empty database"
    )
