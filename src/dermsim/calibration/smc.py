"""ABC-SMC (adaptive population Monte Carlo) for a simulator that evaluates a batch of candidates.

Why not ``pyabc``: pyabc evaluates one parameter set per model call and its samplers
parallelise across processes; here one candidate is already an array computation over thousands
of virtual patients, the machine has two shared cores, and the CRN design needs every candidate
to reuse the same patients and uniforms. A batch-first SMC of ~150 lines is simpler to make
deterministic and resumable (checkpoint per generation) than pyabc's database-driven loop.

Algorithm (Beaumont et al. 2009 importance weights; Lenormand et al. 2013 quantile tolerance;
Filippi et al. 2013 "OLCM" kernel):

* generation 0: ``n_proposals`` draws from the prior; the ``n_particles`` closest are kept and
  the tolerance eps_0 is the largest kept distance (equal weights);
* generation t: each proposal picks an ancestor i ~ w and moves it with N(theta_i, Sigma_i), where
  Sigma_i is the optimal local covariance (OLCM) of the particles that already lie below the
  median distance; ``n_proposals`` proposals are evaluated, the ``n_particles`` closest are kept,
  eps_t is the largest kept distance, and weights are w ~ prior(theta) / sum_j w_j K_j(theta);
* a fixed number of generations and proposals per generation makes the cost (and the run time)
  known in advance. Effective sample size 1 / sum w^2 is recorded per generation.

Every generation draws from its own child stream (seed, generation), and the state after each
generation is checkpointed atomically, so a resumed run gives the same posterior as an
uninterrupted one. Kernel truncation at the prior's support is handled by redrawing; the small
normalisation change this implies is ignored (as pyabc does).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from dermsim._atomic import atomic_path
from dermsim._rng import SeedLike, as_seed_sequence, child_generator, seed_record
from dermsim._validate import check_int
from dermsim.calibration.priors import Prior
from dermsim.errors import DataValidationError, InvalidInputError

Evaluate = Callable[[np.ndarray], tuple[np.ndarray, np.ndarray]]  # z (m, d) -> (distance (m,), stats (m, S))
_JITTER = 1e-8


@dataclass(frozen=True)
class SMCConfig:
    n_particles: int = 100
    n_proposals: int = 200
    n_generations: int = 6
    olcm_quantile: float = 0.5

    def __post_init__(self) -> None:
        check_int("n_particles", self.n_particles, minimum=5)
        check_int("n_proposals", self.n_proposals, minimum=self.n_particles)
        check_int("n_generations", self.n_generations, minimum=1)
        if not 0 < self.olcm_quantile <= 1:
            raise InvalidInputError(f"olcm_quantile must be within (0, 1]; got {self.olcm_quantile}.")

    def to_dict(self) -> dict[str, Any]:
        return {"n_particles": self.n_particles, "n_proposals": self.n_proposals,
                "n_generations": self.n_generations, "olcm_quantile": self.olcm_quantile}


@dataclass
class SMCState:
    """Everything needed to continue a run (and, at the end, the result)."""

    generation: int = -1                                  # last completed generation
    particles: np.ndarray | None = None                   # (N, d) unconstrained
    weights: np.ndarray | None = None                     # (N,) normalised
    distances: np.ndarray | None = None                   # (N,)
    stats: np.ndarray | None = None                       # (N, S)
    epsilons: list[float] = field(default_factory=list)
    ess: list[float] = field(default_factory=list)
    # every evaluated proposal (for cross-prediction by importance re-weighting)
    all_z: np.ndarray | None = None
    all_stats: np.ndarray | None = None
    all_generation: np.ndarray | None = None
    # each generation's proposal kernel: ancestors, ancestor weights, covariances
    kernels: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = field(default_factory=list)


def compute_olcm(particles: np.ndarray, weights: np.ndarray, distances: np.ndarray,
                 quantile: float) -> np.ndarray:
    """Per-particle optimal local covariance (Filippi et al. 2013), (N, d, d)."""
    eps = np.quantile(distances, quantile)
    keep = distances <= eps
    w = weights[keep] / weights[keep].sum()
    th = particles[keep]
    mean = w @ th
    cov = (th - mean).T @ ((th - mean) * w[:, None])
    diff = mean[None, :] - particles
    out = cov[None, :, :] + diff[:, :, None] * diff[:, None, :]
    return out + _JITTER * np.eye(particles.shape[1])[None]


def compute_kernel_logpdf(z: np.ndarray, centres: np.ndarray, weights: np.ndarray,
                          covs: np.ndarray) -> np.ndarray:
    """log sum_i w_i N(z; centre_i, cov_i) for every row of z (m, d)."""
    d = z.shape[1]
    chol = np.linalg.cholesky(covs)                                  # (N, d, d)
    diff = z[:, None, :] - centres[None, :, :]                        # (m, N, d)
    sol = np.linalg.solve(chol[None], diff[..., None])[..., 0]        # (m, N, d)
    logdet = 2.0 * np.sum(np.log(np.diagonal(chol, axis1=1, axis2=2)), axis=1)
    comp = -0.5 * np.sum(sol**2, axis=2) - 0.5 * logdet[None, :] - 0.5 * d * np.log(2 * np.pi)
    a = comp + np.log(np.maximum(weights, 1e-300))[None, :]
    amax = a.max(axis=1, keepdims=True)
    return (amax + np.log(np.exp(a - amax).sum(axis=1, keepdims=True)))[:, 0]


def _propose(state: SMCState, covs: np.ndarray, prior: Prior, m: int, rng: np.random.Generator) -> np.ndarray:
    chol = np.linalg.cholesky(covs)
    out = np.empty((0, prior.dim))
    while out.shape[0] < m:
        anc = rng.choice(state.weights.shape[0], size=2 * m, p=state.weights)
        step = np.einsum("nij,nj->ni", chol[anc], rng.standard_normal((2 * m, prior.dim)))
        z = state.particles[anc] + step
        out = np.vstack([out, z[prior.in_support(z)]])
    return out[:m]


def _evaluate(evaluate: Evaluate, z: np.ndarray, batch: int,
              progress: Callable[[int], None] | None) -> tuple[np.ndarray, np.ndarray]:
    dists, stats = [], []
    for i in range(0, z.shape[0], batch):
        d, s = evaluate(z[i:i + batch])
        dists.append(np.asarray(d, float))
        stats.append(np.asarray(s, float))
        if progress is not None:
            progress(z[i:i + batch].shape[0])
    return np.concatenate(dists), np.concatenate(stats)


def _append(a: np.ndarray | None, b: np.ndarray) -> np.ndarray:
    return b.copy() if a is None else np.concatenate([a, b])


def step_generation(state: SMCState, prior: Prior, evaluate: Evaluate, config: SMCConfig, seed: SeedLike,
                    progress: Callable[[int], None] | None = None, batch: int = 8) -> SMCState:
    """Run generation ``state.generation + 1`` and return the new state."""
    g = state.generation + 1
    rng = child_generator(seed, g)
    if g == 0:
        z = prior.sample(config.n_proposals, rng)
        centres, cw, covs = prior.mean[None, :], np.ones(1), np.diag(prior.sd**2)[None]
    else:
        covs = compute_olcm(state.particles, state.weights, state.distances, config.olcm_quantile)
        centres, cw = state.particles, state.weights
        z = _propose(state, covs, prior, config.n_proposals, rng)
    dist, stats = _evaluate(evaluate, z, batch, progress)
    order = np.argsort(dist, kind="stable")[: config.n_particles]
    zk = z[order]
    if g == 0:
        w = np.ones(order.shape[0])
    else:
        w = np.exp(prior.logpdf(zk) - compute_kernel_logpdf(zk, centres, cw, covs))
    w = w / w.sum()
    return SMCState(
        generation=g, particles=zk, weights=w, distances=dist[order], stats=stats[order],
        epsilons=[*state.epsilons, float(dist[order][-1])], ess=[*state.ess, float(1.0 / np.sum(w**2))],
        all_z=_append(state.all_z, z), all_stats=_append(state.all_stats, stats),
        all_generation=_append(state.all_generation, np.full(z.shape[0], g)),
        kernels=[*state.kernels, (centres, cw, covs)])


def save_checkpoint(path: str | Path, state: SMCState, meta: dict[str, Any]) -> None:
    arrays: dict[str, Any] = {"meta": np.array(json.dumps(meta, sort_keys=True)),
                              "generation": np.array(state.generation),
                              "epsilons": np.array(state.epsilons), "ess": np.array(state.ess)}
    for name in ("particles", "weights", "distances", "stats", "all_z", "all_stats", "all_generation"):
        arrays[name] = getattr(state, name)
    for i, (c, w, s) in enumerate(state.kernels):
        arrays[f"kernel{i}_centres"], arrays[f"kernel{i}_weights"], arrays[f"kernel{i}_covs"] = c, w, s
    with atomic_path(path) as tmp:
        with open(tmp, "wb") as fh:
            np.savez(fh, **arrays)


def load_checkpoint(path: str | Path, meta: dict[str, Any]) -> SMCState:
    """The saved state; refuses a checkpoint made with another configuration, seed or targets."""
    with np.load(path, allow_pickle=False) as f:
        saved = json.loads(str(f["meta"]))
        if saved != json.loads(json.dumps(meta, sort_keys=True)):
            diff = sorted(k for k in set(saved) | set(meta) if saved.get(k) != meta.get(k))
            raise DataValidationError(f"checkpoint {path} was made with different {', '.join(diff)}; "
                                      "delete it or run without --resume.")
        g = int(f["generation"])
        kernels = [(f[f"kernel{i}_centres"], f[f"kernel{i}_weights"], f[f"kernel{i}_covs"])
                   for i in range(g + 1)]
        return SMCState(generation=g, particles=f["particles"], weights=f["weights"],
                        distances=f["distances"], stats=f["stats"], epsilons=list(map(float, f["epsilons"])),
                        ess=list(map(float, f["ess"])),
                        all_z=f["all_z"], all_stats=f["all_stats"], all_generation=f["all_generation"],
                        kernels=kernels)


def compute_proposal_mixture_logpdf(state: SMCState, prior: Prior, z: np.ndarray) -> np.ndarray:
    """log of the deterministic mixture of all generations' proposals (balance heuristic),
    weighted by the number of proposals each made; the prior component is normalised for its
    truncation by Monte Carlo."""
    gens = state.all_generation
    counts = np.array([np.sum(gens == g) for g in range(len(state.kernels))], float)
    frac = counts / counts.sum()
    inside = float(np.mean(prior.in_support(prior.mean + prior.sd * child_generator(0, 99).standard_normal(
        (20_000, prior.dim)))))
    parts = []
    for g, (c, w, s) in enumerate(state.kernels):
        if g == 0:
            lp = (prior.logpdf(z) - np.sum(np.log(prior.sd)) - 0.5 * prior.dim * np.log(2 * np.pi)
                  - np.log(inside))
        else:
            lp = compute_kernel_logpdf(z, c, w, s)
        parts.append(np.log(frac[g]) + lp)
    a = np.vstack(parts)
    amax = a.max(axis=0)
    return amax + np.log(np.exp(a - amax).sum(axis=0))


def run_abc_smc(prior: Prior, evaluate: Evaluate, config: SMCConfig, seed: SeedLike, *,
                checkpoint: str | Path | None = None, resume: bool = False,
                meta: dict[str, Any] | None = None,
                progress: Callable[[int, int], None] | None = None,
                stop_after: int | None = None) -> SMCState:
    """Run (or resume) the SMC; ``progress(generation, n_done)`` after each batch.

    ``stop_after`` ends the run after that many generations of this call (used to test resumption).
    """
    seq = as_seed_sequence(seed)
    meta = {**(meta or {}), "config": config.to_dict(), "seed": seed_record(seq)}
    state = SMCState()
    if resume and checkpoint is not None and Path(checkpoint).exists():
        state = load_checkpoint(checkpoint, meta)
    done_here = 0
    while state.generation + 1 < config.n_generations:
        g = state.generation + 1
        counter = [0]

        def tick(k: int, g=g, counter=counter) -> None:
            counter[0] += k
            if progress is not None:
                progress(g, counter[0])

        state = step_generation(state, prior, evaluate, config, seq, tick)
        if checkpoint is not None:
            save_checkpoint(checkpoint, state, meta)
        done_here += 1
        if stop_after is not None and done_here >= stop_after:
            break
    return state
