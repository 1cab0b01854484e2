# One way to do each chore; CI runs `make test` exactly as a developer does.
PYTHON ?= python3
VENV ?= .venv
BIN = $(VENV)/bin
STAMP = $(VENV)/.installed

.PHONY: install demo test lint bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	touch $(STAMP)

# An installation's step, at install and after each upgrade: dvcwatch's own modules
# compiled, as pip compiles an installed package's. The service's user may not write
# beside them (/opt/dvcwatch is root's), and without this every command it runs would
# compile them again from source (about a tenth of `dvcwatch status`'s start).
install: $(STAMP)
	$(BIN)/python -m compileall -q service jobs

demo: $(STAMP)
	$(BIN)/dvcwatch demo

# Tests run in one worker per core (at most 4): most of a test's time is a process it
# started or a server it waits for. Every test has its own database (a SQLite file or
# a PostgreSQL schema), folder and ports, so workers never meet.
test: $(STAMP)
	$(BIN)/python -m pytest -q -n auto --maxprocesses=4 --durations=20

lint: $(STAMP)
	$(BIN)/ruff check service jobs tests bench
	$(BIN)/mypy

bench: install
	$(BIN)/python -m bench.table $${DVCWATCH_TEST_PG_URL:+--pg $$DVCWATCH_TEST_PG_URL}

clean:
	rm -rf $(VENV) var out build *.egg-info
