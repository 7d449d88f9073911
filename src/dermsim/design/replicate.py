"""Operating characteristics: thousands of virtual trials per design, in chunks, locally or on Dask.

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
import math
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import numpy as np
import pandas as pd

from dermsim import __version__
from dermsim._rng import SeedLike, as_seed_sequence, child_sequence
from dermsim._validate import LIMITS, check_int
from dermsim.analysis.batched import (
    compute_batched_common_risk_difference,
    compute_batched_proportion,
    compute_batched_risk_difference,
    test_batched_cmh,
)
from dermsim.design.binomial import sample_binomial_counts
from dermsim.design.columns import RESULT_COLUMNS
from dermsim.design.spec import AnyDesign, BinomialDesign, DesignSpec, Hypothesis
from dermsim.errors import InvalidInputError, SolverError
from dermsim.model.pharmacology.regimen import Regimen
from dermsim.model.population.sampling import sample_population
from dermsim.model.simulate import simulate_patients
from dermsim.trial import TrialDesign, compute_strata, load_design, sample_block_allocation

DEFAULT_REPLICATE_BLOCK = 50
# sub-streams of a replicate block
_S_POP, _S_RAND, _S_MODEL, _S_DROP, _S_POST, _S_BINOM = range(6)



@dataclasses.dataclass(frozen=True)
class ResolvedDesign:
    """A DesignSpec made concrete against its scenario (arm indices, regimens, factors, days)."""

    spec: DesignSpec
    scenario: TrialDesign
    arm_ids: tuple[str, ...]
    ratio: tuple[int, ...]
    regimens: tuple[Regimen, ...]
    factors: tuple[Any, ...]
    n_strata: int
    block_size: int
    days: int  # model days after the first application (primary visit index)
    hypotheses: tuple[Hypothesis, ...]
    dropout_per_week: float


def _default_hypotheses(
    endpoints: Sequence[str], scenario: TrialDesign, arm_ids: Sequence[str]
) -> list[Hypothesis]:
    arms = [scenario.arm(a) for a in arm_ids]
    controls = [a for a in arms if a.strength_pct == 0]
    if not controls:
        raise InvalidInputError(f"ratio must keep a vehicle arm to test against; got arms {list(arm_ids)}.")
    active = sorted((a for a in arms if a.strength_pct > 0), key=lambda a: -a.strength_pct)
    return [
        Hypothesis(endpoint=ep, treatment=a.id, control=controls[0].id) for ep in endpoints for a in active
    ]


def resolve_design(scenario: TrialDesign | str, spec: DesignSpec) -> ResolvedDesign:
    """Check ``spec`` against ``scenario`` and resolve arms, ratio, strata, regimens and days."""
    scen = scenario if isinstance(scenario, TrialDesign) else load_design(scenario)
    ratio_map = spec.ratio if spec.ratio is not None else {a.id: a.ratio for a in scen.arms}
    for a in ratio_map:
        if a not in scen.arm_ids:
            raise InvalidInputError(
                f"ratio names arm {a!r}; the scenario's arms are {', '.join(scen.arm_ids)}."
            )
    arm_ids = tuple(a for a in scen.arm_ids if a in ratio_map)
    ratio = tuple(int(ratio_map[a]) for a in arm_ids)
    all_factors = {f.name: f for f in scen.stratification.factors}
    names = list(all_factors) if spec.strata is None else spec.strata
    for nm in names:
        if nm not in all_factors:
            raise InvalidInputError(
                f"strata names factor {nm!r}; the scenario's factors are {', '.join(all_factors) or 'none'}."
            )
    factors = tuple(all_factors[nm] for nm in names)
    n_strata = math.prod(f.n_levels for f in factors) if factors else 1
    total = sum(ratio)
    scen_total = sum(scen.ratio)
    block = scen.stratification.block_size
    if block % total:
        # keep the scenario's number of complete ratio sets per block
        block = total * max(1, block // scen_total)
    day = scen.schedule.vc_end_day if spec.primary_day is None else spec.primary_day
    if day > scen.schedule.vc_end_day:
        raise InvalidInputError(
            f"primary_day must be within the vehicle-controlled period (2-"
            f"{scen.schedule.vc_end_day}); got {day}."
        )
    hyps = (
        tuple(spec.hypotheses)
        if spec.hypotheses is not None
        else tuple(_default_hypotheses(spec.endpoints, scen, arm_ids))
    )
    for h in hyps:
        for a in (h.treatment, h.control):
            if a not in arm_ids:
                raise InvalidInputError(
                    f"hypothesis {h.label} names arm {a!r}; the design's arms are {', '.join(arm_ids)}."
                )
    regimens = []
    for a in arm_ids:
        arm = scen.arm(a)
        strength = 0.0 if spec.null else arm.strength_pct
        regimens.append(
            Regimen(
                strength_pct=strength,
                application_times_h=arm.application_times_h,
                adherence=float(scen.adherence.mean),
                name=arm.label,
            )
        )
    return ResolvedDesign(
        spec=spec,
        scenario=scen,
        arm_ids=arm_ids,
        ratio=ratio,
        regimens=tuple(regimens),
        factors=factors,
        n_strata=n_strata,
        block_size=block,
        days=day - 1,
        hypotheses=hyps,
        dropout_per_week=scen.dropout.hazard_per_week if spec.dropout else 0.0,
    )


# ------------------------------------------------------------------------------------------------
# one replicate block
# ------------------------------------------------------------------------------------------------
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


def _model_block(
    rd: ResolvedDesign, bseq: np.random.SeedSequence, n_rep: int, posterior: Any, chunk_patients: int
) -> BlockCounts:
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


def _block_frame(
    design: AnyDesign, bc: BlockCounts, seq: np.random.SeedSequence, block: int, r_first: int, keep: slice
) -> pd.DataFrame:
    res = analyse_block(bc)
    n_rep, n_h = res["estimate"].shape
    reps = r_first + np.arange(n_rep)
    hyp = bc.hypotheses
    frame = pd.DataFrame(
        {
            "design_id": design.id,
            "replicate": np.repeat(reps, n_h)[_rows(keep, n_h)],
            "hypothesis": np.tile(np.arange(n_h, dtype=np.int32), n_rep)[_rows(keep, n_h)],
        }
    )
    idx = frame["hypothesis"].to_numpy()
    for name in ("endpoint", "treatment", "control"):
        frame[name] = np.array([getattr(h, name) for h in hyp], dtype=object)[idx]
    for k in ("estimate", "se", "ci_lower", "ci_upper", "p_value", "rate_treatment", "rate_control", "truth"):
        frame[k] = res[k][keep].reshape(-1).astype(float)
    frame["n_treatment"] = res["n_treatment"][keep].reshape(-1).astype(np.int32)
    frame["n_control"] = res["n_control"][keep].reshape(-1).astype(np.int32)
    frame["reject"] = res["reject"][keep].reshape(-1)
    frame["success"] = res["success"][keep].reshape(-1)
    frame["param_draw"] = np.int32(bc.param_draw)
    frame["seed_entropy"] = str(seq.entropy)
    frame["seed_spawn_key"] = ",".join(map(str, (*seq.spawn_key, design.key, block)))
    return frame[list(RESULT_COLUMNS)]


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
    bc = _model_block(rd, bseq, 1, None, chunk_patients)
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
    from threadpoolctl import threadpool_limits

    seq = as_seed_sequence(seed)
    rd = None if isinstance(design, BinomialDesign) else resolve_design(scenario, design)
    frames = []
    with threadpool_limits(limits=1):
        for b in range(start // replicate_block, (stop - 1) // replicate_block + 1):
            bseq = child_sequence(seq, design.key, b)
            r_first = b * replicate_block
            if rd is None:
                bc = _binomial_block(design, bseq, replicate_block)
            else:
                try:
                    bc = _model_block(rd, bseq, replicate_block, posterior, chunk_patients)
                except SolverError as exc:
                    # name the block, so the failing draws can be reproduced on their own
                    raise SolverError(
                        f"design {design.id}, replicate block {b} (replicates "
                        f"{r_first}-{r_first + replicate_block - 1}): {exc}"
                    ) from exc
            keep = slice(max(start, r_first) - r_first, min(stop, r_first + replicate_block) - r_first)
            frames.append(_block_frame(design, bc, seq, b, r_first, keep))
    return pd.concat(frames, ignore_index=True)


# ------------------------------------------------------------------------------------------------
# the run
# ------------------------------------------------------------------------------------------------
def plan_chunks(missing: Sequence[int] | np.ndarray, chunk_size: int) -> list[tuple[int, int]]:
    """Contiguous [start, stop) ranges of at most ``chunk_size`` replicates covering ``missing``,
    cut at multiples of ``chunk_size`` so a resumed run reuses the uninterrupted run's chunks."""
    miss = np.unique(np.asarray(missing, dtype=np.int64))
    if miss.size == 0:
        return []
    out = []
    breaks = np.flatnonzero((np.diff(miss) != 1) | (np.diff(miss // chunk_size) != 0)) + 1
    for part in np.split(miss, breaks):
        out.append((int(part[0]), int(part[-1]) + 1))
    return out


@dataclasses.dataclass(frozen=True)
class OCRun:
    """What a run produced: per-replicate results (one row per replicate x hypothesis) and its set-up."""

    results: pd.DataFrame
    designs: tuple[AnyDesign, ...]
    n_replicates: int
    seed: dict[str, Any]
    replicate_block: int
    parameters: str
    version: str = __version__

    def summary(self) -> pd.DataFrame:
        from dermsim.design.summaries import summarise_operating_characteristics

        return summarise_operating_characteristics(self.results, self.designs)


def simulate_operating_characteristics(
    scenario: TrialDesign | str | None,
    designs: Sequence[AnyDesign],
    n_replicates: int,
    seed: SeedLike,
    *,
    chunk_size: int | None = None,
    store: Any = None,
    scheduler: str | None = None,
    workers: int | None = None,
    progress: Callable[[int, int], None] | None = None,
    replicate_block: int = DEFAULT_REPLICATE_BLOCK,
    posterior: Any = None,
    resume: bool = False,
    chunk_patients: int = 32_768,
) -> OCRun:
    """Simulate ``n_replicates`` trials of every design and analyse them (module docstring).

    ``scenario``: a TrialDesign or built-in name (None only when every design is a BinomialDesign).
    ``store``: a :class:`dermsim.design.storage.ResultStore` or a path to a DuckDB file; chunks are
    committed as they finish and ``resume=True`` computes only the replicates it lacks. ``workers``
    starts a local Dask cluster, ``scheduler`` (``tcp://host:port``) connects to one; neither runs
    in this process. ``posterior``: parameter uncertainty (an object with ``sample_indices`` and
    ``parameter_set``, e.g. :func:`dermsim.calibration.posterior.default_posterior`), one draw per
    replicate block; None uses the model's default (prior) parameters.
    ``progress(done, total)`` is called after each chunk with replicate counts over all designs.
    ``chunk_patients``: patients per model integration chunk (memory bound; no effect on results).
    """
    from dermsim.design.distributed import open_executor
    from dermsim.design.storage import ResultStore

    n_replicates = check_int("n_replicates", n_replicates, minimum=1, maximum=LIMITS["replicates"])
    replicate_block = check_int("replicate_block", replicate_block, minimum=1, maximum=LIMITS["replicates"])
    chunk_size = (
        replicate_block * max(1, 200 // replicate_block)
        if chunk_size is None
        else check_int("chunk_size", chunk_size, minimum=1, maximum=LIMITS["replicates"])
    )
    designs = tuple(designs)
    if not designs:
        raise InvalidInputError("designs must hold at least one design; got none.")
    ids = [d.id for d in designs]
    if len(set(ids)) != len(ids):
        raise InvalidInputError(f"designs must have distinct ids; got {ids}.")
    needs_model = any(isinstance(d, DesignSpec) for d in designs)
    scen = None
    if needs_model:
        if scenario is None:
            raise InvalidInputError("scenario is required for model-based designs; got None.")
        scen = scenario if isinstance(scenario, TrialDesign) else load_design(scenario)
        for d in designs:
            if isinstance(d, DesignSpec):
                resolve_design(scen, d)  # fail before any work
    seq = as_seed_sequence(seed)
    params_label = (
        "prior (model defaults)" if posterior is None else f"posterior {getattr(posterior, 'version', '?')}"
    )
    own_store = store is not None and not isinstance(store, ResultStore)
    st = ResultStore(store) if own_store else store
    try:
        if st is not None:
            st.begin_run(
                designs=designs,
                n_replicates=n_replicates,
                seed=seq,
                replicate_block=replicate_block,
                scenario=None if scen is None else scen.id,
                parameters=params_label,
                resume=resume,
            )
        tasks = []
        done = 0
        for d in designs:
            have = st.replicates(d.id) if st is not None else np.zeros(0, dtype=np.int64)
            missing = np.setdiff1d(np.arange(n_replicates), have)
            done += n_replicates - missing.size
            tasks += [(d, a, b) for a, b in plan_chunks(missing, chunk_size)]
        total = n_replicates * len(designs)
        if progress is not None:
            progress(done, total)
        frames: list[pd.DataFrame] = []
        with open_executor(workers=workers, scheduler=scheduler) as run_all:
            calls = [
                (
                    simulate_chunk,
                    (scen, d, seq, a, b),
                    {
                        "replicate_block": replicate_block,
                        "posterior": posterior,
                        "chunk_patients": chunk_patients,
                    },
                )
                for d, a, b in tasks
            ]
            for frame in run_all(calls):
                if st is not None:
                    st.insert_chunk(frame)
                else:
                    frames.append(frame)
                done += frame["replicate"].nunique()
                if progress is not None:
                    progress(done, total)
        if st is not None:
            results = st.results()
        else:
            results = (
                pd.concat(frames, ignore_index=True)
                if frames
                else pd.DataFrame({k: [] for k in RESULT_COLUMNS})
            )
            results = results.sort_values(["design_id", "replicate", "hypothesis"], ignore_index=True)
    finally:
        if own_store and st is not None:
            st.close()
    return OCRun(
        results=results,
        designs=designs,
        n_replicates=n_replicates,
        seed={"entropy": str(seq.entropy), "spawn_key": list(seq.spawn_key)},
        replicate_block=replicate_block,
        parameters=params_label,
    )


def iter_design_rows(run: OCRun) -> Iterator[tuple[AnyDesign, pd.DataFrame]]:
    """(design, its rows) in the run's design order."""
    for d in run.designs:
        yield d, run.results[run.results["design_id"] == d.id]
