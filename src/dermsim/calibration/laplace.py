"""MAP, Laplace (Gauss-Newton) posterior and importance-sampling refinement on the CRN objective.

Why not ABC-SMC any more: the first version kept 120 particles of which 36 were distinct; >= 1,000
distinct particles would need tens of thousands of simulations, which two shared cores cannot do
in a working session. The arm-level summaries are averages over thousands of virtual patients,
so a Gaussian likelihood (likelihood.py) is accurate, and with common random numbers the
objective is a deterministic, nearly smooth function of the parameters. Then:

1. MAP: ``scipy.optimize.least_squares`` (trust-region reflective, a robust Gauss-Newton/LM
   method) on the whitened residuals plus prior rows. The Jacobian is by forward differences with
   a step of ``fd_step`` on the unconstrained scale (large enough to span many virtual patients'
   responder thresholds, so the piecewise-constant CRN steps do not dominate it), its columns
   evaluated in parallel, at the start and every ``refresh_every`` iterations; in between,
   Broyden rank-one updates (one simulation per iteration; a full Jacobian costs d + 1).
   Convergence rule: relative change of the cost below ``ftol`` or the scaled step below ``xtol``
   (scipy's status > 0) within ``max_iterations`` simulations.
2. Laplace: covariance (J^T J)^-1 at the MAP (Gauss-Newton Hessian of -log posterior).
3. Importance sampling: draws from a multivariate t (``t_df``) centred at the MAP with the Laplace
   covariance times ``cov_inflation``^2, then adapted batch by batch to the weighted draws (AMIS,
   Cornuet et al. 2012; all draws re-weighted against the mixture of every proposal used); each
   draw is simulated exactly (same CRN objective) and weighted by posterior / proposal mixture.
   Shipped weights, a rule stated before the run: the importance-sampling posterior if it
   converged (ESS >= ``target_ess`` and Pareto k <= 0.7); otherwise the same exact draws weighted
   to the Laplace approximation N(MAP, cov) (the proposal is wider, so these weights are stable),
   with the failed check reported (its ESS and k) rather than hidden.
   Batches continue until the IS effective sample size
   1 / sum(w^2) reaches ``target_ess`` or ``max_draws`` / the time budget is spent. Every draw is
   distinct, so the ESS is over distinct draws; it is reported as is, converged or not.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
from scipy import optimize, special, stats

from dermsim._rng import child_generator
from dermsim._validate import check_int
from dermsim.calibration.likelihood import Objective, compute_log_posterior
from dermsim.engine.compiled import fork_worker_pool
from dermsim.errors import InvalidInputError


@dataclass(frozen=True)
class LaplaceISConfig:
    max_iterations: int = 40        # least-squares function evaluations (each one simulation)
    broyden: bool = True            # Broyden updates of the Jacobian between full finite differences
    refresh_every: int = 8          # a full finite-difference Jacobian every this many Jacobian calls
    fd_step: float = 0.1            # forward-difference step on the unconstrained scale
    ftol: float = 1e-3
    xtol: float = 1e-4
    target_ess: int = 1000          # convergence rule of the importance sampling
    batch: int = 100
    max_draws: int = 4000
    t_df: float = 5.0
    cov_inflation: float = 1.2
    time_budget_s: float | None = None   # for the importance-sampling phase
    map_time_budget_s: float | None = None   # for the MAP search (the best point so far is kept)
    mode: str = "is"                # "is": importance-sampling draws; "laplace": Laplace draws (provisional);
                                    # "emulator": MCMC on an emulator, checked exactly (emulator.py)
    n_design: int = 400             # mode "emulator": exact evaluations for the emulator
    n_check: int = 300              # mode "emulator": shipped draws simulated exactly (check and PPC)
    design_cache: str | None = None  # mode "emulator": .npz of the design's evaluations (a rerun reuses)
    n_laplace: int = 2000           # mode "laplace": draws of N(MAP, cov) shipped
    workers: int = 1

    def __post_init__(self) -> None:
        check_int("max_iterations", self.max_iterations, minimum=1)
        check_int("target_ess", self.target_ess, minimum=1)
        check_int("batch", self.batch, minimum=1)
        check_int("max_draws", self.max_draws, minimum=1)
        check_int("workers", self.workers, minimum=1)
        if self.mode not in ("is", "laplace", "emulator"):
            raise InvalidInputError(f"mode must be one of is, laplace, emulator; got {self.mode!r}.")
        if not self.fd_step > 0 or not self.t_df > 0 or not self.cov_inflation > 0:
            raise InvalidInputError("fd_step, t_df and cov_inflation must be > 0.")

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


# --- parallel evaluation: workers fork with the objective already built (its populations sampled)
_WORKER_OBJECTIVE: Objective | None = None


def _worker_expected(z: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    assert _WORKER_OBJECTIVE is not None
    return _WORKER_OBJECTIVE.expected(np.atleast_2d(z))


class Evaluator:
    """Evaluate many candidates' expected target values, serially or on forked worker processes
    (each single-threaded: the engine pins BLAS to one thread)."""

    def __init__(self, objective: Objective, workers: int = 1) -> None:
        global _WORKER_OBJECTIVE
        self.objective = objective
        self.pool = None
        if workers > 1:
            _WORKER_OBJECTIVE = objective   # set before the fork: the workers inherit it
            self.pool = fork_worker_pool(workers, "calibration")
        self.count = 0

    def __call__(self, zs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        zs = np.atleast_2d(zs)
        self.count += zs.shape[0]
        if self.pool is None:
            res = [self.objective.expected(z[None, :]) for z in zs]
        else:
            res = self.pool.map(_worker_expected, list(zs), chunksize=1)
        return np.array([r[0] for r in res]), np.array([r[1] for r in res])

    def close(self) -> None:
        if self.pool is not None:
            self.pool.close()
            self.pool.join()
            self.pool = None


@dataclass
class LaplaceISResult:
    z_map: np.ndarray
    cov: np.ndarray
    map_info: dict[str, Any]
    draws_z: np.ndarray          # (M, d) IS draws (unconstrained)
    weights: np.ndarray          # (M,) normalised
    expected: np.ndarray         # (M, K) expected target values per draw
    log_post: np.ndarray
    log_q: np.ndarray
    is_info: dict[str, Any]
    mc_var: np.ndarray


def _laplace_draws(objective: Objective, evaluate: Evaluator, config: LaplaceISConfig, seed: int,
                   z_map: np.ndarray, cov: np.ndarray, map_info: dict[str, Any],
                   log: Callable[[str], None]) -> LaplaceISResult:
    """Mode "laplace" (a provisional posterior): ``n_laplace`` draws of N(MAP, cov) within the
    prior's support, equal weights; the first draws are simulated exactly while the time budget
    lasts, for the predictive check and an importance-sampling check of the approximation (weights
    posterior / Laplace density over the simulated draws, their ESS and Pareto k reported)."""
    prior = objective.prior
    rng = child_generator(seed, 22)
    mvn = stats.multivariate_normal(z_map, cov, allow_singular=True)
    draws = np.empty((0, z_map.shape[0]))
    while draws.shape[0] < config.n_laplace:
        z = np.atleast_2d(mvn.rvs(size=config.n_laplace, random_state=rng))
        draws = np.vstack([draws, z[prior.in_support(z)]])
    draws = draws[:config.n_laplace]
    k = len(objective.targets)
    expected = np.full((draws.shape[0], k), np.nan)
    log_post = np.full(draws.shape[0], np.nan)
    t0 = time.perf_counter()
    n_done = 0
    while n_done < min(config.max_draws, draws.shape[0]):
        n = min(config.batch, draws.shape[0] - n_done)
        mu, _ = evaluate(draws[n_done:n_done + n])
        expected[n_done:n_done + n] = mu
        log_post[n_done:n_done + n] = [compute_log_posterior(objective.residuals_from_expected(z, m))
                                       for z, m in zip(draws[n_done:n_done + n], mu, strict=True)]
        n_done += n
        log(f"Laplace check: {n_done} draws simulated ({time.perf_counter() - t0:.0f} s)")
        if config.time_budget_s is not None and time.perf_counter() - t0 > config.time_budget_s:
            break
    lq = mvn.logpdf(draws)
    lw = log_post[:n_done] - lq[:n_done]
    ok = np.isfinite(lw)
    w = np.exp(lw[ok] - lw[ok].max()) if ok.any() else np.zeros(0)
    ess_check = compute_ess(w) if w.size else 0.0
    info = {"mode": "laplace (provisional)", "draws": int(draws.shape[0]), "distinct_with_weight":
            int(np.unique(draws, axis=0).shape[0]), "simulated_draws": int(n_done),
            "ess": float(draws.shape[0]), "ess_shipped": float(draws.shape[0]),
            "ess_importance_check": float(ess_check), "target_ess": config.target_ess, "converged": False,
            "pareto_k": compute_pareto_k(lw[ok]) if ok.any() else float("nan"),
            "max_weight": float(w.max() / w.sum()) if w.size else float("nan"),
            "shipped_weights": "Laplace approximation N(MAP, Gauss-Newton covariance), equal weights "
                               "(provisional: not refined by importance sampling)",
            "proposal": "none (draws of the Laplace approximation)", "evaluations_total": int(evaluate.count)}
    return LaplaceISResult(z_map=z_map, cov=cov, map_info=map_info, draws_z=draws,
                           weights=np.full(draws.shape[0], 1.0 / draws.shape[0]), expected=expected,
                           log_post=log_post, log_q=lq, is_info=info, mc_var=objective.mc_var)


def _mvt_sample(rng: np.random.Generator, mean: np.ndarray, chol: np.ndarray, df: float,
                n: int) -> np.ndarray:
    d = mean.shape[0]
    g = rng.chisquare(df, size=n) / df
    return mean + (rng.standard_normal((n, d)) @ chol.T) / np.sqrt(g)[:, None]


def _mvt_logpdf(z: np.ndarray, mean: np.ndarray, chol: np.ndarray, df: float) -> np.ndarray:
    d = mean.shape[0]
    sol = np.linalg.solve(chol, (z - mean).T)
    m = np.sum(sol**2, axis=0)
    logdet = np.sum(np.log(np.diag(chol)))
    return (special.gammaln((df + d) / 2) - special.gammaln(df / 2) - 0.5 * d * np.log(df * np.pi) - logdet
            - 0.5 * (df + d) * np.log1p(m / df))


def _mixture_logpdf(z: np.ndarray, proposals: list[tuple[np.ndarray, np.ndarray, int]],
                    df: float) -> np.ndarray:
    """log of the deterministic mixture of all proposals used so far, weighted by their draws."""
    total = sum(n for _, _, n in proposals)
    parts = np.vstack([np.log(n / total) + _mvt_logpdf(z, m, c, df) for m, c, n in proposals])
    top = parts.max(axis=0)
    return top + np.log(np.exp(parts - top).sum(axis=0))


class _OutOfTime(Exception):
    """The MAP search's time budget is spent."""


def compute_ess(weights: np.ndarray) -> float:
    w = np.asarray(weights, float)
    return float(w.sum() ** 2 / np.sum(w**2)) if w.sum() > 0 else 0.0


def find_map(objective: Objective, evaluate: Evaluator, z0: np.ndarray, config: LaplaceISConfig,
             log: Callable[[str], None] = lambda s: None) -> tuple[np.ndarray, np.ndarray, dict[str, Any]]:
    """MAP by least squares with a parallel forward-difference Jacobian; returns (z, J, info)."""
    cache: dict[bytes, np.ndarray] = {}
    trace: list[float] = []
    t0 = time.perf_counter()

    def fun(z: np.ndarray) -> np.ndarray:
        key = np.asarray(z, float).tobytes()
        if key not in cache:
            if config.map_time_budget_s is not None and time.perf_counter() - t0 > config.map_time_budget_s:
                raise _OutOfTime
            mu, _ = evaluate(z[None, :])
            cache[key] = objective.residuals_from_expected(z, mu[0])
            trace.append(float(0.5 * cache[key] @ cache[key]))
            log(f"evaluation {evaluate.count}: cost {trace[-1]:.3f}")
        return cache[key]

    def fd_jacobian(z: np.ndarray) -> np.ndarray:
        r0 = fun(z)
        d = z.shape[0]
        pts = z[None, :] + config.fd_step * np.eye(d)
        mu, _ = evaluate(pts)
        cols = [(objective.residuals_from_expected(pts[j], mu[j]) - r0) / config.fd_step for j in range(d)]
        return np.column_stack(cols)

    last: dict[str, np.ndarray] = {}

    def jac(z: np.ndarray) -> np.ndarray:
        # Broyden's rank-one update between accepted points (one simulation per iteration instead of
        # d + 1); a full forward-difference Jacobian at the start and at the MAP (for the Laplace
        # covariance), the prior rows being exact and linear.
        z = np.asarray(z, float)
        r = fun(z)
        last["calls"] = last.get("calls", np.array(0)) + 1
        if not config.broyden or "J" not in last or int(last["calls"]) % config.refresh_every == 0:
            J = fd_jacobian(z)
        else:
            dz = z - last["z"]
            J = last["J"].copy()
            if np.any(dz != 0) and np.all(np.isfinite(r)):
                J = J + np.outer(r - last["r"] - J @ dz, dz) / float(dz @ dz)
                k = len(objective.targets)
                J[k:] = np.diag(1.0 / objective.prior.sd)
        last.update(z=z.copy(), r=r.copy(), J=J)
        return J

    try:
        res = optimize.least_squares(fun, z0, jac=jac, method="trf", ftol=config.ftol, xtol=config.xtol,
                                     gtol=1e-8, max_nfev=config.max_iterations, x_scale="jac")
        z_best, status, message, nfev = res.x, int(res.status), str(res.message), int(res.nfev)
    except _OutOfTime:
        # the best point evaluated so far; reported as not converged
        keys = list(cache)
        best = int(np.argmin([float(cache[k] @ cache[k]) for k in keys]))
        z_best = np.frombuffer(keys[best], dtype=float).copy()
        status, message, nfev = 0, "time budget of the MAP search reached (best point so far)", len(trace)
    global_t = time.perf_counter()
    J = fd_jacobian(z_best)
    r = fun(z_best)
    grad = J.T @ r
    info = {"status": status, "message": message, "converged": bool(status > 0),
            "cost": float(0.5 * r @ r), "gradient_inf_norm": float(np.max(np.abs(grad))),
            "iterations": nfev, "cost_trace": trace, "evaluations": int(evaluate.count),
            "jacobian_s": round(time.perf_counter() - global_t, 1)}
    return z_best, J, info


def run_laplace_is(objective: Objective, config: LaplaceISConfig, seed: int, z0: np.ndarray | None = None,
                   log: Callable[[str], None] = lambda s: None) -> LaplaceISResult:
    """The whole method (module docstring)."""
    prior = objective.prior
    z0 = prior.mean.copy() if z0 is None else np.asarray(z0, float)
    evaluate = Evaluator(objective, config.workers)
    try:
        _, var0 = evaluate(z0[None, :])
        objective.fix_covariance(var0[0])
        z_map, J, map_info = find_map(objective, evaluate, z0, config, log)
        log("MAP " + " ".join(f"{v:.6g}" for v in z_map))   # a warm start for a rerun (unconstrained)
        H = J.T @ J
        cov = np.linalg.pinv(H)
        cov = 0.5 * (cov + cov.T) + 1e-10 * np.eye(cov.shape[0])
        if config.mode == "laplace":
            return _laplace_draws(objective, evaluate, config, seed, z_map, cov, map_info, log)
        if config.mode == "emulator":
            from dermsim.calibration.emulator import run_emulator_mcmc

            em = run_emulator_mcmc(objective, evaluate, z_map, cov, seed, n_design=config.n_design,
                                   target_ess=config.target_ess, n_check=config.n_check,
                                   design_cache=config.design_cache, log=log)
            n = em.draws_z.shape[0]
            em.info["evaluations_total"] = int(evaluate.count)
            em.info["shipped_weights"] = "equal (MCMC draws of the emulated posterior)"
            em.info["ess_shipped"] = em.info["ess"]
            return LaplaceISResult(z_map=z_map, cov=cov, map_info=map_info, draws_z=em.draws_z,
                                   weights=np.full(n, 1.0 / n), expected=em.expected, log_post=em.log_post,
                                   log_q=np.full(n, np.nan), is_info=em.info, mc_var=objective.mc_var)
        chol = np.linalg.cholesky(cov * config.cov_inflation**2)
        rng = child_generator(seed, 21)
        zs, lps, mus = [], [], []
        proposals: list[tuple[np.ndarray, np.ndarray, int]] = []   # (mean, chol, n drawn)
        t_start = time.perf_counter()
        ess = 0.0
        n_done = 0
        mean_b, chol_b = z_map, chol
        while n_done < config.max_draws:
            n = min(config.batch, config.max_draws - n_done)
            z = _mvt_sample(rng, mean_b, chol_b, config.t_df, n)
            proposals.append((mean_b, chol_b, n))
            inside = prior.in_support(z)
            mu = np.full((n, len(objective.targets)), np.nan)
            if inside.any():
                mu[inside], _ = evaluate(z[inside])
            lp = np.array([compute_log_posterior(objective.residuals_from_expected(z[i], mu[i]))
                           if inside[i] and np.all(np.isfinite(mu[i])) else -np.inf for i in range(n)])
            zs.append(z)
            lps.append(lp)
            mus.append(mu)
            n_done += n
            all_z = np.concatenate(zs)
            lq = _mixture_logpdf(all_z, proposals, config.t_df)
            lw = np.concatenate(lps) - lq
            w = np.exp(lw - np.max(lw)) if np.any(np.isfinite(lw)) else np.zeros_like(lw)
            ess = compute_ess(w)
            elapsed = time.perf_counter() - t_start
            log(f"importance sampling: {n_done} draws, ESS {ess:.0f} ({elapsed:.0f} s)")
            if ess >= config.target_ess:
                break
            if config.time_budget_s is not None and elapsed > config.time_budget_s:
                break
            # adapt (AMIS, Cornuet et al. 2012): next proposal from the weighted draws so far,
            # shrunk towards the Laplace covariance while the ESS is small
            if ess >= 10:
                wn = w / w.sum()
                mean_b = wn @ all_z
                c = (all_z - mean_b).T @ ((all_z - mean_b) * wn[:, None])
                a = min(1.0, ess / 200.0)
                c = a * c + (1 - a) * cov
                chol_b = np.linalg.cholesky(0.5 * (c + c.T) * config.cov_inflation**2
                                            + 1e-10 * np.eye(c.shape[0]))
    finally:
        evaluate.close()
    all_z = np.concatenate(zs)
    lq = _mixture_logpdf(all_z, proposals, config.t_df)
    lw = np.concatenate(lps) - lq
    w_post = np.exp(lw - np.max(lw))
    w_post /= w_post.sum()
    # the same exact draws re-weighted to the Laplace approximation N(MAP, cov): the fallback
    lw_lap = stats.multivariate_normal(z_map, cov, allow_singular=True).logpdf(all_z) - lq
    w_lap = np.exp(lw_lap - np.max(lw_lap))
    w_lap /= w_lap.sum()
    k_hat = compute_pareto_k(lw)
    # stated rule: ship the importance-sampling posterior only if it converged (ESS >= target and
    # Pareto k <= 0.7, Vehtari et al.); otherwise the Laplace posterior, and say so
    converged = bool(ess >= config.target_ess and np.isfinite(k_hat) and k_hat <= 0.7)
    w = w_post if converged else w_lap
    is_info = {"draws": int(n_done), "distinct_with_weight": int(np.sum(w > 0)), "ess": float(ess),
               "target_ess": config.target_ess, "converged": converged,
               "max_weight": float(w_post.max()), "n_proposals": len(proposals),
               "proposal": f"adaptive multivariate t (AMIS, deterministic-mixture weights), "
                           f"df {config.t_df:g}, first: Laplace covariance x {config.cov_inflation:g}^2",
               "pareto_k": k_hat, "evaluations_total": int(evaluate.count),
               "shipped_weights": ("importance-sampling posterior" if converged else
                                   "Laplace approximation (importance-sampling check not converged)"),
               "ess_shipped": compute_ess(w), "ess_laplace_weights": compute_ess(w_lap),
               "weights_posterior": np.round(w_post, 10).tolist()}
    return LaplaceISResult(z_map=z_map, cov=cov, map_info=map_info, draws_z=np.concatenate(zs), weights=w,
                           expected=np.concatenate(mus), log_post=np.concatenate(lps),
                           log_q=lq, is_info=is_info, mc_var=objective.mc_var)


def compute_pareto_k(log_weights: np.ndarray) -> float:
    """Shape of a generalized Pareto fit to the largest 20 % of the weights (Vehtari et al. 2024,
    PSIS diagnostic: k < 0.7 means the importance-sampling estimates are reliable)."""
    lw = log_weights[np.isfinite(log_weights)]
    if lw.size < 20:
        return float("nan")
    w = np.exp(lw - lw.max())
    tail = np.sort(w)[-max(5, int(0.2 * w.size)):]
    try:
        k, _, _ = stats.genpareto.fit(tail - tail[0], floc=0.0)
    except (ValueError, RuntimeError):
        return float("nan")
    return float(k)
