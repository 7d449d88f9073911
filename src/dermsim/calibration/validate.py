"""The validation ladder (issue 6, model.md 2.10).

(a) cross-prediction TRuE-AD1 <-> TRuE-AD2: fit one trial (plus adult PK), predict the other
    with a fresh between-trial effect. The fits are the shipped single-trial posteriors
    (``dermsim calibrate --targets targets/true_ad1_only.toml``, and AD2). Without them, a
    fallback re-weights the joint run's archive (best candidates under one trial's distance,
    weighted by prior / proposal mixture): cheap but degenerate (effective size about 1 with the
    shipped run), and said so in the summary.
(b) held-out TRuE-AD3: 1,000 replicate trials with the real arm sizes (65, 134, 131) and the
    TRuE-AD3 population, parameters resampled from the frozen posterior -> 90 % predictive
    intervals of IGA-TS (and EASI-75, NRS4) at week 8 per arm, written by
    :func:`write_preregistration` WITHOUT reading any TRuE-AD3 outcome. :func:`run_validation`
    reads that committed file unchanged and only then reads the observed values.
(c) pediatric PK plausibility from the population and PK model alone: simulated Css in children
    against the published qualitative result (all plasma levels below the 281 nM threshold).
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import json
from pathlib import Path

import numpy as np

from dermsim._atomic import atomic_path
from dermsim._rng import child_generator
from dermsim.calibration.posterior import POSTERIOR_DIR, Posterior, load_posterior, model_parameters_sha256
from dermsim.calibration.summaries import (
    ARM_OF_STRENGTH,
    ENDPOINT_STAT,
    STAT_NAMES,
    binomial_uniforms,
    compute_distance,
    compute_summaries,
    compute_trial_shift,
    make_setup,
    shift_logit,
    simulate_stats,
)
from dermsim.calibration.targets import TARGETS_DIR, Target, TargetSet
from dermsim.errors import DataValidationError, InvalidInputError
from dermsim.evidence import get_trial
from dermsim.model.pharmacology.regimen import Regimen
from dermsim.model.population.sampling import sample_population
from dermsim.model.simulate import simulate_patients

VALIDATION_COLUMNS = ("step", "trial", "arm", "endpoint", "visit", "observed", "pred_median", "pi90_low",
                      "pi90_high", "inside")
PREREG_COLUMNS = ("trial", "arm", "strength_pct", "n_arm", "endpoint", "visit", "pred_median", "pi90_low",
                  "pi90_high", "n_replicates", "posterior_version", "posterior_sha256", "seed", "created_utc")
HELD_OUT = "true-ad3"
PREDICTED_ENDPOINTS = ("IGA-TS", "EASI-75", "NRS4")
N_REPLICATES = 1000
N_DRAWS = 200
N_VP_PREDICT = 1000
WEIGHT_KEY = 4


# The committed validation files (``validation/`` at the repository root) ship as package data
# here, so an installed dermsim reads the same pre-registration and ladder as a source checkout;
# tests/unit/calibration/test_validation_data.py keeps the two copies equal.
VALIDATION_DATA = Path(__file__).parent / "validation"


def default_prereg_path() -> Path:
    """The committed TRuE-AD3 pre-registration (package data copy of
    ``validation/preregistered/true-ad3.csv``)."""
    return VALIDATION_DATA / "preregistered" / "true-ad3.csv"


def default_validation_csv() -> Path | None:
    """The committed validation ladder of the shipped posterior (package data copy of
    ``validation/results/*/validation.csv``), or None."""
    from dermsim.calibration.posterior import DEFAULT_VERSION

    shipped = VALIDATION_DATA / "results" / DEFAULT_VERSION / "validation.csv"
    if shipped.is_file():
        return shipped
    hits = sorted((VALIDATION_DATA / "results").glob("**/validation.csv"))
    return hits[0] if hits else None


def _posterior_sha(post: Posterior) -> str:
    return hashlib.sha256(json.dumps(post.to_dict(), sort_keys=True).encode()).hexdigest()


def compute_pi90(x: np.ndarray) -> tuple[float, float, float]:
    """(median, 5th, 95th percentile) of the finite values of ``x``: a 90 % prediction interval over
    replicates (the one used by every validation and pre-registration row)."""
    x = np.asarray(x, float)
    x = x[np.isfinite(x)]
    return float(np.median(x)), float(np.quantile(x, 0.05)), float(np.quantile(x, 0.95))


def simulate_trial_predictions(post: Posterior, population: str, arm_n: dict[str, int], seed: int, *,
                               n_replicates: int = N_REPLICATES, n_draws: int = N_DRAWS,
                               n_vp: int = N_VP_PREDICT) -> dict[tuple[str, str], np.ndarray]:
    """Replicate-trial responder proportions, {(arm, endpoint): (n_replicates,)}.

    Replicate r uses posterior draw ``idx[r % n_draws]`` (draws resampled by weight) and binomial
    sampling at the arm's real size; NRS4 uses half the arm (baseline NRS >= 4 subset, as in the
    targets). The virtual patients are ``n_vp`` draws of ``population`` shared by all arms.
    """
    setup = make_setup(population, n_vp, seed)
    idx = post.sample_indices(n_draws, child_generator(seed, WEIGHT_KEY))
    uniq, inverse = np.unique(idx, return_inverse=True)
    stats = simulate_stats(post.draws[uniq], post.prior, setup)[inverse]          # (n_draws, S)
    rng = child_generator(seed, WEIGHT_KEY + 1)
    which = np.arange(n_replicates) % n_draws
    # a new trial has its own between-trial effect: delta ~ N(0, trial_sd^2), common to its arms
    delta = _new_trial_delta(post, idx[which], rng)
    out = {}
    for s, arm in ARM_OF_STRENGTH.items():
        if arm not in arm_n:
            continue
        for ep in PREDICTED_ENDPOINTS:
            p = np.nan_to_num(stats[which, STAT_NAMES.index(f"{ENDPOINT_STAT[ep]}@{s:g}")], nan=0.0)
            p = shift_logit(p, delta)
            n = max(1, round(arm_n[arm] * (0.5 if ep == "NRS4" else 1.0)))
            out[(arm, ep)] = rng.binomial(n, np.clip(p, 0, 1)) / n
    return out


def check_model_unchanged(post: Posterior) -> None:
    """Refuse to predict with a posterior fitted on other model parameter files."""
    recorded = post.meta.get("model_parameters_sha256")
    if recorded is not None and recorded != model_parameters_sha256():
        raise DataValidationError(f"posterior {post.version} was fitted with other model parameter files "
                                  f"(sha256 {recorded[:12]}...); recalibrate before validating.")


def _new_trial_delta(post: Posterior, draw_index: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    if "trial_sd" not in post.names:
        return np.zeros(draw_index.shape[0])
    sd = post.draws[draw_index, post.names.index("trial_sd")]
    return sd * rng.standard_normal(draw_index.shape[0])


def write_preregistration(post: Posterior, path: str | Path, seed: int, *, n_replicates: int = N_REPLICATES,
                          n_draws: int = N_DRAWS, n_vp: int = N_VP_PREDICT) -> Path:
    """Write the TRuE-AD3 90 % predictive intervals. Reads only TRuE-AD3's design (arm sizes,
    strengths) and baseline population spec: never its outcomes."""
    check_model_unchanged(post)
    trial = get_trial(HELD_OUT)
    arm_n = {a.id: int(a.n) for a in trial.arms}
    strength = {a.id: a.strength_pct for a in trial.arms}
    preds = simulate_trial_predictions(post, HELD_OUT, arm_n, seed, n_replicates=n_replicates,
                                       n_draws=n_draws, n_vp=n_vp)
    created = dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    sha = _posterior_sha(post)
    rows = []
    for (arm, ep), x in preds.items():
        med, lo, hi = compute_pi90(x)
        rows.append({"trial": HELD_OUT, "arm": arm, "strength_pct": strength[arm], "n_arm": arm_n[arm],
                     "endpoint": ep, "visit": "Week 8", "pred_median": round(med, 4),
                     "pi90_low": round(lo, 4), "pi90_high": round(hi, 4), "n_replicates": x.shape[0],
                     "posterior_version": post.version,
                     "posterior_sha256": sha, "seed": seed, "created_utc": created})
    return write_csv(path, PREREG_COLUMNS, rows)


def write_csv(path: str | Path, columns: tuple[str, ...], rows: list[dict]) -> Path:
    """Write rows atomically (a pre-registration is never half-written)."""
    path = Path(path)
    with atomic_path(path) as tmp, tmp.open("w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=columns, lineterminator="\n")
        w.writeheader()
        w.writerows(rows)
    return path


def compute_git_state(path: str | Path) -> dict[str, str] | None:
    """The commit that last touched ``path`` and whether it differs from it; None outside git."""
    import subprocess

    p = Path(path).resolve()
    def git(*args: str, check: bool = False) -> str:
        return subprocess.run(["git", *args], cwd=p.parent, capture_output=True, text=True, timeout=10,
                              check=check).stdout.strip()

    try:
        git("rev-parse", "--is-inside-work-tree", check=True)
        commit = git("log", "-1", "--format=%h %cI", "--", p.name)  # empty when never committed
        dirty = git("status", "--porcelain", "--", p.name)
    except (OSError, subprocess.SubprocessError):
        return None
    return {"commit": commit, "dirty": dirty}


def read_preregistration(path: str | Path, post: Posterior, *, require_committed: bool = True
                         ) -> list[dict[str, str]]:
    path = Path(path)
    if not path.exists():
        raise InvalidInputError(f"pre-registration file {path} does not exist; run `dermsim validate "
                                "--preregister` and commit the file first.")
    state = compute_git_state(path) if require_committed else None
    if state is not None and (not state["commit"] or state["dirty"]):
        raise DataValidationError(f"{path.name}: the pre-registration must be committed, unchanged, before "
                                  "it is compared with the observed results; commit it first.")
    with path.open(newline="") as fh:
        rows = list(csv.DictReader(fh))
    if not rows or tuple(rows[0].keys()) != PREREG_COLUMNS:
        raise DataValidationError(f"{path.name}: columns must be {', '.join(PREREG_COLUMNS)}.")
    if any(r["posterior_version"] != post.version for r in rows):
        raise DataValidationError(f"{path.name}: made from posterior {rows[0]['posterior_version']}, not "
                                  f"{post.version}; a new model version needs its own pre-registration.")
    return rows


def _targets_of(post: Posterior) -> TargetSet:
    return TargetSet(targets=tuple(Target.from_dict(t) for t in post.meta["targets"]),
                     version=post.targets_version, sha256=post.targets_sha256, path="")


def single_trial_posterior_path(fit_trial: str, seed: int) -> tuple[Path, Path]:
    """The shipped single-trial fit (``dermsim calibrate --targets targets/<trial>_only.toml``) and
    its targets file."""
    targets = TARGETS_DIR / f"{fit_trial.replace('-', '_')}_only.toml"
    return POSTERIOR_DIR / f"{fit_trial}-only-1-s{seed}.json", targets


def cross_predict(post: Posterior, fit_trial: str, predict_trial: str, *, n_keep: int | None = None,
                  n_replicates: int = N_REPLICATES, seed: int = 0) -> list[dict]:
    """Predict ``predict_trial``'s targets from a fit to ``fit_trial`` (+ adult PK).

    The fit is the shipped single-trial posterior when it exists (a real ABC-SMC run on that
    trial's targets); otherwise the archive of the joint run is re-weighted (see module doc)."""
    targets = _targets_of(post)
    path, tpath = single_trial_posterior_path(fit_trial, post.seed)
    if path.exists():
        single = load_posterior(path, targets=tpath)
        check_model_unchanged(single)
        rng = child_generator(seed, WEIGHT_KEY + 2)
        pick = single.sample_indices(n_replicates, rng)
        stats = np.asarray(single.meta["stats"], float)[pick]
        names = single.prior.names
        delta = single.draws[pick, names.index("trial_sd")] * rng.standard_normal(n_replicates)
        return _predict_rows(targets, stats, delta, fit_trial, predict_trial, rng,
                             method="single-trial ABC-SMC fit",
                             ess=float(np.unique(single.draws, axis=0).shape[0]))
    arch = post.meta["archive"]
    z, stats, log_q = np.asarray(arch["z"]), np.asarray(arch["stats"]), np.asarray(arch["log_q"])
    uniforms = binomial_uniforms(targets, post.seed)
    natural = post.prior.to_natural(z)
    summaries = compute_summaries(stats, targets, uniforms, compute_trial_shift(natural, post.prior, targets))
    dist = compute_distance(summaries, targets, targets.select((fit_trial,)))
    n_keep = n_keep or post.n
    keep = np.argsort(dist, kind="stable")[:n_keep]
    lw = post.prior.logpdf(z[keep]) - log_q[keep]
    w = np.exp(lw - lw.max())
    w /= w.sum()
    rng = child_generator(seed, WEIGHT_KEY + 2)
    pick = keep[rng.choice(keep.shape[0], size=n_replicates, p=w)]
    names = post.prior.names
    # the predicted trial is new to this fit: a fresh trial effect per replicate
    delta = (natural[pick, names.index("trial_sd")] * rng.standard_normal(n_replicates)
             if "trial_sd" in names else np.zeros(n_replicates))
    return _predict_rows(targets, stats[pick], delta, fit_trial, predict_trial, rng,
                         method="archive re-weighting", ess=float(1 / np.sum(w**2)))


def _predict_rows(targets: TargetSet, stats: np.ndarray, delta: np.ndarray, fit_trial: str,
                  predict_trial: str, rng: np.random.Generator, *, method: str, ess: float) -> list[dict]:
    rows = []
    for t in targets.targets:
        if t.trial != predict_trial or t.kind != "binary":
            continue
        p = np.nan_to_num(stats[:, STAT_NAMES.index(f"{ENDPOINT_STAT[t.endpoint]}@{t.strength_pct:g}")])
        p = shift_logit(p, delta)
        x = rng.binomial(t.n, np.clip(p, 0, 1)) / t.n
        med, lo, hi = compute_pi90(x)
        rows.append({"step": f"a:{fit_trial}->{predict_trial}", "trial": predict_trial, "arm": t.arm,
                     "endpoint": t.endpoint, "visit": f"Week {t.visit_week:g}", "observed": t.value,
                     "pred_median": med, "pi90_low": lo, "pi90_high": hi, "inside": lo <= t.value <= hi,
                     "method": method, "ess": ess})
    return rows


def compute_pediatric_pk(post: Posterior, seed: int, n_vp: int = 2000) -> list[dict]:
    """Css (nM) of TRuE-AD3-like children at the posterior median, per strength, vs 281 nM."""
    pop = sample_population(HELD_OUT, n_vp, seed=child_generator(seed, WEIGHT_KEY + 3))
    params = post.parameter_set(None)
    rows = []
    for s in (0.75, 1.5):
        tr = simulate_patients(pop, Regimen.bid(s), 1, seed, record=("cp_nM",), params=params)
        css = tr.baseline["css_nM"]
        med, lo, hi = compute_pi90(css)
        rows.append({"step": "c", "trial": HELD_OUT, "arm": ARM_OF_STRENGTH[s], "endpoint": "Css_nM_vs_281",
                     "visit": "steady state", "observed": 281.0, "pred_median": med, "pi90_low": lo,
                     "pi90_high": hi, "inside": bool(np.quantile(css, 0.99) < 281.0),
                     "pct_above_281": float(100 * np.mean(css > 281.0)), "mean_nM": float(np.mean(css))})
    return rows


def run_validation(post: Posterior, out_dir: str | Path, prereg_path: str | Path, seed: int) -> str:
    """Run the ladder; write ``validation.csv`` and ``summary.md`` to ``out_dir``; return the summary."""
    check_model_unchanged(post)
    prereg = read_preregistration(prereg_path, post)   # read first, unchanged
    git_state = compute_git_state(prereg_path)
    rows: list[dict] = []
    rows += cross_predict(post, "true-ad1", "true-ad2", seed=seed)
    rows += cross_predict(post, "true-ad2", "true-ad1", seed=seed)
    trial = get_trial(HELD_OUT)
    for r in prereg:
        found = trial.results(r["endpoint"], arm=r["arm"], visit_week=8.0)
        obs = found[0].value_pct / 100 if found and found[0].value_pct is not None else float("nan")
        lo, hi = float(r["pi90_low"]), float(r["pi90_high"])
        rows.append({"step": "b", "trial": HELD_OUT, "arm": r["arm"], "endpoint": r["endpoint"],
                     "visit": r["visit"], "observed": obs, "pred_median": float(r["pred_median"]),
                     "pi90_low": lo, "pi90_high": hi,
                     "inside": (lo <= obs <= hi) if np.isfinite(obs) else ""})
    rows += compute_pediatric_pk(post, seed)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    with atomic_path(out_dir / "validation.csv") as tmp, tmp.open("w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=VALIDATION_COLUMNS, extrasaction="ignore", lineterminator="\n")
        w.writeheader()
        for r in rows:
            w.writerow({k: (f"{r[k]:.4f}" if isinstance(r[k], float) else r[k]) for k in VALIDATION_COLUMNS})
    summary = _summary(post, rows, prereg_path, git_state)
    with atomic_path(out_dir / "summary.md") as tmp:
        tmp.write_text(summary)
    return summary


def _pct(x: float) -> str:
    return "NA" if not np.isfinite(x) else f"{100 * x:.1f}%"


def _summary(post: Posterior, rows: list[dict], prereg_path: str | Path, git_state: dict | None) -> str:
    distinct = post.meta.get("smc", {}).get("distinct", [post.n])[-1]
    lines = [f"# dermsim validation ladder (posterior {post.version}, {post.n} particles, "
             f"{distinct} distinct)", ""]
    if git_state is not None:
        lines += [f"Pre-registration {Path(prereg_path).name} as committed in {git_state['commit']} "
                  "(unchanged).", ""]
    methods = sorted({f"{r['step'][2:]}: {r['method']} ({r['ess']:.0f} distinct/effective draws)"
                      for r in rows if str(r["step"]).startswith("a")})
    for step, title in (("a", "(a) cross-prediction TRuE-AD1 <-> TRuE-AD2; " + "; ".join(methods)),
                        ("b", f"(b) held-out TRuE-AD3, pre-registered in {Path(prereg_path).name}"),
                        ("c", "(c) pediatric PK plausibility (Css, children, posterior median)")):
        sel = [r for r in rows if str(r["step"]).startswith(step)]
        lines += [f"## {title}", ""]
        for r in sel:
            if step == "c":
                lines.append(f"- {r['arm']}: Css median {r['pred_median']:.1f} nM (90% {r['pi90_low']:.1f}-"
                             f"{r['pi90_high']:.1f}), {r['pct_above_281']:.2f}% above 281 nM: "
                             f"{'plausible' if r['inside'] else 'IMPLAUSIBLE'}")
                continue
            verdict = "" if r["inside"] == "" else ("HIT" if r["inside"] else "MISS")
            lines.append(f"- {r['step']} {r['arm']} {r['endpoint']} {r['visit']}: "
                         f"observed {_pct(r['observed'])}, predicted {_pct(r['pred_median'])} "
                         f"(90% PI {_pct(r['pi90_low'])}-{_pct(r['pi90_high'])}) {verdict}")
        scored = [r for r in sel if r["inside"] != "" and step != "c"]
        if scored:
            lines.append(f"- inside: {sum(bool(r['inside']) for r in scored)}/{len(scored)}")
        lines.append("")
    return "\n".join(lines)
