"""Running a study: every design's replicates cut into chunks of whole replicate blocks, simulated
and analysed (design.replicate) here or on a Dask cluster (design.distributed), committed to the
run's DuckDB store as they finish (design.storage) and, on ``resume``, only the missing ones
computed. Chunks are cut at multiples of the chunk size, so a resumed run gives the same rows as an
uninterrupted one."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import pandas as pd

from dermsim import __version__
from dermsim._rng import SeedLike, as_seed_sequence
from dermsim._validate import LIMITS, check_int
from dermsim.design.columns import RESULT_COLUMNS
from dermsim.design.replicate import DEFAULT_REPLICATE_BLOCK, simulate_chunk
from dermsim.design.resolve import resolve_design
from dermsim.design.spec import AnyDesign, DesignSpec
from dermsim.engine.compiled import resolve_backend
from dermsim.errors import InvalidInputError
from dermsim.model.precompile import ensure_compiled
from dermsim.trial import TrialDesign, load_design


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
    """Simulate ``n_replicates`` trials of every design and analyse them (design.replicate).

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
        if needs_model and scheduler is None and resolve_backend() == "numba":
            # before the local workers fork or start: they then load the kernels from numba's disk
            # cache instead of each compiling them on one core
            ensure_compiled()
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
