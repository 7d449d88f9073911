"""Virtual population sampling: time per call for 10,000 and 100,000 patients (one call and in
chunks of 10,000), and the vectorized CDC growth step against the per-patient rcpchgrowth call it
replaces (the baseline, run here on 2,000 patients and scaled per patient).

Run: ``python bench/run.py population``.
"""

from __future__ import annotations

import time

import numpy as np
import pandas as pd

from dermsim.model.population import growth
from dermsim.model.population.sampling import sample_population


def _best(fn, repeat: int = 3) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def main() -> pd.DataFrame:
    rows = []
    for name in ("true-ad3", "true-ad1"):
        sample_population(name, 10, seed=1)  # growth grid and calibration, built once per process
        for n in (10_000, 100_000):
            for chunk in (None, 10_000):
                sec = _best(lambda name=name, n=n, chunk=chunk: sample_population(name, n, seed=2,
                                                                            chunk_size=chunk))
                rows.append({"case": f"sample_population {name}", "n": n, "chunk_size": chunk or n,
                             "seconds": round(sec, 3), "us_per_patient": round(1e6 * sec / n, 2),
                             "ratio_vs_baseline": ""})
    from rcpchgrowth.global_functions import measurement_from_sds

    rng = np.random.default_rng(0)
    m = 2_000
    age, z = rng.uniform(2, 12, m), rng.standard_normal((m, 2))
    sex = np.where(rng.random(m) < 0.5, "F", "M")

    def baseline() -> None:
        for i in range(m):
            s = "female" if sex[i] == "F" else "male"
            measurement_from_sds(reference="cdc", requested_sds=float(z[i, 0]), measurement_method="height",
                                 sex=s, age=float(age[i]))
            measurement_from_sds(reference="cdc", requested_sds=float(z[i, 1]), measurement_method="weight",
                                 sex=s, age=float(age[i]))

    base = _best(baseline, repeat=1) / m
    ours = _best(lambda: growth.compute_height_weight(age, sex, z[:, 0], z[:, 1])) / m
    rows.append({"case": "height+weight, rcpchgrowth per patient (baseline)", "n": m, "chunk_size": m,
                 "seconds": round(base * m, 3), "us_per_patient": round(1e6 * base, 2),
                 "ratio_vs_baseline": 1.0})
    rows.append({"case": "height+weight, dermsim.model.population.growth vectorized", "n": m, "chunk_size": m,
                 "seconds": round(ours * m, 4), "us_per_patient": round(1e6 * ours, 3),
                 "ratio_vs_baseline": round(base / ours, 1)})
    return pd.DataFrame(rows)
