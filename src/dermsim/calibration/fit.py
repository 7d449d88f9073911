"""``calibrate``: targets + seed -> posterior (the function behind ``dermsim calibrate``)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from dermsim._validate import LIMITS, check_int
from dermsim.calibration.posterior import Posterior, code_version, model_parameters_sha256
from dermsim.calibration.priors import Prior, default_prior
from dermsim.calibration.smc import SMCConfig, compute_proposal_mixture_logpdf, run_abc_smc
from dermsim.calibration.summaries import (
    STAT_NAMES,
    binomial_uniforms,
    compute_distance,
    compute_summaries,
    compute_trial_shift,
    make_setup,
    simulate_stats,
)
from dermsim.calibration.targets import DEFAULT_TARGETS, load_targets

CALIBRATION_POPULATION = "true-ad1"  # pooled TRuE-AD1/2 baseline (true-ad2.toml is the same spec)


@dataclass(frozen=True)
class CalibrationConfig:
    """Size of a calibration run (the shipped run: 1,500 virtual patients per arm, 120 particles,
    300 prior draws, then 11 generations of 60 replenished particles x 3 MCMC moves: at most 2,280
    candidates, fewer in practice (moves the prior rejects are not simulated); 10-25 min of wall
    time on the shared 2-core machine)."""

    n_vp: int = 1500
    smc: SMCConfig = field(default_factory=SMCConfig)
    population: str = CALIBRATION_POPULATION

    def __post_init__(self) -> None:
        check_int("n_vp", self.n_vp, minimum=10, maximum=LIMITS["subjects"])

    def to_dict(self) -> dict[str, Any]:
        return {"n_vp": self.n_vp, "population": self.population, **self.smc.to_dict()}


def calibrate(seed: int, *, targets_path: str | Path | None = None, config: CalibrationConfig | None = None,
              checkpoint: str | Path | None = None, resume: bool = False, prior: Prior | None = None,
              progress: Callable[[int, int], None] | None = None, command: str = "",
              version: str | None = None, stop_after: int | None = None) -> Posterior:
    """Fit the calibrated parameters to the targets by ABC-SMC; returns the posterior
    (version: ``<targets version>-s<seed>`` unless given)."""
    config = CalibrationConfig() if config is None else config
    targets_path = Path(targets_path) if targets_path is not None else DEFAULT_TARGETS
    targets = load_targets(targets_path)
    version = version or f"{targets.version}-s{seed}"
    prior = default_prior() if prior is None else prior
    setup = make_setup(config.population, config.n_vp, seed)
    uniforms = binomial_uniforms(targets, seed)

    def evaluate(z: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        natural = prior.to_natural(z)
        stats = simulate_stats(natural, prior, setup)
        shift = compute_trial_shift(natural, prior, targets)
        return compute_distance(compute_summaries(stats, targets, uniforms, shift), targets), stats

    meta = {"targets_sha256": targets.sha256, "calibration": config.to_dict(), "prior": prior.to_dict()}
    state = run_abc_smc(prior, evaluate, config.smc, seed, checkpoint=checkpoint, resume=resume, meta=meta,
                        progress=progress, stop_after=stop_after)
    log_q = compute_proposal_mixture_logpdf(state, prior, state.all_z)

    def rnd(a: np.ndarray) -> list:
        return np.round(np.asarray(a, float), 6).tolist()

    extra = {
        "created_by": command or f"dermsim calibrate --seed {seed}",
        "model_parameters_sha256": model_parameters_sha256(),
        "calibration": config.to_dict(),
        "targets": targets.to_dict()["targets"],
        "stat_names": list(STAT_NAMES),
        "smc": {"generations_done": state.generation + 1, "epsilons": state.epsilons, "ess": state.ess,
                "acceptance": state.acceptance, "distinct": state.distinct},
        "distances": rnd(state.distances),
        "stats": rnd(state.stats),
        "archive": {"z": rnd(state.all_z), "stats": rnd(state.all_stats),
                    "generation": state.all_generation.astype(int).tolist(), "log_q": rnd(log_q)},
    }
    return Posterior(version=version, names=tuple(prior.names), draws=prior.to_natural(state.particles),
                     weights=state.weights, prior=prior, targets_sha256=targets.sha256,
                     targets_version=targets.version, code_version=code_version(), seed=int(seed),
                     command=extra["created_by"], meta=extra)
