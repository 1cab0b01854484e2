"""`dvcwatch notice`: documents written from stored figures, archived, never re-sent silently."""

from __future__ import annotations

import csv
import hashlib
from pathlib import Path

from docx import Document
from sqlalchemy import select

from service.notices.models import NoticeFile

DATA = Path(__file__).resolve().parents[1] / "data"
#: Seed 004: xã Bình Thành, August and September 2024, as the notice reports them.
BINH_THANH = {
    "2024-08": {
        "CKMB": 13.7,
        "TDGQ": 16.3,
        "CLGQ": 7.3,
        "TTTT": 10,
        "MDHL": 17.4,
        "MDSH": 19.9,
        "TOTAL": 86.97,
        "RANK": (21, 23),
    },
    "2024-09": {
        "CKMB": 17.5,
        "TDGQ": 18.6,
        "CLGQ": 7.2,
        "TTTT": 10,
        "MDHL": 18,
        "MDSH": 19.7,
        "TOTAL": 93.81,
        "RANK": (3, 23),
    },
}
MAXIMA = {"CKMB": 18, "TDGQ": 20, "CLGQ": 12, "TTTT": 10, "MDHL": 18, "MDSH": 22, "TOTAL": 100}


def seed_004_table(path: Path, months: tuple[str, ...] = ("2024-08", "2024-09")) -> Path:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(
            [
                "scheme",
                "period",
                "unit_code",
                "unit_name",
                "parent_code",
                "indicator",
                "value",
                "max",
            ]
        )
        for month in months:
            for code, value in BINH_THANH[month].items():
                if code == "RANK":
                    rank, of = value  # type: ignore[misc]
                    row = [rank, of]
                else:
                    row = [value, MAXIMA[code]]
                writer.writerow(
                    ["766", month, "BINHTHANH", "UBND xã Bình Thành", "DAITU", code, *row]
                )
    return path


def text_of(path: Path) -> str:
    document = Document(str(path))
    parts = [p.text for p in document.paragraphs]
    for table in document.tables:
        parts += [cell.text for row in table.rows for cell in row.cells]
    return "\n".join(parts)


def test_the_cong_van_of_seed_004_says_what_the_official_wrote(cli, tmp_path, capsys):
    assert cli("import", str(seed_004_table(tmp_path / "t.csv"))) == 0
    assert (
        cli("notice", "--unit", "BINHTHANH", "--period", "2024-09", "--out", str(tmp_path / "out"))
        == 0
    )
    paths = capsys.readouterr().out.split()
    docx = next(Path(p) for p in paths if p.endswith(".docx"))
    text = text_of(docx)
    for sentence in (
        "đạt 17,5/18 điểm, tăng 3,8 điểm so với tháng 8/2024",
        "đạt 18,6/20 điểm, tăng 2,3 điểm so với tháng 8/2024",
        "đạt 7,2/12 điểm, giảm 0,1 điểm so với tháng 8/2024",
        "đạt 10/10 điểm, giữ nguyên điểm so với tháng 8/2024",
        "93,81/100 điểm, tăng 6,84 điểm",
        "03/23",
        "tăng 18 bậc",
        "XÃ BÌNH THÀNH",
        "Bình Thành, ngày",
    ):
        assert sentence in text, sentence
    assert "30/9/2024" in text and "31/9" not in text
    assert "Phụ lục I" in text or "PHỤ LỤC I" in text


def test_a_unit_without_its_previous_month_claims_no_change(cli, tmp_path, capsys):
    cli("import", str(seed_004_table(tmp_path / "t.csv", ("2024-09",))))
    cli("notice", "--unit", "BINHTHANH", "--period", "2024-09", "--out", str(tmp_path / "out"))
    docx = next(Path(p) for p in capsys.readouterr().out.split() if p.endswith(".docx"))
    text = text_of(docx)
    assert "đạt 17,5/18 điểm" in text
    assert "tăng 3,8" not in text and "giữ nguyên điểm" not in text


def test_the_bao_cao_of_seed_000_counts_classes_and_ranks_every_unit(cli, tmp_path, capsys):
    cli("import", str(DATA / "dienbien-459-2024-03.csv"))
    assert (
        cli(
            "notice",
            "--unit",
            "TUACHUA",
            "--kind",
            "baocao",
            "--scheme",
            "provincial:dienbien-459",
            "--period",
            "2024-03",
            "--out",
            str(tmp_path / "out"),
        )
        == 0
    )
    docx = next(Path(p) for p in capsys.readouterr().out.split() if p.endswith(".docx"))
    text = text_of(docx)
    assert "06 đơn vị xếp loại Xuất sắc, 06 đơn vị xếp loại Tốt" in text
    for name in ("UBND thị trấn", "UBND xã Tả Sìn Thàng", "UBND xã Xá Nhè"):
        assert name in text
    assert "95,34" in text and "83,83" in text


def test_a_notice_is_archived_once_and_a_new_version_only_on_force(cli, app, tmp_path, capsys):
    cli("import", str(seed_004_table(tmp_path / "t.csv")))
    out = str(tmp_path / "out")
    cli("notice", "--unit", "BINHTHANH", "--period", "2024-09", "--out", out)
    cli("notice", "--unit", "BINHTHANH", "--period", "2024-09", "--out", out)
    assert "already written" in capsys.readouterr().out
    cli("notice", "--unit", "BINHTHANH", "--period", "2024-09", "--out", out, "--force")
    assert "/v2.docx" in capsys.readouterr().out
    with app.sessions()() as session:
        files = session.scalars(select(NoticeFile).order_by(NoticeFile.id)).all()
    assert [(f.format, f.version) for f in files] == [
        ("docx", 1),
        ("html", 1),
        ("docx", 2),
        ("html", 2),
    ]
    for archived in files:
        assert hashlib.sha256(Path(archived.path).read_bytes()).hexdigest() == archived.sha256
        assert archived.snapshot_ids and len(archived.snapshot_ids.split(",")) == 2


def test_a_notice_written_with_a_relative_out_is_found_from_another_folder(
    cli, app, tmp_path, capsys, monkeypatch
):
    """The archive names a notice's files wherever the command was run from: cron or an
    operator in another folder finds them written, and makes no second version."""
    cli("import", str(seed_004_table(tmp_path / "t.csv")))
    (tmp_path / "first").mkdir()
    (tmp_path / "second").mkdir()
    monkeypatch.chdir(tmp_path / "first")
    cli("notice", "--unit", "BINHTHANH", "--period", "2024-09", "--out", "out", "--to", "docx")
    capsys.readouterr()
    monkeypatch.chdir(tmp_path / "second")
    out = str(tmp_path / "first" / "out")
    cli("notice", "--unit", "BINHTHANH", "--period", "2024-09", "--out", out, "--to", "docx")
    assert capsys.readouterr().out.split()[:3] == [
        f"{out}/congvan-BINHTHANH-2024-09/v1.docx",
        "(already",
        "written;",
    ]
    with app.sessions()() as session:
        paths = session.scalars(select(NoticeFile.path)).all()
    assert paths == [f"{out}/congvan-BINHTHANH-2024-09/v1.docx"]


def test_a_file_the_archive_does_not_know_is_never_written_over(cli, tmp_path, capsys):
    """A v1 already in the notice's folder (another database's, an edited and signed
    copy) stays as it is: the notice is written as the next free version."""
    cli("import", str(seed_004_table(tmp_path / "t.csv")))
    out = tmp_path / "out"
    signed = out / "congvan-BINHTHANH-2024-09" / "v1.docx"
    signed.parent.mkdir(parents=True)
    signed.write_bytes(b"edited and signed by hand")
    capsys.readouterr()
    cli("notice", "--unit", "BINHTHANH", "--period", "2024-09", "--out", str(out))
    assert capsys.readouterr().out.split() == [
        f"{out}/congvan-BINHTHANH-2024-09/v2.docx",
        f"{out}/congvan-BINHTHANH-2024-09/v2.html",
    ]
    assert signed.read_bytes() == b"edited and signed by hand"
    assert not (signed.parent / "v1.html").exists()


def test_an_unknown_unit_is_a_clear_usage_error(cli, tmp_path, capsys):
    assert cli("notice", "--unit", "NOWHERE", "--period", "2024-09", "--out", str(tmp_path)) == 2
    assert "--unit NOWHERE: unknown unit" in capsys.readouterr().err


def test_a_known_unit_without_figures_for_the_period_says_so(cli, tmp_path, capsys):
    cli("import", str(seed_004_table(tmp_path / "t.csv")))
    capsys.readouterr()
    assert cli("notice", "--unit", "BINHTHANH", "--period", "2024-05", "--out", str(tmp_path)) == 2
    assert "--unit BINHTHANH: no 766 figures for 2024-05" in capsys.readouterr().err


def test_asking_for_a_format_the_archive_lacks_writes_a_new_version(cli, tmp_path, capsys):
    cli("import", str(seed_004_table(tmp_path / "t.csv")))
    capsys.readouterr()
    out = str(tmp_path / "out")
    cli("notice", "--unit", "BINHTHANH", "--period", "2024-09", "--out", out, "--to", "docx")
    assert capsys.readouterr().out.split() == [f"{out}/congvan-BINHTHANH-2024-09/v1.docx"]
    cli("notice", "--unit", "BINHTHANH", "--period", "2024-09", "--out", out, "--to", "docx")
    assert "v1.docx (already written" in capsys.readouterr().out
    cli("notice", "--unit", "BINHTHANH", "--period", "2024-09", "--out", out, "--to", "docx,html")
    assert capsys.readouterr().out.split() == [
        f"{out}/congvan-BINHTHANH-2024-09/v2.docx",
        f"{out}/congvan-BINHTHANH-2024-09/v2.html",
    ]


def test_a_notice_read_from_its_set_alone_is_the_notice_read_from_the_country(
    app, tmp_path, monkeypatch
):
    """A notice reads and scores its unit's set only (one province), not the country: the
    document, its charts and the snapshots it names are what reading every unit gave."""
    import datetime as dt

    from service.config import NoticeSettings
    from service.notices import produce
    from service.periods import Period
    from service.simulator.simulator import GeneratedSource, PortalSimulator
    from service.sync import sync_province
    from tests.conftest import FAST_PORTAL

    october = Period.parse("2026-10")
    with PortalSimulator(GeneratedSource(seed=9, provinces=3, communes=24, agencies=3)) as sim:
        portal = FAST_PORTAL.model_copy(update={"base_url": sim.base_url})
        for province in ("H01", "H02", "H03"):
            for period in (october.previous(), october):
                outcome = sync_province(
                    app.sessions(), portal, province, period, dt.date(2026, 11, 22)
                )
                assert outcome.status == "ok", outcome.error
    settings = NoticeSettings(out_dir=tmp_path, formats=("docx",))
    requests = [
        produce.Request("congvan", "H02.105", october),
        produce.Request("baocao", "H02", october),
    ]

    def built() -> list[str]:
        with app.sessions()() as session:
            return [repr(produce._build(session, app.schemes, settings, r)) for r in requests]

    alone = built()
    score_rows, latest_units = produce.score_rows, produce.latest_units
    # What reading the country gave: the set's filter dropped.
    country_rows = lambda *a, parent=None, **k: score_rows(*a, **k)  # noqa: E731
    country_units = lambda *a, parents=None, **k: latest_units(*a, **k)  # noqa: E731
    monkeypatch.setattr(produce, "score_rows", country_rows)
    monkeypatch.setattr(produce, "latest_units", country_units)
    assert alone == built()
    assert "H02.105" in alone[0] and "H01." not in "".join(alone)


def national_table_of_tua_chua(path: Path) -> Path:
    """The units of seed 000's district (Tủa Chùa) under the national index too, for
    the same month: a province scores its units on both."""
    with (DATA / "dienbien-459-2024-03.csv").open(encoding="utf-8") as handle:
        units = sorted({(row["unit_code"], row["unit_name"]) for row in csv.DictReader(handle)})
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["scheme", "period", "unit_code", "unit_name", "parent_code", "indicator",
                         "value", "max"])  # fmt: skip
        for number, (code, name) in enumerate(units):
            axes = {"CKMB": 15, "TDGQ": 17, "CLGQ": 10, "TTTT": 10, "MDHL": 16, "MDSH": 20 - number}
            axes["TOTAL"] = sum(axes.values())
            for axis, value in axes.items():
                row = [axis, value, MAXIMA[axis]]
                writer.writerow(["766", "2024-03", code, name, "TUACHUA", *row])
    return path


def test_the_bao_cao_of_each_scheme_is_its_own_document(cli, app, tmp_path, capsys):
    """A province scores a district's units on the national index and on its own: the
    Báo cáo of each is written, archived and found again as its own, never the other's."""
    cli("import", str(DATA / "dienbien-459-2024-03.csv"))
    cli("import", str(national_table_of_tua_chua(tmp_path / "national.csv")))
    out = str(tmp_path / "out")
    base = ("notice", "--unit", "TUACHUA", "--kind", "baocao", "--period", "2024-03", "--out", out)
    provincial = (*base, "--scheme", "provincial:dienbien-459", "--to", "docx")
    capsys.readouterr()
    assert cli(*provincial) == 0
    assert cli(*base, "--to", "docx") == 0
    assert cli(*provincial) == 0
    assert capsys.readouterr().out.splitlines() == [
        f"{out}/baocao-dienbien-459-TUACHUA-2024-03/v1.docx",
        f"{out}/baocao-TUACHUA-2024-03/v1.docx",
        f"{out}/baocao-dienbien-459-TUACHUA-2024-03/v1.docx (already written; --force writes a "
        "new version)",
    ]
    provincial_text = text_of(Path(out) / "baocao-dienbien-459-TUACHUA-2024-03" / "v1.docx")
    national_text = text_of(Path(out) / "baocao-TUACHUA-2024-03" / "v1.docx")
    assert "95,34" in provincial_text and "95,34" not in national_text
    assert "766/QĐ-TTg" in national_text and "766/QĐ-TTg" not in provincial_text
    with app.sessions()() as session:
        archived = session.execute(select(NoticeFile.scheme, NoticeFile.version)).all()
    assert sorted(archived) == [("766", 1), ("provincial:dienbien-459", 1)]
