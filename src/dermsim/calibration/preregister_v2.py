"""Pre-registration of the second model version (issue 12 point 5) and its validation summary.

``write_preregistration_v2`` writes ``validation/preregistered/v2.csv`` from the frozen v2
posterior: 90 % prediction intervals over replicate trials of each study's published size, with
posterior uncertainty (each replicate uses a posterior draw resampled by weight), for studies whose
outcomes are held out and never read here:

* ``peds-maxuse``: children 2-11 y, IGA >= 3, >= 35 % BSA (mean about 58 %), 1.5 % BID for 4
  weeks, mean cream use 8.5 g/day, n = 29 (population spec written from these design facts only);
* ``true-ad3``: per arm, EASI % change and EASI-75 at week 8; children above 281 nM at any plasma
  sample of weeks 0-8 (TRuE-AD3's sampling visits, weeks 2 or 4 and 8), active arms together: each
  child's steady-state level (the model's absorption follows the baseline barrier damage, so the
  daily mean is the same at every visit) times the within-day swing of its own kinetics at a
  sampling time drawn uniformly over the day (_share_above_at_samples);
* ``true-ad-lts``: adults and adolescents as in TRuE-AD1/2 on 1.5 % BID to week 8, then 1.5 % as
  needed on active lesions (start at IGA >= 2, stop when clear) to week 52: median time to
  worsening (IGA >= 2) and % of time off treatment.

A replicate trial: posterior draw -> its simulated patient pool (virtual patients of the study's
population) -> n patients resampled from the pool (means) or a binomial at n after the new
trial's between-trial logit effect N(0, tau^2) (proportions, as in the calibration likelihood).
"""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path
from typing import Any

import numpy as np

from dermsim._atomic import atomic_path
from dermsim._rng import child_generator
from dermsim.calibration.posterior import Posterior
from dermsim.calibration.summaries import shift_logit
from dermsim.calibration.validate import check_model_unchanged, compute_pi90, write_csv
from dermsim.engine.compiled import forked_pool
from dermsim.evidence import get_trial
from dermsim.model.pharmacology import pk
from dermsim.model.pharmacology.regimen import AsNeeded, Period, Regimen
from dermsim.model.population.sampling import sample_population
from dermsim.model.simulate import simulate_patients

PREREG_V2_COLUMNS = ("study", "arm", "quantity", "visit", "pred_median", "pi90_low", "pi90_high",
                     "n_replicates", "posterior_version", "created_utc")
POPULATIONS = Path(__file__).parent / "populations"
PEDS_SPEC = POPULATIONS / "peds-maxuse.toml"
LTS_SPEC = POPULATIONS / "true-ad-lts.toml"
PEDS_N = 29
PEDS_GRAMS_PER_DAY = 8.5
PEDS_DAYS = 28
THRESHOLD_NM = 281.0
LTS_VISIT_WEEKS = tuple(range(12, 53, 4))   # LTS visits every 4 weeks after week 8
N_REPLICATES = 1000
N_DRAWS = 50


def default_prereg_v2_path() -> Path:
    """The committed v2 pre-registration (package data copy of ``validation/preregistered/v2.csv``)."""
    from dermsim.calibration.validate import VALIDATION_DATA

    return VALIDATION_DATA / "preregistered" / "v2.csv"


def _new_trial_delta(post: Posterior, rng: np.random.Generator, n: int) -> np.ndarray:
    return float(post.meta.get("trial_sd_logit", 0.0)) * rng.standard_normal(n)


def _replicate_plan(post: Posterior, seed: int, n_draws: int,
                    n_replicates: int) -> tuple[np.ndarray, np.ndarray]:
    idx = post.sample_indices(n_draws, child_generator(seed, 31))
    which = np.arange(n_replicates) % n_draws
    return idx, which


def predict_peds_maxuse(post: Posterior, seed: int, *, n_draws: int = N_DRAWS,
                        n_replicates: int = N_REPLICATES, n_pool: int = 400,
                        design_class: str = "maxuse") -> dict[str, np.ndarray]:
    """Replicate trials of the pediatric maximum-use design. ``design_class`` "maxuse" (the
    pre-registered choice) gives absorption that design class's study effect (eta_maxuse); ""
    gives the phase 3 absorption that the clinic and every other prediction use."""
    pop = sample_population(PEDS_SPEC, n_pool, seed=child_generator(seed, 32))
    area = pk.compute_treated_area_cm2(pop.bsa_m2, pop.affected_pct)
    # cream per cm2 such that the pool's mean use is 8.5 g/day over two applications (larger treated
    # areas use more cream; the per-child amounts were not a design fact)
    g_per_cm2 = PEDS_GRAMS_PER_DAY / 2.0 / float(np.mean(area))
    reg = Regimen(strength_pct=1.5, application_times_h=(0.0, 12.0), g_per_cm2=g_per_cm2, name="peds-maxuse")
    idx, which = _replicate_plan(post, seed, n_draws, n_replicates)
    rng = child_generator(seed, 33)
    delta = _new_trial_delta(post, rng, n_replicates)
    out = {k: np.empty(n_replicates) for k in ("css_mean_nM", "bsa_pct_mean", "iga_ts_pct")}
    for k, i in enumerate(idx):
        # a maximum-use design: absorption of that design class (priors.py, eta_maxuse)
        params = post.parameter_set(int(i), design_class=design_class)
        tr = simulate_patients(pop, reg, PEDS_DAYS, seed, record=("easi", "iga", "B", "D"), params=params)
        # the model's absorption follows the baseline barrier damage (pk.py), so each child's
        # average steady-state level is constant over weeks 0-4: the analytic Css of the simulation
        css = np.asarray(tr["css_nM"], float)
        obs = {q.name: q.value for q in params.group("observation").values()}
        ratio = tr["D"][:, PEDS_DAYS] / tr["D"][:, 0]
        bsa4 = np.asarray(pop.affected_pct) * ratio ** (obs["p_easi"] * obs["easi_area_share"])
        p_ts = float(np.mean(tr.endpoints(PEDS_DAYS)["iga_ts"]))
        for r in np.flatnonzero(which == k):
            pick = rng.integers(0, n_pool, PEDS_N)
            out["css_mean_nM"][r] = css[pick].mean()
            out["bsa_pct_mean"][r] = bsa4[pick].mean()
            out["iga_ts_pct"][r] = 100.0 * rng.binomial(PEDS_N, shift_logit(p_ts, delta[r])) / PEDS_N
    return out


def predict_true_ad3(post: Posterior, seed: int, *, n_draws: int = N_DRAWS, n_replicates: int = N_REPLICATES,
                     n_pool: int = 1000, with_css: bool = False) -> dict[tuple[str, str], np.ndarray]:
    """Reads only TRuE-AD3's design (arm sizes, strengths) and baseline population spec.
    ``with_css``: also each active arm's trial mean of the steady-state level ("css_mean_nM", from
    the same resampled children: no other number changes)."""
    trial = get_trial("true-ad3")
    arms = [(a.id, float(a.strength_pct), int(a.n)) for a in trial.arms]
    pop = sample_population("true-ad3", n_pool, seed=child_generator(seed, 34))
    idx, which = _replicate_plan(post, seed, n_draws, n_replicates)
    rng = child_generator(seed, 35)
    delta = _new_trial_delta(post, rng, n_replicates)
    out: dict[tuple[str, str], np.ndarray] = {}
    for arm, _, _ in arms:
        out[(arm, "easi_pchg_mean")] = np.empty(n_replicates)
        out[(arm, "easi75_pct")] = np.empty(n_replicates)
    out[("active", "n_above_281nM")] = np.zeros(n_replicates)
    if with_css:
        out.update({(arm, "css_mean_nM"): np.empty(n_replicates) for arm, s, _ in arms if s > 0})
    for k, i in enumerate(idx):
        params = post.parameter_set(int(i))
        reps = np.flatnonzero(which == k)
        for arm, s, n_arm in arms:
            reg = Regimen.bid(s)
            tr = simulate_patients(pop, reg, 56, seed, record=("easi", "iga", "B"), params=params)
            ep = tr.endpoints(56)
            p75 = float(np.mean(ep["easi75"]))
            css = np.asarray(tr["css_nM"], float)
            above = _share_above_at_samples(pop, reg, params, seed, css, rng) if s > 0 else None
            for r in reps:
                pick = rng.integers(0, n_pool, n_arm)
                out[(arm, "easi_pchg_mean")][r] = float(np.mean(ep["easi_pct_change"][pick]))
                out[(arm, "easi75_pct")][r] = 100.0 * rng.binomial(n_arm, shift_logit(p75, delta[r])) / n_arm
                if above is not None:
                    out[("active", "n_above_281nM")][r] += rng.binomial(n_arm, above)
                    if with_css:
                        out[(arm, "css_mean_nM")][r] = float(np.mean(css[pick]))
    return out


def _share_above_at_samples(pop: Any, reg: Regimen, params: Any, seed: int, css: np.ndarray,
                            rng: np.random.Generator) -> float:
    """Share of the pool above 281 nM at either of TRuE-AD3's two plasma samples (week 2 or 4, and
    week 8): each child's steady-state level Css x the within-day shape of its own kinetics, at a
    sampling time drawn uniformly over the day (assumption: the time of sampling relative to the
    applications is not in the design facts; clinic visits in the day after a morning application
    would sample nearer the peak). The model's absorption follows the baseline barrier damage, so
    the daily mean level is Css from week 2 on (t1/2 ~116 h: >= 88 % of steady state by day 14)."""
    from dermsim.calibration.kinetics import patient_pk

    shape = pk.compute_steady_state_day_shape(patient_pk(pop, reg, params, seed), reg.application_times_h,
                                              dt_h=0.5)
    k = rng.integers(0, shape.shape[0], (2, css.shape[0]))
    levels = css[None, :] * shape[k, np.arange(css.shape[0])[None, :]]
    return float(np.mean(np.any(levels > THRESHOLD_NM, axis=0)))


def lts_regimen() -> Regimen:
    """1.5 % BID to week 8, then as needed on active lesions: start at IGA >= 2, stop when clear."""
    return Regimen(strength_pct=1.5, application_times_h=(0.0, 8.0), name="true-ad-lts",
                   periods=(Period(days=56), Period(days=None, as_needed=AsNeeded(metric="iga", start_at=2.0,
                                                                                    stop_at=0.0))))


def compute_km_median(time_wk: np.ndarray, event: np.ndarray, horizon_wk: float) -> float:
    """Kaplan-Meier median of event times (censored at ``horizon_wk``; the horizon if not reached)."""
    order = np.argsort(time_wk, kind="stable")
    t, e = time_wk[order], event[order]
    at_risk = np.arange(t.shape[0], 0, -1)
    surv = np.cumprod(np.where(e, 1.0 - 1.0 / at_risk, 1.0))
    below = np.flatnonzero(surv <= 0.5)
    return float(t[below[0]]) if below.size else float(horizon_wk)


def predict_true_ad_lts(post: Posterior, seed: int, *, n_draws: int = N_DRAWS,
                        n_replicates: int = N_REPLICATES, n_pool: int = 1000) -> dict[str, np.ndarray]:
    n_trial = sum(int(get_trial(t).arm("rux150").n) for t in ("true-ad1", "true-ad2"))
    pop = sample_population(LTS_SPEC, n_pool, seed=child_generator(seed, 36))
    reg = lts_regimen()
    days = 52 * 7
    idx, which = _replicate_plan(post, seed, n_draws, n_replicates)
    rng = child_generator(seed, 37)
    out = {"time_to_worsening_median_wk": np.empty(n_replicates),
           "pct_time_off_treatment": np.empty(n_replicates)}
    visits = np.array(LTS_VISIT_WEEKS) * 7
    for k, i in enumerate(idx):
        params = post.parameter_set(int(i))
        tr = simulate_patients(pop, reg, days, seed, record=("iga", "easi", "applications"), params=params)
        iga = tr["iga"]
        off = np.mean(tr["applications"][:, 57:] == 0, axis=1) * 100.0
        clear8 = iga[:, 56] <= 1
        worse = iga[:, visits] >= 2
        first = np.where(worse.any(axis=1), np.argmax(worse, axis=1), -1)
        t_wk = np.where(first >= 0, visits[np.maximum(first, 0)] / 7.0 - 8.0, 44.0)
        ev = first >= 0
        elig = np.flatnonzero(clear8)
        for r in np.flatnonzero(which == k):
            pick = rng.integers(0, n_pool, n_trial)
            out["pct_time_off_treatment"][r] = float(np.mean(off[pick]))
            e_pick = pick[np.isin(pick, elig)]
            out["time_to_worsening_median_wk"][r] = (compute_km_median(t_wk[e_pick], ev[e_pick], 44.0)
                                                     if e_pick.size else np.nan)
    return out


def write_preregistration_v2(post: Posterior, path: str | Path, seed: int, *, n_draws: int = N_DRAWS,
                             n_replicates: int = N_REPLICATES, pools: tuple[int, int, int] = (300, 600, 400),
                             workers: int = 1) -> Path:
    """Write the v2 pre-registration (module docstring). Reads no outcome of these studies."""
    check_model_unchanged(post)
    created = dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    rows: list[dict[str, Any]] = []

    def add(study: str, arm: str, quantity: str, visit: str, x: np.ndarray) -> None:
        x = np.asarray(x, float)
        x = x[np.isfinite(x)]
        med, lo, hi = compute_pi90(x)
        rows.append({"study": study, "arm": arm, "quantity": quantity, "visit": visit,
                     "pred_median": round(med, 3), "pi90_low": round(lo, 3), "pi90_high": round(hi, 3),
                     "n_replicates": int(x.shape[0]), "posterior_version": post.version,
                     "created_utc": created})

    jobs = ((predict_peds_maxuse, pools[0]), (predict_true_ad3, pools[1]), (predict_true_ad_lts, pools[2]))
    if workers > 1:   # the three studies in parallel processes (each single-threaded)
        with forked_pool(min(workers, 3), "pre-registration") as pool:
            asyncs = [pool.apply_async(f, (post, seed), {"n_draws": n_draws, "n_replicates": n_replicates,
                                                         "n_pool": n}) for f, n in jobs]
            peds, ad3, lts = (a.get() for a in asyncs)
    else:
        peds, ad3, lts = (f(post, seed, n_draws=n_draws, n_replicates=n_replicates, n_pool=n)
                          for f, n in jobs)
    add("peds-maxuse", "rux150bid", "css_mean_nM", "Weeks 0-4", peds["css_mean_nM"])
    add("peds-maxuse", "rux150bid", "bsa_pct_mean", "Week 4", peds["bsa_pct_mean"])
    add("peds-maxuse", "rux150bid", "iga_ts_pct", "Week 4", peds["iga_ts_pct"])
    for (arm, q), x in ad3.items():
        add("true-ad3", arm, q, "Weeks 0-8" if q == "n_above_281nM" else "Week 8", x)
    add("true-ad-lts", "rux150-as-needed", "time_to_worsening_median_wk", "Weeks 8-52",
        lts["time_to_worsening_median_wk"])
    add("true-ad-lts", "rux150-as-needed", "pct_time_off_treatment", "Weeks 8-52",
        lts["pct_time_off_treatment"])
    return write_csv(path, PREREG_V2_COLUMNS, rows)


VALIDATION_V2_COLUMNS = ("step", "target", "observed", "pred_median", "pi90_low", "pi90_high", "inside")
COMPARISON_V2_COLUMNS = ("study", "arm", "quantity", "visit", "observed", "pred_median", "pi90_low",
                         "pi90_high", "inside", "status", "source", "posterior_version")


def compare_preregistration_v2(prereg_path: str | Path, outcomes: Any = None) -> list[dict[str, Any]]:
    """Each pre-registered row beside its published outcome (evidence preregistered_outcomes.toml,
    written only after the pre-registration was committed); rows without one say "not published"."""
    from dermsim.evidence.preregistered_outcomes import load_preregistered_outcomes

    outcomes = load_preregistered_outcomes() if outcomes is None else outcomes
    rows = []
    with Path(prereg_path).open(newline="") as fh:
        for r in csv.DictReader(fh):
            o = outcomes.find(r["study"], r["arm"], r["quantity"])
            obs = o.number if o is not None else None
            lo, hi = float(r["pi90_low"]), float(r["pi90_high"])
            rows.append({"study": r["study"], "arm": r["arm"], "quantity": r["quantity"], "visit": r["visit"],
                         "observed": obs, "pred_median": float(r["pred_median"]), "pi90_low": lo,
                         "pi90_high": hi, "inside": None if obs is None else bool(lo <= obs <= hi),
                         "status": o.status if o is not None else "",
                         "source": o.source if o is not None else "not published / not found",
                         "posterior_version": r["posterior_version"]})
    return rows


def default_results_dir(post: Posterior) -> Path:
    """``validation/results/<version>`` under the current folder (never inside the package)."""
    return Path("validation") / "results" / post.version


def run_validation_v2(post: Posterior, out_dir: str | Path | None, prereg_path: str | Path) -> str:
    """Write ``validation.csv`` (the posterior predictive check of every calibration target) and
    ``summary.md`` (PPC table, importance-sampling and MAP convergence, identifiability notes, the
    pre-registered v2 intervals, whose held-out outcomes are not compared here); return the summary."""
    from dermsim.calibration.diagnostics import compute_diagnostics

    check_model_unchanged(post)
    diag = compute_diagnostics(post)
    out_dir = Path(out_dir) if out_dir is not None else default_results_dir(post)
    out_dir.mkdir(parents=True, exist_ok=True)
    with atomic_path(out_dir / "validation.csv") as tmp, tmp.open("w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=VALIDATION_V2_COLUMNS, extrasaction="ignore", lineterminator="\n")
        w.writeheader()
        for r in diag["ppc"]:
            w.writerow({"step": "ppc", **{k: (f"{r[k]:.4g}" if isinstance(r[k], float) else r[k])
                                          for k in VALIDATION_V2_COLUMNS[1:]}})
    if Path(prereg_path).exists():
        comparison = compare_preregistration_v2(prereg_path)
        write_csv(out_dir / "comparison.csv", COMPARISON_V2_COLUMNS,
                  [{k: ("" if v is None else v) for k, v in r.items()} for r in comparison])
    summary = _summary_v2(post, diag, Path(prereg_path))
    with atomic_path(out_dir / "summary.md") as tmp:
        tmp.write_text(summary)
    return summary


def _summary_v2(post: Posterior, diag: dict[str, Any], prereg_path: Path) -> str:
    from dermsim.calibration.validate import compute_git_state

    info, mp = diag["importance_sampling"], diag["map"]
    nan = float("nan")
    map_state = "converged" if mp.get("converged") else "NOT converged"
    is_state = "reached" if info.get("converged") else "NOT reached"
    if info.get("sampler") == "emulator-mcmc":
        check = "accepted" if info["exact_check_ok"] else "NOT accepted"
        mcmc = "converged" if info["converged"] else "NOT converged"
        method = (
            f"Method: CRN Gaussian arm-level likelihood; MAP (the design's centre) {map_state} "
            f"({mp.get('message', '')}, cost {mp.get('cost', nan):.2f}); emulator of the expected target "
            f"values from {info['n_design']} exact evaluations (cross-validated error / target SE: max "
            f"{info['emulator_cv_over_se_max']:.2f}, median {info['emulator_cv_over_se_median']:.2f}, added "
            f"to the likelihood variance); MCMC on the emulated posterior ({info['moves']}, "
            f"{info['walkers']} walkers x {info['steps']} steps, tau max {info['tau_max']:.0f}, split-R-hat "
            f"max {info['rhat_max']:.4f}, ESS {info['ess']:.0f}: {mcmc} by the rule: "
            f"{info['convergence_rule']}); {info['distinct_draws']} distinct draws shipped; exact check on "
            f"{info['exact_check_draws']} of them: Pareto k {info['exact_check_pareto_k']:.2f}, ESS "
            f"{info['exact_check_ess']:.0f} ({check}). The predictive check below uses the exactly "
            "simulated draws.")
    else:
        method = (
            f"Method: CRN Gaussian arm-level likelihood; MAP {map_state} ({mp.get('message', '')}, "
            f"{mp.get('iterations', '?')} iterations, cost {mp.get('cost', nan):.2f}, gradient inf-norm "
            f"{mp.get('gradient_inf_norm', nan):.3g}); importance sampling: {info.get('draws')} distinct "
            f"draws ({info.get('simulated_draws', info.get('draws'))} simulated), importance-sampling ESS "
            f"{info.get('ess_importance_check', info.get('ess', 0)):.1f} (target {info.get('target_ess')}: "
            f"{is_state}), Pareto k {info.get('pareto_k', nan):.2f}, max weight "
            f"{info.get('max_weight', nan):.3f}. Shipped weights: "
            f"{info.get('shipped_weights', 'importance-sampling posterior')} (ESS "
            f"{info.get('ess_shipped', info.get('ess', 0)):.0f}).")
    lines = [f"# dermsim v2 validation (posterior {post.version})", "", method, "",
             f"## Posterior predictive check: {diag['ppc_inside']} targets inside their 90% interval", "",
             "| target | observed | predicted median | 90% PI | inside |", "|---|---|---|---|---|"]
    for r in diag["ppc"]:
        scale, unit = (100.0, "%") if r["kind"] == "binary" else (1.0, "")
        lines.append(f"| {r['target']} | {scale * r['observed']:.3g}{unit} | "
                     f"{scale * r['pred_median']:.3g}{unit} | "
                     f"{scale * r['pi90_low']:.3g}-{scale * r['pi90_high']:.3g}{unit} | "
                     f"{'yes' if r['inside'] else 'NO'} |")
    lines += ["", "## Identifiability", ""]
    notes = [f"- {n}" for n in diag["identifiability_notes"]]
    lines += notes or ["- no pair above |0.7|; every parameter informed"]
    lines += ["", f"## Pre-registration {prereg_path.name}", ""]
    if prereg_path.exists():
        state = compute_git_state(prereg_path)
        committed = state is not None and state["commit"] and not state["dirty"]
        where = "Committed in " + state["commit"] if committed else "NOT committed yet"
        comparison = compare_preregistration_v2(prereg_path)
        known = [r for r in comparison if r["inside"] is not None]
        if known:
            lines.append(f"{where}. Published outcomes, added to the evidence after that commit "
                         f"(preregistered_outcomes.toml): {sum(r['inside'] for r in known)} of {len(known)} "
                         "inside their pre-registered 90% interval.")
        else:
            lines.append(f"{where}; the outcomes are held out and are compared in a later commit, after the "
                         "file is on main.")
        lines += ["", "| study | arm | quantity | visit | predicted median | 90% PI | observed | inside |",
                  "|---|---|---|---|---|---|---|---|"]
        for r in comparison:
            obs = ("not published" if r["observed"] is None
                   else f"{r['observed']:g} ({r['status']}, {r['source']})")
            inside = "" if r["inside"] is None else ("yes" if r["inside"] else "NO")
            lines.append(f"| {r['study']} | {r['arm']} | {r['quantity']} | {r['visit']} | "
                         f"{r['pred_median']:g} | {r['pi90_low']:g}-{r['pi90_high']:g} | {obs} | {inside} |")
        if comparison:
            lines.append(f"\nPosterior of the pre-registration: {comparison[0]['posterior_version']}.")
    else:
        lines.append("not written yet: `dermsim validate --preregister`.")
    return "\n".join(lines) + "\n"
