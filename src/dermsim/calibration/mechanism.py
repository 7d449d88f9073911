"""Mechanism questions answered by the calibrated model (issue 6, item 5).

"One topical JAK inhibitor gives the benefits of several targeted therapies": compare, at the
SAME cream, strength and virtual patients (hence the same local exposure u and occupancy), the
full JAK1/2 block of the cytokine -> JAK map with blocks restricted to one or two pathways
(``blocked=`` of :func:`dermsim.model.simulate.simulate_patients`, each named pathway at Imax),
and with the vehicle. Parameter uncertainty: posterior draws resampled by weight; the interval is
over draws (expected arm proportions, no trial sampling noise).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from dermsim._rng import child_generator
from dermsim._validate import check_int
from dermsim.calibration.posterior import Posterior, default_posterior
from dermsim.calibration.priors import apply_parameters
from dermsim.calibration.summaries import make_setup
from dermsim.calibration.validate import compute_pi90
from dermsim.model.pharmacology.regimen import Regimen
from dermsim.model.simulate import simulate_patients

SCENARIOS: dict[str, object] = {
    "vehicle": "none",
    "IL-13 only": ["IL13"],
    "IL-4 + IL-13": ["IL4", "IL13"],
    "IL-31 only": ["IL31"],
    "full JAK1/2": None,
}
ENDPOINTS = ("iga_ts", "easi75", "nrs4", "easi_pct_change")


@dataclass(frozen=True)
class MechanismResult:
    """Per scenario and endpoint: posterior median and 90 % interval of the arm proportion
    (or mean % change of EASI), plus the per-draw values."""

    strength_pct: float
    population: str
    table: dict[str, dict[str, tuple[float, float, float]]]
    draws: dict[str, dict[str, np.ndarray]]

    def to_rows(self) -> list[dict[str, object]]:
        return [{"scenario": s, "endpoint": e, "median": m, "q05": lo, "q95": hi}
                for s, eps in self.table.items() for e, (m, lo, hi) in eps.items()]


def simulate_pathway_blocks(posterior: Posterior | None = None, *, strength_pct: float = 1.5,
                            population: str = "true-ad1", n_vp: int = 1000, n_draws: int = 20,
                            seed: int = 7) -> MechanismResult:
    """Week-8 endpoints per blocking scenario at the same local exposure (see module doc)."""
    post = default_posterior() if posterior is None else posterior
    n_draws = check_int("n_draws", n_draws, minimum=1)
    setup = make_setup(population, n_vp, seed)
    idx = post.sample_indices(n_draws, child_generator(seed, 1))
    values: dict[str, dict[str, list[float]]] = {s: {e: [] for e in ENDPOINTS} for s in SCENARIOS}
    for i in idx:
        params = apply_parameters(post.draws[i], post.prior)
        for name, blocked in SCENARIOS.items():
            reg = Regimen.bid(0.0 if name == "vehicle" else strength_pct)
            tr = simulate_patients(setup.population, reg, setup.days, setup.seed,
                                   record=("easi", "iga", "nrs_weekly"), params=params, blocked=blocked)
            ep = tr.endpoints(setup.days)
            for e in ENDPOINTS:
                values[name][e].append(float(np.nanmean(ep[e])))
    draws = {s: {e: np.array(v) for e, v in eps.items()} for s, eps in values.items()}
    table = {s: {e: compute_pi90(x) for e, x in eps.items()} for s, eps in draws.items()}
    return MechanismResult(strength_pct=strength_pct, population=population, table=table, draws=draws)
