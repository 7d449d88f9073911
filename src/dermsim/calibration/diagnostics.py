"""Posterior diagnostics: predictive checks against every target, correlations, identifiability.

Computed from the posterior file alone (each particle's simulated arm stats are stored with it),
so the diagnostics of the shipped posterior are reproducible without re-simulating.

* Posterior predictive check: for each target, 1,000 replicate summaries (particle resampled by
  weight, then binomial sampling at the arm's real N; PK means as simulated) -> median and 90 %
  interval, and whether the observed value lies inside.
* Pairwise weighted correlations of the parameters on their unconstrained scale.
* Identifiability: posterior SD / prior SD on the unconstrained scale ("shrinkage ratio");
  < 0.5 identified by the data, 0.5-0.8 weakly, >= 0.8 not identified (the prior dominates).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from dermsim._atomic import atomic_path
from dermsim._rng import child_generator
from dermsim.calibration.posterior import Posterior
from dermsim.calibration.summaries import compute_trial_shift, shift_logit, stat_index
from dermsim.calibration.targets import Target, TargetSet

N_PPC = 1000


def _targets(post: Posterior) -> TargetSet:
    return TargetSet(targets=tuple(Target.from_dict(t) for t in post.meta["targets"]),
                     version=post.targets_version, sha256=post.targets_sha256, path="")


def compute_ppc(post: Posterior, n_replicates: int = N_PPC, seed: int = 0) -> list[dict[str, Any]]:
    """Posterior predictive 90 % intervals for every target."""
    targets = _targets(post)
    p = _fitted_p(post, targets)
    rng = child_generator(seed, 11)
    pick = rng.choice(post.n, size=n_replicates, p=post.weights)
    p = p[pick]
    rows = []
    for k, t in enumerate(targets.targets):
        if t.kind == "binary":
            x = rng.binomial(t.n, np.clip(np.nan_to_num(p[:, k]), 0, 1)) / t.n
        else:
            x = p[:, k]
        lo, med, hi = (float(v) for v in np.quantile(x, [0.05, 0.5, 0.95]))
        rows.append({"target": t.name, "status": t.status, "weight": t.weight, "observed": t.value,
                     "pred_median": med, "pi90_low": lo, "pi90_high": hi,
                     "inside": bool(lo <= t.value <= hi)})
    return rows


def _fitted_p(post: Posterior, targets: TargetSet) -> np.ndarray:
    """Per particle and target (N, K): the simulated arm proportion with the particle's fitted
    trial effect applied (PK: the simulated mean)."""
    stats = np.asarray(post.meta["stats"], float)
    p = stats[:, stat_index(targets)]
    binary = np.array([t.kind == "binary" for t in targets.targets])
    shift = compute_trial_shift(post.draws, post.prior, targets)
    return np.where(binary[None, :], shift_logit(p, shift), p)


def compute_dose_contrast(post: Posterior, n_replicates: int = N_PPC, seed: int = 0) -> list[dict[str, Any]]:
    """The only dose-response information (model.md 2.10): IGA-TS 1.5 % minus 0.75 % per trial,
    observed vs posterior predictive 90 % interval (binomial at both arms' real N)."""
    targets = _targets(post)
    fitted = _fitted_p(post, targets)
    rng = child_generator(seed, 12)
    pick = rng.choice(post.n, size=n_replicates, p=post.weights)
    rows = []
    for trial in sorted({t.trial for t in targets.targets if t.kind == "binary"}):
        arms = {t.arm: (k, t) for k, t in enumerate(targets.targets)
                if t.trial == trial and t.endpoint == "IGA-TS"}
        if not {"rux075", "rux150"} <= set(arms):
            continue
        draws = []
        for arm in ("rux150", "rux075"):
            k, t = arms[arm]
            draws.append(rng.binomial(t.n, np.clip(fitted[pick, k], 0, 1)) / t.n)
        diff = draws[0] - draws[1]
        obs = arms["rux150"][1].value - arms["rux075"][1].value
        lo, med, hi = (float(v) for v in np.quantile(diff, [0.05, 0.5, 0.95]))
        rows.append({"trial": trial, "contrast": "IGA-TS 1.5% - 0.75%", "observed": obs, "pred_median": med,
                     "pi90_low": lo, "pi90_high": hi, "inside": bool(lo <= obs <= hi)})
    return rows


def compute_correlations(post: Posterior) -> dict[str, Any]:
    z = post.prior.to_unconstrained(post.draws)
    w = post.weights
    mean = w @ z
    cov = (z - mean).T @ ((z - mean) * w[:, None])
    sd = np.sqrt(np.diag(cov))
    corr = cov / np.outer(sd, sd)
    return {"names": list(post.names), "matrix": np.round(corr, 3).tolist(), "posterior_sd_unconstrained": sd}


def compute_identifiability(post: Posterior) -> list[dict[str, Any]]:
    corr = compute_correlations(post)
    sd = corr["posterior_sd_unconstrained"]
    summ = post.summary()
    rows = []
    m = np.asarray(corr["matrix"])
    for j, (p, name) in enumerate(zip(post.prior.parameters, post.names, strict=True)):
        ratio = float(sd[j] / p.prior_sd)
        others = [(abs(m[j, k]), post.names[k], m[j, k]) for k in range(len(post.names)) if k != j]
        top = max(others)
        rows.append({"parameter": name, "prior_median": p.prior_mean, **summ[name], "shrinkage_ratio": ratio,
                     "verdict": "identified" if ratio < 0.5 else ("weakly identified" if ratio < 0.8
                                                                  else "not identified (prior dominates)"),
                     "strongest_correlation": f"{top[1]} ({top[2]:+.2f})"})
    return rows


def compute_diagnostics(post: Posterior) -> dict[str, Any]:
    corr = compute_correlations(post)
    corr.pop("posterior_sd_unconstrained")
    return {"posterior_version": post.version, "ess": post.ess, "ppc": compute_ppc(post),
            "dose_contrast": compute_dose_contrast(post),
            "correlations": corr, "identifiability": compute_identifiability(post),
            "smc": post.meta.get("smc", {})}


def diagnostics_path(posterior_path: str | Path) -> Path:
    p = Path(posterior_path)
    return p.with_name(p.stem + ".diagnostics.json")


def write_diagnostics(post: Posterior, path: str | Path) -> Path:
    with atomic_path(path) as tmp:
        tmp.write_text(json.dumps(compute_diagnostics(post), indent=1))
    return Path(path)
