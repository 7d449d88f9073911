"""The second-version calibration objective: a Gaussian arm-level likelihood with common random numbers.

Each simulated arm (``[[sim_arm]]`` of a v2 targets file) is one vectorised
:func:`dermsim.model.simulate.simulate_patients` call per evaluation, on virtual patients sampled
once per trial (separate populations for TRuE-AD1 and TRuE-AD2; the arms of one trial share
theirs) and with one model seed per trial, so candidates differ only through their parameters
(common random numbers: same patients, same parameter and observation noise). From each arm's
patient-level results the *expected* arm summaries are computed (responder proportions, mean
EASI % change, PK means and SDs, kinetics); sampling noise of the real trial is in the
likelihood, not simulated:

    y_obs ~ N(mu(theta), Sigma),  Sigma = diag(SE_obs^2 + MC_var) + Sigma_trial

* SE_obs: binomial at the arm N (proportions), published or stated SD / sqrt(n) (means), and
  SD x sqrt((kurtosis - 1) / (4 n)) for an SD (see targets.py);
* MC_var: the Monte-Carlo variance of each simulated summary at the virtual-population size,
  estimated once at the start point and then held fixed (so Sigma does not depend on theta and
  the fit is a weighted least-squares problem);
* Sigma_trial: the between-trial effect of the first version, now marginalised: all responder
  proportions of one trial share a logit shift delta_k ~ N(0, tau^2), which to first order adds
  tau^2 g_i g_j (g = p (1 - p) at the observed p) between targets of the same trial. tau is fixed
  at ``trial_sd_logit`` of the targets file (the first version's posterior median, 0.31): three
  trials cannot identify it, and a Laplace fit of a non-centred funnel is unreliable.

Residuals are whitened with the Cholesky factor of Sigma and the prior contributes
(z - mu_prior) / sd_prior rows, so ``0.5 |r|^2`` is minus the log posterior (up to a constant).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from dermsim._rng import child_sequence
from dermsim.calibration import kinetics
from dermsim.calibration.priors import Prior, apply_parameters
from dermsim.calibration.targets import SimArm, TargetSet
from dermsim.errors import InvalidInputError, SolverError
from dermsim.model.population.sampling import sample_population
from dermsim.model.simulate import simulate_patients

_POP_KEY, _SIM_KEY = 1, 2
BINARY_STATS = {"IGA-TS": "iga_ts", "EASI-50": "easi50", "EASI-75": "easi75", "EASI-90": "easi90",
                "NRS4": "nrs4"}
EFFICACY_RECORD = ("easi", "iga", "nrs_weekly")


def _trial_key(trial: str) -> int:
    """A stable integer per trial id (seed key of its population and model streams)."""
    return int.from_bytes(trial.encode()[:8].ljust(8, b"\0"), "little") % (2**31)


@dataclass
class ArmSetup:
    arm: SimArm
    population: Any
    seed: np.random.SeedSequence


def make_arm_setups(targets: TargetSet, seed: int, n_vp_scale: float = 1.0) -> dict[str, ArmSetup]:
    """Virtual patients per trial (shared by that trial's arms) and the model seed per trial."""
    pops: dict[tuple[str, str, int], Any] = {}
    out = {}
    for arm in targets.sim_arms:
        n = max(10, round(arm.n_vp * n_vp_scale))
        key = (arm.trial, arm.population, n)
        if key not in pops:
            pops[key] = sample_population(arm.population_path, n,
                                          seed=child_sequence(seed, _POP_KEY, _trial_key(arm.trial)))
        out[arm.id] = ArmSetup(arm=arm, population=pops[key],
                               seed=child_sequence(seed, _SIM_KEY, _trial_key(arm.trial)))
    return out


def _mean_var(x: np.ndarray) -> tuple[float, float]:
    x = x[np.isfinite(x)]
    if x.size == 0:
        return float("nan"), float("nan")
    return float(np.mean(x)), float(np.var(x) / x.size)


def _sd_var(x: np.ndarray) -> tuple[float, float]:
    """Sample SD and the large-sample variance of the SD, (m4 - s^4) / (4 n s^2)."""
    x = x[np.isfinite(x)]
    s2 = float(np.var(x))
    m4 = float(np.mean((x - x.mean()) ** 4))
    return float(np.sqrt(s2)), max(m4 - s2**2, 0.0) / (4 * x.size * max(s2, 1e-300))


def compute_arm_stats(setup: ArmSetup, params: Any, stats: list[str]) -> dict[str, tuple[float, float]]:
    """Expected value and Monte-Carlo variance of each named statistic of one arm.

    Statistic names: ``<endpoint>@d<day>`` for responder proportions (IGA-TS, EASI-50/75/90,
    NRS4), ``easi_pchg@d<day>`` for the mean EASI % change, and PK statistics
    ``<css_mean|css_sd|F_mean|F_sd|t_half_h|cmax_cmin|tmax_h>[@bsa<lo>-<hi>]`` over the arm's
    patients (optionally those with treated %BSA in [lo, hi)).
    """
    arm = setup.arm
    # the visits the statistics name; the run keeps (scores) only those (a day outside the run fails
    # in endpoints)
    visits = sorted({int(w[1:]) for _, _, w in (s.partition("@") for s in stats) if w.startswith("d")})
    efficacy = bool(visits)
    record = EFFICACY_RECORD if efficacy else ("cp_nM",)
    days = arm.days if efficacy else 1
    kept = [0, *(d for d in visits if 0 < d <= days)] if efficacy else None
    traj = simulate_patients(setup.population, arm.regimen, days, setup.seed, record=record, params=params,
                             output_days=kept)
    out: dict[str, tuple[float, float]] = {}
    endpoints: dict[int, dict[str, np.ndarray]] = {}
    profile = None
    affected = np.asarray(setup.population.affected_pct, float)
    for s in stats:
        name, _, where = s.partition("@")
        if where.startswith("d"):
            day = int(where[1:])
            if day not in endpoints:
                endpoints[day] = traj.endpoints(day)
            ep = endpoints[day]
            out[s] = _mean_var(ep["easi_pct_change"] if name == "easi_pchg" else ep[BINARY_STATS[name]])
            continue
        mask = np.ones(affected.shape[0], bool)
        if where.startswith("bsa"):
            lo, hi = (float(v) for v in where[3:].split("-"))
            mask = (affected >= lo) & (affected < hi)
        if name in ("css_mean", "css_sd", "F_mean", "F_sd"):
            x = np.asarray(traj.baseline["css_nM" if name.startswith("css") else "F"], float)[mask]
            if name.startswith("F"):
                x = 100.0 * x
            out[s] = _mean_var(x) if name.endswith("mean") else _sd_var(x)
        elif name in ("t_half_h", "cmax_cmin", "tmax_h"):
            if profile is None:
                profile = kinetics.compute_steady_state_kinetics(setup.population, arm.regimen, params,
                                                                 setup.seed)
            out[s] = _mean_var(profile[name][mask])
        else:
            raise InvalidInputError(f"statistic must be an endpoint, easi_pchg or a PK statistic; got {s!r}.")
    return out


class Objective:
    """theta (unconstrained) -> expected target values, and the whitened residuals of the posterior."""

    def __init__(self, targets: TargetSet, prior: Prior, seed: int, *, n_vp_scale: float = 1.0) -> None:
        self.targets = targets
        self.prior = prior
        self.seed = int(seed)
        self.setups = make_arm_setups(targets, seed, n_vp_scale)
        self.by_arm: dict[str, list[str]] = {}
        for t in targets.targets:
            self.by_arm.setdefault(t.sim_arm, [])
            if t.stat not in self.by_arm[t.sim_arm]:
                self.by_arm[t.sim_arm].append(t.stat)
        self.n_evaluations = 0
        self.chol: np.ndarray | None = None
        self.mc_var: np.ndarray | None = None

    def expected(self, z: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Expected target values (K,) and their Monte-Carlo variances at one candidate; NaN when
        the model refuses the candidate."""
        self.n_evaluations += 1
        k = len(self.targets)
        try:
            x = self.prior.to_natural(z)[0]
            by_class = {c: apply_parameters(x, self.prior, design_class=c)
                        for c in {self.setups[a].arm.design_class for a in self.by_arm}}
            res: dict[tuple[str, str], tuple[float, float]] = {}
            for arm_id, stats in self.by_arm.items():
                params = by_class[self.setups[arm_id].arm.design_class]
                for s, v in compute_arm_stats(self.setups[arm_id], params, stats).items():
                    res[(arm_id, s)] = v
        except (InvalidInputError, SolverError, FloatingPointError):
            return np.full(k, np.nan), np.full(k, np.nan)
        mu = np.array([res[(t.sim_arm, t.stat)][0] for t in self.targets.targets])
        var = np.array([res[(t.sim_arm, t.stat)][1] for t in self.targets.targets])
        return mu, var

    def fix_covariance(self, mc_var: np.ndarray) -> None:
        """Hold Sigma fixed from the Monte-Carlo variances at a reference candidate."""
        self.mc_var = np.nan_to_num(np.asarray(mc_var, float), nan=0.0)
        self.chol = np.linalg.cholesky(compute_covariance(self.targets, self.mc_var))

    def residuals_from_expected(self, z: np.ndarray, mu: np.ndarray) -> np.ndarray:
        if self.chol is None:
            raise InvalidInputError("fix_covariance must be called before residuals are computed.")
        z = np.asarray(z, float).reshape(-1)
        data = np.linalg.solve(self.chol, mu - self.targets.values) if np.all(np.isfinite(mu)) \
            else np.full(len(self.targets), 1e3)
        prior_rows = (z - self.prior.mean) / self.prior.sd
        if not self.prior.in_support(z[None, :])[0]:
            data = np.full_like(data, 1e3)
        return np.concatenate([data, prior_rows])

    def residuals(self, z: np.ndarray) -> np.ndarray:
        mu, _ = self.expected(np.atleast_2d(z))
        return self.residuals_from_expected(z, mu)


def compute_covariance(targets: TargetSet, mc_var: np.ndarray) -> np.ndarray:
    """Sigma of the module docstring (K, K)."""
    se = targets.se
    cov = np.diag(se**2 + mc_var)
    tau = targets.trial_sd_logit
    if tau > 0:
        g = np.array([t.value * (1 - t.value) if t.kind == "binary" else 0.0 for t in targets.targets])
        trials = np.array([t.trial for t in targets.targets])
        same = trials[:, None] == trials[None, :]
        cov = cov + tau**2 * np.outer(g, g) * same
    return cov


def compute_log_posterior(residuals: np.ndarray) -> float:
    r = np.asarray(residuals, float)
    return float(-0.5 * r @ r) if np.all(np.isfinite(r)) else -np.inf
