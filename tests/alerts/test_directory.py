"""Who gets which alert: coverage, heads, offices, fallback, operators, and the files."""

from __future__ import annotations

import zlib
from pathlib import Path

import pytest

from service.delivery.directory import (
    Directory,
    DirectoryError,
    Person,
    escalation_targets,
    find_by_address,
    recipients,
)
from service.delivery.directory_files import load_directory, load_directory_csv

PROJECT = Path(__file__).resolve().parents[2]
EXAMPLE = PROJECT / "config" / "directory.example.toml"
EXAMPLE_CSV = PROJECT / "tests" / "data" / "directory.csv"
RULE_TOPICS = {"overdue", "not_paid_online", "not_digitised", "unsynced", "falling", "rank"}


def person(
    person_id: str,
    units: str = "",
    topics: str = "",
    active: bool = True,
    channel: str = "telegram",
    address: str | None = None,
) -> Person:
    """A person covering `;`-separated units and topics, with a chat id of their own."""
    return Person(
        id=person_id,
        name=person_id.title(),
        role="",
        units=frozenset(filter(None, units.split(";"))),
        topics=frozenset(filter(None, topics.split(";"))),
        channel=channel,
        address=address or str(zlib.crc32(person_id.encode())),
        active=active,
    )


LAN = person("lan", "H44.100", "overdue;not_digitised")
HOA = person("hoa", "H44.100", "not_paid_online")
GROUP = person("group", "H44.101", "*")
WATCHER = person("watcher", "*", "rank")
HEAD_100 = person("head-100")
HEAD_104 = person("head-104")
HEAD_105 = person("head-105", active=False)
OFFICE = person("office")
FALLBACK = person("fallback")
LEFT = person("left", "H44.100;H44.104", "*", active=False)
OPS = person("ops", channel="console", address="ops")
EVERYONE = (LAN, HOA, GROUP, WATCHER, HEAD_100, HEAD_104, HEAD_105, OFFICE, FALLBACK, LEFT, OPS)
DIRECTORY = Directory(
    people=EVERYONE,
    heads={"H44.100": "head-100", "H44.104": "head-104", "H44.105": "head-105"},
    offices={"H44": "office"},
    fallback="fallback",
    operators=("ops",),
)


@pytest.mark.parametrize(
    ("unit", "province", "topic", "expected"),
    [
        ("H44.100", "H44", "overdue", (LAN,)),
        ("H44.100", "H44", "not_paid_online", (HOA,)),
        ("H44.101", "H44", "not_digitised", (GROUP,)),  # "*" covers every topic
        ("H44.104", "H44", "rank", (WATCHER,)),  # "*" covers every unit
        ("H44.101", "H44", "rank", (GROUP, WATCHER)),  # in directory order
        ("H44.100", "H44", "rank", (WATCHER,)),
    ],
)
def test_people_covering_the_unit_and_the_topic_get_the_alert(
    unit: str, province: str, topic: str, expected: tuple[Person, ...]
) -> None:
    assert recipients(DIRECTORY, unit, province, topic) == expected


def test_a_unit_nobody_covers_goes_to_its_head() -> None:
    assert recipients(DIRECTORY, "H44.104", "H44", "overdue") == (HEAD_104,)
    assert recipients(DIRECTORY, "H44.100", "H44", "falling") == (HEAD_100,)


def test_a_unit_without_an_active_head_goes_to_the_province_office() -> None:
    assert recipients(DIRECTORY, "H44.105", "H44", "overdue") == (OFFICE,)  # head inactive
    assert recipients(DIRECTORY, "H44.199", "H44", "overdue") == (OFFICE,)  # no head


def test_a_unit_without_head_or_office_goes_to_the_fallback() -> None:
    assert recipients(DIRECTORY, "H21.227", "H21", "overdue") == (FALLBACK,)
    assert recipients(DIRECTORY, "H21.227", None, "overdue") == (FALLBACK,)


def test_an_alert_about_no_unit_reaches_only_people_covering_every_unit() -> None:
    assert recipients(DIRECTORY, None, "H44", "rank") == (WATCHER,)
    assert recipients(DIRECTORY, None, "H44", "overdue") == (OFFICE,)


def test_inactive_people_get_nothing() -> None:
    for unit in ("H44.100", "H44.104", "H44.105"):
        for topic in sorted(RULE_TOPICS | {"operator"}):
            assert LEFT not in recipients(DIRECTORY, unit, "H44", topic)
            assert HEAD_105 not in recipients(DIRECTORY, unit, "H44", topic)
    for level in (1, 2, 3):
        assert HEAD_105 not in escalation_targets(DIRECTORY, "H44.105", "H44", level)
    assert find_by_address(DIRECTORY, "telegram", LEFT.address) is None


def test_nobody_active_left_means_no_recipients() -> None:
    directory = Directory(people=(LEFT, HEAD_105), heads={"H44.105": "head-105"})
    assert recipients(directory, "H44.105", "H44", "overdue") == ()


def test_operator_alerts_go_to_the_operators_only() -> None:
    assert recipients(DIRECTORY, None, None, "operator") == (OPS,)
    assert recipients(DIRECTORY, "H44.101", "H44", "operator") == (OPS,)  # not the "*" group


def test_operator_alerts_fall_back_to_the_fallback_person() -> None:
    retired = Person(**{**vars(OPS), "active": False})
    directory = Directory(people=(retired, FALLBACK), fallback="fallback", operators=("ops",))
    assert recipients(directory, None, None, "operator") == (FALLBACK,)
    assert recipients(Directory(people=(FALLBACK,)), None, None, "operator") == ()


@pytest.mark.parametrize(
    ("unit", "level", "expected"),
    [
        ("H44.100", 1, (HEAD_100,)),
        ("H44.100", 2, (OFFICE,)),
        ("H44.100", 3, ()),  # past the end of the chain
        ("H44.105", 1, (OFFICE,)),  # an inactive head is skipped
        ("H44.105", 2, ()),
        ("H44.199", 1, (OFFICE,)),  # so is a missing one
    ],
)
def test_escalation_goes_to_the_head_then_the_province_office(
    unit: str, level: int, expected: tuple[Person, ...]
) -> None:
    assert escalation_targets(DIRECTORY, unit, "H44", level) == expected


def test_escalation_never_reaches_the_same_person_twice() -> None:
    directory = Directory(people=(OFFICE,), heads={"H44.100": "office"}, offices={"H44": "office"})
    assert escalation_targets(directory, "H44.100", "H44", 1) == (OFFICE,)
    assert escalation_targets(directory, "H44.100", "H44", 2) == ()


def test_escalation_levels_start_at_one() -> None:
    with pytest.raises(ValueError, match="start at 1"):
        escalation_targets(DIRECTORY, "H44.100", "H44", 0)


def test_the_bot_finds_a_chat_only_on_its_channel() -> None:
    assert find_by_address(DIRECTORY, "telegram", LAN.address) == LAN
    assert find_by_address(DIRECTORY, "console", LAN.address) is None
    assert find_by_address(DIRECTORY, "telegram", "42") is None
    assert find_by_address(DIRECTORY, "console", "ops") == OPS


@pytest.mark.parametrize(
    ("people", "roles", "complaint"),
    [
        ((LAN, LAN), {}, "id 'lan' is listed twice"),
        ((LAN,), {"heads": {"H44.100": "nobody"}}, 'heads."H44.100": no person has the id'),
        ((LAN,), {"offices": {"H44": "nobody"}}, 'offices."H44": no person'),
        ((LAN,), {"fallback": "nobody"}, "fallback: no person"),
        ((LAN,), {"operators": ("lan", "nobody")}, "operators[1]: no person"),
        ((LAN, person("twin", address=LAN.address)), {}, "share the Telegram chat"),
        (
            (person("a", channel="zalo", address="z1"), person("b", channel="zalo", address="z1")),
            {},
            "share the Zalo chat 'z1'",
        ),
    ],
)
def test_an_inconsistent_directory_is_refused(
    people: tuple[Person, ...], roles: dict[str, object], complaint: str
) -> None:
    with pytest.raises(DirectoryError) as error:
        Directory(people=people, **roles)  # type: ignore[arg-type]
    assert complaint in str(error.value)


def test_a_chat_may_move_from_someone_who_left() -> None:
    successor = person("successor", "H44.100", "*", address=LEFT.address)
    console_twin = person("twin", channel="console", address="ops")
    directory = Directory(people=(LEFT, successor, OPS, console_twin))
    assert find_by_address(directory, "telegram", LEFT.address) == successor


def test_the_directory_cannot_be_changed_in_place() -> None:
    with pytest.raises(TypeError):
        DIRECTORY.heads["H44.100"] = "lan"  # type: ignore[index]


def test_the_example_directory_routes_as_its_comments_say() -> None:
    directory = load_directory(EXAMPLE, RULE_TOPICS | {"band", "notice"})
    assert _ids(recipients(directory, "H44.100", "H44", "overdue")) == ["lan-viettri"]
    assert _ids(recipients(directory, "H44.104", "H44", "overdue")) == ["ct-hycuong"]
    assert _ids(recipients(directory, "H44.104", "H44", "rank")) == ["vp-ubnd-tinh"]
    assert _ids(recipients(directory, "H44.116", "H44", "overdue")) == ["vp-ubnd-tinh"]
    assert _ids(recipients(directory, None, None, "operator")) == ["ops-minh"]
    assert _ids(escalation_targets(directory, "H44.101", "H44", 1)) == ["ct-nongtrang"]
    assert find_by_address(directory, "telegram", "-1001000000004") is not None


def test_the_csv_import_gives_the_same_directory_as_the_toml_file() -> None:
    assert load_directory_csv(EXAMPLE_CSV) == load_directory(EXAMPLE)


def test_changing_staff_is_editing_the_directory(tmp_path: Path) -> None:
    path = tmp_path / "directory.toml"
    text = EXAMPLE.read_text(encoding="utf-8")
    path.write_text(text, encoding="utf-8")
    assert _ids(recipients(load_directory(path), "H44.100", "H44", "overdue")) == ["lan-viettri"]
    lan_leaves = text.replace('address = "100000001"', 'address = "100000001"\nactive = false')
    path.write_text(lan_leaves, encoding="utf-8")
    assert _ids(recipients(load_directory(path), "H44.100", "H44", "overdue")) == ["ct-viettri"]


LAN_TOML = """
[[people]]
id = "lan"
name = "Nguyễn Thị Lan"
units = ["H44.100"]
topics = ["overdue"]
channel = "telegram"
address = "100000001"
"""


@pytest.mark.parametrize(
    ("edit", "complaint"),
    [
        (('"telegram"', '"signal"'), "entry 1 (id 'lan'): channel: 'signal' is not a channel"),
        (('"100000001"', '"lan.nguyen"'), "entry 1 (id 'lan'): address: 'lan.nguyen' is not"),
        (('"100000001"', '""'), "entry 1 (id 'lan'): address: String should have at least"),
        (('id = "lan"\n', 'id = "lan"\nphone = "0912"\n'), "(id 'lan'): phone: unknown key"),
        (('id = "lan"\n', ""), "entry 1 (id None): id: Field required"),
        (('"H44.100"]', '"H44 100"]'), "units: 'H44 100' holds a space"),
        (('["overdue"]', '["overdu"]'), "topics: 'overdu' is not a topic of the rules"),
        (('["overdue"]', '["operator"]'), "topics: operator alerts go to the operators"),
        (("[[people]]", "fallback = 'nobody'\n[[people]]"), "fallback: no person has the id"),
        (("[[people]]", "[heads]\nH44.100 = 'lan'\n[[people]]"), "heads: quote unit codes"),
        (("[[people]]", "[office]\nH44 = 'lan'\n[[people]]"), "office: unknown key"),
        (('id = "lan"', "id = lan"), "not valid TOML"),
        # stored with every delivery in a column of 64 characters (PostgreSQL enforces it)
        (('id = "lan"', f'id = "{"l" * 65}"'), "id: String should have at most 64 characters"),
    ],
)
def test_a_bad_toml_directory_names_the_file_the_key_and_the_field(
    tmp_path: Path, edit: tuple[str, str], complaint: str
) -> None:
    path = tmp_path / "directory.toml"
    path.write_text(LAN_TOML.replace(*edit, 1), encoding="utf-8")
    with pytest.raises(DirectoryError) as error:
        load_directory(path, RULE_TOPICS)
    assert str(path) in str(error.value)
    assert complaint in str(error.value)


def test_a_zalo_entry_needs_a_zalo_chat_id_and_may_share_an_id_with_a_telegram_chat(
    tmp_path: Path,
) -> None:
    path = tmp_path / "directory.toml"
    zalo_twin = LAN_TOML.replace('id = "lan"', 'id = "lan-zalo"').replace('"telegram"', '"zalo"')
    path.write_text(LAN_TOML + zalo_twin, encoding="utf-8")
    directory = load_directory(path)
    assert find_by_address(directory, "zalo", "100000001").id == "lan-zalo"  # type: ignore[union-attr]
    assert find_by_address(directory, "telegram", "100000001").id == "lan"  # type: ignore[union-attr]
    path.write_text(zalo_twin.replace('"100000001"', '"có dấu"'), encoding="utf-8")
    with pytest.raises(DirectoryError, match="address: 'có dấu' is not a Zalo chat id"):
        load_directory(path)


def test_a_chat_id_may_be_written_as_a_number_and_codes_as_one_string(tmp_path: Path) -> None:
    path = tmp_path / "directory.toml"
    text = LAN_TOML.replace('"100000001"', "-1001000000004").replace(
        '["H44.100"]', '"H44.100; H44.101"'
    )
    path.write_text(text, encoding="utf-8")
    (lan,) = load_directory(path).people
    assert lan.address == "-1001000000004"
    assert lan.units == {"H44.100", "H44.101"}


HEADER = "id,name,role,units,topics,channel,address,active,head_of,office_of,fallback,operator\n"
LAN_ROW = "lan,Nguyễn Thị Lan,,H44.100,overdue,telegram,100000001,,H44.100,H44,true,\n"


@pytest.mark.parametrize(
    ("text", "complaint"),
    [
        (HEADER + LAN_ROW + "x,X,,,,signal,1,,,,,\n", "line 3 (id 'x')"),
        (HEADER + LAN_ROW + "x,X,,,,signal,1,,,,,\n", "known: console, telegram, zalo"),
        (HEADER + LAN_ROW + "x,X,,,,telegram,2,maybe,,,,\n", "line 3 (id 'x')"),
        (HEADER + LAN_ROW + "x,X,,,,telegram,2,maybe,,,,\n", "active: Input should be"),
        (HEADER + LAN_ROW + "x,,,,,telegram,2,,,,,\n", "line 3 (id 'x')"),
        (HEADER + LAN_ROW + "x,,,,,telegram,2,,,,,\n", "name: Field required"),
        (HEADER + LAN_ROW + "x,X,,,overdu,telegram,2,,,,,\n", "topics: 'overdu' is not"),
        (HEADER + LAN_ROW + "lan,X,,,,telegram,2,,,,,\n", "line 3 (id 'lan'): id: already used"),
        (HEADER + LAN_ROW + "x,X,,,,telegram,2,,H44.100,,,\n", "head_of: 'H44.100' is already"),
        (HEADER + LAN_ROW + "x,X,,,,telegram,2,,,H44,,\n", "line 3 (id 'x'): office_of"),
        (HEADER + LAN_ROW + "x,X,,,,telegram,2,,,,yes,\n", "line 3 (id 'x'): fallback: 'lan'"),
        (HEADER + LAN_ROW + "x,X,,,,telegram,2,,,,,,extra\n", "line 3 (id 'x'): more cells"),
        (HEADER + LAN_ROW + "x,X,,,,telegram,100000001,,,,,\n", "share the Telegram chat"),
        (HEADER.replace("units", "unit") + LAN_ROW, "line 1: unknown column 'unit'"),
        (HEADER.replace(",address", ",role") + LAN_ROW, "line 1: the column 'role' appears"),
        ("id,name,channel\nlan,Lan,console\n", "line 1: the required column 'address'"),
        ("", "empty file"),
        (HEADER + f"x,X,,,,console,{'a' * 65},,,,,\n", "address: String should have at most 64"),
    ],
)
def test_a_bad_csv_directory_names_the_file_the_line_and_the_column(
    tmp_path: Path, text: str, complaint: str
) -> None:
    path = tmp_path / "directory.csv"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(DirectoryError) as error:
        load_directory_csv(path, RULE_TOPICS)
    assert str(path) in str(error.value)
    assert complaint in str(error.value)


def test_a_csv_from_a_spreadsheet_with_a_bom_and_empty_cells_loads(tmp_path: Path) -> None:
    path = tmp_path / "directory.csv"
    path.write_text(HEADER + LAN_ROW, encoding="utf-8-sig")
    directory = load_directory_csv(path)
    (lan,) = directory.people
    assert lan.active and lan.role == "" and lan.topics == {"overdue"}
    assert (directory.heads, directory.offices) == ({"H44.100": "lan"}, {"H44": "lan"})
    assert (directory.fallback, directory.operators) == ("lan", ())


def _ids(people: tuple[Person, ...]) -> list[str]:
    return [person.id for person in people]
