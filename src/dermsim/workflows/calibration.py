"""Calibration (ABC-SMC to TRuE-AD1/2 and adult PK) and the validation ladder.

Nothing is written into the installed package: ``calibrate`` writes its posterior to ``out``
(default :func:`default_posterior_out`, under the current folder) and ``--preregister`` writes the
pre-registration to ``validation/preregistered/true-ad3.csv`` under the current folder (the source
checkout's committed file when run from the repository root). Shipping a new posterior or
pre-registration is a deliberate copy into ``calibration/posteriors`` / ``calibration/validation``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from dermsim.calibration.posterior import Posterior, default_posterior, load_posterior
from dermsim.errors import InvalidInputError
from dermsim.workflows.progress import NO_PROGRESS, CancelToken, Progress, check_cancel

__all__ = ["SHIPPED_SEED", "CalibrationRun", "default_posterior_out", "preregister", "run_calibration",
           "validate_model"]

SHIPPED_SEED = 20261125
PREREG_OUT = Path("validation") / "preregistered" / "true-ad3.csv"


def default_posterior_out(seed: int, targets: str | Path | None = None) -> Path:
    """``posteriors/<targets version>-s<seed>.json`` under the current folder."""
    from dermsim.calibration.targets import load_targets

    return Path("posteriors") / f"{load_targets(targets).version}-s{seed}.json"


@dataclass(frozen=True)
class CalibrationRun:
    posterior: Posterior
    out: Path
    diagnostics: Path


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
    progress: Progress = NO_PROGRESS,
    cancel: CancelToken | None = None,
) -> CalibrationRun:
    """Fit the model to the targets by ABC-SMC and write the posterior and its diagnostics;
    ``resume`` continues from the per-generation checkpoint beside ``out``."""
    from dermsim.calibration.diagnostics import diagnostics_path, write_diagnostics
    from dermsim.calibration.fit import CalibrationConfig, calibrate
    from dermsim.calibration.posterior import write_posterior
    from dermsim.calibration.smc import SMCConfig

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
                     progress=update, command=command or f"dermsim calibrate --seed {seed}")
    progress.done(f"{post.n} draws")
    write_posterior(post, out)
    diag = diagnostics_path(out)
    write_diagnostics(post, diag)
    checkpoint.unlink(missing_ok=True)
    return CalibrationRun(post, out, diag)


def _posterior(path: str | Path | None) -> Posterior:
    return load_posterior(path) if path is not None else default_posterior()


def preregister(posterior: str | Path | None = None, out: str | Path | None = None,
                seed: int = SHIPPED_SEED) -> Path:
    """Write the TRuE-AD3 pre-registration (predictive intervals; no TRuE-AD3 outcome is read)."""
    from dermsim.calibration import validate as v

    return v.write_preregistration(_posterior(posterior), Path(out) if out is not None else PREREG_OUT,
                                   seed=seed)


def validate_model(out: str | Path | None, posterior: str | Path | None = None,
                   prereg_file: str | Path | None = None, seed: int = SHIPPED_SEED) -> str:
    """Run the validation ladder into ``out``, comparing with the committed pre-registration
    (default: the one shipped with the package); returns the summary text."""
    from dermsim.calibration import validate as v

    if out is None:
        raise InvalidInputError("--out is required (a directory) unless --preregister is given.")
    post = _posterior(posterior)
    return v.run_validation(post, out, prereg_file or v.default_prereg_path(), seed=seed)
