"""Validation ladder: the pre-registration never reads TRuE-AD3 outcomes; the comparison uses the
committed file unchanged and refuses one made from another posterior version."""

from __future__ import annotations

import csv

import numpy as np
import pytest

from dermsim.calibration import validate as v
from dermsim.calibration.posterior import Posterior
from dermsim.calibration.priors import default_prior
from dermsim.calibration.targets import DEFAULT_TARGETS, hash_file
from dermsim.errors import DataValidationError, InvalidInputError
from dermsim.evidence.trials import Trial


def _posterior(version: str = "t-1") -> Posterior:
    prior = default_prior()
    draws = prior.to_natural(prior.sample(3, seed=2))
    return Posterior(version=version, names=tuple(prior.names), draws=draws, weights=np.full(3, 1 / 3),
                     prior=prior, targets_sha256=hash_file(DEFAULT_TARGETS), targets_version="x",
                     code_version="0", seed=1, command="test")


@pytest.mark.slow
def test_preregistration_reads_no_true_ad3_outcome(tmp_path, monkeypatch):
    def forbidden(self, *a, **k):
        raise AssertionError("an outcome was read while pre-registering")

    monkeypatch.setattr(Trial, "results", forbidden)
    path = v.write_preregistration(_posterior(), tmp_path / "p.csv", seed=3, n_replicates=40, n_draws=2,
                                   n_vp=40)
    with path.open() as fh:
        rows = list(csv.DictReader(fh))
    assert tuple(rows[0]) == v.PREREG_COLUMNS
    assert {(r["arm"], r["n_arm"]) for r in rows} == {("vehicle", "65"), ("rux075", "134"), ("rux150", "131")}
    assert {r["endpoint"] for r in rows} == set(v.PREDICTED_ENDPOINTS)
    for r in rows:
        assert 0 <= float(r["pi90_low"]) <= float(r["pred_median"]) <= float(r["pi90_high"]) <= 1


def test_comparison_refuses_a_missing_or_foreign_preregistration(tmp_path):
    with pytest.raises(InvalidInputError, match="commit the file first"):
        v.read_preregistration(tmp_path / "none.csv", _posterior())
    path = tmp_path / "p.csv"
    with path.open("w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=v.PREREG_COLUMNS)
        w.writeheader()
        w.writerow(dict.fromkeys(v.PREREG_COLUMNS, "0") | {"posterior_version": "old-0"})
    with pytest.raises(DataValidationError, match="its own pre-registration"):
        v.read_preregistration(path, _posterior("t-2"))


def test_comparison_refuses_an_uncommitted_or_edited_preregistration(tmp_path):
    import shutil
    import subprocess

    if shutil.which("git") is None:
        pytest.skip("git is not installed")
    post = _posterior()
    path = tmp_path / "p.csv"
    with path.open("w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=v.PREREG_COLUMNS)
        w.writeheader()
        w.writerow(dict.fromkeys(v.PREREG_COLUMNS, "0") | {"posterior_version": post.version})

    def git(*args):
        subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@t", *args], cwd=tmp_path, check=True,
                       capture_output=True)

    git("init", "-q")
    with pytest.raises(DataValidationError, match="must be committed"):
        v.read_preregistration(path, post)
    git("add", "p.csv")
    git("commit", "-q", "-m", "prereg")
    assert len(v.read_preregistration(path, post)) == 1
    path.write_text(path.read_text().replace("0,", "1,", 1))
    with pytest.raises(DataValidationError, match="must be committed"):
        v.read_preregistration(path, post)
