# Two commands for a newcomer: `make demo` and `make test`. Each creates .venv and installs the
# project if it is missing or pyproject.toml changed.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export PYTHONHASHSEED := 0

.PHONY: demo test check test-fast lint bench external clean

# uv resolves and installs the project in well under a minute from a cold cache where pip takes about
# 130 s (most of a fresh clone's setup); it installs into the same plain venv. --compile-bytecode, as
# pip does: where PYTHONDONTWRITEBYTECODE is set (as on CI machines) nothing else writes the .pyc
# files, and every process (each test's subprocess too) would compile pandas, scipy, statsmodels
# and matplotlib from source on import.
UV_SPEC := uv>=0.9,<1
$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@test -x $(BIN)/uv || $(BIN)/python -m pip install --quiet "$(UV_SPEC)"
	$(BIN)/uv pip install --quiet --compile-bytecode --python $(BIN)/python -e ".[dev,sbml]"
	@touch $(STAMP)

demo: $(STAMP)
	$(BIN)/dermsim run true-ad3 --out out/true-ad3

# ruff, the layer contract and the type check (pyright on src/, settings in pyproject.toml); the same
# three run before each commit with `.venv/bin/pre-commit install` (.pre-commit-config.yaml).
lint: $(STAMP)
	$(BIN)/ruff check src tests bench scripts
	$(BIN)/lint-imports
	$(BIN)/pyright

# External tools (R, Chromium, LibreOffice) for reference and browser tests are installed by the
# project's own script; on a machine where that cannot be done the tests that need them skip and say so.
external:
	@bash scripts/install-external.sh

# The whole suite as CI runs it on a fresh checkout: the lint, the type check and every test tier,
# overlapped so that both cores stay busy (the order and why: scripts/test.sh).
test:
	@MAKE="$(MAKE)" BIN=$(BIN) STAMP=$(STAMP) bash scripts/test.sh

# The edit loop (under 2 minutes on 2 cores): ruff and the unit tests not marked slow or external
# (tests/e2e, tests/reference and tests/robustness run in `make test`).
check: $(STAMP)
	$(BIN)/ruff check src tests bench scripts
	$(BIN)/python -m pytest -n 2 -q -m "not slow and not external" --durations=10 tests/unit

test-fast: check

bench: $(STAMP)
	$(BIN)/python bench/run.py

clean:
	rm -rf $(VENV) out .pytest_cache
