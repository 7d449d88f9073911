"""``dermsim calibrate`` (ABC-SMC to TRuE-AD1/2 and adult PK) and ``dermsim validate`` (the ladder).

``dermsim calibrate --seed 20261125`` reproduces the shipped posterior; ``--resume`` continues an
interrupted run from its per-generation checkpoint (``<out>.checkpoint.npz``).
``dermsim validate --preregister`` writes ``validation/preregistered/true-ad3.csv`` from the
frozen posterior (commit it before comparing); ``dermsim validate --out DIR`` runs the ladder
using the committed file unchanged.
"""

from __future__ import annotations

import shlex
import sys
from pathlib import Path

import numpy as np
import typer
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

from dermsim.cli import app
from dermsim.errors import InvalidInputError

SHIPPED_SEED = 20261125


@app.command("calibrate")
def calibrate_cmd(
    seed: int = typer.Option(SHIPPED_SEED, "--seed", help="random seed (the shipped posterior: 20261125)"),
    out: Path = typer.Option(None, "--out", help="posterior JSON to write (default: the package's "
                             "posteriors/<targets version>-s<seed>.json)"),
    resume: bool = typer.Option(False, "--resume", help="continue from the checkpoint beside --out"),
    targets: Path = typer.Option(None, "--targets", help="targets TOML (default: adult_trials.toml)"),
    n_vp: int = typer.Option(None, "--n-vp", help="virtual patients per arm (default 1500)"),
    particles: int = typer.Option(None, "--particles", help="SMC particles kept per generation"),
    proposals: int = typer.Option(None, "--proposals", help="candidates evaluated per generation"),
    generations: int = typer.Option(None, "--generations", help="SMC generations"),
    n_vp_scale: float = typer.Option(1.0, "--n-vp-scale", help="v2: scale every arm's virtual patients "
                                     "(1 = the targets file's sizes)"),
    iterations: int = typer.Option(40, "--iterations", help="v2: least-squares function evaluations for "
                                   "the MAP (one simulation each; Broyden Jacobian updates)"),
    target_ess: int = typer.Option(1000, "--target-ess", help="v2: importance-sampling ESS to reach"),
    max_draws: int = typer.Option(4000, "--max-draws", help="v2: most importance-sampling draws"),
    batch: int = typer.Option(100, "--batch", help="v2: importance-sampling draws per adaptation"),
    time_budget: float = typer.Option(None, "--time-budget", help="v2: seconds of importance sampling "
                                      "at most (the run stops and reports its ESS)"),
    workers: int = typer.Option(1, "--workers", help="v2: worker processes (single-threaded each)"),
    mode: str = typer.Option("is", "--mode", help="v2: 'is' (importance-sampling posterior) or 'laplace' "
                             "(provisional: Laplace draws, a simulated subset checks them)"),
    map_time_budget: float = typer.Option(None, "--map-time-budget", help="v2: seconds of MAP search at most "
                                          "(then the best point so far, reported as not converged)"),
    start: Path = typer.Option(None, "--start", help="v2: start the MAP search at the MAP of this earlier "
                               "v2 posterior file (a warm start; the objective is unchanged)"),
) -> None:
    """Calibrate the model (default: the second version, targets/v2.toml: CRN Gaussian likelihood,
    MAP, Laplace and importance sampling) and write the posterior and its diagnostics."""
    from dermsim.calibration.diagnostics import diagnostics_path, write_diagnostics
    from dermsim.calibration.fit import CalibrationConfig, calibrate, calibrate_v2
    from dermsim.calibration.posterior import write_posterior
    from dermsim.calibration.smc import SMCConfig
    from dermsim.calibration.targets import V2_TARGETS, load_targets

    targets = targets if targets is not None else V2_TARGETS
    command = "dermsim " + " ".join(shlex.quote(a) for a in sys.argv[1:]) if sys.argv[1:2] == ["calibrate"] \
        else f"dermsim calibrate --seed {seed}"
    if load_targets(targets).method == "laplace-is":
        from dermsim.calibration.laplace import LaplaceISConfig
        from dermsim.calibration.posterior import POSTERIOR_DIR

        cfg = LaplaceISConfig(max_iterations=iterations, target_ess=target_ess, max_draws=max_draws,
                              batch=batch, time_budget_s=time_budget, workers=workers, mode=mode,
                              map_time_budget_s=map_time_budget)
        tag = "laplace-provisional-" if mode == "laplace" else ""
        out = out or POSTERIOR_DIR / f"{load_targets(targets).version}-{tag}s{seed}.json"
        post = calibrate_v2(seed, targets_path=targets, config=cfg, n_vp_scale=n_vp_scale, command=command,
                            z0=start, log=lambda m: typer.echo(m, err=True))
        write_posterior(post, out)
        write_diagnostics(post, diagnostics_path(out))
        info = post.meta["importance_sampling"]
        typer.echo(f"posterior {post.version}: {info['draws']} distinct draws, importance-sampling ESS "
                   f"{info.get('ess_importance_check', info['ess']):.1f} (target {info['target_ess']}: "
                   f"{'converged' if info['converged'] else 'NOT reached'}); MAP "
                   f"{'converged' if post.meta['map']['converged'] else 'NOT converged'} "
                   f"({post.meta['map']['message']}); shipped weights: {info['shipped_weights']} (ESS "
                   f"{info['ess_shipped']:.0f}); written to {out}")
        return

    base = CalibrationConfig()
    smc = SMCConfig(n_particles=particles or base.smc.n_particles,
                    n_proposals=proposals or base.smc.n_proposals,
                    n_generations=generations or base.smc.n_generations)
    config = CalibrationConfig(n_vp=n_vp or base.n_vp, smc=smc)
    if out is None:
        from dermsim.calibration.posterior import POSTERIOR_DIR
        from dermsim.calibration.targets import load_targets

        out = POSTERIOR_DIR / f"{load_targets(targets).version}-s{seed}.json"
    checkpoint = out.with_name(out.name + ".checkpoint.npz")
    if checkpoint.exists() and not resume:
        checkpoint.unlink()
    starts = np.cumsum([0] + [smc.evaluations(g) for g in range(smc.n_generations)])
    total = int(starts[-1])
    with Progress(TextColumn("calibrating"), BarColumn(), TextColumn("{task.description}"),
                  TimeElapsedColumn(), transient=False) as bar:
        task = bar.add_task("", total=total)

        def progress(gen: int, done: int) -> None:
            bar.update(task, completed=int(starts[gen]) + done,
                       description=f"generation {gen + 1}/{smc.n_generations}, {done}/{smc.evaluations(gen)}")

        post = calibrate(seed, targets_path=targets, config=config, checkpoint=checkpoint, resume=resume,
                         progress=progress, command=command)
    write_posterior(post, out)
    write_diagnostics(post, diagnostics_path(out))
    checkpoint.unlink(missing_ok=True)
    eps = post.meta["smc"]["epsilons"]
    typer.echo(f"posterior {post.version}: {post.n} draws (ESS {post.ess:.0f}), tolerance {eps[0]:.1f} -> "
               f"{eps[-1]:.1f}; written to {out}")


@app.command("validate")
def validate_cmd(
    out: Path = typer.Option(None, "--out", help="directory for validation.csv and summary.md"),
    posterior: Path = typer.Option(None, "--posterior", help="posterior JSON (default: the shipped one)"),
    preregister: bool = typer.Option(False, "--preregister",
                                     help="write the TRuE-AD3 pre-registration file (no comparison)"),
    prereg_file: Path = typer.Option(None, "--prereg-file", help="pre-registration CSV (default: "
                                     "validation/preregistered/true-ad3.csv in the repository)"),
    seed: int = typer.Option(SHIPPED_SEED, "--seed", help="seed of the predictive simulations"),
) -> None:
    """Validation ladder: cross-prediction AD1<->AD2, held-out TRuE-AD3, pediatric PK plausibility."""
    from dermsim.calibration import validate as v
    from dermsim.calibration.posterior import default_posterior, load_posterior

    post = load_posterior(posterior) if posterior is not None else default_posterior()
    if post.meta.get("method") == "laplace-is":
        from dermsim.calibration import preregister_v2 as p2

        prereg_file = prereg_file or p2.default_prereg_v2_path()
        if preregister:
            path = p2.write_preregistration_v2(post, prereg_file, seed=seed, workers=2)
            typer.echo(f"pre-registered v2 predictions written to {path}; commit it alone before any "
                       "comparison.")
            return
        if out is None:
            raise InvalidInputError("--out is required (a directory) unless --preregister is given.")
        summary = p2.run_validation_v2(post, out, prereg_file)
        typer.echo(summary)
        return
    prereg_file = prereg_file or v.default_prereg_path()
    if preregister:
        path = v.write_preregistration(post, prereg_file, seed=seed)
        typer.echo(f"pre-registered TRuE-AD3 predictions written to {path}; commit it before running "
                   "`dermsim validate --out DIR`.")
        return
    if out is None:
        raise InvalidInputError("--out is required (a directory) unless --preregister is given.")
    summary = v.run_validation(post, out, prereg_file, seed=seed)  # first version (ABC-SMC posterior)
    typer.echo(summary)
