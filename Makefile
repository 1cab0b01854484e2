# One way to do each chore; CI runs `make test` exactly as a developer does.
PYTHON ?= python3
VENV ?= .venv
BIN = $(VENV)/bin
STAMP = $(VENV)/.installed

.PHONY: demo test lint bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/dvcwatch demo

test: $(STAMP)
	$(BIN)/python -m pytest -q

lint: $(STAMP)
	$(BIN)/ruff check service jobs tests bench
	$(BIN)/mypy

bench: $(STAMP)
	$(BIN)/python -m bench.national_sync
	$(BIN)/python -m bench.scores_history
	$(BIN)/python -m bench.telegram_digest
	$(BIN)/python -m bench.notices
	$(BIN)/python -m bench.import_large
	$(BIN)/python -m bench.startup
	$(BIN)/python -m bench.storage $${DVCWATCH_TEST_PG_URL:+--pg $$DVCWATCH_TEST_PG_URL}

clean:
	rm -rf $(VENV) var out build *.egg-info
