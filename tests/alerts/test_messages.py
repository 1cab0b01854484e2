"""One alert's line as a person reads it: the change and the reminder in words, the
period of the figures (a running month is provisional, as of the day read), and the
operators' alerts in Vietnamese, their technical detail quoted briefly."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from service.alerts.engine import Policy, evaluate
from service.alerts.messages import DETAIL_CHARS, alert_line
from service.alerts.models import Alert
from service.alerts.rules import Rule
from service.alerts.summary_text import summary_label
from service.calendar import WorkCalendar
from service.channels.base import PermanentReason
from service.delivery.directory_files import load_directory
from service.delivery.models import ChannelAddress
from service.models import FetchRun, Unit
from service.notices.names import area_name
from tests.alerts.test_outbox import NOW, Clock, send
from tests.fakes.telegram_server import FakeTelegram, visible_text

OVERDUE = Rule(id="overdue", kind="count_above", topic="overdue", count="overdue")
RUNNING = {"what_it_takes": [], "completeness": "running", "as_of": "2026-08-20"}


def test_a_changed_count_says_from_how_many_in_words():
    line = alert_line("changed", OVERDUE, 50_000, 95, "2026-08", {"what_it_takes": []})
    assert line == "⚠️ 50.000 hồ sơ quá hạn (tháng 8/2026), tăng từ 95 hồ sơ."
    fewer = alert_line("changed", OVERDUE, 7, 623, "2026-08", {"what_it_takes": []})
    assert fewer == "⚠️ 7 hồ sơ quá hạn (tháng 8/2026), giảm từ 623 hồ sơ."


def test_a_repeated_alert_says_it_is_a_reminder():
    line = alert_line("repeated", OVERDUE, 7, 7, "2026-08", {"what_it_takes": []})
    assert line == "⚠️ Nhắc lại: vẫn còn 7 hồ sơ quá hạn (tháng 8/2026)."


def test_a_running_months_figures_are_provisional_as_of_the_day_they_were_read():
    line = alert_line("fired", OVERDUE, 95, None, "2026-08", RUNNING)
    assert line == "⚠️ 95 hồ sơ quá hạn (tháng 8/2026, tạm tính đến ngày 20/8/2026)."
    late = {**RUNNING, "as_of": "2026-09-01"}  # read after the month, not yet final
    assert "tạm tính đến ngày 31/8/2026" in alert_line("fired", OVERDUE, 95, None, "2026-08", late)
    final = {**RUNNING, "completeness": "final"}
    assert "(tháng 8/2026)." in alert_line("fired", OVERDUE, 95, None, "2026-08", final)


def test_a_summarys_label_says_its_period_is_provisional():
    label = summary_label("overdue", 161, "2026-08", RUNNING)
    assert (
        label == "Tóm tắt: 161 đơn vị có hồ sơ quá hạn (tháng 8/2026, tạm tính đến ngày 20/8/2026)"
    )


OPERATOR_RULES = [
    Rule(id="stale-sync", kind="stale_sync", topic="operator", hours=36),
    Rule(id="sync-blocked", kind="run_blocked", topic="operator"),
    Rule(id="parse-error", kind="parse_error", topic="operator"),
    Rule(id="delivery-failed", kind="delivery_failed", topic="operator"),
]
OPERATOR_CONTEXT = {
    "scope": "H44",
    "error": "service-results: HTTP 403: the portal refused the request",
    "hours": 50,
    "person": "lan",
    "address": "100000001",
    "reason": "blocked",
}


@pytest.mark.parametrize("rule", OPERATOR_RULES, ids=lambda r: r.kind)
def test_an_operators_alert_resolves_in_words_never_its_rule_id(rule):
    line = alert_line("resolved", rule, 1, 1, None, OPERATOR_CONTEXT)
    assert line.startswith("✅ Đã khắc phục: ") and rule.id not in line and "None" not in line


def test_a_sync_error_is_quoted_briefly_under_a_vietnamese_sentence():
    error = "6 problem(s) in the portal's answer:\n" + "\n".join(
        f"  - transparency: unit H44.{n}: field 'totalScore': expected a finite number, got NaN"
        for n in range(200)
    )
    rule = Rule(id="parse-error", kind="parse_error", topic="operator", severity="critical")
    line = alert_line("fired", rule, 1, None, None, {**OPERATOR_CONTEXT, "error": error})
    sentence, detail = line.split("\n")
    assert sentence.startswith("🔴 Đồng bộ số liệu H44 thất bại: Cổng DVCQG trả về dữ liệu sai")
    assert detail.startswith("Chi tiết kỹ thuật: 6 problem(s)")
    assert detail.endswith("(đầy đủ: lệnh dvcwatch status và nhật ký)")
    assert len(detail) < DETAIL_CHARS + 100


@pytest.mark.parametrize("reason", [r for r in PermanentReason if r.address_gone])
def test_why_an_address_was_given_up_is_said_in_vietnamese(reason):
    rule = OPERATOR_RULES[-1]
    line = alert_line("fired", rule, 1, None, None, {**OPERATOR_CONTEXT, "reason": str(reason)})
    assert line.startswith("⚠️ Không gửi được tin tới «lan» trong danh bạ (địa chỉ 100000001): ")
    assert str(reason) not in line


OPERATORS = """
operators = ["minh"]
[[people]]
id = "minh"
name = "Vũ Đức Minh"
channel = "telegram"
address = "100000010"
"""


def blocked_sync(scope: str) -> FetchRun:
    """A sync of `scope` the portal refused, never one that succeeded (stale too)."""
    return FetchRun(
        job="sync",
        scope=scope,
        period="2026-08",
        status="blocked",
        finished_at=NOW,
        error_kind="blocked",
        error="service-results: HTTP 403: the portal refused the request",
    )


def operators_digest(sessions, tmp_path: Path, rules: list[Rule]) -> tuple[str, list[str]]:
    """Evaluate `rules` for the operator of `OPERATORS` and send: the one message as the
    fake Telegram received it (its visible text) and its buttons."""
    (tmp_path / "directory.toml").write_text(OPERATORS, encoding="utf-8")
    directory = load_directory(tmp_path / "directory.toml")
    with sessions.begin() as session:
        evaluate(session, None, rules, directory, Policy(WorkCalendar()), NOW)  # type: ignore[arg-type]
    with FakeTelegram() as telegram:
        assert send(sessions, telegram, Clock()).sent == 1
        [call] = telegram.calls("sendMessage")
    keyboard = call.params["reply_markup"]["inline_keyboard"]
    return visible_text(call.params["text"]), [b["text"] for row in keyboard for b in row]


def test_an_operators_digest_heads_each_alert_and_gives_each_button_its_own_name(
    sessions, tmp_path
):
    """A blocked sync of H44 (never a successful one: stale too) and a chat given up, in
    one digest through the fake Telegram: the address's alert is headed by the directory
    (never "Dữ liệu None"), and no two "Đã tiếp nhận" buttons read the same."""
    with sessions.begin() as session:
        session.add(blocked_sync("H44"))
        session.add(
            ChannelAddress(
                person_id="lan",
                channel="telegram",
                address="100000001",
                from_address="100000001",
                active=False,
                reason="chat_not_found",
            )
        )
    text, buttons = operators_digest(sessions, tmp_path, OPERATOR_RULES)
    assert "None" not in text and "chat_not_found" not in text
    assert "\nDữ liệu H44\n⚠️ Chưa đồng bộ được số liệu H44 từ Cổng DVCQG lần nào" in text
    assert "\n⚠️ Cổng DVCQG chặn việc đồng bộ số liệu H44 (mã 403, 429" in text
    assert "\nDanh bạ nhận cảnh báo\n⚠️ Không gửi được tin tới «lan» trong danh bạ" in text
    assert len(buttons) == len(set(buttons)) == 3 and "Đã tiếp nhận: danh bạ" in buttons
    assert all(b.startswith("Đã tiếp nhận: H44 dữ liệu (số ") for b in buttons if "H44" in b)


def test_an_operators_alert_names_the_province_as_officials_do(sessions, tmp_path):
    """A sync scoped by departmentId (as `dvcwatch sync` records one given an id) of a
    province the database knows: its alert says "tỉnh Phú Thọ (H44)", not the id."""
    department_id = "019d2be3-6a88-732b-8b17-b68020c8553a"
    with sessions.begin() as session:
        session.add(
            Unit(
                department_id=department_id,
                code="H44",
                name="UBND Tỉnh Phú Thọ",
                unit_group="PROVINCE",
            )
        )
        session.add(blocked_sync(department_id))
    text, buttons = operators_digest(sessions, tmp_path, OPERATOR_RULES[:2])
    assert "\nDữ liệu tỉnh Phú Thọ (H44)\n⚠️ Chưa đồng bộ được số liệu tỉnh Phú Thọ (H44) từ" in text
    assert "⚠️ Cổng DVCQG chặn việc đồng bộ số liệu tỉnh Phú Thọ (H44) (mã 403" in text
    assert department_id not in text
    assert sorted(buttons) == [
        "Đã tiếp nhận: H44 dữ liệu (số 1)",
        "Đã tiếp nhận: H44 dữ liệu (số 2)",
    ]
    with sessions() as session:  # the code, by which a province's office is found
        assert set(session.scalars(select(Alert.province_code))) == {"H44"}


@pytest.mark.parametrize(
    ("name", "area"),
    [
        ("UBND tỉnh Phú Thọ", "tỉnh Phú Thọ"),
        ("UBND Tỉnh Gia Lai", "tỉnh Gia Lai"),
        ("Ủy ban nhân dân thành phố Hà Nội", "thành phố Hà Nội"),
        ("UBND Thành phố Hồ Chí Minh", "Thành phố Hồ Chí Minh"),
        ("Tỉnh Phú Thọ", "Tỉnh Phú Thọ"),
        ("UBND", "UBND"),
    ],
)
def test_a_committees_name_becomes_its_area_in_running_text(name, area):
    assert area_name(name) == area
