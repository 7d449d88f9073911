"""JAK inhibition: the cytokine -> JAK map, blocked pathways, monotone exposure-response."""

from __future__ import annotations

import numpy as np
import pytest

from dermsim.errors import InvalidInputError
from dermsim.model.pharmacology.jak import (
    PATHWAYS,
    compute_inhibition,
    compute_pathway_coverage,
    cytokine_jaks,
    derive_pathway_imax,
)


def test_jak_map_follows_the_evidence_table():
    jaks = cytokine_jaks()
    assert set(jaks) == set(PATHWAYS)
    cov = dict(zip(PATHWAYS, compute_pathway_coverage(jaks, 0.75), strict=True))
    # clinical_facts.md 5: IL-13, IL-31, TSLP, IFN-g "Yes"; IL-4 (JAK1+JAK3) and IL-22 (JAK1+TYK2) "Partly"
    assert cov == {"IL4": 0.75, "IL13": 1.0, "IL31": 1.0, "IL22": 0.75, "TSLP": 1.0, "IFNg": 1.0}
    # a JAK3-only inhibitor would reach IL-4 only partly and nothing else
    jak3 = compute_pathway_coverage(jaks, 0.5, targets=frozenset({"JAK3"}))
    assert jak3[PATHWAYS.index("IL4")] == 0.5 and jak3.sum() == 0.5


def test_blocked_variants():
    assert np.count_nonzero(derive_pathway_imax(0.9, 0.75, ["IL-13"])) == 1
    assert derive_pathway_imax(0.9, 0.75, "IL-4+IL-13")[[0, 1]].tolist() == [0.9, 0.9]
    assert np.all(derive_pathway_imax(0.9, 0.75, "all") == 0.9)
    assert np.all(derive_pathway_imax(0.9, 0.75, "none") == 0)
    assert derive_pathway_imax(0.9, 0.75, {"IL31": 0.5})[2] == pytest.approx(0.45)
    with pytest.raises(InvalidInputError, match="blocked pathway must be one of"):
        derive_pathway_imax(0.9, 0.75, ["IL-99"])


def test_inhibition_is_monotone_in_exposure_and_bounded_by_imax():
    u = np.linspace(0, 100, 501)
    inhib = compute_inhibition(u, derive_pathway_imax(0.95, 0.75), hill=1.0)
    assert np.all(np.diff(inhib, axis=1) >= 0)
    assert np.all(inhib <= 0.95) and np.all(inhib >= 0)
    np.testing.assert_allclose(inhib[1, 5], 0.95 * u[5] / (1 + u[5]), rtol=1e-14)


def test_occupancy_uses_the_hill_coefficient():
    from dermsim.model.parameters import default_parameters
    from dermsim.model.pharmacology.jak import compute_occupancy

    u = np.array([0.0, 0.25, 1.0, 4.0, 1e12])
    for h in (0.5, 1.0, 1.5, 3.0):
        occ = compute_occupancy(u, h)
        np.testing.assert_allclose(occ[1:4], u[1:4] ** h / (1 + u[1:4] ** h), rtol=1e-13)
        assert occ[0] == 0.0 and occ[-1] == pytest.approx(1.0, abs=1e-6) and occ[2] == pytest.approx(0.5)
    # steeper h: a 2x exposure ratio around u = 1 gives a larger occupancy gap
    gap = [compute_occupancy(np.array([2.0]), h)[0] - compute_occupancy(np.array([1.0]), h)[0]
           for h in (1.0, 1.5, 3.0)]
    assert gap[0] < gap[1] < gap[2]
    hill = default_parameters()["hill"]
    assert hill.calibrate and hill.value == 1.5
