#!/usr/bin/env bash
# `make test` (CI runs it on a fresh checkout of a 2-core machine): the lint, the type check and the
# whole suite, arranged so the two cores stay busy.
#
#   1. The external tools (R, Chromium, LibreOffice: apt and npm, network and disk) install in the
#      background while the Python environment installs.
#   2. ruff and the layer contract (seconds), then the type check starts in the background at the
#      lowest CPU priority: pyright takes one core for about 100 s, and at nice 19 it runs on what the
#      tests leave idle (subprocess start-up, browser waits, the tail of each pytest run) instead of
#      delaying them. Its report is printed, and its verdict counted, after the tests.
#   3. The project's modules compile to .pyc files and the numba kernels into their on-disk cache
#      (scripts/warm_numba_cache.py, two processes), so that pytest's workers and the tests'
#      subprocesses load them instead of each compiling them (where PYTHONDONTWRITEBYTECODE is set,
#      as on CI machines, no process writes a .pyc file of its own).
#   4. The unit and reference tiers with coverage and the floors of the core packages
#      (scripts/coverage_floor.py, floors in pyproject.toml); then the end-to-end and robustness
#      tiers untraced (they drive the command line, the web app and subprocesses, where tracing costs
#      about 45 % of their time and adds 0.6 points to model's coverage, 0.4 to analysis', none to
#      the others'). Each run prints its slowest tests.
#
# Any failure ends the run with the failing step's exit code and stops the type check; the external
# install is waited for, never killed.
set -uo pipefail
: "${MAKE:=make}" "${BIN:=.venv/bin}" "${STAMP:=.venv/.installed}"
PYTEST=("$BIN/python" -m pytest -n 2 --dist worksteal -q --durations=15)
start=$SECONDS
phase() { echo "test.sh: $1 at $((SECONDS - start)) s"; }  # where a slow CI run spent its time

typecheck_log=$(mktemp)
typecheck=
external=
finish() {
    # the type check (pyright's node child too) stops; the external install is waited for, never
    # killed (stopping apt midway leaves dpkg to repair)
    if [ -n "$typecheck" ]; then pkill -P "$typecheck" 2>/dev/null; kill "$typecheck" 2>/dev/null; fi
    if [ -n "$external" ]; then wait "$external"; fi
    rm -f "$typecheck_log"
}
trap finish EXIT

bash scripts/install-external.sh & external=$!
"$MAKE" --no-print-directory "$STAMP" || exit
phase "environment ready"
"$BIN/ruff" check src tests bench scripts || exit
"$BIN/lint-imports" || exit
phase "lint done, type check started"
nice -n 19 "$BIN/pyright" >"$typecheck_log" 2>&1 & typecheck=$!
"$BIN/python" -m compileall -q src >/dev/null || exit  # see 3. above
"$BIN/python" scripts/warm_numba_cache.py || exit
phase "kernels cached"
wait "$external"; external=  # tests that need a tool it could not install skip and say so
phase "external tools ready"

"${PYTEST[@]}" --cov --cov-report= tests/unit tests/reference || exit
phase "unit and reference tiers done"
"$BIN/python" scripts/coverage_floor.py || exit
"${PYTEST[@]}" tests/e2e tests/robustness || exit
phase "end-to-end and robustness tiers done"

wait "$typecheck"; typechecked=$?; typecheck=
phase "type check done"
echo "$BIN/pyright (ran beside the tests):"
cat "$typecheck_log"
exit "$typechecked"
