"""The model's true effect of a design: one very large virtual trial run with the same conduct as a
replicate (design.replicate) on a stream of its own, against which the summaries give the bias and
coverage of model-based designs."""

from __future__ import annotations

import numpy as np
import pandas as pd

from dermsim._rng import SeedLike, as_seed_sequence, child_sequence
from dermsim._validate import LIMITS, check_int
from dermsim.design.replicate import simulate_model_block
from dermsim.design.resolve import resolve_design
from dermsim.design.spec import DesignSpec
from dermsim.trial import TrialDesign

TRUTH_STREAM_KEY = 0x545255  # "TRU": the large-sample truth never shares draws with replicates


def truth_key(design: DesignSpec) -> int:
    """32-bit key of what the true effect depends on: the spec without ``id`` and ``n_total``."""
    import hashlib
    import json

    content = {k: v for k, v in design.to_dict().items() if k not in ("id", "n_total")}
    return int.from_bytes(hashlib.sha256(json.dumps(content, sort_keys=True).encode()).digest()[:4], "big")


def estimate_true_effects(
    scenario: TrialDesign | str,
    design: DesignSpec,
    n_patients: int,
    seed: SeedLike,
    *,
    chunk_patients: int = 32_768,
) -> pd.DataFrame:
    """The model's 'true' risk difference per hypothesis, from one very large virtual trial.

    ``n_patients`` patients (e.g. 30,000) go through the same conduct as a replicate (population,
    randomization, model per arm, dropout as non-response) on a stream of their own; the true
    effect is the difference of pooled response rates, with its binomial SE as the Monte-Carlo
    error. Against it the summaries give bias and coverage for model-based designs. It is the
    marginal risk difference: a stratified (MH-Sato) estimate targets a weighted average of
    stratum differences, equal to it when the effect is the same in every stratum. Model
    parameters: the defaults (prior); averaging over a posterior is not done here.
    """
    check_int("n_patients", n_patients, minimum=100, maximum=LIMITS["patients"])
    rd = resolve_design(scenario, design.replace(n_total=int(n_patients)))
    # keyed by the design's content without id and n_total: designs that differ only in sample
    # size share one truth (and callers may compute it once for all of them)
    bseq = child_sequence(as_seed_sequence(seed), TRUTH_STREAM_KEY, truth_key(design))
    bc = simulate_model_block(rd, bseq, 1, None, chunk_patients)
    rows = []
    for i, h in enumerate(rd.hypotheses):
        x, n = bc.counts[h.endpoint]
        t, c = rd.arm_ids.index(h.treatment), rd.arm_ids.index(h.control)
        xt, nt, xc, nc = x[0, :, t].sum(), n[0, :, t].sum(), x[0, :, c].sum(), n[0, :, c].sum()
        pt, pc = xt / nt, xc / nc
        rows.append(
            {
                "design_id": design.id,
                "hypothesis": i,
                "truth": pt - pc,
                "truth_mcse": float(np.sqrt(pt * (1 - pt) / nt + pc * (1 - pc) / nc)),
                "n_treatment": int(nt),
                "n_control": int(nc),
            }
        )
    return pd.DataFrame(rows)
