"""One `queue()` for alerts and notices: the same address check, the same key scheme,
nothing queued twice (also over the keys an older dvcwatch wrote), and a notice routed
by its unit's real parent, not by its code cut at the first dot."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import pytest
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from jobs.steps import catch_up
from service.alerts.engine import Policy
from service.alerts.fanout import fan_out
from service.alerts.models import Alert, AlertEvent, AlertState, EventKind
from service.app import App
from service.calendar import WorkCalendar
from service.claims import JobClaim
from service.clock import LOCAL_TZ
from service.config import NoticeUnit
from service.delivery import fanout
from service.delivery.directory import Directory, Person
from service.delivery.directory_files import load_directory
from service.delivery.fanout import province_of, unit_recipients
from service.delivery.models import ChannelAddress, Delivery
from service.imports import import_file
from service.models import Unit
from tests.notices.test_tt01_job import _context
from tests.notices.test_tt01_report import DATA, ISSUER, TABLES

APRIL = dt.datetime(2021, 4, 6, 10, 0, tzinfo=LOCAL_TZ)  # the Q1 report's working day
NOW = APRIL.astimezone(dt.UTC).replace(tzinfo=None)
#: The keys the code before `delivery.fanout` wrote, spelled out as it built them.
OLD_NOTICE_KEY = "notice:baocao:DBD:2021-Q1:v1:vp:console"
OLD_EVENT_KEY = "event:{event}:vp:console"


@pytest.fixture
def tt01(app: App) -> App:
    """`app` holding Điện Biên Đông's tt01 tables (the Q1 report is due on APRIL)."""
    for table in TABLES:
        import_file(app.sessions(), DATA / table, app.schemes, None, APRIL.date())
    return app


def _learn(app: App, address: str, active: bool, reason: str) -> None:
    """What delivery learnt of vp's console address "vp": moved to `address`, or dead."""
    with app.sessions().begin() as session:
        session.add(
            ChannelAddress(
                person_id="vp", channel="console", from_address="vp", address=address,
                active=active, reason=reason,
            )
        )  # fmt: skip


def _vp(directory_file: Path) -> Person:
    person = load_directory(directory_file).person("vp")
    assert person is not None
    return person


def _alert_to(session: Session, person: Person) -> list[Delivery]:
    """An overdue alert's first event about one of the district's offices, fanned out to
    `person` by the alerts' own `fan_out`."""
    alert = Alert(
        fingerprint="overdue|DBD.TUPHAP",
        rule_id="overdue",
        topic="overdue",
        severity="warning",
        unit_code="DBD.TUPHAP",
        province_code="DBD",
        label="Phòng Tư pháp (DBD.TUPHAP)",
        state=AlertState.FIRING,
        sequence=1,
    )
    session.add(alert)
    session.flush()
    event = AlertEvent(
        alert_id=alert.id, sequence=1, kind=EventKind.FIRED, text_html="12 hồ sơ quá hạn"
    )
    session.add(event)
    session.flush()
    policy = Policy(WorkCalendar(quiet_start=dt.time(0), quiet_end=dt.time(0)))
    return fan_out(session, alert, event, None, [person], policy, NOW)


def _deliveries(app: App) -> list[tuple[str, str]]:
    with app.sessions()() as session:
        rows = session.execute(
            select(Delivery.idempotency_key, Delivery.address).order_by(Delivery.id)
        ).all()
    return [(key, address) for key, address in rows]


def _spy_on_keys(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The subjects `queue()` keys, in order (`delivery_key` is called by it alone)."""
    subjects: list[str] = []
    keyed: Callable[[str, str, str], str] = fanout.delivery_key

    def recording(subject: str, person_id: str, channel: str) -> str:
        subjects.append(subject)
        return keyed(subject, person_id, channel)

    monkeypatch.setattr(fanout, "delivery_key", recording)
    return subjects


def test_a_notice_and_an_alert_for_one_person_take_the_same_queue(tt01, tmp_path, monkeypatch):
    """Both are keyed by `queue()` (`<subject>:<person>:<channel>`, the old strings) and
    both go to the address delivery learnt (a migrated chat), not the directory's."""
    subjects = _spy_on_keys(monkeypatch)
    context = _context(tt01, tmp_path, APRIL)
    _learn(tt01, "vp-2", active=True, reason="migrated")
    assert asyncio.run(catch_up(context)) == 1  # the Q1 report, written and queued
    with tt01.sessions().begin() as session:
        [alerted] = _alert_to(session, _vp(context.app.settings.alerts.directory_file))
        event = alerted.event_id
    assert subjects == ["notice:baocao:DBD:2021-Q1:v1", f"event:{event}"]
    assert _deliveries(tt01) == [
        (OLD_NOTICE_KEY, "vp-2"),
        (OLD_EVENT_KEY.format(event=event), "vp-2"),
    ]


def test_an_address_delivery_gave_up_gets_neither_a_notice_nor_an_alert(tt01, tmp_path):
    context = _context(tt01, tmp_path, APRIL)
    _learn(tt01, "vp", active=False, reason="blocked")
    assert asyncio.run(catch_up(context)) == 1  # written, its claim done
    with tt01.sessions().begin() as session:
        assert _alert_to(session, _vp(context.app.settings.alerts.directory_file)) == []
    assert _deliveries(tt01) == []


def test_a_rerun_queues_nothing_twice_over_the_keys_stored_before(tt01, tmp_path):
    """The notice job run again (its claim gone, as after a crash before it was recorded,
    or on a database an older dvcwatch wrote) finds its archived file and its old key:
    nothing new. An event fanned out twice is queued once."""
    context = _context(tt01, tmp_path, APRIL)
    assert asyncio.run(catch_up(context)) == 1
    person = _vp(context.app.settings.alerts.directory_file)
    with tt01.sessions().begin() as session:
        [alerted] = _alert_to(session, person)
        alert = session.get(Alert, alerted.alert_id)
        event = session.get(AlertEvent, alerted.event_id)
        assert alert is not None and event is not None
        policy = Policy(WorkCalendar())
        assert fan_out(session, alert, event, None, [person], policy, NOW) == []
    before = _deliveries(tt01)
    assert [key for key, _ in before] == [
        OLD_NOTICE_KEY,
        OLD_EVENT_KEY.format(event=alerted.event_id),
    ]
    with tt01.sessions().begin() as session:
        session.execute(delete(JobClaim))
    assert asyncio.run(catch_up(context)) == 1  # run again, its file archived as v1
    assert _deliveries(tt01) == before


def test_a_notice_goes_to_the_office_of_its_units_parent_not_of_its_code_prefix(app, tmp_path):
    """A district coded as the government's unit codes are ("000.00.21.H13"): cut at the
    dot its province would be "000", which has no office; the units table says its
    reports are the district's own, and its office (from `offices`) receives them."""
    district = "000.00.21.H13"
    for table in TABLES:
        text = (DATA / table).read_text(encoding="utf-8").replace(",DBD,", f",{district},")
        (tmp_path / table).write_text(text, encoding="utf-8")
        import_file(app.sessions(), tmp_path / table, app.schemes, None, APRIL.date())
    directory_file = tmp_path / "offices.toml"
    directory_file.write_text(
        f'fallback = "ops"\n[offices]\n"{district}" = "vp"\n'
        '[[people]]\nid = "vp"\nname = "Văn phòng HĐND-UBND huyện"\nunits = ["H13.1"]\n'
        'topics = ["overdue"]\nchannel = "console"\naddress = "vp"\n'
        '[[people]]\nid = "ops"\nname = "Tổ vận hành"\nunits = ["H13.1"]\n'
        'topics = ["overdue"]\nchannel = "console"\naddress = "ops"\n',
        encoding="utf-8",
    )
    unit = NoticeUnit(unit=district, kind="baocao", scheme="tt01", issuer=ISSUER)
    context = _context(app, tmp_path, APRIL)
    alerts = context.app.settings.alerts.model_copy(update={"directory_file": directory_file})
    notices = context.app.settings.notices.model_copy(update={"units": (unit,)})
    settings = context.app.settings.model_copy(update={"alerts": alerts, "notices": notices})
    context = replace(context, app=App(settings))
    assert asyncio.run(catch_up(context)) == 1
    assert _deliveries(app) == [(f"notice:baocao:{district}:2021-Q1:v1:vp:console", "vp")]


def test_the_province_of_a_unit_is_its_parent_in_the_units_table(sessions):
    """Portal units carry their province's prefix, imported ones need not: the parent
    decides, a unit without one is its own set's head, an unknown unit has none."""
    with sessions.begin() as session:
        rows = {}
        for code, parent in [
            ("H44", None),
            ("H44.116", "H44"),
            ("H13", None),
            ("000.00.12.H13", "H13"),  # the government's code of a provincial department
            ("DBD", None),
            ("TUPHAP", "DBD"),  # a tt01 office coded without its district
        ]:
            unit = Unit(
                code=code,
                name=code,
                unit_group="UNKNOWN",
                parent_id=rows[parent].id if parent else None,
            )
            session.add(unit)
            session.flush()
            rows[code] = unit
        found = {code: province_of(session, code) for code in [*rows, "H99.1"]}
        office = Person("vp13", "VP UBND tỉnh", "", frozenset(), frozenset(), "console", "vp13")
        ops = Person("ops", "Tổ vận hành", "", frozenset(), frozenset(), "console", "ops")
        directory = Directory((office, ops), offices={"H13": "vp13"}, fallback="ops")
        routed = unit_recipients(session, directory, "000.00.12.H13", "notice")
    assert found == {
        "H44": "H44",
        "H44.116": "H44",
        "H13": "H13",
        "000.00.12.H13": "H13",
        "DBD": "DBD",
        "TUPHAP": "DBD",
        "H99.1": None,
    }
    assert routed == (office,)  # by the code's prefix "000": no office, the fallback
