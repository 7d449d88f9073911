"""Simulations use the shipped calibrated posterior by default; ``--posterior prior`` opts out."""

import pandas as pd
import pytest

from dermsim.calibration.posterior import default_posterior, resolve_parameters
from dermsim.cli import main
from dermsim.model.parameters import default_parameters


def test_resolve_parameters_default_is_the_shipped_posterior():
    shipped = resolve_parameters("shipped")
    assert shipped.to_dict() == default_posterior().parameter_set().to_dict()
    assert shipped.to_dict() != default_parameters().to_dict()
    assert resolve_parameters("prior") is None


@pytest.mark.slow
def test_trial_simulate_uses_the_posterior_unless_told_otherwise(tmp_path):
    runs = {}
    for name, extra in {"default": [], "prior": ["--posterior", "prior"]}.items():
        out = tmp_path / name
        assert main(["trial", "simulate", "true-ad3", "--seed", "3", "--n", "40", "--no-extension",
                     "--format", "parquet", "--out", str(out), *extra]) == 0
        runs[name] = pd.read_parquet(out / "adam" / "adeff.parquet")
    easi = {k: v.loc[v["PARAMCD"] == "EASI", "AVAL"].to_numpy() for k, v in runs.items()}
    assert easi["default"].shape == easi["prior"].shape
    assert (easi["default"] != easi["prior"]).any()
