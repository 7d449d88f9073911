"""Virtual-trial benchmark: ``true-ad3`` (330 children, 8-week vehicle-controlled period plus the
44-week extension) simulated and written as SDTM-like and ADaM datasets in XPT v5, Dataset-JSON
and Parquet, as ``dermsim trial simulate true-ad3 --seed 1`` does. Target: under 10 s end to end
on the 2-core machine (issue 4).

Rows: each stage in a fresh process state except the one-off population calibration (cached by
the sampler after the first call; reported on its own row), then the whole run; "cpu_s" is the
process CPU time of the stage, which is what a busy shared machine does not inflate.

Run: ``.venv/bin/python bench/run.py trial`` (writes ``bench/results/trial.csv`` and ``.md``).
"""

from __future__ import annotations

import shutil
import tempfile
import time
from pathlib import Path

import pandas as pd

from dermsim.cdisc import derive_adae, derive_adeff, derive_adsl
from dermsim.io.study import write_trial_dir
from dermsim.trial import load_design, simulate_trial

TARGET_S = 10.0


def _timed(fn):
    w0, c0 = time.perf_counter(), time.process_time()
    out = fn()
    return out, time.perf_counter() - w0, time.process_time() - c0


def main() -> pd.DataFrame:
    rows = []
    design = load_design("true-ad3")
    tmp = Path(tempfile.mkdtemp(prefix="bench_trial."))
    try:
        t_all0, c_all0 = time.perf_counter(), time.process_time()
        study, w, c = _timed(lambda: simulate_trial(design, 1))
        rows.append({"stage": "simulate_trial true-ad3 (330, to week 52)", "wall_s": w, "cpu_s": c})

        def derive() -> None:
            adsl = derive_adsl(study)
            derive_adeff(study, adsl)
            derive_adae(study, adsl)

        _, w, c = _timed(derive)
        rows.append({"stage": "derive ADSL, ADEFF, ADAE", "wall_s": w, "cpu_s": c})
        _, w, c = _timed(lambda: write_trial_dir(study, tmp / "out", "xpt,json,parquet"))
        rows.append(
            {
                "stage": "derive + write sdtm/, adam/, define.json (xpt, json, parquet)",
                "wall_s": w,
                "cpu_s": c,
            }
        )
        rows.append(
            {
                "stage": "total (one run, as the CLI)",
                "wall_s": time.perf_counter() - t_all0,
                "cpu_s": time.process_time() - c_all0,
            }
        )
        # second run: population calibration already cached in this process
        _, w, c = _timed(lambda: write_trial_dir(simulate_trial(design, 2), tmp / "out2", "xpt,json,parquet"))
        rows.append({"stage": "total, second run in the same process", "wall_s": w, "cpu_s": c})
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    table = pd.DataFrame(rows)
    table["wall_s"] = table["wall_s"].round(2)
    table["cpu_s"] = table["cpu_s"].round(2)
    table["target_s"] = TARGET_S
    return table
