"""The one rule for model parameters (workflows.resolve_model -> calibration.posterior.resolve_model)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import dermsim.calibration.posterior as cp
from dermsim.calibration.targets import hash_file
from dermsim.errors import DataValidationError, InvalidInputError
from dermsim.workflows import resolve_model


def test_prior_is_the_parameter_files() -> None:
    m = resolve_model("prior")
    assert m.parameters is None and m.posterior is None and not m.calibrated and m.fallback == ""
    assert m.provenance() == {"posterior_version": None, "posterior_sha256": None,
                              "parameters": "model default parameters (--posterior prior)"}


def test_shipped_is_the_posterior_median_with_its_file_hash() -> None:
    m = resolve_model("shipped")
    path = cp.default_posterior_path()
    assert m.calibrated and m.path == path and m.sha256 == hash_file(path)
    assert m.parameters.to_dict() == cp.default_posterior().parameter_set().to_dict()
    prov = m.provenance()
    assert list(prov)[:3] == ["posterior_version", "posterior_sha256", "posterior_file"]
    assert prov["posterior_file"] == path.name and prov["parameters"] == "posterior weighted median"


def test_shipped_posterior_fitted_on_other_parameter_files_falls_back_and_says_so(monkeypatch) -> None:
    monkeypatch.setattr(cp, "model_parameters_sha256", lambda: "0" * 64)
    m = resolve_model("shipped")
    assert not m.calibrated and m.parameters is None
    assert "fitted on other parameter files" in m.fallback
    assert "fitted on other parameter files" in m.provenance()["parameters"]


def test_a_posterior_file_that_does_not_fit_is_an_error(tmp_path: Path, monkeypatch) -> None:
    data = json.loads(cp.default_posterior_path().read_text())
    data["model_parameters_sha256"] = "f" * 64
    bad = tmp_path / "other.json"
    bad.write_text(json.dumps(data))
    with pytest.raises(DataValidationError, match=r"other\.json was fitted on other parameter files"):
        resolve_model(bad)
    with pytest.raises(InvalidInputError, match="does not exist"):
        resolve_model(tmp_path / "missing.json")


def test_a_good_posterior_file_is_used(tmp_path: Path) -> None:
    good = tmp_path / "copy.json"
    good.write_bytes(cp.default_posterior_path().read_bytes())
    m = resolve_model(good)
    assert m.calibrated and m.sha256 == hash_file(good) and m.provenance()["posterior_file"] == "copy.json"
