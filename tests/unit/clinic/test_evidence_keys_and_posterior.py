"""Evidence keys resolve to cited entries; the planner uses a calibrated posterior when
``dermsim.calibration`` ships one, and says which parameters it used."""

from __future__ import annotations

import importlib.machinery
import sys
import types

import numpy as np
import pytest

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
    version = "test-1"
    hash = "abc"

    def __init__(self, f_top: float) -> None:
        self.draws = {"F_top": np.array([f_top * 0.5, f_top, f_top * 2.0]), "not_a_parameter": np.ones(3)}
        self.weights = np.array([0.1, 0.8, 0.1])


def test_calibrated_posterior_is_used_when_shipped(monkeypatch: pytest.MonkeyPatch) -> None:
    inp = DosePlanInput(age_y=8, area_pct=10.0)
    prior = plan_dose(inp, seed=2, n_draws=300).exposure
    assert prior.parameters == "prior"
    f_top = default_parameters().value("F_top")
    fake = types.ModuleType("dermsim.calibration")
    fake.__spec__ = importlib.machinery.ModuleSpec("dermsim.calibration", None)
    fake.default_posterior = lambda: _Posterior(2.0 * f_top)  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "dermsim.calibration", fake)
    post = plan_dose(inp, seed=2, n_draws=300).exposure
    assert post.parameters == "calibrated posterior" and "test-1 abc" in post.parameters_note
    # weighted median of F_top is twice the prior: Css doubles wherever F stays below its cap of 1
    assert post.css_median_nM == pytest.approx(2.0 * prior.css_median_nM, rel=1e-9)
