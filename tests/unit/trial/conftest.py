"""Shared fixtures: a fast fake trajectory provider and small conducted trials."""

from __future__ import annotations

import numpy as np
import pytest

from dermsim._rng import as_generator
from dermsim.trial import load_design, simulate_trial


class FakeTrajectories(dict):
    """The values by name, and where each patient ends (what simulate_patients' final_state is)."""

    final_state: dict | None = None


def fake_provider(population, regimen, days, seed, *, record, chunk_size, initial_state=None):
    """Stand-in for simulate_patients: EASI decays faster with strength, IGA follows EASI; a run
    from ``initial_state`` continues from each patient's own level."""
    n = population.n
    rng = as_generator(seed)
    t = np.arange(days + 1)[None, :]
    k = (0.005 + 0.02 * regimen.strength_pct * regimen.adherence) * rng.uniform(0.5, 1.5, (n, 1))
    start = np.zeros((n, 1)) if initial_state is None else initial_state["log_ratio"]
    log_ratio = start - k * t
    easi = population.easi0[:, None] * np.exp(log_ratio)
    iga = np.clip(np.ceil(population.iga0[:, None] * np.exp(log_ratio) - 0.2), 0, 4).astype(np.int8)
    nrs = population.nrs0[:, None] * np.exp(log_ratio)
    out = FakeTrajectories({"easi": easi, "iga": iga, "nrs_weekly": nrs})
    day0 = 0 if initial_state is None else initial_state["day"]
    out.final_state = {"day": day0 + days, "log_ratio": log_ratio[:, -1:]}
    return out


@pytest.fixture(scope="session")
def provider():
    return fake_provider


@pytest.fixture(scope="session")
def ad3():
    return load_design("true-ad3")


@pytest.fixture(scope="session")
def fake_study(ad3):
    return simulate_trial(ad3, 7, n=200, trajectory_provider=fake_provider)


@pytest.fixture(scope="session")
def real_study(ad3):
    return simulate_trial(ad3, 1, n=60)
