"""Benchmark: `dvcwatch import` of 10⁶ valid rows, peak memory and time.

Generates a 766 table of 50,000 units × 20 figures (one period, 100 parents;
deterministic), then runs the real command in a subprocess on a fresh SQLite
database and reads the child's peak RSS. The floor, measured in the same run
on the same file, is a subprocess that only parses the file with the csv
module: the difference is what checking and storing cost. Target
(docs/benchmarks.md): peak RSS under 500 MB; exit 1 if it is over.
"""

from __future__ import annotations

import csv
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench import Result, emit
from service.figures import AXES, COUNT_CODES
from service.indicators import NATIONAL

UNITS, PARENTS = 50_000, 100
TARGET_MB = 500
COLUMNS = ("scheme", "period", "as_of", "unit_code", "unit_name", "parent_code",
           "indicator", "value", "max", "numerator", "denominator")  # fmt: skip
METRICS = {  # sub-indicator → maximum
    "PUBLISH_ON_TIME": 6, "PUBLIC_UPDATE_ON_TIME": 4, "PUBLIC_CONTENT_FULL": 2, "DOSSIER_SYNC": 6,
    "ORIGINAL_RESULT_AVAILABLE": 6, "SO_HOA_GIAY_TO_GIAI_QUYET": 4,
    "ELECTRONIC_CERTIFIED_COPY": 2, "REUSED_DIGITIZED_DATA": 2,
}  # fmt: skip
COUNTS = tuple(COUNT_CODES.values())


def write_table(path: Path) -> int:
    """The table (20 rows per unit); returns the number of data rows."""
    rng = random.Random(766)
    rows = 0
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(COLUMNS)
        for number in range(UNITS):
            code, parent = f"H{number % PARENTS:02d}.{number:05d}", f"H{number % PARENTS:02d}"
            unit = [NATIONAL, "2024-09", "", code, f"UBND xã số {number}", parent]
            scores = {axis: round(top * rng.uniform(0.5, 1), 2) for axis, top in AXES.items()}
            figures: list[tuple[object, ...]] = [
                (axis, score, AXES[axis], "", "") for axis, score in scores.items()
            ]
            total = round(sum(scores.values()), 2)
            figures.append(("TOTAL", total, 100, "", ""))
            for metric, maximum in METRICS.items():
                denominator = rng.randint(1, 500)
                numerator = rng.randint(0, denominator)
                score = round(maximum * numerator / denominator, 2)
                figures.append((metric, score, maximum, numerator, denominator))
            figures += [(count, rng.randint(0, 40), "", "", "") for count in COUNTS]
            figures.append(("RANK", number // PARENTS + 1, UNITS // PARENTS, "", ""))
            for figure in figures:
                writer.writerow([*unit, *figure])
                rows += 1
    return rows


def run(command: list[str]) -> tuple[float, float]:
    """(seconds, peak RSS in MB) of one child process; it must succeed."""
    start = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True)
    seconds = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(command[:5])} failed:\n{done.stderr[-3000:]}")
    # ru_maxrss of children is the largest child so far: run the measured one last.
    return seconds, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024


def main() -> int:
    with tempfile.TemporaryDirectory() as folder:
        table, db = Path(folder) / "table.csv", f"sqlite:///{folder}/dvcwatch.db"
        rows = write_table(table)
        size_mb = table.stat().st_size / 1024 / 1024
        floor = [
            sys.executable,
            "-c",
            "import csv,sys; sum(1 for _ in csv.reader(open(sys.argv[1], newline='')))",
            str(table),
        ]  # noqa: E501
        floor_seconds, floor_mb = run(floor)
        cli = [sys.executable, "-m", "service.cli"]
        run([*cli, "db", "upgrade", "--db", db])
        seconds, peak_mb = run([*cli, "import", str(table), "--db", db])
    print(f"import of {rows:,} rows ({size_mb:.0f} MB CSV, {UNITS:,} units)")
    print(f"  dvcwatch import: {seconds:.1f} s, peak RSS {peak_mb:.0f} MB", end="")
    print(f" (target < {TARGET_MB} MB)")
    print(f"  floor (csv module parse only): {floor_seconds:.1f} s, peak RSS {floor_mb:.0f} MB")
    emit(
        Result(
            f"import of {rows:,} rows ({size_mb:.0f} MB CSV) into SQLite",
            f"{seconds:.1f} s",
            f"csv module parse {floor_seconds:.1f} s",
            seconds / floor_seconds,
            f"< {TARGET_MB} MB",
            peak_mb < TARGET_MB,
            peak_mb,
            "python -m bench.import_large",
        )
    )
    if peak_mb >= TARGET_MB:
        print(f"FAILED: peak {peak_mb:.0f} MB is over the {TARGET_MB} MB target")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
