"""Evidence keys resolve to cited entries; the planner uses a calibrated posterior when
``dermsim.calibration`` ships one, and says which parameters it used."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from dermsim.calibration import posterior as calib_post
from dermsim.clinic import DosePlanInput, cite, evidence_keys, plan_dose
from dermsim.clinic.evidence_keys import item, key_of
from dermsim.errors import InvalidInputError
from dermsim.evidence import load_evidence
from dermsim.model.parameters import default_parameters


def test_keys_resolve_with_status_and_citation() -> None:
    c = cite("label.toml:facts.max_bsa_pct")
    assert c.status == "C" and c.source_keys == ("Label-PP",) and "Opzelura" in c.citations[0]
    nf = cite("label.toml:max_amount.1.g_per_week")
    assert nf.status == "NF" and not nf.shareable
    assert any(k.startswith("charts.toml:ftu.by_age.") for k in evidence_keys())


def test_key_of_is_the_inverse_of_item() -> None:
    ev = load_evidence()
    fact = ev.pharmacology.topical["myelosuppression_threshold_nM"]
    key = key_of(fact, ev)
    assert key == "pharmacology.toml:topical.myelosuppression_threshold_nM" and item(key, ev) is fact


def test_unknown_key_is_refused() -> None:
    with pytest.raises(InvalidInputError, match="evidence key must name a cited entry"):
        cite("label.toml:facts.no_such_fact")


class _Posterior:
    """Stands in for dermsim.calibration's Posterior: particles (here: Jmax multipliers of the
    package parameters) with weights, resampled by weight; ``None`` gives the weighted median."""

    version = "test-1"
    targets_sha256 = "abc" * 10

    def __init__(self, jmax_factors: list[float], weights: list[float], fitted_on: str) -> None:
        self.factors = np.asarray(jmax_factors, float)
        self.weights = np.asarray(weights, float) / np.sum(weights)
        self.meta = {"model_parameters_sha256": fitted_on}

    def sample_indices(self, n: int, seed: object) -> np.ndarray:
        return np.random.default_rng(seed).choice(self.factors.size, size=n, p=self.weights)  # type: ignore[arg-type]

    def parameter_set(self, index: int | None = None, base: object = None) -> object:
        factor = float(np.median(self.factors)) if index is None else float(self.factors[index])
        return default_parameters().replace_values(Jmax=factor * default_parameters().value("Jmax"))


ADULT = DosePlanInput(age_y=30, weight_kg=70.0, height_cm=175.0, area_pct=30.0, grams_per_day=20.0)


def _shipped(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, post: _Posterior | None) -> None:
    path = tmp_path / "v.json"
    if post is None:
        monkeypatch.setattr(calib_post, "default_posterior_path", lambda: tmp_path / "absent.json")
        return
    path.write_text("{}")
    monkeypatch.setattr(calib_post, "default_posterior_path", lambda: path)
    monkeypatch.setattr(calib_post, "default_posterior", lambda: post)


@pytest.mark.parametrize("same_model", [True, False])
def test_calibrated_posterior_is_used_when_shipped(monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
                                                   same_model: bool) -> None:
    _shipped(monkeypatch, tmp_path, None)
    prior = plan_dose(ADULT, seed=2, n_draws=2000).exposure
    assert prior.parameters == "prior" and "ships no posterior" in prior.parameters_note
    assert prior.n_particles == 1 and prior.p_above_p05 is None and prior.p_above_p95 is None

    sha = calib_post.model_parameters_sha256() if same_model else "other"
    _shipped(monkeypatch, tmp_path, _Posterior([4.0, 4.0], [1.0, 1.0], sha))
    post = plan_dose(ADULT, seed=2, n_draws=2000).exposure
    if same_model:
        assert post.parameters == "calibrated posterior" and "test-1" in post.parameters_note
        assert post.n_particles == 100 and post.n_draws == 2000
        # every particle has 4x the prior's Jmax: Css about 4x (other draws), P(> 281 nM) higher
        assert 3.0 < post.css_median_nM / prior.css_median_nM < 5.0
        assert post.p_above_threshold > prior.p_above_threshold
    else:
        assert post.parameters == "prior" and "fitted on other parameter files" in post.parameters_note
        assert post.css_median_nM == prior.css_median_nM


def test_probability_interval_reflects_parameter_uncertainty(monkeypatch: pytest.MonkeyPatch,
                                                              tmp_path: Path) -> None:
    sha = calib_post.model_parameters_sha256()
    _shipped(monkeypatch, tmp_path, _Posterior([1.0, 1.0], [1.0, 1.0], sha))
    same = plan_dose(ADULT, seed=3, n_draws=4000).exposure
    _shipped(monkeypatch, tmp_path, _Posterior([0.5, 6.0], [1.0, 1.0], sha))
    wide = plan_dose(ADULT, seed=3, n_draws=4000).exposure
    assert same.p_above_p05 is not None and same.p_above_p95 is not None
    assert wide.p_above_p05 is not None and wide.p_above_p95 is not None
    assert wide.p_above_p05 <= wide.p_above_threshold <= wide.p_above_p95
    # identical particles: the interval is Monte-Carlo noise only; two very different ones: wide
    assert (wide.p_above_p95 - wide.p_above_p05) > 5 * (same.p_above_p95 - same.p_above_p05)
    assert wide.css_p95_nM > same.css_p95_nM


def test_family_sheet_says_how_sure_the_model_is(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from dermsim.clinic import build_family_sheet, compute_benefit_risk
    from dermsim.clinic.dose import EXPOSURE_MODEL_KEYS

    inp = DosePlanInput(age_y=6, area_pct=17.8)
    _shipped(monkeypatch, tmp_path, None)
    prior_plan = plan_dose(inp, seed=4, n_draws=400)
    prior_sheet = build_family_sheet(prior_plan, compute_benefit_risk(prior_plan))
    assert not any("not sure of that number" in t.template for t in prior_sheet.texts())
    _shipped(monkeypatch, tmp_path, _Posterior([0.5, 6.0], [1.0, 1.0], calib_post.model_parameters_sha256()))
    plan = plan_dose(inp, seed=4, n_draws=400)
    br = compute_benefit_risk(plan)
    assert br.p_above_p05 is not None and br.p_above_p95 is not None
    assert br.p_above_p05.value <= br.p_above.value <= br.p_above_p95.value
    sheet = build_family_sheet(plan, br)
    assert any("not sure of that number" in t.template for t in sheet.texts())
    assert {n.key for n in sheet.numbers if n.key.startswith("model:p_above")} <= EXPOSURE_MODEL_KEYS
