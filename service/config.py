"""One validated settings object, read once at start-up and passed explicitly.

`load_settings(path, environ)` reads the TOML file (if it exists), applies the
environment overrides that the command-line contract names (`DVCWATCH_DB_URL`)
and validates everything into `Settings`. Any problem raises `ConfigError`
whose message names the file, the key and what was expected. No other module
reads the environment or the file.
"""

from __future__ import annotations

import datetime as dt
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from service.channels.base import BotSettings
from service.channels.registry import TelegramSettings, bot_settings
from service.channels.zalo import ZaloSettings
from service.indicators import NATIONAL
from service.urls import shown, web_address

DEFAULT_CONFIG_PATH = Path("config/dvcwatch.toml")
#: The schemes, rules and holidays that ship with dvcwatch, found from the source tree so
#: that a command works from any working folder. Paths set in the file are taken as written.
BUNDLED = Path(__file__).resolve().parents[1] / "config"
DEFAULT_DB_URL = "sqlite:///var/dvcwatch.db"
NATIONAL_PORTAL_URL = "https://dichvucong.gov.vn"


class ConfigError(Exception):
    """The configuration is unusable; the message says where and why."""


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class PortalSettings(_Section):
    """How to reach the national portal, and how politely."""

    base_url: str = NATIONAL_PORTAL_URL
    user_agent: str = "dvcwatch/0.1 (public-service index monitor; operator: set portal.user_agent)"
    pause_seconds: tuple[Annotated[float, Field(ge=0)], Annotated[float, Field(ge=0)]] = (2.0, 5.0)
    timeout_seconds: Annotated[float, Field(gt=0)] = 30.0
    retries: Annotated[int, Field(ge=0, le=10)] = 3
    backoff_seconds: Annotated[float, Field(ge=0)] = 2.0
    page_size: Annotated[int, Field(ge=100, le=300)] = 200
    # Bounds on what one read may cost: a trickling or huge answer is cut off.
    request_deadline_seconds: Annotated[float, Field(gt=0)] = 120.0  # one request, whole body
    run_deadline_seconds: Annotated[float, Field(gt=0)] = 1800.0  # one province-period sync
    max_body_bytes: Annotated[int, Field(ge=1024)] = 50_000_000  # decompressed
    max_redirects: Annotated[int, Field(ge=0, le=30)] = 5

    @field_validator("base_url")
    @classmethod
    def _is_a_web_address(cls, value: str) -> str:
        return web_address(value)

    @model_validator(mode="after")
    def _pause_is_a_range(self) -> PortalSettings:
        low, high = self.pause_seconds
        if low > high:
            raise ValueError(f"pause_seconds: the first value ({low}) exceeds the second ({high})")
        return self


class ProvinceWatch(_Section):
    """A province to sync: its portal departmentId or its code (`H44`)."""

    province: Annotated[str, Field(min_length=2)]
    name: str = ""


class DatabaseSettings(_Section):
    url: str = DEFAULT_DB_URL


class ChannelSettings(_Section):
    """`[channels]`: a section per kind of the channel registry (`channels/registry.py`),
    each of the row's settings model; the console is switched by a boolean."""

    console: bool = True
    telegram: TelegramSettings = TelegramSettings()
    zalo: ZaloSettings = ZaloSettings()

    def bots(self) -> dict[str, BotSettings]:
        """The bot kinds' sections by kind: tokens are looked up from these."""
        return bot_settings(self)


class ScheduleSettings(_Section):
    """When jobs run: cron expressions (APScheduler's `CronTrigger.from_crontab`) in
    Asia/Ho_Chi_Minh. `sync_every_seconds` replaces the sync cron (tests, demos)."""

    sync: str = "30 7,16 * * mon-fri"
    sync_every_seconds: Annotated[float, Field(gt=0)] | None = None
    deliver_every_seconds: Annotated[float, Field(gt=0)] = 60.0
    catch_up_every_seconds: Annotated[float, Field(gt=0)] = 3600.0
    catch_up_days: Annotated[int, Field(ge=1, le=31)] = 7
    raw_retention_days: Annotated[int, Field(ge=1)] = 90
    running_retention_days: Annotated[int, Field(ge=0)] = 120  # 0: keep every reading
    health_address: str | None = "127.0.0.1:8766"  # /healthz and /metrics; None: off
    run_bot: bool = True  # with Telegram enabled, `dvcwatch run` also answers the bot
    timezone: Literal["Asia/Ho_Chi_Minh"] = "Asia/Ho_Chi_Minh"

    @model_validator(mode="after")
    def _cron_is_valid(self) -> ScheduleSettings:
        from apscheduler.triggers.cron import CronTrigger

        try:
            CronTrigger.from_crontab(self.sync)
        except ValueError as exc:
            raise ValueError(f"sync: {self.sync!r} is not a cron expression: {exc}") from None
        if self.health_address is not None:
            host, _, port = self.health_address.rpartition(":")
            if not port.isdigit() or host not in ("127.0.0.1", "localhost", "::1", "[::1]"):
                raise ValueError(
                    "health_address: expected a loopback HOST:PORT, e.g. 127.0.0.1:8766"
                )
        return self


class ScoringSettings(_Section):
    """Where the index schemes live, and how far a reported figure may stray."""

    schemes_dir: Path = BUNDLED / "schemes"
    tolerance: Annotated[float, Field(ge=0, allow_inf_nan=False)] = 0.01


class AlertSettings(_Section):
    """Rules, staff directory and the delivery policy (quiet hours in Asia/Ho_Chi_Minh)."""

    rules_file: Path = BUNDLED / "rules.toml"
    directory_file: Path = Path("config/directory.toml")
    holidays_file: Path | None = BUNDLED / "holidays.toml"
    repeat_hours: Annotated[float, Field(gt=0)] = 24.0
    digest: bool = True
    escalate_after_days: tuple[Annotated[int, Field(ge=1)], ...] = (2, 4)
    quiet_start: dt.time = dt.time(21, 0)
    quiet_end: dt.time = dt.time(7, 0)
    quiet_weekends: bool = True


class IssuerSettings(_Section):
    """Who issues and signs a unit's documents. Anything left out stays blank in the
    document, for the official to fill: dvcwatch never invents a number, a name or a
    date. The signature reads "{authority} {authority_of}" over `signer_title` and
    `signer_name` (Nghị định 30: TM. for a collective body, KT. for a deputy, TL. and
    TUQ. for an office signing by order or by authorisation); without `authority`
    the head signs in their own name and only the title is printed."""

    body_parent: str | None = None
    body_name: str | None = None
    number_pattern: str | None = None
    place: str | None = None
    authority: Literal["TM.", "KT.", "TL.", "TUQ."] | None = "TM."
    authority_of: str | None = "ỦY BAN NHÂN DÂN"
    signer_title: str | None = "CHỦ TỊCH"
    signer_name: str | None = None
    recipients: tuple[str, ...] = ()
    copies: tuple[str, ...] = ()
    archive_line: str = "Lưu: VT, VP."
    short_name: str | None = None
    area_name: str | None = None
    set_name: str | None = None


class NoticeUnit(_Section):
    """A unit (congvan) or a comparison set (baocao, by its parent code) to write for."""

    unit: Annotated[str, Field(min_length=1)]
    kind: Literal["congvan", "baocao"] = "congvan"
    scheme: str = NATIONAL
    issuer: IssuerSettings = IssuerSettings()


class NoticeSettings(_Section):
    """The monthly documents: where they go, which templates, for whom."""

    out_dir: Path = Path("out")
    templates_dir: Path | None = None  # an office's own .docx / .html.j2 / texts.toml
    formats: tuple[Literal["docx", "html", "pdf"], ...] = ("docx", "html")
    working_day: Annotated[int, Field(ge=1, le=10)] = 3  # of the month, for the monthly job
    pdf_timeout_seconds: Annotated[float, Field(gt=0)] = 120.0
    units: tuple[NoticeUnit, ...] = ()

    @model_validator(mode="after")
    def _each_notice_once(self) -> NoticeSettings:
        seen = set()
        for unit in self.units:
            key = (unit.kind, unit.unit, unit.scheme)
            if key in seen:
                raise ValueError(
                    f"units: the {unit.kind} of {unit.unit} under scheme {unit.scheme} "
                    "is listed twice"
                )
            seen.add(key)
        return self


class Settings(_Section):
    """Everything dvcwatch is configured with; see config/dvcwatch.example.toml."""

    portal: PortalSettings = PortalSettings()
    database: DatabaseSettings = DatabaseSettings()
    watch: tuple[ProvinceWatch, ...] = ()
    channels: ChannelSettings = ChannelSettings()
    schedules: ScheduleSettings = ScheduleSettings()
    scoring: ScoringSettings = ScoringSettings()
    alerts: AlertSettings = AlertSettings()
    notices: NoticeSettings = NoticeSettings()
    secrets: Mapping[str, str] = Field(default_factory=dict, exclude=True, repr=False)

    def secret(self, name: str) -> str | None:
        """A secret taken from the environment at start-up (never from the file)."""
        return self.secrets.get(name) or None


def load_settings(
    path: Path | None = None, environ: Mapping[str, str] | None = None, db_url: str | None = None
) -> Settings:
    """Read and validate the configuration.

    `path` defaults to `DVCWATCH_CONFIG` or `config/dvcwatch.toml`; a missing
    default file means "all defaults", a missing named file is an error.
    `db_url` (from `--db`) wins over `DVCWATCH_DB_URL`, which wins over the file.
    """
    env = dict(environ or {})
    named = path is not None or "DVCWATCH_CONFIG" in env
    config_path = path or Path(env.get("DVCWATCH_CONFIG", DEFAULT_CONFIG_PATH))
    raw = read_toml(config_path, required=named)
    if db_url is not None and not db_url.strip():
        raise ConfigError("--db: the database URL is empty")
    url = db_url or env.get("DVCWATCH_DB_URL")
    if url:
        raw["database"] = {**_table(raw.get("database")), "url": url}
    try:
        settings = Settings.model_validate(raw)
    except ValidationError as exc:
        raise ConfigError(_describe(config_path, exc)) from None
    names = [section.token_env for section in settings.channels.bots().values()]
    # an environment file saved on Windows ends each value with "\r": no token has spaces
    secrets = {name: env[name].strip() for name in names if env.get(name, "").strip()}
    return settings.model_copy(update={"secrets": secrets})


def read_toml(path: Path, required: bool) -> dict[str, object]:
    """The configuration file `path` as a table ({} when it is absent and not `required`)."""
    if not path.exists():
        if required:
            raise ConfigError(f"{path}: configuration file not found")
        return {}
    return parse_toml_file(path)


def parse_toml_file(path: Path) -> dict[str, object]:
    """The TOML file `path` as a table: the one way dvcwatch reads its TOML files (the
    settings, schemes, rules, directory, holidays, notice texts).

    TOML is UTF-8, but an official's editor may save otherwise: Notepad puts a BOM first
    (accepted), Windows saves UTF-16 or Windows-1258. Those are a ConfigError naming the
    file and the first bad byte, as is a file that is not TOML; OSError (missing, a
    folder, unreadable) is left to the caller, which knows what the file is for.
    """
    data = path.read_bytes()
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        start = len(data) - len(exc.object) + exc.start  # the codec counts after a BOM
        raise ConfigError(_not_utf8(path, data[start], start)) from None
    if "\x00" in text:  # UTF-16 without a BOM is valid UTF-8, NULs between the letters
        raise ConfigError(_not_utf8(path, 0, data.index(0)))
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None
    except ValueError:  # Python reads no integer of more than 4,300 digits
        raise ConfigError(f"{path}: a number has more than 4,300 digits") from None
    except RecursionError:
        raise ConfigError(f"{path}: arrays or tables nested too deep to read") from None


def _not_utf8(path: Path, byte: int, position: int) -> str:
    return f"{path}: not UTF-8 text (byte 0x{byte:02x} at position {position}): save it as UTF-8"


def _table(value: object) -> dict[str, object]:
    return dict(value) if isinstance(value, dict) else {}


def _describe(path: Path, exc: ValidationError) -> str:
    """One line per problem, each naming the file and the key: `FILE: portal.speed: unknown
    key`. A value is quoted back unless it is a whole table (a check across its keys) or
    a channel's (a bot token pasted in place of its variable's name, or in a web address,
    is never printed); a database URL is quoted with its password hidden, a web address
    without its user, password, query and fragment."""
    lines = []
    for error in exc.errors():
        key = ".".join(str(part) for part in error["loc"]) or "(top level)"
        if error["type"] == "extra_forbidden":
            lines.append(f"{path}: {key}: unknown key")
            continue
        message = str(error["msg"]).removeprefix("Value error, ")
        given = error.get("input")
        if key == "database.url" and isinstance(given, str):
            from service.dbfacts import safe_url

            given = safe_url(given)
        elif key.endswith("base_url") and isinstance(given, str):
            given = shown(given)
        secret = key.startswith("channels.")
        quoted = "" if isinstance(given, dict) or secret else f" (got {given!r})"
        lines.append(f"{path}: {key}: {message}{quoted}")
    return "\n".join(lines)
