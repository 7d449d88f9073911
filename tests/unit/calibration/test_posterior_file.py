"""Posterior file: round trip, validation on load, targets hash check; parameters map onto the model."""

from __future__ import annotations

import json

import numpy as np
import pytest

from dermsim.calibration.posterior import Posterior, load_posterior, write_posterior
from dermsim.calibration.priors import apply_parameters, default_prior
from dermsim.calibration.targets import DEFAULT_TARGETS, hash_file
from dermsim.errors import DataValidationError, InvalidInputError


def _posterior(n: int = 5) -> Posterior:
    prior = default_prior()
    draws = prior.to_natural(prior.sample(n, seed=3))
    w = np.arange(1, n + 1, dtype=float)
    return Posterior(version="test-1", names=tuple(prior.names), draws=draws, weights=w / w.sum(),
                     prior=prior,
                     targets_sha256=hash_file(DEFAULT_TARGETS), targets_version="adult-trials-1",
                     code_version="0+test", seed=11, command="dermsim calibrate --seed 11",
                     meta={"smc": {"epsilons": [3.0, 1.0]}})


def test_round_trip_keeps_every_field(tmp_path):
    post = _posterior()
    path = write_posterior(post, tmp_path / "p.json")
    back = load_posterior(path)
    np.testing.assert_array_equal(back.draws, post.draws)
    np.testing.assert_array_equal(back.weights, post.weights)
    assert back.names == post.names and back.seed == 11 and back.version == "test-1"
    assert back.targets_sha256 == post.targets_sha256 and back.command == post.command
    assert back.meta["smc"] == {"epsilons": [3.0, 1.0]}
    assert back.prior == post.prior


def test_targets_hash_mismatch_is_refused(tmp_path):
    path = write_posterior(_posterior(), tmp_path / "p.json")
    other = tmp_path / "targets.toml"
    other.write_text(DEFAULT_TARGETS.read_text() + "\n# edited\n")
    with pytest.raises(DataValidationError, match="targets changed"):
        load_posterior(path, targets=other)
    assert load_posterior(path, targets=None).n == 5


@pytest.mark.parametrize("edit, message", [
    (lambda d: d.pop("seed"), "lacks seed"),
    (lambda d: d.update(weights=[0.5] * len(d["weights"])), "sum to 1"),
    (lambda d: d.update(draws=[row[:-1] for row in d["draws"]]), "one column per name"),
])
def test_damaged_file_is_refused_naming_the_problem(tmp_path, edit, message):
    data = _posterior().to_dict()
    edit(data)
    path = tmp_path / "p.json"
    path.write_text(json.dumps(data))
    with pytest.raises(DataValidationError, match=message):
        load_posterior(path)


def test_missing_file_is_an_input_error(tmp_path):
    with pytest.raises(InvalidInputError, match="does not exist"):
        load_posterior(tmp_path / "nope.json")


def test_candidate_values_reach_the_model_parameters():
    prior = default_prior()
    x = prior.to_natural(prior.mean[None, :])[0]
    x[prior.names.index("Imax")] = 0.8
    x[prior.names.index("omega_u")] = 0.7
    ps = apply_parameters(x, prior)
    assert ps.value("Imax") == pytest.approx(0.8)
    assert ps["IC50_skin"].omega == pytest.approx(0.7)
    assert ps.value("IC50_skin") == pytest.approx(x[prior.names.index("IC50_skin")])
    x[prior.names.index("omega_J")] = 0.5
    x[prior.names.index("hill")] = 2.5
    ps = apply_parameters(x, prior)
    assert ps["Jmax"].omega == pytest.approx(0.5) and ps.value("hill") == pytest.approx(2.5)
    with pytest.raises(InvalidInputError, match=f"{prior.dim} values"):
        apply_parameters(x[:-1], prior)


def test_prior_respects_ordered_iga_cut_points():
    prior = default_prior()
    z = prior.sample(2000, seed=1)
    x = prior.to_natural(z)
    c1, c2 = x[:, prior.names.index("iga_c1")], x[:, prior.names.index("iga_c2")]
    assert np.all(c1 < c2) and np.all(c2 < 6.0)
    bad = z[:1].copy()
    bad[0, prior.names.index("iga_c1")] = np.log(3.0)
    bad[0, prior.names.index("iga_c2")] = np.log(2.0)
    assert prior.logpdf(bad)[0] == -np.inf
