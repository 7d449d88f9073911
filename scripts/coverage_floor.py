"""Coverage floors of the core packages: fail when a package's line coverage (from the `.coverage`
file `make test` leaves) falls below its floor in pyproject.toml ``[tool.dermsim.coverage-floor]``.

The floors are what the packages reached when they were set; raise one when its package's tests
improve, never lower one to let a change in. pytest-cov's own ``--cov-fail-under`` checks only
the total, so this reads the data with coverage.py's API, package by package."""

from __future__ import annotations

import io
import sys
import tomllib
from pathlib import Path

import coverage

ROOT = Path(__file__).resolve().parents[1]


def main() -> int:
    floors = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["dermsim"]["coverage-floor"]
    cov = coverage.Coverage(data_file=str(ROOT / ".coverage"))
    cov.load()
    failed = []
    for package, floor in floors.items():
        pct = cov.report(include=[f"*/dermsim/{package}/*"], file=io.StringIO())
        verdict = "ok" if pct >= floor else "BELOW FLOOR"
        print(f"coverage {package:<10} {pct:5.1f}%  floor {floor:3d}%  {verdict}")
        if pct < floor:
            failed.append(package)
    if failed:
        print(f"coverage: {', '.join(failed)} below the floor in pyproject.toml "
              "[tool.dermsim.coverage-floor]", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
