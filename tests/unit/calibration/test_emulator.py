"""The emulator-MCMC sampler's parts: the quadratic emulator recovers a quadratic exactly (and says
when it cannot), split-R-hat separates mixed from unmixed chains."""

import numpy as np

from dermsim.calibration.emulator import _features, fit_emulator, split_rhat


def _design(n: int, d: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).standard_normal((n, d))


def test_quadratic_emulator_recovers_a_quadratic_on_every_link() -> None:
    d = 4
    z = _design(200, d)
    rng = np.random.default_rng(1)
    coef = rng.normal(0, 0.3, (_features(z[:1]).shape[1], 3))
    eta = _features(z) @ coef
    kinds = np.array(["identity", "logit", "log"])
    y = np.column_stack([eta[:, 0], 1 / (1 + np.exp(-eta[:, 1])), np.exp(eta[:, 2])])
    emu = fit_emulator(z, y, np.zeros(d), np.eye(d), kinds, ridge=0.0)
    z_new = _design(50, d, seed=2)
    eta_new = _features(z_new) @ coef
    y_new = np.column_stack([eta_new[:, 0], 1 / (1 + np.exp(-eta_new[:, 1])), np.exp(eta_new[:, 2])])
    np.testing.assert_allclose(emu.predict(z_new), y_new, rtol=1e-6, atol=1e-8)
    assert np.all(emu.cv_sd < 1e-6)


def test_emulator_error_is_measured_not_hidden() -> None:
    # a cubic term the quadratic cannot represent: the cross-validated error must show it
    d = 3
    z = _design(150, d)
    y = (z[:, 0] ** 3 + z[:, 1])[:, None]
    emu = fit_emulator(z, y, np.zeros(d), np.eye(d), np.array(["identity"]), ridge=0.0)
    assert emu.cv_sd[0] > 0.5


def test_emulator_whitening_uses_the_given_centre_and_scale() -> None:
    d = 2
    centre, chol = np.array([5.0, -3.0]), np.diag([10.0, 0.1])
    z = centre + _design(80, d) @ chol.T
    y = ((z[:, 0] - 5.0) / 10.0 + ((z[:, 1] + 3.0) / 0.1) ** 2)[:, None]
    emu = fit_emulator(z, y, centre, chol, np.array(["identity"]), ridge=0.0)
    assert emu.cv_sd[0] < 1e-8


def test_split_rhat_flags_walkers_that_have_not_mixed() -> None:
    rng = np.random.default_rng(3)
    mixed = rng.standard_normal((4000, 32, 2))
    assert np.all(split_rhat(mixed) < 1.01)
    unmixed = mixed.copy()
    unmixed[:, :16, 0] += 1.0        # half the walkers sit elsewhere in parameter 0
    r = split_rhat(unmixed)
    assert r[0] > 1.1 and r[1] < 1.01
    drifting = mixed + np.linspace(0, 2, 4000)[:, None, None]   # still moving
    assert np.all(split_rhat(drifting) > 1.1)
