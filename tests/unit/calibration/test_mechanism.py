"""Mechanism questions: single-pathway blocks at the same exposure as the full JAK1/2 block."""

from __future__ import annotations

import pytest

from dermsim.calibration.mechanism import SCENARIOS, simulate_pathway_blocks


@pytest.mark.slow  # tens of seconds on a busy 2-core machine (make test --durations)
def test_pathway_blocks_share_patients_and_exposure_and_rank_sensibly():
    res = simulate_pathway_blocks(n_vp=150, n_draws=1, seed=3)
    assert set(res.table) == set(SCENARIOS)
    iga = {s: res.table[s]["iga_ts"][0] for s in SCENARIOS}
    nrs = {s: res.table[s]["nrs4"][0] for s in SCENARIOS}
    # the drug beats its vehicle; the full map beats IL-13 alone; an IL-31 block acts mostly on itch
    assert iga["full JAK1/2"] > iga["IL-13 only"] > iga["vehicle"]
    assert nrs["IL-31 only"] > nrs["IL-13 only"]
    assert len(res.to_rows()) == len(SCENARIOS) * 4
