"""One block of replicate trials of a design, simulated and analysed: the unit of work of a run
(design.runner runs the blocks of every design, in chunks, locally or on Dask).

Random streams. Replicates are grouped in fixed blocks of ``replicate_block`` (default 50): block
``b`` of design ``d`` draws everything (patients, randomization, dropout, model noise, posterior
draw) from ``child_sequence(seed, d.key, b)``, ``d.key`` a hash of the design id. A chunk of
replicates [r0, r1) recomputes the blocks it overlaps and keeps its rows, so replicate r's numbers
depend only on (seed, design id, r, replicate_block): never on the chunk size, the order of
designs, the worker count or whether the run was resumed. This is the engine's patient-block
scheme one level up; it keeps the model vectorised over all patients of a block (a per-replicate
stream would mean one model call per trial, 100x slower). Chunks aligned on blocks waste nothing.

One replicate of a model design: ``n_total`` patients from the scenario's population, stratified
permuted-block randomization (replicates are independent strata sequences of one vectorised
call), one model run per arm for all patients of the block, patient-level responders at the
primary visit, dropouts before it counted as non-responders, counts (replicates, strata, arms),
then the batched statistics: CMH test (stratified when the design is) and risk difference (MH
Sato when stratified, Wald otherwise) per hypothesis, and success under fixed-sequence testing.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np
import pandas as pd

from dermsim._rng import SeedLike, as_seed_sequence, child_sequence
from dermsim.analysis.batched import (
    compute_batched_common_risk_difference,
    compute_batched_proportion,
    compute_batched_risk_difference,
    test_batched_cmh,
)
from dermsim.design.binomial import sample_binomial_counts
from dermsim.design.columns import RESULT_COLUMNS
from dermsim.design.resolve import ResolvedDesign, resolve_design
from dermsim.design.spec import AnyDesign, BinomialDesign, Hypothesis
from dermsim.engine.cores import one_blas_thread
from dermsim.errors import SolverError
from dermsim.model.population.sampling import sample_population
from dermsim.model.simulate import simulate_patients
from dermsim.trial import TrialDesign, compute_strata, sample_block_allocation

DEFAULT_REPLICATE_BLOCK = 50
# sub-streams of a replicate block
_S_POP, _S_RAND, _S_MODEL, _S_DROP, _S_POST, _S_BINOM = range(6)


@dataclasses.dataclass(frozen=True)
class BlockCounts:
    """Responders and totals (replicates, strata, arms) per endpoint, for one replicate block."""

    counts: dict[str, tuple[np.ndarray, np.ndarray]]
    arm_ids: tuple[str, ...]
    hypotheses: tuple[Hypothesis, ...]
    stratified: bool
    alpha: float
    truth: dict[int, float]
    param_draw: int


def simulate_model_block(
    rd: ResolvedDesign, bseq: np.random.SeedSequence, n_rep: int, posterior: Any, chunk_patients: int
) -> BlockCounts:
    """One block of ``n_rep`` model replicates: population, randomization, model per arm, dropout
    (module docstring); the counts per replicate, stratum and arm of every hypothesis's endpoint."""
    n = rd.spec.n_total
    big_n = n_rep * n
    pop = sample_population(rd.scenario.population, big_n, child_sequence(bseq, _S_POP))
    rep = np.repeat(np.arange(n_rep, dtype=np.int64), n)
    if rd.factors:
        stratum, _ = compute_strata(rd.factors, {"iga0": pop.iga0, "age_y": pop.age_y})
    else:
        stratum = np.zeros(big_n, dtype=np.int64)
    # each replicate's strata are their own block sequences: one vectorised allocation call
    arm = sample_block_allocation(
        rep * rd.n_strata + stratum,
        rd.ratio,
        rd.block_size,
        child_sequence(bseq, _S_RAND),
        n_strata=n_rep * rd.n_strata,
    )
    params, draw = None, -1
    if posterior is not None:
        draw = int(posterior.sample_indices(1, child_sequence(bseq, _S_POST))[0])
        params = posterior.parameter_set(draw)
    endpoints = sorted({h.endpoint for h in rd.hypotheses})
    resp = {ep: np.zeros(big_n) for ep in endpoints}
    evaluable = {ep: np.ones(big_n, dtype=bool) for ep in endpoints}
    for a, regimen in enumerate(rd.regimens):
        idx = np.flatnonzero(arm == a)
        if idx.size == 0:
            continue
        traj = simulate_patients(
            pop.take(idx),
            regimen,
            rd.days,
            child_sequence(bseq, _S_MODEL, a),
            record=("easi", "iga", "nrs_weekly"),
            output_days=(0, rd.days),  # the endpoints compare the primary visit with baseline
            params=params,
            chunk_size=chunk_patients,
        )
        ends = traj.endpoints(rd.days)
        for ep in endpoints:
            v = ends[ep]
            ok = np.isfinite(v)
            evaluable[ep][idx] = ok
            resp[ep][idx] = np.where(ok, v, 0.0)
    if rd.dropout_per_week > 0:
        # constant weekly hazard up to the primary visit; dropouts are non-responders (NRI)
        u = np.random.default_rng(child_sequence(bseq, _S_DROP)).random(big_n)
        stay = (1.0 - rd.dropout_per_week) ** (rd.days / 7.0)
        dropped = u >= stay
        for ep in endpoints:
            resp[ep][dropped] = 0.0
    s, k = rd.n_strata, len(rd.arm_ids)
    cell = (rep * s + stratum) * k + arm
    counts = {}
    for ep in endpoints:
        ev = evaluable[ep]
        x = np.bincount(cell[ev], weights=resp[ep][ev], minlength=n_rep * s * k).reshape(n_rep, s, k)
        tot = np.bincount(cell[ev], minlength=n_rep * s * k).reshape(n_rep, s, k).astype(float)
        counts[ep] = (x, tot)
    return BlockCounts(
        counts, rd.arm_ids, rd.hypotheses, stratified=s > 1, alpha=rd.spec.alpha, truth={}, param_draw=draw
    )


def _binomial_block(design: BinomialDesign, bseq: np.random.SeedSequence, n_rep: int) -> BlockCounts:
    counts = sample_binomial_counts(design, child_sequence(bseq, _S_BINOM), n_rep)
    truth = {i: design.true_effect(h) for i, h in enumerate(design.hypotheses)}
    return BlockCounts(
        counts,
        tuple(design.arms),
        tuple(design.hypotheses),
        stratified=False,
        alpha=design.alpha,
        truth=truth,
        param_draw=-1,
    )


def analyse_block(bc: BlockCounts) -> dict[str, np.ndarray]:
    """Batched statistics per hypothesis; arrays of shape (replicates, hypotheses)."""
    cols: dict[str, list[np.ndarray]] = {
        k: []
        for k in (
            "estimate",
            "se",
            "ci_lower",
            "ci_upper",
            "p_value",
            "rate_treatment",
            "rate_control",
            "n_treatment",
            "n_control",
            "reject",
            "truth",
        )
    }
    for i, h in enumerate(bc.hypotheses):
        x, n = bc.counts[h.endpoint]
        t, c = bc.arm_ids.index(h.treatment), bc.arm_ids.index(h.control)
        # a small trial can leave an arm without evaluable patients (e.g. NRS4 in children under
        # 6): that replicate gets no estimate and no rejection instead of stopping the run
        empty = (n[:, :, t].sum(axis=1) == 0) | (n[:, :, c].sum(axis=1) == 0)
        if empty.any():
            x, n = x.copy(), n.copy()
            x[empty] = 0.0
            n[empty] = 1.0
        if bc.stratified:
            est = compute_batched_common_risk_difference(x, n, treatment=t, control=c, method="mh_sato")
        else:
            est = compute_batched_risk_difference(x, n, treatment=t, control=c, method="wald")
        with np.errstate(divide="ignore", invalid="ignore"):
            p = test_batched_cmh(x, n, arms=[t, c]).p_value
            pt = compute_batched_proportion(x, n, arm=t).estimate
            pc = compute_batched_proportion(x, n, arm=c).estimate
        if empty.any():
            est = dataclasses.replace(
                est,
                **{
                    k: np.where(empty, np.nan, getattr(est, k))
                    for k in ("estimate", "se", "ci_lower", "ci_upper")
                },
            )
            p = np.where(empty, np.nan, p)
            pt = np.where(empty, np.nan, pt)
            pc = np.where(empty, np.nan, pc)
            n = bc.counts[h.endpoint][1]
        cols["estimate"].append(est.estimate)
        cols["se"].append(est.se)
        cols["ci_lower"].append(est.ci_lower)
        cols["ci_upper"].append(est.ci_upper)
        cols["p_value"].append(p)
        cols["rate_treatment"].append(pt)
        cols["rate_control"].append(pc)
        cols["n_treatment"].append(n[:, :, t].sum(axis=1))
        cols["n_control"].append(n[:, :, c].sum(axis=1))
        # two-sided test, success only in favour of the treatment
        # no test possible (empty arm, or no events at all): p stays NaN and nothing is rejected
        cols["reject"].append((np.nan_to_num(p, nan=1.0) < bc.alpha) & (np.nan_to_num(est.estimate) > 0))
        cols["truth"].append(np.full(p.shape, bc.truth.get(i, np.nan)))
    out = {k: np.stack(v, axis=1) for k, v in cols.items()}
    # fixed sequence: hypothesis k succeeds when it and every earlier one are rejected
    out["success"] = np.logical_and.accumulate(out["reject"], axis=1)
    return out


def _block_columns(
    design: AnyDesign, bc: BlockCounts, seq: np.random.SeedSequence, block: int, r_first: int, keep: slice
) -> dict[str, np.ndarray]:
    """The result columns (:data:`RESULT_COLUMNS`) of the kept replicates of one block, as arrays:
    a chunk makes one frame of its blocks' columns (a frame per block cost more than its analysis)."""
    res = analyse_block(bc)
    n_rep, n_h = res["estimate"].shape
    rows = _rows(keep, n_h)
    hyp_idx = np.tile(np.arange(n_h, dtype=np.int32), n_rep)[rows]
    n = hyp_idx.size
    cols: dict[str, np.ndarray] = {
        "design_id": np.full(n, design.id, dtype=object),
        "replicate": np.repeat(r_first + np.arange(n_rep, dtype=np.int64), n_h)[rows],
        "hypothesis": hyp_idx,
    }
    for name in ("endpoint", "treatment", "control"):
        cols[name] = np.array([getattr(h, name) for h in bc.hypotheses], dtype=object)[hyp_idx]
    for k in ("estimate", "se", "ci_lower", "ci_upper", "p_value", "rate_treatment", "rate_control"):
        cols[k] = res[k][keep].reshape(-1).astype(float)
    cols["n_treatment"] = res["n_treatment"][keep].reshape(-1).astype(np.int32)
    cols["n_control"] = res["n_control"][keep].reshape(-1).astype(np.int32)
    cols["reject"] = res["reject"][keep].reshape(-1)
    cols["success"] = res["success"][keep].reshape(-1)
    cols["truth"] = res["truth"][keep].reshape(-1).astype(float)
    cols["param_draw"] = np.full(n, bc.param_draw, dtype=np.int32)
    cols["seed_entropy"] = np.full(n, str(seq.entropy), dtype=object)
    cols["seed_spawn_key"] = np.full(n, ",".join(map(str, (*seq.spawn_key, design.key, block))), dtype=object)
    return cols


def _rows(keep: slice, n_h: int) -> slice:
    return slice(keep.start * n_h, keep.stop * n_h)


def simulate_chunk(
    scenario: TrialDesign | None,
    design: AnyDesign,
    seed: SeedLike,
    start: int,
    stop: int,
    *,
    replicate_block: int = DEFAULT_REPLICATE_BLOCK,
    posterior: Any = None,
    chunk_patients: int = 32_768,
) -> pd.DataFrame:
    """Per-replicate results of replicates [start, stop) of ``design`` (the unit of work of a worker).

    Rows: one per replicate and hypothesis (columns :data:`RESULT_COLUMNS`).
    """
    seq = as_seed_sequence(seed)
    rd = None if isinstance(design, BinomialDesign) else resolve_design(scenario, design)
    parts: list[dict[str, np.ndarray]] = []
    with one_blas_thread():
        for b in range(start // replicate_block, (stop - 1) // replicate_block + 1):
            bseq = child_sequence(seq, design.key, b)
            r_first = b * replicate_block
            if rd is None:
                bc = _binomial_block(design, bseq, replicate_block)
            else:
                try:
                    bc = simulate_model_block(rd, bseq, replicate_block, posterior, chunk_patients)
                except SolverError as exc:
                    # name the block, so the failing draws can be reproduced on their own
                    raise SolverError(
                        f"design {design.id}, replicate block {b} (replicates "
                        f"{r_first}-{r_first + replicate_block - 1}): {exc}"
                    ) from exc
            keep = slice(max(start, r_first) - r_first, min(stop, r_first + replicate_block) - r_first)
            parts.append(_block_columns(design, bc, seq, b, r_first, keep))
    return pd.DataFrame({name: np.concatenate([p[name] for p in parts]) for name in RESULT_COLUMNS})
