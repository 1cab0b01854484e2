"""The rows a nine-criteria (tt01) table adds to say what criteria cannot: a unit that
did not score itself (`STATUS` "Chưa chấm điểm") and the level of a unit (`LEVEL`
"huyện" or "xã"). A wrong one refuses the whole file in one line naming its place."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select

from service.cli import main
from service.models import Snapshot
from service.periods import Period
from service.scoring.report import score_rows
from service.scoring.tt01 import COMMUNE, DISTRICT, NO_DOSSIERS, UNSCORED, level_by_name
from service.snapshots import latest_units
from tests.conftest import SCHEMES

QUARTER = Path(__file__).parents[1] / "data" / "tt01-dienbiendong-2021-Q1.csv"


@pytest.fixture
def cli(app, tmp_path):
    config = tmp_path / "dvcwatch.toml"
    config.write_text(f'[scoring]\nschemes_dir = "{SCHEMES}"\n', encoding="utf-8")

    def run(*args: str) -> int:
        return main([*args, "--db", app.settings.database.url, "--config", str(config)])

    return run


def _stored(app) -> int:
    with app.sessions()() as session:
        return int(session.scalar(select(func.count()).select_from(Snapshot)) or 0)


def _edited(tmp_path: Path, old: str, new: str) -> Path:
    text = QUARTER.read_text(encoding="utf-8")
    assert old in text
    path = tmp_path / "table.csv"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return path


def test_the_quarter_table_says_who_did_not_score_who_had_no_dossiers_and_each_level(app, cli):
    assert cli("import", str(QUARTER)) == 0
    with app.sessions()() as session:
        rows = {r["unit_code"]: r for r in score_rows(session, app.schemes, "tt01",
                                                      Period.parse("2021-Q1"))}  # fmt: skip
        units = {u.label: u for u in latest_units(session, "tt01", "2021-Q1")}
    assert (rows["DBD.NOIVU"]["status"], rows["DBD.NOIVU"]["total"]) == (UNSCORED, None)
    assert (rows["DBD.VHTT"]["status"], rows["DBD.VHTT"]["total"]) == (NO_DOSSIERS, None)
    assert rows["DBD.NOIVU"]["class"] is None and rows["DBD.NOIVU"]["mismatches"] == []
    assert units["DBD.NOIVU"].figures["LEVEL"].text_value == "huyện"
    assert units["DBD.PHINHU"].figures["STATUS"].text_value == UNSCORED
    assert {"field": "TOTAL", "reported": 15.5, "computed": 14.25} in rows["DBD.KEOLOM"][
        "mismatches"
    ]


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ("STATUS,Chưa chấm điểm", "STATUS,chưa làm",
         'column value: "chưa làm" is not a STATUS (write "Chưa chấm điểm")'),
        ("LEVEL,huyện", "LEVEL,tỉnh", 'column value: "tỉnh" is not a LEVEL (write huyện or xã)'),
        ("DBD.TUPHAP,Phòng Tư pháp,DBD,TC3,2,2", "DBD.TUPHAP,Phòng Tư pháp,DBD,TC3,-,2",
         "column value: TC3 needs a score 0-2, not '-' (no dossiers: write DOSSIERS 0)"),
        ("DBD.NOIVU,Phòng Nội vụ,DBD,STATUS,Chưa chấm điểm,\n",
         "DBD.NOIVU,Phòng Nội vụ,DBD,STATUS,Chưa chấm điểm,\n"
         "tt01,2021-Q1,,DBD.NOIVU,Phòng Nội vụ,DBD,DOSSIERS,3,\n",
         'unit DBD.NOIVU is "Chưa chấm điểm" at line 43 and has DOSSIERS here'),
        ("DBD.PHINHU,UBND xã Phì Nhừ,DBD,STATUS,Chưa chấm điểm,\n",
         "DBD.PHINHU,UBND xã Phì Nhừ,DBD,STATUS,Chưa chấm điểm,\n"
         "tt01,2021-Q1,,DBD.PHINHU,UBND xã Phì Nhừ,DBD,TOTAL,\"16,5\",\n",
         'unit DBD.PHINHU is "Chưa chấm điểm" at line 89 and has TOTAL here'),
    ],
)  # fmt: skip
def test_a_status_or_level_tt01_does_not_know_refuses_the_file_in_one_line(
    app, cli, tmp_path, capsys, old, new, message
):
    path = _edited(tmp_path, old, new)
    assert cli("import", str(path)) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith(f"dvcwatch: nothing imported: {path}: line ")
    assert message in err[0], err
    assert _stored(app) == 0


def test_status_is_a_row_of_tt01_only(app, cli, tmp_path, capsys):
    path = tmp_path / "table.csv"
    path.write_text(
        "scheme,period,unit_code,indicator,value\n766,2024-03,H44.116,STATUS,Chưa chấm điểm\n",
        encoding="utf-8",
    )
    assert cli("import", str(path)) == 2
    assert (
        "line 2, column indicator: 'STATUS' is not an indicator of 766" in capsys.readouterr().err
    )
    assert _stored(app) == 0


@pytest.mark.parametrize(
    ("name", "level"),
    [("UBND xã Na Son", COMMUNE), ("UBND thị trấn Điện Biên Đông", COMMUNE),
     ("Ủy ban nhân dân phường Him Lam", COMMUNE), ("Phòng Tư pháp", DISTRICT),
     ("Văn phòng HĐND và UBND huyện", DISTRICT)],
)  # fmt: skip
def test_a_unit_without_a_level_row_takes_its_level_from_its_name(name: str, level: str) -> None:
    assert level_by_name(name) == level
