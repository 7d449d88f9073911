"""The Population contract and the sampler: reproducibility, chunking, enrollment, lesion maps."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dermsim.errors import InvalidInputError
from dermsim.model.population import body, sampling
from dermsim.model.population.sampling import (
    EASI_REGIONS,
    MIN_LESION_PCT,
    POPULATION_STREAM_KEY,
    Population,
    check_enrollment,
    concat,
    sample_population,
)
from dermsim.model.population.spec import load_population_spec

COLUMNS = ("age_y", "sex", "weight_kg", "height_cm", "bsa_m2", "region_pct", "affected_pct",
           "easi_region_pct", "iga0", "easi0", "nrs0")


def _tiny(n: int = 3) -> Population:
    r = len(body.region_names())
    region = np.full((n, r), 0.5)
    return Population(name="tiny", seed={"entropy": 0, "spawn_key": []}, age_y=np.arange(n) + 2.0,
                      sex=np.array(["F", "M", "F"][:n]), weight_kg=np.full(n, 20.0),
                      height_cm=np.full(n, 115.0), bsa_m2=np.full(n, 0.8), regions=body.region_names(),
                      region_pct=region, affected_pct=region.sum(axis=1), easi_region_pct=np.zeros((n, 4)),
                      iga0=np.array([2, 3, 3][:n]), easi0=np.full(n, 7.0), nrs0=np.full(n, 4.0))


def test_population_contract_dtypes_and_operations() -> None:
    pop = _tiny()
    assert pop.n == 3
    assert pop.iga0.dtype == np.int8 and pop.age_y.dtype == np.float64 and pop.sex.dtype.kind == "U"
    assert not pop.age_y.flags.writeable
    sub = pop.take([2, 0])
    np.testing.assert_array_equal(sub.age_y, [4.0, 2.0])
    assert sub.region_pct.shape == (2, len(pop.regions))
    both = concat([pop, sub])
    assert both.n == 5 and both.name == "tiny"
    frame = pop.to_frame()
    assert len(frame) == 3
    assert {"age_y", "sex", "iga0", "region_pct_head", "easi_region_pct_trunk"} <= set(frame.columns)
    assert EASI_REGIONS == ("head_neck", "trunk", "upper_limbs", "lower_limbs")


def test_population_rejects_ragged_columns() -> None:
    pop = _tiny()
    cols = {c: getattr(pop, c) for c in COLUMNS}
    cols["easi0"] = np.ones(2)
    with pytest.raises(InvalidInputError, match=r"easi0 must have shape \(3,\); got \(2,\)"):
        Population(name="x", seed={}, regions=pop.regions, **cols)


@pytest.fixture(scope="module")
def ad3() -> Population:
    return sample_population("true-ad3", 4000, seed=11)


def test_columns_shapes_and_ranges(ad3: Population) -> None:
    n = ad3.n
    assert n == 4000 and ad3.name == "true-ad3" and ad3.seed == {"entropy": 11, "spawn_key": []}
    for c in ("age_y", "weight_kg", "height_cm", "bsa_m2", "affected_pct", "iga0", "easi0", "nrs0", "sex"):
        assert getattr(ad3, c).shape == (n,)
    assert ad3.region_pct.shape == (n, len(ad3.regions)) and ad3.easi_region_pct.shape == (n, 4)
    assert set(np.unique(ad3.sex)) == {"F", "M"}
    assert np.all((ad3.easi0 > 0) & (ad3.easi0 <= 72)) and np.all((ad3.nrs0 >= 0) & (ad3.nrs0 <= 10))
    np.testing.assert_allclose(ad3.region_pct.sum(axis=1), ad3.affected_pct, atol=1e-9)
    assert np.all(ad3.region_pct <= body.compute_region_sizes_pct(ad3.age_y) + 1e-12)
    np.testing.assert_allclose(ad3.easi_region_pct, body.compute_easi_region_pct(ad3.region_pct, ad3.age_y),
                               atol=1e-12)
    np.testing.assert_allclose(ad3.bsa_m2, np.sqrt(ad3.height_cm * ad3.weight_kg / 3600), rtol=1e-12)


def test_easi_is_possible_for_every_lesion_map(ad3: Population) -> None:
    """EASI = mean sign severity (1-12) x sum of weight x area score of the patient's own lesion
    map: never above 12 x the area term, never below 1 x it (each involved region has a sign)."""
    area = body.compute_easi_area_term(ad3.easi_region_pct, ad3.age_y)
    assert np.all(area > 0)
    severity = ad3.easi0 / area
    assert np.all((severity >= 1.0) & (severity <= 12.0))


def test_specks_are_dropped(ad3: Population) -> None:
    """A region under MIN_LESION_PCT is involved only where the larger involved regions of that
    patient are full (it is then needed to hold the area)."""
    sizes = body.compute_region_sizes_pct(ad3.age_y)
    small = (ad3.region_pct > 0) & (ad3.region_pct < MIN_LESION_PCT)
    for i in np.nonzero(small.any(axis=1))[0]:
        larger = ad3.region_pct[i] > ad3.region_pct[i][small[i]].max()
        np.testing.assert_allclose(ad3.region_pct[i][larger], sizes[i][larger], rtol=1e-12)
    assert small.any(axis=1).mean() < 0.01


def test_severity_is_consistent_with_iga_and_bsa(ad3: Population) -> None:
    """EASI is higher at IGA 3 than at IGA 2 and rises with %BSA; itch rises with EASI."""
    assert np.median(ad3.easi0[ad3.iga0 == 3]) > 1.5 * np.median(ad3.easi0[ad3.iga0 == 2])
    assert np.corrcoef(ad3.affected_pct, ad3.easi0)[0, 1] > 0.3
    assert np.corrcoef(ad3.easi0, ad3.nrs0)[0, 1] > 0.1


def test_two_independent_runs_give_identical_arrays() -> None:
    a = sample_population("true-ad3", 1500, seed=2024)
    b = sample_population(load_population_spec("true-ad3"), 1500, seed=2024)
    for c in COLUMNS:
        np.testing.assert_array_equal(getattr(a, c), getattr(b, c))
    c2 = sample_population("true-ad3", 1500, seed=2025)
    assert not np.array_equal(a.age_y, c2.age_y)


def test_prefix_is_stable_when_n_grows() -> None:
    small = sample_population("true-ad1", 700, seed=5)
    big = sample_population("true-ad1", 2500, seed=5)
    for c in COLUMNS:
        np.testing.assert_array_equal(getattr(small, c), getattr(big, c)[:700])


@settings(max_examples=12, deadline=None)
@given(n=st.integers(1, 2600), chunk=st.integers(1, 3000), seed=st.integers(0, 2**32))
def test_chunks_give_the_same_patients_as_one_call(n: int, chunk: int, seed: int) -> None:
    whole = sample_population("true-ad3", n, seed)
    parts = sample_population("true-ad3", n, seed, chunk_size=chunk)
    for c in COLUMNS:
        np.testing.assert_array_equal(getattr(whole, c), getattr(parts, c))


@pytest.mark.parametrize("chunk", [None, 700])
def test_threads_draw_the_same_patients_as_one_thread(chunk: int | None, monkeypatch) -> None:
    """Parts are drawn side by side in a thread per core; any number of threads, the same patients."""
    pops = []
    for workers in (1, 3):
        monkeypatch.setattr(sampling, "default_workers", lambda w=workers: w)
        pops.append(sample_population("true-ad3", 5000, 11, chunk_size=chunk))
    for c in COLUMNS:
        np.testing.assert_array_equal(getattr(pops[0], c), getattr(pops[1], c))


@settings(max_examples=15, deadline=None)
@given(name=st.sampled_from(["true-ad1", "true-ad2", "true-ad3"]), n=st.integers(1, 3000),
       seed=st.integers(0, 2**63))
def test_enrollment_criteria_hold_for_every_sampled_patient(name: str, n: int, seed: int) -> None:
    spec = load_population_spec(name)
    pop = sample_population(spec, n, seed)
    assert np.all(check_enrollment(pop, spec))
    assert np.all(np.isin(pop.iga0, [2, 3]))
    assert np.all((pop.affected_pct >= 3) & (pop.affected_pct <= 20))
    assert np.all((pop.age_y >= spec.age.min_y) & (pop.age_y < spec.age.max_y))


def test_streams_are_apart_from_simulate_streams() -> None:
    """The sampler draws below its own key: its demographic uniforms are those of
    child_sequence(seed, POPULATION_STREAM_KEY), not the top-level stream 0 of the same seed
    (sex is read back from the uniforms)."""
    from dermsim._rng import child_sequence
    from dermsim.engine.streams import block_uniforms

    n, seed = 400, 1
    pop = sample_population("true-ad3", n, seed=seed)
    female_p = load_population_spec("true-ad3").female_pct.value / 100
    own = block_uniforms(child_sequence(seed, POPULATION_STREAM_KEY), 0, 0, n, 3)
    top = block_uniforms(seed, 0, 0, n, 3)
    np.testing.assert_array_equal(pop.sex == "F", own[:, 2] < female_p)
    assert not np.array_equal(pop.sex == "F", top[:, 2] < female_p)


def test_bad_arguments() -> None:
    with pytest.raises(InvalidInputError, match="n must be an integer >= 1; got 0"):
        sample_population("true-ad3", 0, seed=1)
    with pytest.raises(InvalidInputError, match="seed must be an integer >= 0; got -1"):
        sample_population("true-ad3", 10, seed=-1)
    with pytest.raises(InvalidInputError, match="population must be one of true-ad1, true-ad2, true-ad3"):
        sample_population("true-ad7", 10, seed=1)
