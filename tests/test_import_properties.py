"""Properties of `dvcwatch import` over generated 766 tables (hypothesis), on SQLite and PostgreSQL.

- A valid table round-trips: after the import, `scores` sees every axis score,
  count and total exactly as the table wrote them.
- A table broken in one cell (a non-finite or out-of-range number, a negative
  point, a code that is no identifier, an over-long name, a day in the future,
  an unknown indicator or scheme) is refused with exit 2, its first line names
  that cell's line and column, and the database is unchanged.
"""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from service.app import App
from service.cli import main
from service.figures import AXES
from service.periods import Period
from service.scoring.report import score_rows
from tests.conftest import SCHEMES
from tests.sources.hostile import csv_text, dump

PERIOD = "2024-09"
# Each example imports new units under a new parent: examples share one database.
_SERIAL = itertools.count(1)
PROPERTY = settings(
    max_examples=25,
    deadline=None,  # never depend on the machine's speed
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
BROKEN_CELLS = (
    ("value", "NaN"), ("value", "Infinity"), ("value", "1e400"), ("value", "9" * 400),
    ("value", "-0,5"), ("max", "-1"), ("unit_code", "a/../../x"), ("unit_code", "H 1"),
    ("unit_name", "x" * 256), ("as_of", "2099-01-01"), ("as_of", "2024-08-01"),
    ("period", "2024-13"), ("indicator", "NOT_AN_INDICATOR"), ("scheme", "tt02"),
)  # fmt: skip


def points(maximum: float) -> st.SearchStrategy[float]:
    return st.integers(0, int(maximum * 100)).map(lambda cents: cents / 100)


@st.composite
def unit_figures(draw: st.DrawFn) -> dict[str, float]:
    axes = draw(st.lists(st.sampled_from(list(AXES)), min_size=1, unique=True))
    figures = {axis: draw(points(AXES[axis])) for axis in axes}
    if draw(st.booleans()):
        figures["TOTAL"] = round(sum(figures.values()), 2)
    if draw(st.booleans()):
        figures["OVERDUE"] = float(draw(st.integers(0, 10**6)))
    return figures


def written(value: float) -> str:
    """A figure as an official writes it: decimal comma, no exponent (1000000, not 1e+06)."""
    return f"{value:.2f}".rstrip("0").rstrip(".").replace(".", ",")


def table_rows(units: list[dict[str, float]], parent: str) -> list[dict[str, str]]:
    return [
        {"scheme": "766", "period": PERIOD, "unit_code": f"{parent}.{n}", "parent_code": parent,
         "unit_name": f"Xã số {n}", "indicator": code, "value": written(value),
         "max": "" if code == "OVERDUE" else f"{AXES.get(code, 100):g}"}
        for n, figures in enumerate(units, start=1)
        for code, value in figures.items()
    ]  # fmt: skip


def import_table(app: App, path: Path, rows: list[dict[str, str]]) -> int:
    path.write_text(csv_text(rows, delimiter=";"), encoding="utf-8")
    config = path.with_suffix(".toml")
    config.write_text(f'[scoring]\nschemes_dir = "{SCHEMES}"\n', encoding="utf-8")
    return main(["import", str(path), "--db", app.settings.database.url, "--config", str(config)])


@PROPERTY
@given(units=st.lists(unit_figures(), min_size=1, max_size=4))
def test_a_valid_table_round_trips_through_import_and_scores(
    app: App, tmp_path: Path, units: list[dict[str, float]]
) -> None:
    parent = f"P{next(_SERIAL)}"
    assert import_table(app, tmp_path / "table.csv", table_rows(units, parent)) == 0
    with app.sessions()() as session:
        scored = {
            row["unit_code"]: row
            for row in score_rows(session, app.schemes, "766", Period.parse(PERIOD), parent)
        }  # noqa: E501
    assert len(scored) == len(units)
    for n, figures in enumerate(units, start=1):
        row = scored[f"{parent}.{n}"]
        for code, value in figures.items():
            if code in AXES:
                assert row["axes"][code]["score"] == pytest.approx(value, abs=1e-9), code
            elif code == "TOTAL":
                assert row["total"] == pytest.approx(value, abs=1e-9)
            else:
                assert row["counts"]["overdue"] == value


@PROPERTY
@given(
    units=st.lists(unit_figures(), min_size=1, max_size=3),
    broken=st.sampled_from(BROKEN_CELLS),
    where=st.integers(min_value=0),
)
def test_a_table_broken_in_one_cell_is_refused_naming_it_and_nothing_changes(
    app: App,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    units: list[dict[str, float]],
    broken: tuple[str, str],
    where: int,
) -> None:
    rows = table_rows(units, f"P{next(_SERIAL)}")
    index = where % len(rows)
    column, text = broken
    rows[index] = {**rows[index], column: text}
    before = dump(app.settings.database.url)
    capsys.readouterr()
    assert import_table(app, tmp_path / "broken.csv", rows) == 2
    first = capsys.readouterr().err.splitlines()[0]
    assert f"line {index + 2}, column {column}" in first, first
    assert dump(app.settings.database.url) == before
