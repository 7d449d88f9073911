"""Small hand-built populations for the model tests (the Population contract, columns only)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class MiniPopulation:
    name: str
    age_y: np.ndarray
    sex: np.ndarray
    weight_kg: np.ndarray
    height_cm: np.ndarray
    bsa_m2: np.ndarray
    affected_pct: np.ndarray
    iga0: np.ndarray
    easi0: np.ndarray
    nrs0: np.ndarray

    @property
    def n(self) -> int:
        return int(self.age_y.shape[0])


def make_population(n: int, *, seed: int = 0, adult: bool = False, affected_pct: float | None = None,
                    name: str = "test") -> MiniPopulation:
    """n patients with plausible covariates (children 2-11 unless ``adult``)."""
    rng = np.random.default_rng(seed)
    if adult:
        age = rng.uniform(18, 65, n)
        height = rng.normal(170, 9, n)
        weight = np.clip(rng.normal(75, 13, n), 45, 130)
    else:
        age = rng.uniform(2, 12, n)
        height = 80 + 6.0 * age + rng.normal(0, 5, n)
        weight = np.clip(2.3 * age + 8 + rng.normal(0, 2, n), 9, 60)
    bsa = np.sqrt(height * weight / 3600.0)
    area = np.full(n, affected_pct) if affected_pct is not None else rng.uniform(3, 20, n)
    iga0 = np.where(rng.random(n) < 0.7, 3, 2).astype(np.int8)
    easi0 = np.where(iga0 == 3, rng.uniform(6, 18, n), rng.uniform(2, 7, n))
    nrs0 = rng.uniform(2, 8, n)
    return MiniPopulation(name=name, age_y=age, sex=np.where(rng.random(n) < 0.5, "F", "M"),
                          weight_kg=weight, height_cm=height, bsa_m2=bsa, affected_pct=area,
                          iga0=iga0, easi0=easi0, nrs0=nrs0)
