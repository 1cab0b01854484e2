"""The command line under attack: secrets in database URLs, files saved in the wrong
encoding, options that make no sense, years that do not exist, a stop signal that Python
would drop, a database from a newer release.

Each case holds the contract (docs/architecture.md, "The command line"): one line on
standard error naming what is wrong and where, the contract's exit code, no traceback, no
secret, nothing written.
"""

from __future__ import annotations

import codecs
import gc
import os
import signal
import subprocess
import sys
import unicodedata
import weakref
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, event, func, select, text

from service import cli
from service.app import App
from service.cli import main
from service.config import BUNDLED, ConfigError, Settings, parse_toml_file
from service.models import Snapshot
from tests.conftest import SCHEMES

DVCWATCH = str(Path(sys.executable).parent / "dvcwatch")
DATA = Path(__file__).parent / "data"
SECRET = "S3cretPW"


def one_line(error: str) -> str:
    """The single line of `error` (no traceback, nothing else), for a mistake's message."""
    assert "Traceback" not in error, error
    lines = error.strip().splitlines()
    assert len(lines) == 1, error
    return lines[0]


@pytest.fixture
def database(tmp_path: Path) -> str:
    """A migrated, empty SQLite database."""
    url = f"sqlite:///{tmp_path / 'x.db'}"
    assert main(["--db", url, "db", "upgrade"]) == 0
    return url


# --- 1. No password in any message about a database URL ------------------------------


@dataclass(frozen=True)
class SecretUrl:
    name: str
    url: str
    code: int  # 2: the URL is bad input; 1: it is fine, the connection failed


SECRET_URLS = [
    SecretUrl("port not a number", f"postgresql://u:{SECRET}@127.0.0.1:abc/db", 2),
    SecretUrl("unclosed IPv6 bracket", f"postgresql://u:{SECRET}@[::1/db", 2),
    SecretUrl("unescaped @ in the password", "postgresql://u:S3cret@PW@127.0.0.1:1/db", 2),
    SecretUrl(
        "password as a query parameter", f"postgresql://u@127.0.0.1:1/db?password={SECRET}", 1
    ),
    SecretUrl("password, nothing listening", f"postgresql+psycopg://u:{SECRET}@127.0.0.1:1/db", 1),
    SecretUrl("libpq key=value, not a URL", f"host=127.0.0.1 password={SECRET} dbname=x", 2),
]


def _given_as(source: str, url: str, tmp_path: Path) -> tuple[list[str], dict[str, str]]:
    """The options and environment that give `url` by `source`."""
    environment = {k: v for k, v in os.environ.items() if not k.startswith("DVCWATCH_")}
    if source == "--db":
        return ["--db", url], environment
    if source == "DVCWATCH_DB_URL":
        return [], {**environment, "DVCWATCH_DB_URL": url}
    config = tmp_path / "dvcwatch.toml"
    config.write_text(f"[database]\nurl = '{url}'\n", encoding="utf-8")
    return ["--config", str(config)], environment


@pytest.mark.parametrize("source", ["--db", "DVCWATCH_DB_URL", "config file"])
@pytest.mark.parametrize("case", SECRET_URLS, ids=[case.name for case in SECRET_URLS])
def test_a_database_url_s_password_is_never_printed(case, source, tmp_path):
    """The real command, so that every line it writes anywhere is seen. The unescaped '@'
    is refused: SQLAlchemy would take the password's end for the host, and the driver
    would print it ("failed to resolve host 'PW@127.0.0.1'")."""
    options, environment = _given_as(source, case.url, tmp_path)
    done = subprocess.run(
        [DVCWATCH, "status", *options], capture_output=True, text=True, env=environment,
        cwd=tmp_path, timeout=120,
    )  # fmt: skip
    assert done.returncode == case.code, done.stderr
    line = one_line(done.stderr)
    assert line.startswith("dvcwatch: database ")
    for fragment in ("S3cret", "PW"):
        assert fragment not in done.stderr + done.stdout


# --- 2. TOML files that are not UTF-8 -------------------------------------------------


@dataclass(frozen=True)
class Companion:
    """A TOML file dvcwatch reads: its good text, where it goes, the setting naming it
    ("" for the configuration itself) and a command that reads it."""

    name: str
    text: str
    place: str  # under the test's folder
    key: str  # SECTION.NAME
    command: tuple[str, ...]


DIRECTORY = (
    'fallback = "ops"\noperators = ["ops"]\n\n[[people]]\nid = "ops"\nname = "Vận hành"\n'
    'units = ["*"]\ntopics = ["*"]\nchannel = "console"\naddress = "ops"\n'
)
ALERTS = ("alerts", "--dry-run")
COMPANIONS = [
    Companion("configuration", "[portal]\nretries = 1\n", "dvcwatch.toml", "", ("status",)),
    Companion("scheme", (SCHEMES / "dienbien-459.toml").read_text(encoding="utf-8"),
              "schemes/dienbien-459.toml", "scoring.schemes_dir", ("scores", "--period",
                                                                   "2024-03")),
    Companion("rules", (BUNDLED / "rules.toml").read_text(encoding="utf-8"), "rules.toml",
              "alerts.rules_file", ALERTS),
    Companion("directory", DIRECTORY, "directory.toml", "alerts.directory_file", ALERTS),
    Companion("holidays", (BUNDLED / "holidays.toml").read_text(encoding="utf-8"),
              "holidays.toml", "alerts.holidays_file", ALERTS),
]  # fmt: skip
#: A comment an official might write, in Vietnamese letters.
VIETNAMESE = "# Danh sách của UBND tỉnh Phú Thọ\n"


TONES = "\u0300\u0301\u0303\u0309\u0323"  # huyền, sắc, ngã, hỏi, nặng


def _vietnamese_1258(text: str) -> bytes:
    """Windows-1258, Vietnamese Windows' own code page, as it writes a letter: the letter
    with its vowel mark precomposed (â, ơ, đ), the tone a combining mark after it; what
    the code page lacks (→) becomes "?", as Notepad warns it will."""

    def letter(char: str) -> str:
        marks = unicodedata.normalize("NFD", char)
        tone = "".join(mark for mark in marks if mark in TONES)
        return unicodedata.normalize("NFC", "".join(m for m in marks if m not in TONES)) + tone

    return "".join(letter(char) for char in unicodedata.normalize("NFC", text)).encode(
        "cp1258", errors="replace"
    )


ENCODINGS: dict[str, Callable[[str], bytes]] = {
    "UTF-16 (Notepad's 'Unicode')": lambda text: text.encode("utf-16"),
    "UTF-16 without a BOM": lambda text: text.encode("utf-16-le"),
    "Windows-1258": _vietnamese_1258,
    "a stray 0xFF byte": lambda text: text.encode("utf-8") + b"# \xff\n",
}


def _command_reading(
    companion: Companion, content: bytes, folder: Path, database: str
) -> tuple[list[str], Path]:
    """The command that reads `content` as `companion` (every other file good UTF-8),
    and where `content` was written."""
    path = folder / companion.place
    path.parent.mkdir(exist_ok=True)
    path.write_bytes(content)
    config = folder / "dvcwatch.toml"
    if companion.key:
        directory = folder / "good-directory.toml"
        directory.write_text(DIRECTORY, encoding="utf-8")
        section, name = companion.key.split(".")
        tables: dict[str, dict[str, Path]] = {"alerts": {"directory_file": directory}}
        tables.setdefault(section, {})[name] = path.parent if name == "schemes_dir" else path
        config.write_text(_toml(tables), encoding="utf-8")
    return [*companion.command, "--db", database, "--config", str(config)], path


def _toml(tables: dict[str, dict[str, Path]]) -> str:
    return "".join(
        f"[{table}]\n" + "".join(f"{key} = '{value}'\n" for key, value in keys.items())
        for table, keys in tables.items()
    )


@pytest.mark.parametrize("encoding", sorted(ENCODINGS))
@pytest.mark.parametrize("companion", COMPANIONS, ids=[c.name for c in COMPANIONS])
def test_a_toml_file_not_in_utf8_is_named_in_one_line(
    companion, encoding, tmp_path, database, capsys
):
    content = ENCODINGS[encoding](VIETNAMESE + companion.text)
    command, path = _command_reading(companion, content, tmp_path, database)
    assert main(command) == 2
    line = one_line(capsys.readouterr().err)
    assert line.startswith(f"dvcwatch: {path}: not UTF-8 text (byte 0x"), line
    assert line.endswith(": save it as UTF-8")


@pytest.mark.parametrize("companion", COMPANIONS, ids=[c.name for c in COMPANIONS])
def test_a_toml_file_saved_with_a_bom_is_read(companion, tmp_path, database, capsys):
    """Notepad saves UTF-8 with a byte-order mark first: that is still UTF-8."""
    content = codecs.BOM_UTF8 + (VIETNAMESE + companion.text).encode("utf-8")
    command, _ = _command_reading(companion, content, tmp_path, database)
    assert main(command) == 0, capsys.readouterr().err


@pytest.mark.parametrize(
    ("content", "where"),
    [(b"a = 1\n\xff", "byte 0xff at position 6"),
     (codecs.BOM_UTF8 + b"a = 1\n\xfe", "byte 0xfe at position 9"),
     ("a = 1".encode("utf-16-le"), "byte 0x00 at position 1")],
    ids=["plain", "after a BOM", "UTF-16 without a BOM"],
)  # fmt: skip
def test_the_first_byte_that_is_not_utf8_is_named_where_it_is(content, where, tmp_path):
    """The position counts in the file as saved, a BOM included: what a hex editor shows."""
    path = tmp_path / "x.toml"
    path.write_bytes(content)
    with pytest.raises(ConfigError) as refused:
        parse_toml_file(path)
    assert str(refused.value) == f"{path}: not UTF-8 text ({where}): save it as UTF-8"


@pytest.mark.parametrize(
    ("content", "said"),
    [("a = " + "9" * 5000, "a number has more than 4,300 digits"),
     ("a = " + "[" * 50_000 + "]" * 50_000, "arrays or tables nested too deep to read")],
    ids=["5,000 digits", "50,000 nested arrays"],
)  # fmt: skip
@pytest.mark.parametrize("companion", COMPANIONS, ids=[c.name for c in COMPANIONS])
def test_a_toml_file_python_cannot_read_is_one_line_and_bad_input(
    companion, content, said, tmp_path, database, capsys
):
    """Valid TOML that Python's reader still refuses (a huge integer, deep nesting) is the
    file's problem, exit 2, not a traceback."""
    command, path = _command_reading(companion, content.encode(), tmp_path, database)
    assert main(command) == 2
    assert one_line(capsys.readouterr().err) == f"dvcwatch: {path}: {said}"


def test_the_windows_1258_case_is_not_utf8():
    """The Windows-1258 case tests what it says: its bytes are not UTF-8."""
    with pytest.raises(UnicodeDecodeError):
        _vietnamese_1258(VIETNAMESE).decode("utf-8")


# --- 3. A tolerance that makes no sense is refused before anything is stored ----------


def _rows_stored(database: str) -> int:
    app = App(Settings.model_validate({"database": {"url": database}}))
    with app.sessions()() as session:
        snapshots = session.scalar(select(func.count()).select_from(Snapshot))
    app.engine.dispose()
    return int(snapshots or 0)


@pytest.mark.parametrize("value", ["-1", "-0.5", "nan", "NaN", "inf", "1e999"])
@pytest.mark.parametrize("command", ["import", "scores"])
def test_an_impossible_tolerance_is_refused_before_anything_is_stored(
    command, value, database, tmp_path, capsys
):
    """A negative tolerance allows nothing, NaN makes every comparison agree and infinity
    every difference: argparse refuses them (exit 2) before the file is read."""
    config = tmp_path / "dvcwatch.toml"
    config.write_text(f"[scoring]\nschemes_dir = '{SCHEMES}'\n", encoding="utf-8")
    given = (
        [str(DATA / "dienbien-459-2024-03.csv")] if command == "import" else ["--period", "2024-03"]
    )
    with pytest.raises(SystemExit) as stopped:
        main([command, *given, f"--tolerance={value}", "--db", database, "--config", str(config)])
    assert stopped.value.code == 2
    error = capsys.readouterr().err
    assert f"argument --tolerance: '{value}' is not a number from 0 up" in error
    assert "Traceback" not in error
    assert _rows_stored(database) == 0


@pytest.mark.parametrize("value", ["nan", "inf", "-1"])
def test_an_impossible_tolerance_in_the_configuration_is_refused(value, tmp_path, capsys):
    config = tmp_path / "dvcwatch.toml"
    config.write_text(f"[scoring]\ntolerance = {value}\n", encoding="utf-8")
    assert main(["status", "--config", str(config), "--db", "sqlite:///:memory:"]) == 2
    assert "scoring.tolerance" in one_line(capsys.readouterr().err)


TOKEN = "987654321:TGSECRETtokenAAAAbbbbCCCCdddd"


@pytest.mark.parametrize(
    "channel",
    [
        f'[channels.telegram]\ntoken_env = "{TOKEN}"\n',  # the token where its name goes
        f'[channels.telegram]\nbase_url = "htps://api.telegram.org/bot{TOKEN}"\n',
        f'[channels.zalo]\ntoken_env = "{TOKEN}"\n',
    ],
    ids=["telegram token_env", "telegram base_url", "zalo token_env"],
)
def test_a_bot_token_pasted_into_the_settings_is_never_printed(channel, tmp_path, capsys):
    config = tmp_path / "dvcwatch.toml"
    config.write_text(channel, encoding="utf-8")
    assert main(["status", "--config", str(config), "--db", "sqlite:///:memory:"]) == 2
    error = one_line(capsys.readouterr().err)
    assert "channels." in error and TOKEN.split(":")[1] not in error and TOKEN not in error


# --- 4. A period names a year dvcwatch can have figures of -----------------------------

PERIOD_COMMANDS = [
    ("notice", "--unit", "H01.108", "--period", "0000"),
    ("scores", "--period", "0000"),
    ("scores", "--period", "0000-Q1"),
    ("alerts", "--dry-run", "--period", "0000-01"),
    ("sync", "--province", "H44", "--period", "0000", "--portal-url", "http://127.0.0.1:1"),
    ("scores", "--period", "1999-12"),
    ("scores", "--period", "2101"),
]


@pytest.mark.parametrize("command", PERIOD_COMMANDS, ids=" ".join)
def test_a_period_of_an_impossible_year_is_bad_input(command, database, tmp_path, capsys):
    config = tmp_path / "empty.toml"
    config.write_text("", encoding="utf-8")
    assert main([*command, "--db", database, "--config", str(config)]) == 2
    period = command[command.index("--period") + 1]
    assert one_line(capsys.readouterr().err) == (
        f"dvcwatch: --period: '{period}' is not a period: its year is not from 2000 to 2100"
    )


# --- 5. A stop signal whose exception Python drops still stops the command -------------


@pytest.fixture
def stop_handlers_restored() -> Iterator[None]:
    """`main` installs its SIGTERM and SIGINT handlers in this process: put back pytest's.
    Ctrl-C starts at Python's default, as in a terminal: a test process started in the
    background of a script (CI's, xdist's workers) inherits SIGINT ignored, and `main`
    leaves an ignored SIGINT ignored."""
    saved = {signum: signal.getsignal(signum) for signum in (signal.SIGTERM, signal.SIGINT)}
    signal.signal(signal.SIGINT, signal.default_int_handler)
    yield
    for signum, handler in saved.items():
        signal.signal(signum, handler)


class _Garbage:
    """An object in a reference cycle: only the garbage collector frees it."""

    def __init__(self) -> None:
        self.itself = self


STOPS = [
    (signal.SIGTERM, cli.Terminated, 143, "dvcwatch: stopped by SIGTERM"),
    (signal.SIGINT, KeyboardInterrupt, 130, "dvcwatch: interrupted"),
]


@pytest.mark.parametrize(("signum", "raised", "code", "says"), STOPS, ids=["SIGTERM", "SIGINT"])
def test_a_stop_signal_dropped_inside_a_gc_callback_still_ends_the_command(
    signum, raised, code, says, database, monkeypatch, capsys, stop_handlers_restored
):
    """What happened in the field, made deterministic: the signal arrived while Python ran
    a weakref callback during a garbage collection (SQLAlchemy's `_collection_gced`).

    Here the real `dvcwatch scores` runs through `main`, which installs the real handlers;
    when the command opens its database connection (SQLAlchemy's public "connect" event on
    every Engine), a collection frees an object whose `weakref.finalize` callback raises the
    signal at this process. The handler runs inside that callback, as it would for a
    signal from outside arriving then; Python reports the exception it raises to
    `sys.unraisablehook` ("Exception ignored in ...") and drops it, so the command goes on
    to its end. The exit code and the line must still be the signal's."""
    dropped: list[type[BaseException] | None] = []
    monkeypatch.setattr(
        sys, "unraisablehook", lambda unraisable: dropped.append(unraisable.exc_type)
    )
    fired = []

    def collect_garbage_once(*_: object) -> None:
        if not fired:
            fired.append(True)
            weakref.finalize(_Garbage(), signal.raise_signal, signum)
            gc.collect()

    event.listen(Engine, "connect", collect_garbage_once)
    try:
        result = main(["scores", "--period", "2026-08", "--db", database])
    finally:
        event.remove(Engine, "connect", collect_garbage_once)
    assert dropped == [raised]  # the exception was lost, as in the field
    assert result == code
    assert capsys.readouterr().err.strip().splitlines()[-1] == says


# --- 6. A database written by a newer release ------------------------------------------


@pytest.mark.parametrize("command", [("status",), ("db", "upgrade")], ids=" ".join)
def test_a_database_of_a_newer_release_asks_to_upgrade_dvcwatch(command, db_url, capsys):
    """After a rollback of dvcwatch the database is ahead of the code: `db upgrade` cannot
    help (alembic would fail on the revision it cannot find), a newer dvcwatch can. It is
    a failure (exit 1), not bad input: nothing the person typed is wrong."""
    assert main(["--db", db_url, "db", "upgrade"]) == 0
    engine = create_engine(db_url)
    with engine.begin() as connection:
        connection.execute(text("UPDATE alembic_version SET version_num = '9999'"))
    capsys.readouterr()
    assert main([*command, "--db", db_url]) == 1
    assert one_line(capsys.readouterr().err) == (
        "dvcwatch: the database was written by a newer dvcwatch (revision 9999 unknown to "
        "this one): upgrade dvcwatch"
    )
    with engine.connect() as connection:
        assert connection.scalar(text("SELECT version_num FROM alembic_version")) == "9999"
    engine.dispose()
