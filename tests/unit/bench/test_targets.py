"""bench/targets.py: issue 16's targets judged on the figures the benches wrote."""

from __future__ import annotations

import importlib
from pathlib import Path

import pandas as pd

BENCH = Path(__file__).resolve().parents[3] / "bench"


def test_targets_are_judged_on_the_results_files(tmp_path, monkeypatch):
    monkeypatch.syspath_prepend(str(BENCH))  # as bench/run.py finds it
    targets = importlib.import_module("targets")
    pd.DataFrame([
        {"implementation": "engine, compiled kernel, all cores (draw ...)", "patients": 100_000,
         "seconds": 1.0, "patient_days_per_s": 5_600_000, "ratio_engine_over_this": 1.0,
         "max_abs_easi_diff_vs_lsoda": 0.06, "peak_memory_mib": 600},
        {"implementation": "dermsim design power true-ad3 --n 330 --replicates 1000, end to end",
         "patients": 330_000, "trials": 1000, "seconds": 7.0, "patient_days_per_s": 1,
         "ratio_engine_over_this": 1.0, "max_abs_easi_diff_vs_lsoda": None, "peak_memory_mib": 900},
    ]).to_csv(tmp_path / "engine.csv", index=False)
    table = targets.evaluate(tmp_path, {"engine"}).set_index("target")

    def line(start):
        return table.loc[next(t for t in table.index if t.startswith(start))]

    assert line("engine: 100,000")[["measured", "met"]].tolist() == ["5,600,000", "yes"]
    assert line("compiled vs LSODA: max")["met"] == "NO"  # 0.06 > the first model's 0.05
    # 1,000 replicates in 7 s: judged as 70 s per 10,000 against < 60 s
    assert line("dermsim design power, 10,000")[["measured", "met"]].tolist() == ["70", "NO"]
    assert line("dermsim design power: peak")["met"] == "yes"
    # a figure no results file holds is not measured, never met
    assert line("compiled vs NumPy path: max")[["measured", "met"]].tolist() == ["not measured", "-"]
    assert line("design vs the straightforward")["from"] == "design.csv (earlier run)"
    assert line("engine: 100,000")["from"] == "engine.csv"
