"""Where the compiled day kernel's time goes: the profile cProfile cannot give.

Run: ``.venv/bin/python bench/run.py kernel`` (writes ``bench/results/kernel.csv`` and ``.md``).

cProfile sees ``model.kernel.advance_day`` as one call, and numba has no line profiler (nor are the
hardware counters readable on this virtual machine), so the time inside the kernel is measured by
ablation: a copy of ``model/kernel.py`` with one part of the per-step work taken out or replaced by
a cheap stand-in is compiled into a module of its own, and it and the real kernel advance the same
captured day (TRuE-AD3, 1.5 % BID, 12,500 patients, a treatment day of three 8 h steps) on one
thread, alternately, round after round. A part's share is 1 - (time without it) / (time with it),
the median over rounds of the paired ratio (the machine's speed drifts between rounds, not within
a pair). The ablated kernels compute wrong numbers, so they live in a temporary folder and only
their times are kept. Shares of overlapping parts do not add up: the core runs the parts' work
side by side, and a removal also frees registers and cache for the rest.

Each substitution must match the kernel's source exactly; when the kernel changes, the bench
fails instead of timing a kernel that no longer has the part.
"""

from __future__ import annotations

import importlib.util
import inspect
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

N = 12_500
ROUNDS = int(os.environ.get("DERMSIM_BENCH_KERNEL_ROUNDS", "30"))
SEED = 1
CAPTURE_DAY = 5  # a treatment day of coarse (8 h) steps, past the onset days of 2 h steps

# (part, what replaces it, [(kernel source, stand-in)])
ABLATIONS = [
    ("JAK occupancy at the quadrature nodes, its mean and SD (6 nodes a step)",
     "skipped: the block levels stay where they are",
     [("            if has_drug:\n                _occupancy_block(",
       "            if False:\n                _occupancy_block(")]),
    ("of which exp and log of the Hill term u^h / (1 + u^h)",
     "u / (1 + u)",
     [("            o = _occupancy(u, hill[i])", "            o = u / (1.0 + u)")]),
    ("phi1 of the exponential production-loss step (6 a step)",
     "1 - x / 2",
     [("""    xs = max(x, 1e-300)
    scale, em1 = _exp_reduced(-xs)
    return -(scale * em1 + (scale - 1.0)) / xs""", "    return 1.0 - 0.5 * x")]),
    ("the corrector's rate evaluation (the second of two a step)",
     "the predictor's rates reused",
     [("        r1 = _rates(c, i, imax, z0, z1, z2, z3, z4, z5, z6, z7, kveh, ll, lh, two, use_mem, "
       "mem_moves)", "        r1 = r0")]),
    ("the second sigma-point block level (rates at two levels a step)",
     "one level",
     [("_step_block(w, m, lo, k, step_hw[s], drive, c, emo, fac_const, imax, has_drug,",
       "_step_block(w, m, lo, k, step_hw[s], drive, c, emo, fac_const, imax, False,")]),
    ("exact PK propagation (the transition matrix's live terms, 14 of 25, a step)",
     "skipped",
     [("            if track_pk:\n                _propagate_block",
       "            if False:\n                _propagate_block")]),
    ("the whole disease step (emollient, rates, predictor-corrector)",
     "skipped",
     [("            _step_block(w, m, lo, k, step_hw[s]",
       "            if False: _step_block(w, m, lo, k, step_hw[s]")]),
]


def _captured_day() -> tuple:
    """advance_day's arguments on day CAPTURE_DAY of a run (copies: the kernel updates in place)."""
    from dermsim.model import kernel
    from dermsim.model.pharmacology.regimen import Regimen
    from dermsim.model.population.sampling import sample_population
    from dermsim.model.simulate import simulate_patients

    calls: list[tuple] = []
    real = kernel.advance_day

    def spy(*args):
        calls.append(tuple(a.copy() if isinstance(a, np.ndarray) else a for a in args))
        return real(*args)

    kernel.advance_day = spy
    try:
        simulate_patients(sample_population("true-ad3", N, SEED), Regimen(strength_pct=1.5), CAPTURE_DAY + 1,
                          SEED, workers=1, threads=1, chunk_size=N, record=("easi_mean",))
    finally:
        kernel.advance_day = real
    day = calls[CAPTURE_DAY]
    step_h = day[_arg("step_h")]
    assert step_h.size == 3 and np.all(step_h == 8.0), "the captured day must be three 8 h steps"
    return day


def _arg(name: str) -> int:
    """The position of advance_day's argument ``name``."""
    from dermsim.model import kernel

    return list(inspect.signature(kernel.advance_day.py_func).parameters).index(name)


def _variant(source: str, subs: list[tuple[str, str]], folder: Path, name: str):
    for old, new in subs:
        if old not in source:
            raise SystemExit(f"bench_kernel: the ablation {name!r} no longer matches model/kernel.py; "
                             "update it")
        source = source.replace(old, new)
    path = folder / f"{name}.py"
    path.write_text(source)
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    assert spec.loader is not None
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def main() -> pd.DataFrame:
    import numba

    from dermsim.model import kernel

    numba.set_num_threads(1)
    day = _captured_day()
    source = Path(kernel.__file__).read_text()
    with tempfile.TemporaryDirectory() as tmp:
        variants = [_variant(source, subs, Path(tmp), f"kernel_ablation_{i}")
                    for i, (_, _, subs) in enumerate(ABLATIONS)]
        fns = [kernel.advance_day] + [v.advance_day for v in variants]

        def timed(fn) -> float:
            args = list(day)
            for name in ("Y", "X", "E"):  # updated in place
                args[_arg(name)] = day[_arg(name)].copy()
            args[_arg("occ_out")] = np.empty_like(day[_arg("occ_out")])
            t0 = time.perf_counter()
            fn(*args)
            return time.perf_counter() - t0

        for fn in fns:  # compile (or load) each before timing
            timed(fn)
        times = np.array([[timed(fn) for fn in fns] for _ in range(ROUNDS)])
    full = times[:, 0]
    rows = [{"part of the day kernel": "the whole kernel (BID, 3 steps of 8 h, 1 thread)", "stand-in": "",
             "ns_per_patient_day": round(float(np.median(full)) / N * 1e9, 1), "share_of_kernel_pct": 100.0,
             "share_iqr_pct": ""}]
    for i, (part, stand_in, _) in enumerate(ABLATIONS, start=1):
        share = 1.0 - times[:, i] / full
        lo, hi = np.percentile(share, [25, 75]) * 100
        rows.append({"part of the day kernel": part, "stand-in": stand_in,
                     "ns_per_patient_day": round(float(np.median(full - times[:, i])) / N * 1e9, 1),
                     "share_of_kernel_pct": round(float(np.median(share)) * 100, 1),
                     "share_iqr_pct": f"{lo:.1f} to {hi:.1f}"})
    return pd.DataFrame(rows)


if __name__ == "__main__":
    print(main().to_string(index=False))
