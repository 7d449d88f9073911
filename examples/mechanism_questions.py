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
