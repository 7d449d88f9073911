"""The maximum-use design's absorption ratio (eta_maxuse) acts only where a maximum-use design is
simulated: the calibration's maximum-use arm and the pediatric maximum-use prediction. Phase 3
designs, TRuE-AD3 and the clinic use Jmax as calibrated."""

import numpy as np
import pytest

from dermsim.calibration.priors import apply_parameters, v2_prior
from dermsim.calibration.targets import V2_TARGETS, load_targets


def test_eta_maxuse_scales_jmax_only_for_the_maximum_use_design() -> None:
    prior = v2_prior()
    x = prior.to_natural(prior.mean[None, :])[0].copy()
    j = prior.names.index("eta_maxuse")
    x[j] = np.log(0.25)
    phase3 = apply_parameters(x, prior)
    maxuse = apply_parameters(x, prior, design_class="maxuse")
    assert maxuse.value("Jmax") == pytest.approx(0.25 * phase3.value("Jmax"))
    assert phase3.value("Jmax") == pytest.approx(x[prior.names.index("Jmax")])
    # nothing else differs
    for name in ("gamma", "L50", "IC50_skin", "k_a"):
        assert maxuse.value(name) == phase3.value(name)


def test_eta_maxuse_prior_is_centred_on_no_difference() -> None:
    p = v2_prior().parameters[v2_prior().names.index("eta_maxuse")]
    assert (p.field, p.transform, p.prior_mean) == ("study", "identity", 0.0)


def test_only_the_maximum_use_arm_has_that_design() -> None:
    arms = load_targets(V2_TARGETS).sim_arms
    assert {a.id for a in arms if a.design_class == "maxuse"} == {"maxuse-adult/rux150"}
    assert {a.design_class for a in arms} == {"", "maxuse"}
