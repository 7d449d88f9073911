"""Binary-endpoint benchmark: CMH test plus Mantel-Haenszel risk difference for 10,000 simulated
TRuE-AD3-sized trials (330 children, vehicle / 0.75 % / 1.5 % cream 1:2:2, 4 randomization strata).

Rows: dermsim batched (all trials in one array pass) against, on the first ``N_LOOP`` trials,
trial by trial: statsmodels ``StratifiedTable`` (``test_null_odds(correction=False)``,
``oddsratio_pooled``, ``oddsratio_pooled_confint``) plus the MH-Sato risk difference written as
plain per-trial NumPy (statsmodels has no common risk difference), and dermsim's own single-trial
functions. Comparison 1.5 % vs vehicle; the 3-arm general association test is timed too. Rates
are trials per second; the ratio is the batched rate over each row's rate (the 3-arm loop against
the 3-arm batched row, the g-computation loop against the batched g-computation row, the others
against the 2-arm batched row); "max |diff|" is the
largest absolute difference from the batched numbers over the looped trials (CMH statistic,
p-value, MH OR and its CI, MH RD and its SE). Last two rows: covariate-adjusted marginal risk
difference (logistic g-computation, delta-method SE) on patient-level data, batched IRLS vs the
single-trial statsmodels GLM function.

Run: ``.venv/bin/python bench/run.py cmh`` (writes ``bench/results/cmh.csv`` and ``.md``).
"""

from __future__ import annotations

import time

import numpy as np
import pandas as pd
from statsmodels.stats.contingency_tables import StratifiedTable

from dermsim._rng import as_generator
from dermsim.analysis import (
    compute_batched_common_odds_ratio,
    compute_batched_common_risk_difference,
    compute_batched_marginal_risk_difference,
    estimate_common_risk_difference,
    estimate_marginal_risk_difference,
    test_batched_cmh,
    test_cmh,
)

N_TRIALS = 10_000
N_LOOP = 300
N_PATIENTS = 330
SEED = 2026
ARM_RATIO = np.array([1.0, 2.0, 2.0]) / 5.0  # vehicle, 0.75 %, 1.5 %
STRATUM_P = np.array([0.35, 0.25, 0.25, 0.15])  # age group x baseline IGA
# IGA treatment success by arm (rows) and stratum (columns), TRuE-AD3-like magnitudes
RESPONSE_P = np.array([[0.12, 0.08, 0.15, 0.10],
                       [0.45, 0.35, 0.50, 0.40],
                       [0.55, 0.45, 0.60, 0.50]])
TREATMENT, CONTROL = 2, 0


def simulate_counts(n_trials: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Responders and totals, shape (trials, strata, arms), stratified block-free randomization."""
    rng = as_generator(seed)
    per_stratum = rng.multinomial(N_PATIENTS, STRATUM_P, size=n_trials)  # (T, S)
    totals = rng.multinomial(per_stratum, ARM_RATIO)  # (T, S, A)
    responders = rng.binomial(totals, RESPONSE_P.T[None, :, :])
    return responders.astype(float), totals.astype(float)


def _mh_sato_loop(x1, n1, x2, n2) -> tuple[float, float]:
    """The MH-Sato common RD for one trial, as a per-trial implementation would write it."""
    big_n = n1 + n2
    w = n1 * n2 / big_n
    est = float(np.sum(w * (x1 / n1 - x2 / n2)) / np.sum(w))
    p = np.sum((n1 ** 2 * x2 - n2 ** 2 * x1 + n1 * n2 * (n2 - n1) / 2) / big_n ** 2)
    q = np.sum((x1 * (n2 - x2) + x2 * (n1 - x1)) / (2 * big_n))
    return est, float(np.sqrt((est * p + q) / np.sum(w) ** 2))


def _batched(x: np.ndarray, n: np.ndarray) -> dict[str, np.ndarray]:
    cmh = test_batched_cmh(x, n, arms=[TREATMENT, CONTROL])
    rd = compute_batched_common_risk_difference(x, n, treatment=TREATMENT, control=CONTROL)
    odds = compute_batched_common_odds_ratio(x, n, treatment=TREATMENT, control=CONTROL)
    return {"cmh": cmh.statistic, "p": cmh.p_value, "or": odds.estimate, "or_lo": odds.ci_lower,
            "or_hi": odds.ci_upper, "rd": rd.estimate, "rd_se": rd.se}


def _statsmodels_loop(x: np.ndarray, n: np.ndarray) -> dict[str, np.ndarray]:
    out = {k: np.empty(len(x)) for k in ("cmh", "p", "or", "or_lo", "or_hi", "rd", "rd_se")}
    for i in range(len(x)):
        x1, n1, x2, n2 = x[i, :, TREATMENT], n[i, :, TREATMENT], x[i, :, CONTROL], n[i, :, CONTROL]
        st = StratifiedTable(np.array([[x1, n1 - x1], [x2, n2 - x2]]))
        t = st.test_null_odds(correction=False)
        lo, hi = st.oddsratio_pooled_confint()
        rd, se = _mh_sato_loop(x1, n1, x2, n2)
        for k, v in zip(out, (t.statistic, t.pvalue, st.oddsratio_pooled, lo, hi, rd, se), strict=True):
            out[k][i] = v
    return out


def _dermsim_single_loop(x: np.ndarray, n: np.ndarray) -> dict[str, np.ndarray]:
    out = {k: np.empty(len(x)) for k in ("cmh", "p", "rd", "rd_se")}
    for i in range(len(x)):
        x1, n1, x2, n2 = x[i, :, TREATMENT], n[i, :, TREATMENT], x[i, :, CONTROL], n[i, :, CONTROL]
        c = test_cmh(np.stack([np.stack([x1, n1 - x1], -1), np.stack([x2, n2 - x2], -1)], 1))
        r = estimate_common_risk_difference(x1, n1, x2, n2)
        out["cmh"][i], out["p"][i] = c.general_association.statistic, c.general_association.p_value
        out["rd"][i], out["rd_se"][i] = r.estimate, r.se
    return out


def _single_3arm_loop(x: np.ndarray, n: np.ndarray) -> np.ndarray:
    out = np.empty(len(x))
    for i in range(len(x)):
        out[i] = test_cmh(np.stack([x[i], n[i] - x[i]], -1)).general_association.statistic
    return out


def simulate_patients(n_trials: int, seed: int) -> tuple[np.ndarray, ...]:
    """Patient-level 1.5 % vs vehicle data for the covariate-adjusted analysis: treated flag, a
    standardised baseline covariate (baseline EASI), IGA success; vehicle patients 1:2 to active."""
    rng = as_generator(seed)
    n = N_PATIENTS * 3 // 5  # the vehicle and 1.5 % arms of a 330-child trial
    treated = (rng.random((n_trials, n)) < 2 / 3).astype(float)
    base = rng.normal(size=(n_trials, n, 1))
    eta = -1.8 + 2.0 * treated - 0.5 * base[..., 0]
    return (rng.random((n_trials, n)) < 1 / (1 + np.exp(-eta))).astype(float), treated, base


def _gcomp_loop(y: np.ndarray, trt: np.ndarray, base: np.ndarray) -> dict[str, np.ndarray]:
    out = {k: np.empty(len(y)) for k in ("rd", "rd_se")}
    for i in range(len(y)):
        d = pd.DataFrame({"Y": y[i], "T": trt[i], "B": base[i, :, 0]})
        r = estimate_marginal_risk_difference(d, response="Y", treatment="T", active=1.0, control=0.0,
                                              covariates=["B"])
        out["rd"][i], out["rd_se"][i] = r.estimate, r.se
    return out


def _timed(fn, *args, repeat: int = 3):
    best, res = np.inf, None
    for _ in range(repeat):
        t0 = time.perf_counter()
        res = fn(*args)
        best = min(best, time.perf_counter() - t0)
    return best, res


def main() -> pd.DataFrame:
    x, n = simulate_counts(N_TRIALS, SEED)
    t_batch, batch = _timed(_batched, x, n)
    t_ga3, ga3 = _timed(lambda a, b: test_batched_cmh(a, b), x, n)
    t_ga3_loop, ga3_loop = _timed(_single_3arm_loop, x[:N_LOOP], n[:N_LOOP], repeat=1)
    t_sm, sm = _timed(_statsmodels_loop, x[:N_LOOP], n[:N_LOOP], repeat=1)
    t_ds, ds = _timed(_dermsim_single_loop, x[:N_LOOP], n[:N_LOOP], repeat=1)

    rate_batch = N_TRIALS / t_batch
    rows = [
        {"method": "dermsim batched: CMH + MH RD + MH OR (2 arms)", "trials": N_TRIALS,
         "seconds": round(t_batch, 4), "trials_per_s": round(rate_batch), "ratio_vs_batched": 1.0,
         "max_abs_diff": 0.0},
        {"method": "dermsim batched: 3-arm CMH general association", "trials": N_TRIALS,
         "seconds": round(t_ga3, 4), "trials_per_s": round(N_TRIALS / t_ga3),
         "ratio_vs_batched": 1.0, "max_abs_diff": 0.0},
        {"method": "dermsim single-trial 3-arm test_cmh loop", "trials": N_LOOP,
         "seconds": round(t_ga3_loop, 4), "trials_per_s": round(N_LOOP / t_ga3_loop, 1),
         "ratio_vs_batched": round(t_ga3_loop / N_LOOP / (t_ga3 / N_TRIALS), 1),
         "max_abs_diff": float(f"{np.max(np.abs(ga3_loop - ga3.statistic[:N_LOOP])):.3g}")},
    ]
    for label, t, ref in (("statsmodels StratifiedTable loop (+ per-trial MH-Sato RD)", t_sm, sm),
                          ("dermsim single-trial functions loop", t_ds, ds)):
        diff = max(float(np.max(np.abs(ref[k] - batch[k][:N_LOOP]))) for k in ref)
        rows.append({"method": label, "trials": N_LOOP, "seconds": round(t, 4),
                     "trials_per_s": round(N_LOOP / t, 1),
                     "ratio_vs_batched": round(rate_batch / (N_LOOP / t), 1),
                     "max_abs_diff": float(f"{diff:.3g}")})
    y, trt, base = simulate_patients(N_TRIALS, SEED + 1)
    t_gb, gb = _timed(lambda: compute_batched_marginal_risk_difference(y, trt, base), repeat=1)
    t_gl, gl = _timed(_gcomp_loop, y[:N_LOOP], trt[:N_LOOP], base[:N_LOOP], repeat=1)
    diff = max(float(np.max(np.abs(gl["rd"] - gb.estimate[:N_LOOP]))),
               float(np.max(np.abs(gl["rd_se"] - gb.se[:N_LOOP]))))
    rows += [
        {"method": "dermsim batched: logistic g-computation RD (1.5 % vs vehicle, 198 pts)",
         "trials": N_TRIALS, "seconds": round(t_gb, 4), "trials_per_s": round(N_TRIALS / t_gb),
         "ratio_vs_batched": 1.0, "max_abs_diff": 0.0},
        {"method": "statsmodels GLM g-computation loop (dermsim single-trial)", "trials": N_LOOP,
         "seconds": round(t_gl, 4), "trials_per_s": round(N_LOOP / t_gl, 1),
         "ratio_vs_batched": round(t_gl / N_LOOP / (t_gb / N_TRIALS), 1),
         "max_abs_diff": float(f"{diff:.3g}")},
    ]
    return pd.DataFrame(rows)


if __name__ == "__main__":
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).parent))
    from run import main as run_main

    sys.exit(run_main(["cmh"]))
