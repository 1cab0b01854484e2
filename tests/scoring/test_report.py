"""Scores read from the database: a table imported through `dvcwatch import`, appraised as
decimals, on SQLite and PostgreSQL, and printed as the numbers officials wrote."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from service.cli import main
from service.periods import Period
from service.scoring.report import score_rows
from tests.conftest import SCHEMES

SCHEME = "provincial:dienbien-459"
HEADER = "scheme,period,as_of,unit_code,unit_name,parent_code,indicator,value,max"
#: Points adding up to 68,10 of the 90 applicable (CKMB.1 and CKMB.2 do not apply).
POINTS = {
    "CKMB.1": "-", "CKMB.2": "-", "CKMB.3": "10", "TDGQ": "30", "DVTT.1": "10",
    "DVTT.2": '"0,1"', "SHHS.1": "0", "SHHS.2": "3", "MDHL.1": "5", "MDHL.2": "5", "MDHL.3": "5",
}  # fmt: skip
MAXIMA = {
    "CKMB.1": "-", "CKMB.2": "-", "CKMB.3": "10", "TDGQ": "30", "DVTT.1": "10", "DVTT.2": "10",
    "SHHS.1": "5", "SHHS.2": "10", "MDHL.1": "5", "MDHL.2": "5", "MDHL.3": "5",
}  # fmt: skip


@pytest.fixture
def cli(app, tmp_path):
    """`dvcwatch ...` in-process on the test's database, with the project's schemes."""
    config = tmp_path / "dvcwatch.toml"
    config.write_text(f'[scoring]\nschemes_dir = "{SCHEMES}"\n', encoding="utf-8")

    def run(*args: str) -> int:
        return main([*args, "--db", app.settings.database.url, "--config", str(config)])

    return run


def table(path: Path, reported: dict[str, str]) -> Path:
    """One unit's points (68,10) and what its report said about itself, as a CSV."""
    prefix = f"{SCHEME},2024-03,,DB.XA1,UBND xã Một,DB"
    lines = [HEADER]
    lines += [f"{prefix},{code},{value},{MAXIMA[code]}" for code, value in POINTS.items()]
    lines += [f"{prefix},{code},{value}," for code, value in reported.items()]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_a_reported_total_of_68_11_agrees_with_68_10_at_the_default_tolerance(
    app, cli, tmp_path, capsys
):
    reported = {"TOTAL": '"68,11"', "CONVERTED": '"75,68"', "CLASS": "Khá"}
    assert cli("import", str(table(tmp_path / "t.csv", reported))) == 0
    out = capsys.readouterr().out
    assert "every reported figure agrees with what dvcwatch computes" in out, out
    with app.sessions()() as session:
        [row] = score_rows(session, app.schemes, SCHEME, Period.parse("2024-03"))
    assert (row["total"], row["converted"], row["class"]) == (68.1, 75.67, "Khá")
    assert row["mismatches"] == []


def test_one_cent_beyond_the_tolerance_is_listed_with_the_figures_as_written(
    app, cli, tmp_path, capsys
):
    assert cli("import", str(table(tmp_path / "t.csv", {"TOTAL": '"68,12"'}))) == 0
    out = capsys.readouterr().out
    assert f"mismatch {SCHEME} 2024-03 DB.XA1 TOTAL: reported 68.12, computed 68.1" in out, out
    with app.sessions()() as session:
        rows = score_rows(session, app.schemes, SCHEME, Period.parse("2024-03"), tolerance=0.02)
    assert rows[0]["mismatches"] == []


def test_scores_as_json_are_numbers_as_written(app, cli, tmp_path, capsys):
    cli("import", str(table(tmp_path / "t.csv", {"TOTAL": '"68,11"'})))
    capsys.readouterr()
    assert cli("scores", "--period", "2024-03", "--scheme", SCHEME, "--format", "json") == 0
    text = capsys.readouterr().out
    [row] = json.loads(text)
    assert (row["total"], row["max"], row["converted"]) == (68.1, 90.0, 75.67)
    assert '"total": 68.1,' in text and '"converted": 75.67,' in text
    assert cli("scores", "--period", "2024-03", "--scheme", SCHEME, "--scale", "10",
               "--format", "json") == 0  # fmt: skip
    [row] = json.loads(capsys.readouterr().out)
    assert (row["converted"], row["class"]) == (7.57, "Khá")


def test_an_analysis_of_some_provinces_is_the_whole_analysis_of_their_units(three_provinces):
    """What alerts judge after one province's sync: its units only, read alone, analysed as
    they are in the analysis of the country (ranks and averages never cross provinces)."""
    from service.scoring.report import national_analysis

    august = Period.parse("2026-08")
    with three_provinces() as session:
        whole = national_analysis(session, august)
        for chosen in ({"H02"}, {"H01", "H03"}):
            alone = national_analysis(session, august, chosen)
            expected = [r for r in whole if r.unit.parent_code in chosen]
            assert any(r.total_delta is not None for r in expected)  # July was read
            assert repr(alone) == repr(expected)


def test_a_sets_rows_are_scored_once_for_the_same_data_and_again_when_it_changes(
    three_provinces, app, sets_read
):
    """A month's notices read their set's rows for every notice: scored once while the
    data stays as it was, each caller given its own copy; a unit renamed, a reading
    deleted (housekeeping) or a new sync are read again."""
    import datetime as dt

    from sqlalchemy import delete, func, select, update

    from service.models import Snapshot, Unit
    from service.simulator.simulator import GeneratedSource, PortalSimulator
    from service.sync import sync_province
    from tests.conftest import FAST_PORTAL

    august, book = Period.parse("2026-08"), app.schemes
    with three_provinces() as session:
        first = score_rows(session, book, "766", august, parent="H02")
        assert sets_read == [{"H02"}, {"H02"}]  # August and July, once
        first[0]["unit_name"] = "changed by a caller"
        again = score_rows(session, book, "766", august, parent="H02")
        assert sets_read == [{"H02"}, {"H02"}]
        assert again[0]["unit_name"] != "changed by a caller" and len(again) == len(first)
        assert score_rows(session, book, "766", august, parent="H01") != again  # its own set

        renamed = again[0]["unit_code"]
        session.execute(
            update(Unit)
            .where(Unit.code == renamed)
            .values(name="UBND xã Đổi Tên", last_seen=dt.datetime(2030, 1, 1))
        )
        rows = score_rows(session, book, "766", august, parent="H02")
        assert {r["unit_code"]: r["unit_name"] for r in rows}[renamed] == "UBND xã Đổi Tên"

        unit_id = session.scalar(select(Unit.id).where(Unit.code == renamed))
        readings = select(func.count()).where(
            Snapshot.unit_id == unit_id, Snapshot.period == "2026-08"
        )
        assert session.scalar(readings) == 1  # its August: one reading
        session.execute(
            delete(Snapshot).where(Snapshot.unit_id == unit_id, Snapshot.period == "2026-08")
        )
        session.commit()
    sets_read.clear()
    with three_provinces() as session:
        rows = score_rows(session, book, "766", august, parent="H02")
    assert sets_read and renamed not in {r["unit_code"] for r in rows}  # its reading went
    source = GeneratedSource(seed=7, provinces=3, communes=30, agencies=4)
    with PortalSimulator(source) as simulator:  # the portal names the unit as it did
        settings = FAST_PORTAL.model_copy(update={"base_url": simulator.base_url})
        outcome = sync_province(three_provinces, settings, "H02", august, dt.date(2026, 9, 12))
        assert outcome.status == "ok", outcome.error
    sets_read.clear()
    with three_provinces() as session:
        synced = score_rows(session, book, "766", august, parent="H02")
    assert sets_read  # a sync ran: read again, and the portal's name is back
    assert {r["unit_code"]: r["unit_name"] for r in synced}[renamed] == again[0]["unit_name"]
