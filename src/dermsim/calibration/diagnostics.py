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


def is_v2(post: Posterior) -> bool:
    return post.meta.get("method") == "laplace-is"


def compute_ppc_v2(post: Posterior, n_replicates: int = N_PPC, seed: int = 0) -> list[dict[str, Any]]:
    """Posterior predictive 90 % intervals for every target of a v2 (likelihood-based) posterior.

    A replicate: a draw resampled by weight (its simulated expected values, stored with it), plus a
    fresh between-trial logit effect N(0, tau^2) per trial for responder proportions, plus the
    virtual population's Monte-Carlo error, then sampling at the study's size: binomial at the
    arm N for proportions, normal with the target's standard error for means and SDs."""
    targets = _targets(post)
    mu = np.asarray(post.meta["expected"], float)
    rng = child_generator(seed, 13)
    # draws simulated exactly (a provisional Laplace posterior simulates only a subset of its draws)
    sim = np.all(np.isfinite(mu), axis=1) | (post.weights == 0)
    w = np.where(sim, post.weights, 0.0)
    pick = rng.choice(post.n, size=n_replicates, p=w / w.sum())
    m = mu[pick]
    tau = float(post.meta.get("trial_sd_logit", 0.0))
    mc_sd = np.sqrt(np.asarray(post.meta.get("mc_var", np.zeros(len(targets))), float))
    trials = sorted({t.trial for t in targets.targets})
    delta = {tr: tau * rng.standard_normal(n_replicates) for tr in trials}
    rows = []
    for k, t in enumerate(targets.targets):
        x = m[:, k] + mc_sd[k] * rng.standard_normal(n_replicates)
        if t.kind == "binary":
            p = shift_logit(np.clip(np.nan_to_num(x), 0, 1), delta[t.trial])
            x = rng.binomial(t.n, p) / t.n
        else:
            x = x + t.se * rng.standard_normal(n_replicates)
        lo, med, hi = (float(v) for v in np.nanquantile(x, [0.05, 0.5, 0.95]))
        rows.append({"target": t.name, "status": t.status, "weight": t.weight, "observed": t.value,
                     "pred_median": med, "pi90_low": lo, "pi90_high": hi,
                     "inside": bool(lo <= t.value <= hi), "kind": t.kind})
    return rows


def compute_laplace_correlations(post: Posterior) -> dict[str, Any]:
    cov = np.asarray(post.meta["laplace"]["cov_unconstrained"], float)
    sd = np.sqrt(np.diag(cov))
    return {"names": list(post.names), "matrix": np.round(cov / np.outer(sd, sd), 3).tolist()}


def compute_identifiability_notes(post: Posterior, threshold: float = 0.7) -> list[str]:
    """Plain-language notes: strongly correlated pairs and parameters the data do not inform."""
    corr = np.asarray(compute_correlations(post)["matrix"])
    notes = []
    names = post.names
    for i in range(len(names)):
        for j in range(i + 1, len(names)):
            if abs(corr[i, j]) >= threshold:
                notes.append(f"{names[i]} and {names[j]} correlate at {corr[i, j]:+.2f}: the data inform "
                             "their combination more than each")
    for row in compute_identifiability(post):
        if row["shrinkage_ratio"] >= 0.8:
            notes.append(f"{row['parameter']}: posterior SD {row['shrinkage_ratio']:.2f} of the prior's; not "
                         "identified by the targets (the prior dominates)")
    return notes


def compute_diagnostics(post: Posterior) -> dict[str, Any]:
    corr = compute_correlations(post)
    corr.pop("posterior_sd_unconstrained")
    if is_v2(post):
        ppc = compute_ppc_v2(post)
        return {"posterior_version": post.version, "method": "laplace-is", "ess": post.ess,
                "distinct_draws": int(np.sum(post.weights > 0)),
                "importance_sampling": post.meta.get("importance_sampling", {}),
                "map": {k: v for k, v in post.meta.get("map", {}).items() if k != "cost_trace"},
                "ppc": ppc, "ppc_inside": f"{sum(r['inside'] for r in ppc)}/{len(ppc)}",
                "correlations": corr, "laplace_correlations": compute_laplace_correlations(post),
                "identifiability": compute_identifiability(post),
                "identifiability_notes": compute_identifiability_notes(post)}
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
