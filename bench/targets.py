"""Issue 16's performance targets and accuracy bounds, checked against the bench results.

``bench/run.py`` prints this table after the benches it ran and writes it to
``bench/results/targets.md`` (and ``.csv``): each target with the figure it is judged on, whether
it is met, and which bench's results file the figure comes from, marked "earlier run" when that
bench did not run this time. Every figure is read from the results files the benches write;
nothing here measures or assumes one.
"""

from __future__ import annotations

import operator
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

_OPS = {">=": operator.ge, "<": operator.lt, "<=": operator.le}


@dataclass(frozen=True)
class Target:
    what: str
    bench: str            # the figure is in results/<bench>.csv ...
    row: str              # ... on the row whose first column starts with this
    column: str
    op: str | None        # None: reported, not judged
    goal: float = 0.0
    per_10000_trials: bool = False  # seconds of a smaller design run, scaled to 10,000 replicates


TARGETS = (
    Target("engine: 100,000 patients x 8 weeks, draw to endpoints (patient-days/s)", "engine",
           "engine, compiled kernel, all cores", "patient_days_per_s", ">=", 5_000_000),
    Target("engine: peak memory (MiB)", "engine", "engine, compiled kernel, all cores", "peak_memory_mib",
           "<", 2048),
    Target("engine vs libRoadRunner patient by patient (x)", "engine",
           "libRoadRunner, exported SBML, per patient: simulate only", "ratio_engine_over_this", ">=", 1000),
    Target("dermsim simulate, 100,000 x 8 weeks to Parquet, end to end (patient-days/s)", "engine",
           "dermsim simulate", "patient_days_per_s", ">=", 2_000_000),
    Target("dermsim design power, 10,000 trials, warm, end to end (s)", "engine", "dermsim design power",
           "seconds", "<", 60, per_10000_trials=True),
    Target("the same, cold: empty numba and dermsim caches (s)", "engine", "the same design command, cold",
           "seconds", "<", 90, per_10000_trials=True),
    Target("dermsim design power: peak memory of its processes (MiB)", "engine", "dermsim design power",
           "peak_memory_mib", "<", 4096),
    Target("design vs the straightforward per-trial loop (x)", "design", "straightforward loop",
           "ratio_vs_batched", ">=", 100),
    Target("compiled vs NumPy path: max |dEASI|, 100,000 patients", "engine", "engine, NumPy reference path",
           "max_abs_easi_diff_vs_numpy", "<=", 0.01),
    Target("compiled vs NumPy path: plasma max relative difference", "engine", "engine, NumPy reference path",
           "plasma_rel_diff_vs_numpy", "<=", 1e-6),
    Target("compiled vs LSODA: max |dEASI| (the first model's bound)", "engine",
           "engine, compiled kernel, all cores", "max_abs_easi_diff_vs_lsoda", "<=", 0.05),
    Target("compiled vs LSODA: plasma max relative difference (the first model's bound)", "engine",
           "engine, compiled kernel, all cores", "plasma_rel_diff_vs_lsoda", "<=", 1e-3),
    Target("calibration: one generation of the second-version calibration (s)", "calibration",
           "one generation", "seconds", None),
    Target("cold start: fresh process, empty caches, 2,000 patients x 8 weeks (s)", "engine", "cold start",
           "seconds", None),
    Target("warm start: fresh process, filled caches (s)", "engine", "warm start", "seconds", None),
)


def _figure(table: pd.DataFrame, t: Target) -> float | None:
    if t.column not in table.columns or (t.per_10000_trials and "trials" not in table.columns):
        return None
    rows = table[table.iloc[:, 0].astype(str).str.startswith(t.row)]
    if rows.empty or pd.isna(rows[t.column].iloc[0]) or str(rows[t.column].iloc[0]).strip() == "":
        return None
    value = float(rows[t.column].iloc[0])
    if t.per_10000_trials:
        if pd.isna(rows["trials"].iloc[0]):
            return None
        value *= 10_000 / float(rows["trials"].iloc[0])
    return value


def _shown(value: float) -> str:
    if value >= 1000:
        return f"{value:,.0f}"
    if value >= 1 or value == 0:
        return f"{value:.4g}"
    return f"{value:.1e}"


def evaluate(results: Path, fresh: set[str]) -> pd.DataFrame:
    """The targets table from the results files in ``results``; ``fresh``: the benches run this time."""
    tables = {name: pd.read_csv(results / f"{name}.csv") for name in {t.bench for t in TARGETS}
              if (results / f"{name}.csv").is_file()}
    rows = []
    for t in TARGETS:
        value = _figure(tables[t.bench], t) if t.bench in tables else None
        goal = "reported" if t.op is None else f"{t.op} {_shown(t.goal)}"
        met = "-" if t.op is None or value is None else ("yes" if _OPS[t.op](value, t.goal) else "NO")
        rows.append({"target": t.what, "goal": goal,
                     "measured": "not measured" if value is None else _shown(value), "met": met,
                     "from": f"{t.bench}.csv" + ("" if t.bench in fresh else " (earlier run)")})
    return pd.DataFrame(rows)
