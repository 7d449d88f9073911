"""The shipped posterior: predictive checks cover the fitted IGA-TS targets, and `dermsim calibrate`
with the shipped seed reproduces it.

The PPC is computed from the shipped file alone (each particle's simulated arm stats are stored in
it; binomial sampling at the real arm sizes is redone here), so it is fast. The full calibration
(at most 2,280 candidates, 10-25 min) is too slow for the suite: reproduction is checked by
(i) re-drawing generation 0's proposals from the seed and comparing them with the archive, and
(ii) re-simulating a few archived candidates of the shipped run with the shipped configuration
and comparing their arm stats with the archive; plus a reduced-size CLI run repeated twice.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from dermsim.calibration.diagnostics import compute_diagnostics, compute_ppc, diagnostics_path
from dermsim.calibration.fit import CalibrationConfig
from dermsim.calibration.posterior import default_posterior, default_posterior_path
from dermsim.calibration.smc import SMCConfig
from dermsim.calibration.summaries import make_setup, simulate_stats
from dermsim.calibration.targets import DEFAULT_TARGETS
from dermsim.cli import main


@pytest.fixture(scope="module")
def post():
    return default_posterior()


def test_shipped_posterior_is_small_and_complete(post):
    assert default_posterior_path().stat().st_size < 1_000_000
    assert post.n == CalibrationConfig().smc.n_particles
    assert post.meta["created_by"].startswith("dermsim calibrate --seed")
    assert post.meta["smc"]["generations_done"] == CalibrationConfig().smc.n_generations
    eps = post.meta["smc"]["epsilons"]
    assert eps[-1] < eps[0]
    assert np.all(np.isfinite(post.draws))


def test_ppc_90pct_intervals_cover_the_fitted_iga_ts_targets(post):
    rows = [r for r in compute_ppc(post) if "/IGA-TS/" in r["target"]]
    assert len(rows) == 6
    missed = [(r["target"], r["observed"], r["pi90_low"], r["pi90_high"]) for r in rows if not r["inside"]]
    assert not missed, f"IGA-TS targets outside the posterior predictive 90% interval: {missed}"


def test_shipped_diagnostics_file_matches_the_posterior(post):
    shipped = json.loads(diagnostics_path(default_posterior_path()).read_text())
    fresh = json.loads(json.dumps(compute_diagnostics(post)))
    assert shipped["posterior_version"] == post.version
    assert shipped["ppc"] == fresh["ppc"]
    assert {r["parameter"] for r in shipped["identifiability"]} == set(post.names)


def test_generation_zero_proposals_are_reproduced_from_the_seed(post):
    from dermsim._rng import child_generator

    cfg = CalibrationConfig(**{k: v for k, v in post.meta["calibration"].items()
                               if k in ("n_vp", "population")},
                            smc=SMCConfig(**{k: v for k, v in post.meta["calibration"].items()
                                             if k in ("n_particles", "n_proposals", "n_generations",
                                                      "keep_fraction", "mcmc_steps")}))
    z0 = post.prior.sample(cfg.smc.n_proposals, child_generator(np.random.SeedSequence(post.seed), 0))
    arch = np.asarray(post.meta["archive"]["z"])[: cfg.smc.n_proposals]
    np.testing.assert_allclose(z0, arch, atol=1e-6)


@pytest.mark.slow
def test_archived_candidates_are_reproduced_by_the_simulator(post):
    cal = post.meta["calibration"]
    setup = make_setup(cal["population"], cal["n_vp"], post.seed)
    arch_z = np.asarray(post.meta["archive"]["z"])
    arch_stats = np.asarray(post.meta["archive"]["stats"])
    rows = [0, arch_z.shape[0] - 1]  # first of generation 0, last of the final generation
    stats = simulate_stats(post.prior.to_natural(arch_z[rows]), post.prior, setup)
    # the archive stores parameters and stats rounded to 6 decimals
    np.testing.assert_allclose(stats, arch_stats[rows], rtol=1e-5, atol=2e-6)


@pytest.mark.slow
def test_cli_calibrate_reduced_run_is_reproducible(tmp_path):
    args = ["calibrate", "--seed", "5", "--n-vp", "40", "--particles", "5", "--proposals", "10",
            "--generations", "2", "--targets", str(DEFAULT_TARGETS)]
    assert main([*args, "--out", str(tmp_path / "a.json")]) == 0
    assert main([*args, "--out", str(tmp_path / "b.json")]) == 0
    a = json.loads((tmp_path / "a.json").read_text())
    b = json.loads((tmp_path / "b.json").read_text())
    assert a["draws"] == b["draws"] and a["weights"] == b["weights"] and a["archive"] == b["archive"]
    assert (tmp_path / "a.diagnostics.json").exists()
    assert not (tmp_path / "a.json.checkpoint.npz").exists()


@pytest.mark.slow
def test_cli_resume_after_interruption_gives_the_uninterrupted_posterior(tmp_path):
    from dermsim.calibration.fit import calibrate

    args = ["calibrate", "--seed", "6", "--n-vp", "40", "--particles", "6", "--proposals", "12",
            "--generations", "3", "--targets", str(DEFAULT_TARGETS)]
    assert main([*args, "--out", str(tmp_path / "full.json")]) == 0
    out = tmp_path / "resumed.json"
    # an interrupted run: one generation done and checkpointed beside --out, no posterior yet
    cfg = CalibrationConfig(n_vp=40, smc=SMCConfig(n_particles=6, n_proposals=12, n_generations=3))
    calibrate(6, config=cfg, checkpoint=out.with_name(out.name + ".checkpoint.npz"), stop_after=1)
    assert not out.exists()
    assert main([*args, "--out", str(out), "--resume"]) == 0
    a = json.loads((tmp_path / "full.json").read_text())
    b = json.loads(out.read_text())
    assert a["draws"] == b["draws"] and a["archive"] == b["archive"]
