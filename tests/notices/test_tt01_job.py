"""The scheduled nine-criteria reports: after each quarter (and each year) the leader's
catch-up writes the configured tt01 Báo cáo once, through the same claims and outbox
as the monthly notices."""

from __future__ import annotations

import asyncio
import datetime as dt
from pathlib import Path

from docx import Document
from sqlalchemy import select

from jobs.leader import take_term
from jobs.steps import catch_up
from jobs.work import Context
from service.app import App
from service.claims import JobClaim
from service.clock import LOCAL_TZ
from service.config import AlertSettings, NoticeSettings, NoticeUnit
from service.delivery.models import ChannelAddress, Delivery
from service.imports import import_file
from tests.conftest import PROJECT
from tests.notices.test_tt01_report import DATA, DISTRICT, ISSUER, TABLES

DIRECTORY = """
[[people]]
id = "vp"
name = "Văn phòng HĐND-UBND huyện"
units = ["*"]
topics = ["notice"]
channel = "console"
address = "vp"
"""


def _context(app: App, tmp_path: Path, local: dt.datetime) -> Context:
    directory = tmp_path / "directory.toml"
    directory.write_text(DIRECTORY, encoding="utf-8")
    alerts = AlertSettings(
        rules_file=PROJECT / "config" / "rules.toml", directory_file=directory, holidays_file=None
    )
    unit = NoticeUnit(unit="DBD", kind="baocao", scheme="tt01", issuer=ISSUER)
    notices = NoticeSettings(out_dir=tmp_path / "out", formats=("docx",), units=(unit,))
    moved = App(app.settings.model_copy(update={"alerts": alerts, "notices": notices}))
    now = local.astimezone(dt.UTC).replace(tzinfo=None)
    term = take_term(moved.sessions(), "test-owner", now)
    return Context(moved, "test-owner", {}, lambda: now, local.date, term=term)


def _claims(app: App) -> dict[str, str | None]:
    with app.sessions()() as session:
        rows = session.execute(select(JobClaim.period, JobClaim.status, JobClaim.error)).all()
    return {period: error if status != "ok" else None for period, status, error in rows}


def test_the_quarter_and_the_year_are_written_once_on_their_working_day(app, tmp_path):
    for table in TABLES:
        import_file(app.sessions(), DATA / table, app.schemes, None, dt.date(2021, 4, 6))
    april = _context(app, tmp_path, dt.datetime(2021, 4, 6, 10, 0, tzinfo=LOCAL_TZ))
    assert asyncio.run(catch_up(april)) == 1
    assert asyncio.run(catch_up(april)) == 0  # claimed: not written again
    with app.sessions()() as session:
        sent = session.scalars(select(Delivery)).all()
    assert [(d.person_id, Path(d.document_path).suffix) for d in sent] == [("vp", ".docx")]
    assert sent[0].text_html.startswith(
        "Báo cáo kết quả đánh giá Quý I/2021 của các đơn vị thuộc DBD. 08/11 đơn vị được chấm "
        "điểm: 06 đơn vị xếp loại Xuất sắc; 02 đơn vị xếp loại Tốt."
    )  # the report's counts, as its section 1 gives them per level
    text = [" ".join(p.text.split()) for p in Document(sent[0].document_path).paragraphs]
    assert DISTRICT in text

    january = _context(app, tmp_path, dt.datetime(2022, 1, 6, 10, 0, tzinfo=LOCAL_TZ))
    assert asyncio.run(catch_up(january)) == 1  # the year; its fourth quarter has no table
    claims = _claims(app)
    assert claims["2021-Q1"] is None and claims["2021"] is None
    assert "no tt01 units in this set for 2021-Q4" in (claims["2021-Q4"] or "")


def test_a_notice_skips_an_address_delivery_has_given_up(app, tmp_path):
    """As for alerts: a chat that blocked the bot gets no notice queued (it would only
    fail again); the notice is still written and its claim done."""
    for table in TABLES:
        import_file(app.sessions(), DATA / table, app.schemes, None, dt.date(2021, 4, 6))
    with app.sessions().begin() as session:
        session.add(
            ChannelAddress(
                person_id="vp", channel="console", from_address="vp", address="vp",
                active=False, reason="blocked",
            )
        )  # fmt: skip
    april = _context(app, tmp_path, dt.datetime(2021, 4, 6, 10, 0, tzinfo=LOCAL_TZ))
    assert asyncio.run(catch_up(april)) == 1
    with app.sessions()() as session:
        assert session.scalars(select(Delivery)).all() == []
    assert _claims(app)["2021-Q1"] is None
    assert list((tmp_path / "out").glob("baocao-DBD-2021-Q1/v1.docx"))
