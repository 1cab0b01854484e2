"""A province's own Báo cáo and the national one of the same set and month, both
configured: the monthly job writes each as its own document, under its own claim, and
sends each once (`jobs.plan.notice_scope`)."""

from __future__ import annotations

import asyncio
import datetime as dt
from pathlib import Path

from sqlalchemy import select

from jobs.steps import catch_up
from service.app import App
from service.claims import JobClaim
from service.clock import LOCAL_TZ
from service.config import NoticeUnit
from service.delivery.models import Delivery
from service.imports import import_file
from tests.notices.test_produce import DATA, national_table_of_tua_chua, text_of
from tests.notices.test_tt01_job import _context
from tests.notices.test_tt01_report import ISSUER

PROVINCIAL = "provincial:dienbien-459"
APRIL = dt.datetime(2024, 4, 3, 10, 0, tzinfo=LOCAL_TZ)  # March's notices are due


def _both(app: App, tmp_path: Path) -> App:
    import_file(app.sessions(), DATA / "dienbien-459-2024-03.csv", app.schemes, None, APRIL.date())
    national = national_table_of_tua_chua(tmp_path / "national.csv")
    import_file(app.sessions(), national, app.schemes, None, APRIL.date())
    return app


def test_both_bao_cao_are_written_and_sent_each_once(app, tmp_path):
    context = _context(_both(app, tmp_path), tmp_path, APRIL)
    units = tuple(
        NoticeUnit(unit="TUACHUA", kind="baocao", scheme=scheme, issuer=ISSUER)
        for scheme in ("766", PROVINCIAL)
    )
    notices = context.app.settings.notices.model_copy(update={"units": units})
    context.app.settings = context.app.settings.model_copy(update={"notices": notices})
    assert asyncio.run(catch_up(context)) == 2
    assert asyncio.run(catch_up(context)) == 0  # each claimed: neither written again
    with app.sessions()() as session:
        claims = session.execute(select(JobClaim.scope, JobClaim.period, JobClaim.status)).all()
        sent = session.execute(
            select(Delivery.idempotency_key, Delivery.document_path).order_by(Delivery.id)
        ).all()
        captions = dict(session.execute(select(Delivery.idempotency_key, Delivery.text_html)).all())
    assert sorted(claims) == [
        ("baocao:TUACHUA", "2024-03", "ok"),
        (f"baocao:TUACHUA@{PROVINCIAL}", "2024-03", "ok"),
    ]
    documents = {key: Path(path) for key, path in sent}
    assert set(documents) == {
        "notice:baocao:TUACHUA:2024-03:v1:vp:console",
        f"notice:baocao:TUACHUA@{PROVINCIAL}:2024-03:v1:vp:console",
    }
    national = text_of(documents["notice:baocao:TUACHUA:2024-03:v1:vp:console"])
    own = text_of(documents[f"notice:baocao:TUACHUA@{PROVINCIAL}:2024-03:v1:vp:console"])
    assert "766/QĐ-TTg" in national and "95,34" not in national
    assert "95,34" in own and "766/QĐ-TTg" not in own
    # in the chat, where both arrive, the caption of the province's own names its act
    assert captions[f"notice:baocao:TUACHUA@{PROVINCIAL}:2024-03:v1:vp:console"].startswith(
        "Báo cáo kết quả đánh giá tháng 3/2024 của các đơn vị thuộc TUACHUA (theo Quyết định "
        "số 459/QĐ-UBND ngày 24/3/2023 của UBND tỉnh Điện Biên). 12/12 đơn vị được chấm điểm"
    )
    assert captions["notice:baocao:TUACHUA:2024-03:v1:vp:console"].startswith(
        "Báo cáo kết quả đánh giá tháng 3/2024 của các đơn vị thuộc TUACHUA. 12 đơn vị"
    )
