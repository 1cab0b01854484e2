"""Run every benchmark and write the table of `docs/benchmarks.md` (`make bench`).

Each benchmark runs in its own process (its peak memory is its own), its output
passes through, and its `RESULT` lines (`bench.emit`) become the table's rows,
written between the markers of `docs/benchmarks.md` with the machine, the date
and the command. Exits 1 when a target was missed or a benchmark failed; the
table is written either way, saying so.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import sqlite3
import subprocess
import sys
from pathlib import Path

from bench import PREFIX, Result

PAGE = Path(__file__).resolve().parent.parent / "docs" / "benchmarks.md"
BEGIN = "<!-- benchmark table: written by `make bench` (bench/table.py); edits are lost -->"
END = "<!-- end of the benchmark table -->"

#: (module, PostgreSQL: "no", "also" (measures it beside SQLite when given --pg) or
#: "only" (a run of its own, skipped without --pg)), in the order of the table.
BENCHES = (
    ("bench.national_sync", "no"),
    ("bench.national_sync", "only"),
    ("bench.scores_history", "no"),
    ("bench.telegram_digest", "no"),
    ("bench.notices", "no"),
    ("bench.import_large", "no"),
    ("bench.startup", "also"),
    ("bench.cycle", "no"),
    ("bench.storage", "also"),
)


def run(module: str, args: list[str]) -> tuple[list[Result], int]:
    """Run one benchmark, passing its output through; its results and exit code."""
    command = [sys.executable, "-m", module, *args]
    print(f"$ python -m {module} {' '.join('URL' if '://' in a else a for a in args)}".rstrip())
    process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    assert process.stdout is not None
    results = []
    for line in process.stdout:
        if line.startswith(PREFIX):
            results.append(Result(**json.loads(line[len(PREFIX) :])))
        else:
            print(line, end="", flush=True)
    return results, process.wait()


def machine(pg: str | None) -> str:
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    parts = [
        f"{os.cpu_count()} CPUs",
        f"{memory:.0f} GiB",
        f"{platform.system()} {platform.release()} {platform.machine()}",
        f"Python {platform.python_version()}",
        f"SQLite {sqlite3.sqlite_version}",
    ]
    if pg:
        from sqlalchemy import create_engine, text

        engine = create_engine(pg)
        with engine.connect() as connection:
            version = connection.execute(text("SHOW server_version")).scalar_one()
        engine.dispose()
        parts.append(f"PostgreSQL {str(version).split()[0]}")
    return ", ".join(parts)


def table(results: list[Result], failed: list[str], about: str) -> str:
    lines = [
        BEGIN,
        "",
        about,
        "",
        "| what | measured | floor in the same run | ratio | target | met | peak memory |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in results:
        ratio = f"{r.ratio:.2f}" if r.ratio is not None else "-"
        peak = f"{r.peak_mb:.0f} MB" if r.peak_mb is not None else "-"
        what = f"{r.what} (`{r.command}`)" if r.command else r.what
        met = "yes" if r.met else "**no**"
        lines.append(
            f"| {what} | {r.measured} | {r.floor or '-'} | {ratio} | {r.target} | {met} | {peak} |"
        )
    lines += [
        f"| {name} | **failed** (exit code above 1, see its output) | | | | | |" for name in failed
    ]
    return "\n".join([*lines, "", END])


def write(page: Path, block: str) -> None:
    text = page.read_text(encoding="utf-8")
    if BEGIN in text and END in text:
        before, rest = text.split(BEGIN, 1)
        text = before + block + rest.split(END, 1)[1]
    else:
        head, _, tail = text.partition("\n\n")
        text = f"{head}\n\n{block}\n\n{tail}"
    page.write_text(text, encoding="utf-8")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--pg", help="PostgreSQL URL for the benchmarks that also measure it")
    parser.add_argument("--only", action="append", help="run only this module (repeatable)")
    parser.add_argument("--page", type=Path, default=PAGE, help="the page to write")
    args = parser.parse_args()
    results: list[Result] = []
    failed: list[str] = []
    codes = []
    for module, postgresql in BENCHES:
        if (args.only and module not in args.only) or (postgresql == "only" and not args.pg):
            continue
        extra = ["--pg", args.pg] if postgresql != "no" and args.pg else []
        found, code = run(module, extra)
        results += found
        codes.append(code)
        if code not in (0, 1) or not found:
            failed.append(module)
    command = (
        "make bench"
        if not args.only
        else "python -m bench.table " + " ".join(f"--only {m}" for m in args.only)
    )
    about = (
        f"Measured {dt.date.today():%Y-%m-%d} with `{command}` on {machine(args.pg)}. "
        "Each ratio is the measured figure over the floor measured in the same run."
    )
    write(args.page, table(results, failed, about))
    print(f"wrote the table of {args.page}")
    return 0 if all(code == 0 for code in codes) and not failed else 1


if __name__ == "__main__":
    sys.exit(main())
