"""Stratified permuted-block randomization: exact within complete blocks, near-exact overall."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dermsim.errors import InvalidInputError
from dermsim.trial import compute_strata, sample_block_allocation
from dermsim.trial.randomization import compute_block_deviation_bound


@settings(max_examples=60, deadline=None)
@given(
    ratio=st.lists(st.integers(1, 3), min_size=2, max_size=4),
    m=st.integers(1, 3),
    n=st.integers(1, 400),
    k=st.integers(1, 6),
    seed=st.integers(0, 2**32 - 1),
)
def test_every_complete_block_is_exact(ratio, m, n, k, seed):
    block = sum(ratio) * m
    rng = np.random.default_rng(seed)
    stratum = rng.integers(0, k, n)
    arm = sample_block_allocation(stratum, ratio, block, seed, n_strata=k)
    assert arm.shape == (n,) and arm.min() >= 0 and arm.max() < len(ratio)
    for s in range(k):
        seq = arm[stratum == s]
        full = seq[: (seq.size // block) * block].reshape(-1, block)
        for row in full:
            np.testing.assert_array_equal(np.bincount(row, minlength=len(ratio)), np.array(ratio) * m)
        # the incomplete last block never exceeds any arm's share of a block
        tail = seq[(seq.size // block) * block :]
        assert (np.bincount(tail, minlength=len(ratio)) <= np.array(ratio) * m).all()


def test_ad3_arm_sizes_follow_2_2_1_as_closely_as_blocks_allow(ad3):
    from dermsim.model.population.sampling import sample_population

    pop = sample_population(ad3.population, ad3.n_total, 3)
    stratum, _ = compute_strata(ad3.stratification.factors, {"iga0": pop.iga0, "age_y": pop.age_y})
    bound = compute_block_deviation_bound(
        ad3.ratio, ad3.stratification.block_size, ad3.stratification.n_strata
    )
    expected = ad3.n_total * np.array(ad3.ratio) / sum(ad3.ratio)  # 132, 132, 66
    for seed in range(20):
        arm = sample_block_allocation(
            stratum, ad3.ratio, ad3.stratification.block_size, seed, n_strata=ad3.stratification.n_strata
        )
        counts = np.bincount(arm, minlength=3)
        assert counts.sum() == 330
        assert (np.abs(counts - expected) <= bound).all(), counts
    # with one stratum a multiple of the block gives exactly 2:2:1
    arm = sample_block_allocation(np.zeros(330, dtype=np.int64), ad3.ratio, 10, 1)
    np.testing.assert_array_equal(np.bincount(arm), [132, 132, 66])


def test_seed_reproducible_and_prefix_stable():
    stratum = np.tile(np.arange(4), 50)
    a = sample_block_allocation(stratum, [2, 2, 1], 10, 5, n_strata=4)
    b = sample_block_allocation(stratum, [2, 2, 1], 10, 5, n_strata=4)
    np.testing.assert_array_equal(a, b)
    # enrolling more patients never changes the earlier allocations
    longer = sample_block_allocation(np.tile(np.arange(4), 80), [2, 2, 1], 10, 5, n_strata=4)
    np.testing.assert_array_equal(longer[:200], a)
    assert not np.array_equal(a, sample_block_allocation(stratum, [2, 2, 1], 10, 6, n_strata=4))


def test_strata_codes(ad3):
    strat, levels = compute_strata(
        ad3.stratification.factors,
        {"iga0": np.array([2, 3, 2, 3]), "age_y": np.array([2.5, 6.99, 7.0, 11.9])},
    )
    np.testing.assert_array_equal(levels, [[0, 0], [1, 0], [0, 1], [1, 1]])
    np.testing.assert_array_equal(strat, [0, 2, 1, 3])
    with pytest.raises(InvalidInputError, match=r"IGASTR.*got 4"):
        compute_strata(ad3.stratification.factors, {"iga0": np.array([4]), "age_y": np.array([5.0])})


@pytest.mark.parametrize(("ratio", "block", "msg"), [([2, 0, 1], 3, "ratio"), ([2, 2, 1], 7, "block_size")])
def test_bad_arguments(ratio, block, msg):
    with pytest.raises(InvalidInputError, match=msg):
        sample_block_allocation(np.zeros(5, dtype=np.int64), ratio, block, 1)
