# Two commands for a newcomer: `make demo` and `make test`. Each creates .venv and installs the
# project if it is missing or pyproject.toml changed.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export PYTHONHASHSEED := 0

.PHONY: demo test test-fast lint bench external clean

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev,sbml]"
	@touch $(STAMP)

demo: $(STAMP)
	$(BIN)/dermsim run true-ad3 --out out/true-ad3

lint: $(STAMP)
	$(BIN)/ruff check src tests bench
	$(BIN)/lint-imports

# External tools (R, Chromium, LibreOffice) for reference and browser tests are installed by the
# project's own script; on a machine where that cannot be done the tests that need them skip and say so.
external:
	@bash scripts/install-external.sh

test: $(STAMP) lint external
	$(BIN)/python -m pytest -n 2 -q

test-fast: $(STAMP)
	$(BIN)/python -m pytest -n 2 -q -m "not slow and not external"

bench: $(STAMP)
	$(BIN)/python bench/run.py

clean:
	rm -rf $(VENV) out .pytest_cache
