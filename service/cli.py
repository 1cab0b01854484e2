"""The `dvcwatch` command (the contract is in docs/architecture.md).

Every command takes `--config PATH` and `--db URL`, before or after its name. Exit codes:
0 done, 1 failed, 2 bad usage or bad input (the message names the file, line or field),
130 interrupted (Ctrl-C), 143 stopped by SIGTERM. Output into a pipe that was closed ends
quietly.
"""

from __future__ import annotations

import argparse
import importlib
import math
import os
import signal
import sys
import traceback
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, TypeGuard

from service.indicators import NATIONAL
from service.output import FILE_FORMATS, FORMATS

if TYPE_CHECKING:
    from sqlalchemy.exc import SQLAlchemyError

    from service.app import App

# A command's handler is named, not imported: `dvcwatch --help` (and any one command) loads
# only what that command uses; SQLAlchemy, docxtpl, matplotlib, httpx and the chat
# libraries are imported by the commands that need them (tests/test_startup.py checks it).
Handler = Callable[["App", argparse.Namespace], int]
SERVICE = "service.commands.runner:run_service"

EXIT_INTERRUPTED = 130  # 128 + SIGINT, as a shell reports Ctrl-C
EXIT_BROKEN_PIPE = 141  # 128 + SIGPIPE, as a shell reports a filter whose reader left
EXIT_TERMINATED = 143  # 128 + SIGTERM


class Terminated(KeyboardInterrupt):
    """SIGTERM (systemd stopping a one-shot command, `kill`): unwinds like Ctrl-C, so that
    the run in progress is recorded as interrupted before the process ends."""


#: The stop signal a one-shot command received, if any. The exception its handler raises
#: can be lost: arriving while Python runs a garbage-collection or weakref callback (such
#: as SQLAlchemy's), it is printed as "Exception ignored in ..." and dropped, and the
#: command would go on and exit 0. `main` reads this to keep the contract's exit code.
_received: int | None = None


def _stop(signum: int, _frame: object) -> None:
    """The handler of SIGTERM and SIGINT for a one-shot command: remember, then unwind."""
    global _received
    _received = signum
    if signum == signal.SIGTERM:
        raise Terminated("SIGTERM")
    raise KeyboardInterrupt


def _install_stop_handlers() -> None:
    """`_stop` for SIGTERM, and for SIGINT unless it is ignored: a command started in the
    background of a script (`cmd &`) ignores Ctrl-C, and must go on doing so."""
    global _received
    _received = None
    signal.signal(signal.SIGTERM, _stop)
    if signal.getsignal(signal.SIGINT) is signal.default_int_handler:
        signal.signal(signal.SIGINT, _stop)


def main(argv: Sequence[str] | None = None) -> int:
    arguments = list(sys.argv[1:] if argv is None else argv)
    if arguments[:1] == ["simulator"]:
        # The simulator has options of its own: hand them over untouched.
        from service.simulator.simulator import main as simulator_main

        return simulator_main(arguments[1:], prog="dvcwatch simulator")
    args = build_parser().parse_args(arguments)
    from service.logs import fold_library_tracebacks

    fold_library_tracebacks()  # before any channel registers its token (`channels.tokens`)
    if sys.stdout is None:  # started with standard output closed (`>&-`)
        _stdout_to_devnull()
    if args.handler == SERVICE:  # the service stops on SIGTERM by itself, cleanly
        return _run(args)
    _install_stop_handlers()
    code = _run(args)
    if _received is not None and code not in (EXIT_TERMINATED, EXIT_INTERRUPTED):
        return _stopped_by(_received)  # its exception was swallowed: the stop still holds
    return code


def _run(args: argparse.Namespace) -> int:
    """The command `args` names, every expected failure one line and its exit code."""
    from service.app import App
    from service.commands.common import EXIT_FAILED, EXIT_USAGE, UsageError
    from service.config import ConfigError, load_settings
    from service.dbfacts import DatabaseError, DatabaseUrlError
    from service.files import UnfitPath
    from service.scoring.schemes import SchemeError

    url = ""  # the database's, once the settings name it
    try:
        settings = load_settings(args.config, os.environ, args.db)
        url = settings.database.url
        result: int = _handler(args.handler)(App(settings), args)
        return result
    except (ConfigError, UsageError, SchemeError, DatabaseUrlError) as exc:
        print(f"dvcwatch: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except DatabaseError as exc:
        print(f"dvcwatch: {exc}", file=sys.stderr)
        return EXIT_FAILED
    except BrokenPipeError:
        return _reader_went_away()
    except (NotADirectoryError, IsADirectoryError, FileExistsError, UnfitPath) as exc:
        print(f"dvcwatch: {exc.filename}: {exc.strerror}", file=sys.stderr)
        return EXIT_USAGE
    except OSError as exc:
        where = f"{exc.filename}: " if exc.filename else ""
        print(f"dvcwatch: {where}{exc.strerror or exc}", file=sys.stderr)
        return EXIT_FAILED
    except Terminated:
        return _stopped_by(signal.SIGTERM)
    except KeyboardInterrupt:
        return _stopped_by(signal.SIGINT)
    except Exception as exc:
        if _from_the_database(exc):
            from service.dbfacts import failure_line

            print(f"dvcwatch: {failure_line(url, exc)}", file=sys.stderr)
            return EXIT_FAILED
        traceback.print_exc()
        print(
            "dvcwatch: this is a bug in dvcwatch, not something you did wrong: please report it "
            "with the lines above",
            file=sys.stderr,
        )
        return EXIT_FAILED


def _from_the_database(exc: Exception) -> TypeGuard[SQLAlchemyError]:
    """Whether `exc` is SQLAlchemy's (the database refused or failed): looked up only if
    SQLAlchemy was loaded, which a command that reads without it (`status`) may not have."""
    errors = sys.modules.get("sqlalchemy.exc")
    return errors is not None and isinstance(exc, errors.SQLAlchemyError)


def _handler(name: str) -> Handler:
    """The function a command's `handler` names ("module:function"), imported now."""
    module, function = name.split(":")
    handler: Handler = getattr(importlib.import_module(module), function)
    return handler


def _stopped_by(signum: int) -> int:
    """The contract's line and exit code for a command stopped by `signum`."""
    if signum == signal.SIGTERM:
        print("dvcwatch: stopped by SIGTERM", file=sys.stderr)
        return EXIT_TERMINATED
    print("dvcwatch: interrupted", file=sys.stderr)
    return EXIT_INTERRUPTED


def _reader_went_away() -> int:
    """The reader of our output closed it (`dvcwatch status | head`): stop quietly.

    Standard output is pointed at /dev/null so that the interpreter's final flush does not
    fail again; the exit code is a shell's for a filter stopped by SIGPIPE.
    """
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    os.close(devnull)
    return EXIT_BROKEN_PIPE


def _stdout_to_devnull() -> None:
    """Say once that the command's lines are dropped, and give descriptor 1 to /dev/null:
    left free, the next file opened (the database) would get it and print would write
    into that file."""
    print("dvcwatch: standard output is closed: the command runs, its lines are dropped",
          file=sys.stderr)  # fmt: skip
    devnull = os.open(os.devnull, os.O_WRONLY)
    if devnull != 1:
        os.dup2(devnull, 1)
        os.close(devnull)
    sys.stdout = open(1, "w", closefd=False)  # noqa: SIM115  (the process's own stdout)


class _Version(argparse.Action):
    """`--version`, looked up only when asked: importlib.metadata is a fiftieth of a second
    of every command's start."""

    def __init__(self, option_strings: Sequence[str], dest: str = argparse.SUPPRESS) -> None:
        help = "show program's version number and exit"  # argparse's own words
        super().__init__(option_strings, dest, default=argparse.SUPPRESS, nargs=0, help=help)

    def __call__(self, parser: argparse.ArgumentParser, *_: object) -> None:
        print(_version())
        parser.exit()


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return f"dvcwatch {version('dvcwatch')}"
    except PackageNotFoundError:  # a source tree that was never installed
        return "dvcwatch (not installed)"


def _common_options(default: object) -> argparse.ArgumentParser:
    options = argparse.ArgumentParser(add_help=False)
    options.add_argument(
        "--config", type=Path, default=default, help="TOML settings (default config/dvcwatch.toml)"
    )
    options.add_argument(
        "--db", default=default, help="database URL (default: env DVCWATCH_DB_URL, then the config)"
    )
    return options


def _tolerance(text: str) -> float:
    """`--tolerance`: a finite number from 0 up, refused before anything is read or written
    (a NaN would make every reported figure agree, an infinity says nothing)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number (e.g. 0.01)") from None
    if not math.isfinite(value) or value < 0:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number from 0 up (e.g. 0.01)")
    return value


def _add_tolerance(command: argparse.ArgumentParser) -> None:
    command.add_argument(
        "--tolerance", type=_tolerance, help="allowed reported/computed difference"
    )


def build_parser() -> argparse.ArgumentParser:
    # A command's own copy of the options must not reset what was given before its name
    # (`dvcwatch --config X status`): there they default to "not given" (SUPPRESS).
    common = _common_options(default=argparse.SUPPRESS)
    parser = argparse.ArgumentParser(
        prog="dvcwatch", parents=[_common_options(default=None)], description=__doc__
    )
    parser.add_argument("--version", action=_Version)
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    demo = commands.add_parser("demo", parents=[common], help="the whole pipeline on the simulator")
    demo.add_argument("--out", type=Path, default=Path("out"), help="where documents go")
    demo.set_defaults(handler="service.commands.data:run_demo")

    sync = commands.add_parser("sync", parents=[common], help="fetch and store snapshots")
    sync.add_argument("--province", action="append", help="departmentId or code (H44); repeatable")
    sync.add_argument("--period", help="YYYY-MM, YYYY-Qn or YYYY (default: this month)")
    sync.add_argument("--portal-url", help="the portal's base URL (e.g. the simulator's)")
    sync.set_defaults(handler="service.commands.data:run_sync")

    scores = commands.add_parser("scores", parents=[common], help="stored scores of a period")
    scores.add_argument("--period", required=True, help="YYYY-MM, YYYY-Qn or YYYY")
    scores.add_argument("--parent", help="only the units of this comparison set (code)")
    scores.add_argument("--scheme", default=NATIONAL, help=f"{NATIONAL}, tt01 or provincial:NAME")
    scores.add_argument("--scale", type=int, choices=(10, 100), help="converted score's scale")
    _add_tolerance(scores)
    scores.add_argument("--out", type=Path, help="with --format xlsx: the file to write")
    scores.add_argument("--format", choices=FORMATS + FILE_FORMATS, default="table")
    scores.set_defaults(handler="service.commands.data:run_scores")

    status = commands.add_parser("status", parents=[common], help="last runs and data freshness")
    status.add_argument("--format", choices=("json", "table"), default="table")
    status.set_defaults(handler="service.commands.data:run_status")

    imports = commands.add_parser("import", parents=[common], help="load a table of figures")
    imports.add_argument("file", type=Path, help="interchange table: .csv, .xlsx or .json")
    imports.add_argument("--scheme", help="refuse rows of any other scheme")
    _add_tolerance(imports)
    imports.set_defaults(handler="service.commands.data:run_import")

    alerts = commands.add_parser("alerts", parents=[common], help="evaluate the alert rules")
    alerts.add_argument("--dry-run", action="store_true", help="show, change nothing")
    alerts.add_argument(
        "--period",
        help="the month to judge (default: the newest synced; another only with --dry-run)",
    )
    alerts.add_argument("--format", choices=("json", "table"), default="table")
    alerts.set_defaults(handler="service.commands.alerting:run_alerts")

    run = commands.add_parser("run", parents=[common], help="the service: scheduler and jobs")
    run.add_argument("--once", action="store_true", help="one full cycle, then exit")
    run.set_defaults(handler=SERVICE)

    deliver = commands.add_parser("deliver", parents=[common], help="send the queued messages")
    deliver.set_defaults(handler="service.commands.alerting:run_deliver")

    notice = commands.add_parser("notice", parents=[common], help="write a Công văn or Báo cáo")
    notice.add_argument("--unit", help="the unit (congvan) or set (baocao) code")
    notice.add_argument("--all", action="store_true", help="every unit of --parent's set")
    notice.add_argument("--parent", help="with --all: the set's parent code (H44)")
    notice.add_argument("--period", required=True, help="YYYY-MM (tt01 also YYYY-Qn, YYYY)")
    notice.add_argument("--kind", choices=("congvan", "baocao"), default="congvan")
    notice.add_argument(
        "--scheme", default=NATIONAL, help=f"{NATIONAL} or provincial:NAME (baocao)"
    )
    notice.add_argument("--out", type=Path, help="folder (default: notices.out_dir)")
    notice.add_argument("--to", default=None, help="formats, e.g. docx,html,pdf")
    notice.add_argument("--force", action="store_true", help="write a new version")
    notice.set_defaults(handler="service.commands.notices:run_notice")

    bot = commands.add_parser("bot", parents=[common], help="answer chat commands and buttons")
    bot.set_defaults(handler="service.commands.alerting:run_bot")

    db = commands.add_parser("db", parents=[common], help="database maintenance")
    db_commands = db.add_subparsers(dest="db_command", required=True, metavar="ACTION")
    db_commands.add_parser("upgrade", parents=[common], help="apply migrations").set_defaults(
        handler="service.commands.data:run_db_upgrade"
    )

    commands.add_parser(
        "simulator", help="serve the portal simulator (for tests): dvcwatch simulator --help"
    )
    return parser


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
