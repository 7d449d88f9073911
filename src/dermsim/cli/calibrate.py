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
) -> None:
    """Calibrate the model to TRuE-AD1/2 and adult PK (ABC-SMC) and write the posterior."""
    from dermsim.calibration.diagnostics import diagnostics_path, write_diagnostics
    from dermsim.calibration.fit import CalibrationConfig, calibrate
    from dermsim.calibration.posterior import write_posterior
    from dermsim.calibration.smc import SMCConfig

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
    command = "dermsim " + " ".join(shlex.quote(a) for a in sys.argv[1:]) if sys.argv[1:2] == ["calibrate"] \
        else f"dermsim calibrate --seed {seed}"
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
    prereg_file = prereg_file or v.default_prereg_path()
    if preregister:
        path = v.write_preregistration(post, prereg_file, seed=seed)
        typer.echo(f"pre-registered TRuE-AD3 predictions written to {path}; commit it before running "
                   "`dermsim validate --out DIR`.")
        return
    if out is None:
        raise InvalidInputError("--out is required (a directory) unless --preregister is given.")
    summary = v.run_validation(post, out, prereg_file, seed=seed)
    typer.echo(summary)
