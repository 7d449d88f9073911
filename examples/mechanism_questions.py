"""Mechanism questions answered by the calibrated model (issue 6, item 5).

Claim under test: one topical JAK1/2 inhibitor gives "the benefits of several targeted therapies".
At the same cream (1.5 % BID), the same TRuE-AD1/2-like virtual patients and therefore the same
local exposure u and receptor occupancy, compare at week 8:

* vehicle (cream base only),
* IL-13 only (a lebrikizumab/tralokinumab-like single-pathway block),
* IL-4 + IL-13 (a dupilumab-like block),
* IL-31 only (a nemolizumab-like block),
* the full JAK1/2 block of the cytokine -> JAK map (IL-4, IL-13, IL-31, IL-22, TSLP, IFN-gamma).

Each single-pathway block uses the calibrated Imax on its pathway(s), the others are untouched
(``blocked=`` of ``simulate_patients``). Intervals are over posterior draws (parameter
uncertainty), expected arm proportions without trial sampling noise.

Run:  .venv/bin/python examples/mechanism_questions.py   (about 1-2 minutes on one core)

Output with the shipped posterior adult-trials-1-s20261125 (week 8, % responders, median [90 %]):

    scenario          IGA-TS             EASI-75            NRS4
    vehicle           10.2 [ 7.6, 16.9]   7.1 [ 6.1, 16.3]  10.7 [ 2.7, 19.2]
    IL-13 only        36.5 [34.2, 45.1]  33.5 [29.8, 42.6]  18.9 [ 8.5, 29.3]
    IL-4 + IL-13      37.5 [35.7, 45.6]  35.0 [31.5, 43.9]  24.6 [11.9, 32.3]
    IL-31 only        18.7 [15.6, 27.8]  13.6 [13.2, 25.3]  44.8 [39.5, 54.4]
    full JAK1/2       53.4 [50.7, 59.5]  52.7 [48.9, 58.7]  57.6 [53.5, 63.1]

i.e. IL-13 alone gives about 60 % of the full block's IGA-TS gain over vehicle, IL-4 + IL-13 about
63 %, IL-31 alone about 21 % (but most of the itch benefit): in this model the JAK1/2 block is
more than any single-pathway block at the same exposure.

Reading the result: the model's answer is only as good as its mechanism priors (Miyano et al.
2022 cytokine effects; the JAK map) - the calibration constrains the full JAK1/2 arm and the
vehicle, not the single-pathway arms, which are extrapolations within the model.
"""

from __future__ import annotations

import numpy as np

from dermsim.calibration.mechanism import simulate_pathway_blocks
from dermsim.calibration.posterior import default_posterior

LABELS = {"iga_ts": "IGA-TS", "easi75": "EASI-75", "nrs4": "NRS4", "easi_pct_change": "mean %chg EASI"}


def main() -> None:
    post = default_posterior()
    res = simulate_pathway_blocks(post, strength_pct=1.5, n_vp=1000, n_draws=20, seed=7)
    print(f"Week 8, ruxolitinib 1.5% BID exposure, posterior {post.version} (median [90% over draws])")
    print(f"{'scenario':<14}" + "".join(f"{LABELS[e]:>24}" for e in LABELS))
    for scenario, eps in res.table.items():
        cells = []
        for e in LABELS:
            m, lo, hi = eps[e]
            scale = 1.0 if e == "easi_pct_change" else 100.0
            cells.append(f"{m * scale:8.1f} [{lo * scale:6.1f},{hi * scale:6.1f}]")
        print(f"{scenario:<14}" + "".join(f"{c:>24}" for c in cells))
    veh = res.draws["vehicle"]["iga_ts"]
    gain_full = res.draws["full JAK1/2"]["iga_ts"] - veh
    for s in ("IL-13 only", "IL-4 + IL-13", "IL-31 only"):
        share = np.median((res.draws[s]["iga_ts"] - veh) / gain_full)
        print(f"{s}: {100 * share:.0f}% of the full JAK1/2 IGA-TS gain over vehicle (median over draws)")


if __name__ == "__main__":
    main()
