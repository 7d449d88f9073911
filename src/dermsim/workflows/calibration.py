"""Calibration (second version by default: targets/v2.toml, a CRN Gaussian arm-level likelihood,
MAP, Laplace and importance sampling; the first version's ABC-SMC for its targets files) and the
validation ladder.

Nothing is written into the installed package: ``calibrate`` writes its posterior to ``out``
(default :func:`default_posterior_out`, under the current folder) and ``--preregister`` writes the
pre-registration to ``validation/preregistered/true-ad3.csv`` under the current folder (the source
checkout's committed file when run from the repository root). Shipping a new posterior or
pre-registration is a deliberate copy into ``calibration/posteriors`` / ``calibration/validation``.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from dermsim._atomic import atomic_path
from dermsim._validate import check_int
from dermsim.calibration.posterior import Posterior, default_posterior, load_posterior
from dermsim.calibration.preregister_v2 import N_DRAWS
from dermsim.errors import InvalidInputError
from dermsim.workflows.progress import NO_PROGRESS, CancelToken, Progress, check_cancel

__all__ = ["SHIPPED_SEED", "CalibrationRun", "LikelihoodFitOptions", "default_posterior_out", "preregister",
           "run_calibration", "validate_model"]

SHIPPED_SEED = 20261125
PREREG_OUT = Path("validation") / "preregistered" / "true-ad3.csv"
# posterior draws of validate_model's visual predictive check and children's blood-level check
VPC_DRAWS = 20
CHILDREN_PK_DRAWS = N_DRAWS
PREREG_V2_OUT = Path("validation") / "preregistered" / "v2.csv"


def _targets_path(targets: str | Path | None) -> Path:
    from dermsim.calibration.targets import V2_TARGETS

    return Path(targets) if targets is not None else Path(V2_TARGETS)


def default_posterior_out(seed: int, targets: str | Path | None = None, mode: str = "is") -> Path:
    """``posteriors/<targets version>-[laplace-provisional-]s<seed>.json`` under the current folder."""
    from dermsim.calibration.targets import load_targets

    tag = "laplace-provisional-" if mode == "laplace" else ""
    return Path("posteriors") / f"{load_targets(_targets_path(targets)).version}-{tag}s{seed}.json"


@dataclass(frozen=True)
class CalibrationRun:
    posterior: Posterior
    out: Path
    diagnostics: Path
    summary: str = ""


@dataclass(frozen=True)
class LikelihoodFitOptions:
    """Options of the second-version fit (MAP, Laplace, importance sampling)."""

    n_vp_scale: float = 1.0          # scale every arm's virtual patients (1 = the targets file's sizes)
    iterations: int = 40             # least-squares evaluations for the MAP (Broyden Jacobian updates)
    target_ess: int = 1000           # importance-sampling ESS to reach
    max_draws: int = 4000
    batch: int = 100
    time_budget_s: float | None = None
    workers: int = 1
    mode: str = "is"                 # "is"; "laplace" (provisional: Laplace draws, checked on a subset);
                                     # "emulator" (MCMC on an emulator, checked exactly: emulator.py)
    map_time_budget_s: float | None = None
    start: Path | None = None        # warm start at the MAP of an earlier v2 posterior file


def _run_likelihood_fit(seed: int, targets: Path, out: Path | None, options: LikelihoodFitOptions,
                        command: str, log) -> CalibrationRun:
    from dermsim.calibration.diagnostics import diagnostics_path, write_diagnostics
    from dermsim.calibration.fit import calibrate_v2
    from dermsim.calibration.laplace import LaplaceISConfig
    from dermsim.calibration.posterior import write_posterior

    o = options
    cfg = LaplaceISConfig(max_iterations=o.iterations, target_ess=o.target_ess, max_draws=o.max_draws,
                          batch=o.batch, time_budget_s=o.time_budget_s, workers=o.workers, mode=o.mode,
                          map_time_budget_s=o.map_time_budget_s)
    out = Path(out) if out is not None else default_posterior_out(seed, targets, o.mode)
    if o.mode == "emulator":
        cfg = replace(cfg, design_cache=str(out.with_suffix(".design.npz")))
    out.parent.mkdir(parents=True, exist_ok=True)
    post = calibrate_v2(seed, targets_path=targets, config=cfg, n_vp_scale=o.n_vp_scale, command=command,
                        z0=o.start, log=log)
    write_posterior(post, out)
    diag = diagnostics_path(out)
    write_diagnostics(post, diag)
    info = post.meta["importance_sampling"]
    if o.mode == "emulator":
        conv = "converged" if info["converged"] else "NOT converged"
        check = "accepted" if info["exact_check_ok"] else "NOT accepted"
        map_state = "converged" if post.meta["map"]["converged"] else "NOT converged"
        summary = (f"posterior {post.version}: {info['draws']} distinct MCMC draws of the emulated "
                   f"posterior, ESS {info['ess']:.0f} (target {info['target_ess']}), R-hat max "
                   f"{info['rhat_max']:.4f}: {conv}; exact check on {info['exact_check_draws']} draws: "
                   f"Pareto k {info['exact_check_pareto_k']:.2f}, ESS {info['exact_check_ess']:.0f} "
                   f"({check}); MAP {map_state}; written to {out}")
        return CalibrationRun(post, out, diag, summary)
    summary = (f"posterior {post.version}: {info['draws']} distinct draws, importance-sampling ESS "
               f"{info.get('ess_importance_check', info['ess']):.1f} (target {info['target_ess']}: "
               f"{'converged' if info['converged'] else 'NOT reached'}); MAP "
               f"{'converged' if post.meta['map']['converged'] else 'NOT converged'} "
               f"({post.meta['map']['message']}); shipped weights: {info['shipped_weights']} (ESS "
               f"{info['ess_shipped']:.0f}); written to {out}")
    return CalibrationRun(post, out, diag, summary)


def run_calibration(
    seed: int = SHIPPED_SEED,
    *,
    out: str | Path | None = None,
    resume: bool = False,
    targets: str | Path | None = None,
    n_vp: int | None = None,
    particles: int | None = None,
    proposals: int | None = None,
    generations: int | None = None,
    command: str = "",
    likelihood: LikelihoodFitOptions | None = None,
    log=None,
    progress: Progress = NO_PROGRESS,
    cancel: CancelToken | None = None,
) -> CalibrationRun:
    """Fit the model to the targets and write the posterior and its diagnostics. The second-version
    targets (default, method ``laplace-is``) are fitted by MAP + Laplace + importance sampling
    (``likelihood`` options); a first-version targets file by ABC-SMC, where ``resume`` continues
    from the per-generation checkpoint beside ``out``."""
    from dermsim.calibration.diagnostics import diagnostics_path, write_diagnostics
    from dermsim.calibration.fit import CalibrationConfig, calibrate
    from dermsim.calibration.posterior import write_posterior
    from dermsim.calibration.smc import SMCConfig
    from dermsim.calibration.targets import load_targets

    targets = _targets_path(targets)
    command = command or f"dermsim calibrate --seed {seed}"
    if load_targets(targets).method == "laplace-is":
        given = [name for name, v in (("--particles", particles), ("--proposals", proposals),
                                      ("--generations", generations), ("--n-vp", n_vp)) if v is not None]
        if given or resume:
            what = ", ".join(given + (["--resume"] if resume else []))
            raise InvalidInputError(
                f"{what} apply to the first version's ABC-SMC targets only; {targets.name} is fitted by "
                "MAP + Laplace + importance sampling (options --iterations, --max-draws, --n-vp-scale, "
                "--mode); got them with a second-version targets file.")
        return _run_likelihood_fit(seed, targets, None if out is None else Path(out),
                                   likelihood or LikelihoodFitOptions(), command, log or (lambda _m: None))

    base = CalibrationConfig()
    # None means "the default"; 0 means 0 (and is refused by the configs with one line)
    smc = SMCConfig(n_particles=base.smc.n_particles if particles is None else particles,
                    n_proposals=base.smc.n_proposals if proposals is None else proposals,
                    n_generations=base.smc.n_generations if generations is None else generations)
    config = CalibrationConfig(n_vp=base.n_vp if n_vp is None else n_vp, smc=smc)
    out = Path(out) if out is not None else default_posterior_out(seed, targets)
    checkpoint = out.with_name(out.name + ".checkpoint.npz")
    if checkpoint.exists() and not resume:
        checkpoint.unlink()
    out.parent.mkdir(parents=True, exist_ok=True)
    starts = np.cumsum([0] + [smc.evaluations(g) for g in range(smc.n_generations)])
    progress.start(int(starts[-1]), "calibrating")
    seen = 0

    def update(gen: int, done: int) -> None:
        nonlocal seen
        check_cancel(cancel)
        now = int(starts[gen]) + done
        progress.advance(now - seen)
        seen = now

    post = calibrate(seed, targets_path=targets, config=config, checkpoint=checkpoint, resume=resume,
                     progress=update, command=command)
    progress.done(f"{post.n} draws")
    write_posterior(post, out)
    diag = diagnostics_path(out)
    write_diagnostics(post, diag)
    checkpoint.unlink(missing_ok=True)
    eps = post.meta["smc"]["epsilons"]
    return CalibrationRun(post, out, diag, f"posterior {post.version}: {post.n} draws (ESS {post.ess:.0f}), "
                          f"tolerance {eps[0]:.1f} -> {eps[-1]:.1f}; written to {out}")


def _posterior(path: str | Path | None) -> Posterior:
    return load_posterior(path) if path is not None else default_posterior()


def preregister(posterior: str | Path | None = None, out: str | Path | None = None,
                seed: int = SHIPPED_SEED) -> Path:
    """Write the pre-registration of the posterior's model version (predictive intervals; no held-out
    outcome is read): ``v2.csv`` for a second-version posterior, ``true-ad3.csv`` for the first."""
    post = _posterior(posterior)
    if post.meta.get("method") == "laplace-is":
        from dermsim.calibration import preregister_v2 as p2

        return p2.write_preregistration_v2(post, Path(out) if out is not None else PREREG_V2_OUT, seed=seed,
                                           workers=2)
    from dermsim.calibration import validate as v

    return v.write_preregistration(post, Path(out) if out is not None else PREREG_OUT, seed=seed)


def validate_model(out: str | Path | None, posterior: str | Path | None = None,
                   prereg_file: str | Path | None = None, seed: int = SHIPPED_SEED, *,
                   vpc_draws: int = VPC_DRAWS, vpc_data: str | Path | None = None,
                   pk_draws: int = CHILDREN_PK_DRAWS) -> str:
    """Run the validation ladder into ``out``, comparing with the committed pre-registration
    (default: the one shipped with the package); returns the summary text. A second-version
    posterior also gets the visual predictive check (``vpc.csv``, ``vpc.png``; TRuE-AD1/2 published
    results, or the NONMEM dataset ``vpc_data``) with ``vpc_draws`` posterior draws (0: none), and
    the children's blood-level check with ``pk_draws`` posterior draws."""
    from dermsim.calibration import validate as v

    if out is None:
        raise InvalidInputError("--out is required (a directory) unless --preregister is given.")
    post = _posterior(posterior)
    if post.meta.get("method") == "laplace-is":
        from dermsim.calibration import preregister_v2 as p2
        from dermsim.calibration.children_pk import children_pk_lines, compute_children_pk, write_children_pk
        from dermsim.workflows.vpc import vpc_arms, vpc_summary_lines, write_vpc

        check_int("--vpc-draws", vpc_draws, minimum=0)
        check_int("--pk-draws", pk_draws, minimum=1)
        # the VPC's data are read and checked first: a bad --vpc-data fails before anything is written
        arms = vpc_arms(vpc_data, seed=seed) if vpc_draws > 0 else None
        text = p2.run_validation_v2(post, out, prereg_file or p2.default_prereg_v2_path())
        # children's blood levels beside the published pediatric PK (post hoc; children_pk.py)
        rows = compute_children_pk(post, seed, n_draws=pk_draws)
        write_children_pk(rows, out)
        text += "\n" + "\n".join(children_pk_lines(rows)) + "\n"
        with atomic_path(Path(out) / "summary.md") as tmp:
            tmp.write_text(text)
        if arms is not None:
            run = write_vpc(post, out, data=vpc_data, n_draws=vpc_draws, seed=seed, arms=arms)
            what = (f"Visual predictive check, {Path(vpc_data).name}" if vpc_data is not None else
                    "Visual predictive check, TRuE-AD1/2 (calibration targets: a check of the fit, not a "
                    "validation)")
            text += "\n" + "\n".join([*vpc_summary_lines(run.table, what), "",
                                       f"Figure: {Path(out) / 'vpc.png'}; bands by week in vpc.csv."]) + "\n"
            with atomic_path(Path(out) / "summary.md") as tmp:
                tmp.write_text(text)
        return text
    return v.run_validation(post, out, prereg_file or v.default_prereg_path(), seed=seed)
