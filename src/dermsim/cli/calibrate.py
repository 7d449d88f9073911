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
from dermsim.workflows import SHIPPED_SEED, preregister, run_calibration, validate_model


@app.command("calibrate")
def calibrate_cmd(
    seed: int = typer.Option(SHIPPED_SEED, "--seed", help="random seed (the shipped posterior: 20261125)"),
    out: Path = typer.Option(None, "--out", help="posterior JSON to write (default: "
                             "posteriors/<targets version>-s<seed>.json under the current folder)"),
    resume: bool = typer.Option(False, "--resume", help="continue from the checkpoint beside --out"),
    targets: Path = typer.Option(None, "--targets", help="targets TOML (default: adult_trials.toml)"),
    n_vp: int = typer.Option(None, "--n-vp", help="virtual patients per arm (default 1500)"),
    particles: int = typer.Option(None, "--particles", help="SMC particles kept per generation"),
    proposals: int = typer.Option(None, "--proposals", help="candidates evaluated per generation"),
    generations: int = typer.Option(None, "--generations", help="SMC generations"),
) -> None:
    """Calibrate the model to TRuE-AD1/2 and adult PK (ABC-SMC) and write the posterior."""
    command = "dermsim " + " ".join(shlex.quote(a) for a in sys.argv[1:]) if sys.argv[1:2] == ["calibrate"] \
        else f"dermsim calibrate --seed {seed}"
    with RichProgress() as progress:
        run = run_calibration(seed, out=out, resume=resume, targets=targets, n_vp=n_vp, particles=particles,
                              proposals=proposals, generations=generations, command=command,
                              progress=progress)
    post = run.posterior
    eps = post.meta["smc"]["epsilons"]
    typer.echo(f"posterior {post.version}: {post.n} draws (ESS {post.ess:.0f}), tolerance {eps[0]:.1f} -> "
               f"{eps[-1]:.1f}; written to {run.out}")


@app.command("validate")
def validate_cmd(
    out: Path = typer.Option(None, "--out", help="directory for validation.csv and summary.md"),
    posterior: Path = typer.Option(None, "--posterior", help="posterior JSON (default: the shipped one)"),
    preregister_: bool = typer.Option(False, "--preregister",
                                      help="write the TRuE-AD3 pre-registration file (no comparison)"),
    prereg_file: Path = typer.Option(None, "--prereg-file", help="pre-registration CSV (default: to write, "
                                     "validation/preregistered/true-ad3.csv under the current folder; to "
                                     "compare, the committed one shipped with the package)"),
    seed: int = typer.Option(SHIPPED_SEED, "--seed", help="seed of the predictive simulations"),
) -> None:
    """Validation ladder: cross-prediction AD1<->AD2, held-out TRuE-AD3, pediatric PK plausibility."""
    if preregister_:
        path = preregister(posterior, prereg_file, seed=seed)
        typer.echo(f"pre-registered TRuE-AD3 predictions written to {path}; commit it before running "
                   "`dermsim validate --out DIR`.")
        return
    typer.echo(validate_model(out, posterior, prereg_file, seed=seed))
