"""``dermsim calibrate`` (ABC-SMC to TRuE-AD1/2 and adult PK) and ``dermsim validate`` (the ladder):
:func:`dermsim.workflows.run_calibration`, :func:`~dermsim.workflows.preregister`,
:func:`~dermsim.workflows.validate_model`.

``dermsim calibrate --seed 20261125`` reproduces the shipped posterior into
``posteriors/<targets version>-s<seed>.json`` under the current folder (never into the installed
package); ``--resume`` continues an interrupted run from its per-generation checkpoint
(``<out>.checkpoint.npz``). ``dermsim validate --preregister`` writes
``validation/preregistered/true-ad3.csv`` (under the current folder) from the frozen posterior
(commit it before comparing); ``dermsim validate --out DIR`` runs the ladder using the committed
pre-registration shipped with the package, unchanged.
"""

from __future__ import annotations

import shlex
import sys
from pathlib import Path

import typer

from dermsim.cli import app
from dermsim.cli.progress import RichProgress
from dermsim.workflows import (
    CHILDREN_PK_DRAWS,
    SHIPPED_SEED,
    VPC_DRAWS,
    LikelihoodFitOptions,
    preregister,
    run_calibration,
    validate_model,
)


@app.command("calibrate")
def calibrate_cmd(
    seed: int = typer.Option(SHIPPED_SEED, "--seed", help="random seed (the shipped posterior: 20261125)"),
    out: Path = typer.Option(None, "--out", help="posterior JSON to write (default: "
                             "posteriors/<targets version>-s<seed>.json under the current folder)"),
    resume: bool = typer.Option(False, "--resume", help="continue from the checkpoint beside --out"),
    targets: Path = typer.Option(None, "--targets", help="targets TOML (default: targets/v2.toml)"),
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
    mode: str = typer.Option("is", "--mode", help="v2: 'is' (importance-sampling posterior), 'laplace' "
                             "(provisional: Laplace draws, a simulated subset checks them) or 'emulator' "
                             "(MCMC on an emulator of the objective, checked by exact simulations; the "
                             "shipped posterior's method)"),
    map_time_budget: float = typer.Option(None, "--map-time-budget", help="v2: seconds of MAP search at most "
                                          "(then the best point so far, reported as not converged)"),
    start: Path = typer.Option(None, "--start", help="v2: start the MAP search at the MAP of this earlier "
                               "v2 posterior file (a warm start; the objective is unchanged)"),
) -> None:
    """Calibrate the model (default: the second version, targets/v2.toml: CRN Gaussian likelihood,
    MAP, Laplace and importance sampling) and write the posterior and its diagnostics."""
    command = "dermsim " + " ".join(shlex.quote(a) for a in sys.argv[1:]) if sys.argv[1:2] == ["calibrate"] \
        else f"dermsim calibrate --seed {seed}"
    likelihood = LikelihoodFitOptions(n_vp_scale=n_vp_scale, iterations=iterations, target_ess=target_ess,
                                      max_draws=max_draws, batch=batch, time_budget_s=time_budget,
                                      workers=workers, mode=mode, map_time_budget_s=map_time_budget,
                                      start=start)
    with RichProgress() as progress:
        run = run_calibration(seed, out=out, resume=resume, targets=targets, n_vp=n_vp, particles=particles,
                              proposals=proposals, generations=generations, command=command,
                              likelihood=likelihood, log=lambda m: typer.echo(m, err=True),
                              progress=progress)
    typer.echo(run.summary)


@app.command("validate")
def validate_cmd(
    out: Path = typer.Option(None, "--out", help="directory for validation.csv and summary.md"),
    posterior: Path = typer.Option(None, "--posterior", help="posterior JSON (default: the shipped one)"),
    preregister_: bool = typer.Option(False, "--preregister",
                                      help="write the pre-registration file of the posterior's model "
                                           "version (no comparison)"),
    prereg_file: Path = typer.Option(None, "--prereg-file", help="pre-registration CSV (default: to write, "
                                     "validation/preregistered/true-ad3.csv under the current folder; to "
                                     "compare, the committed one shipped with the package)"),
    seed: int = typer.Option(SHIPPED_SEED, "--seed", help="seed of the predictive simulations"),
    vpc_draws: int = typer.Option(VPC_DRAWS, "--vpc-draws", help="posterior draws of the visual predictive "
                                  "check (vpc.csv, vpc.png; 0: no VPC)"),
    vpc_data: Path = typer.Option(None, "--vpc-data", help="NONMEM dataset .csv (dermsim trial simulate "
                                  "--format nonmem) or ADaM folder (ADSL + ADEFF) to check instead of the "
                                  "published TRuE-AD1/2 results"),
    pk_draws: int = typer.Option(CHILDREN_PK_DRAWS, "--pk-draws", help="posterior draws of the children's "
                                 "blood-level check (children_pk.csv)"),
) -> None:
    """Validation ladder: cross-prediction AD1<->AD2, held-out TRuE-AD3, pediatric PK plausibility;
    with a second-version posterior, the visual predictive check by visit."""
    if preregister_:
        path = preregister(posterior, prereg_file, seed=seed)
        typer.echo(f"pre-registered predictions written to {path}; commit it alone before any comparison "
                   "(`dermsim validate --out DIR`).")
        return
    typer.echo(validate_model(out, posterior, prereg_file, seed=seed, vpc_draws=vpc_draws, vpc_data=vpc_data,
                              pk_draws=pk_draws))
