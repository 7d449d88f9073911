"""Evidence keys resolve to cited entries; the planner uses a calibrated posterior when
``dermsim.calibration`` ships one, and says which parameters it used."""

from __future__ import annotations

from pathlib import Path

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
    """Stands in for dermsim.calibration's Posterior: weighted median as a ParameterSet."""

    version = "test-1"
    targets_sha256 = "abc" * 10

    def __init__(self, jmax: float, fitted_on: str) -> None:
        self.jmax = jmax
        self.meta = {"model_parameters_sha256": fitted_on}

    def parameter_set(self, index: int | None = None) -> object:
        assert index is None  # the weighted median
        return default_parameters().replace_values(Jmax=self.jmax)


@pytest.mark.parametrize("same_model", [True, False])
def test_calibrated_posterior_is_used_when_shipped(monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
                                                   same_model: bool) -> None:
    inp = DosePlanInput(age_y=8, area_pct=10.0)
    monkeypatch.setattr(calib_post, "default_posterior_path", lambda: tmp_path / "absent.json")
    prior = plan_dose(inp, seed=2, n_draws=300).exposure
    assert prior.parameters == "prior" and "ships no posterior" in prior.parameters_note

    shipped = tmp_path / "v1.json"
    shipped.write_text("{}")
    jmax = default_parameters().value("Jmax")
    sha = calib_post.model_parameters_sha256() if same_model else "other"
    monkeypatch.setattr(calib_post, "default_posterior_path", lambda: shipped)
    monkeypatch.setattr(calib_post, "default_posterior", lambda: _Posterior(2.0 * jmax, sha))
    post = plan_dose(inp, seed=2, n_draws=300).exposure
    if same_model:
        assert post.parameters == "calibrated posterior" and "test-1" in post.parameters_note
        # Jmax doubled: Css doubles wherever the absorbed amount stays below the dose (same draws)
        assert post.css_median_nM == pytest.approx(2.0 * prior.css_median_nM, rel=1e-9)
    else:
        assert post.parameters == "prior" and "fitted on other parameter files" in post.parameters_note
        assert post.css_median_nM == prior.css_median_nM
