"""Stratified permuted-block randomization, vectorized over patients and strata.

Each stratum has its own sequence of blocks; each block holds every arm exactly ``ratio x m``
times (``m = block_size / sum(ratio)``) in a random order. Patients take the next free slot of
their stratum's sequence in enrolment order, so within every stratum and every complete block
the allocation is exact; only the last, incomplete block of each stratum can depart from the
ratio. All blocks of all strata are permuted at once (argsort of uniforms, one row per block).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from dermsim._rng import SeedLike, child_generator
from dermsim._validate import check_int
from dermsim.errors import InvalidInputError
from dermsim.trial.design import StratificationFactor


def compute_strata(
    factors: Sequence[StratificationFactor],
    covariates: dict[str, np.ndarray],
) -> tuple[np.ndarray, np.ndarray]:
    """Stratum index per patient (row-major over ``factors``) and the level index per factor.

    Returns ``(stratum (n,), levels (n, n_factors))``. A covariate outside a factor's levels
    (e.g. baseline IGA 4 when the levels are 2 and 3) is an error naming the factor.
    """
    if not factors:
        n = len(next(iter(covariates.values())))
        return np.zeros(n, dtype=np.int64), np.zeros((n, 0), dtype=np.int64)
    cols = []
    for f in factors:
        x = np.asarray(covariates[f.variable])
        if f.variable == "iga0":
            lv = np.asarray(f.levels)
            idx = np.searchsorted(np.sort(lv), x)
            order = np.argsort(lv)
            ok = (idx < lv.size) & (np.sort(lv)[np.minimum(idx, lv.size - 1)] == x)
            if not ok.all():
                raise InvalidInputError(
                    f"stratification factor {f.name}: baseline IGA must be one of "
                    f"{f.levels}; got {int(x[~ok][0])}."
                )
            cols.append(order[idx])
        else:
            # completed years, as the age stratum is recorded on the CRF
            cols.append(np.searchsorted(np.asarray(f.cutpoints_y, dtype=float), np.floor(x), side="right"))
    levels = np.stack(cols, axis=1).astype(np.int64)
    sizes = np.array([f.n_levels for f in factors], dtype=np.int64)
    stratum = np.asarray(np.ravel_multi_index(tuple(levels.T), tuple(sizes)))
    return stratum.astype(np.int64), levels


def sample_block_allocation(
    stratum: np.ndarray, ratio: Sequence[int], block_size: int, seed: SeedLike, *, n_strata: int | None = None
) -> np.ndarray:
    """Arm index per patient by permuted blocks within each stratum (patients in enrolment order).

    ``ratio``: allocation ratio per arm (all >= 1); ``block_size`` a multiple of ``sum(ratio)``.
    Returns an int array (n,) of arm indices. Stratum ``s`` reads its blocks from its own child
    stream of ``seed``, so adding patients never changes the allocation of earlier ones.
    """
    ratio_arr = np.asarray(ratio, dtype=np.int64)
    if ratio_arr.ndim != 1 or ratio_arr.size == 0 or (ratio_arr < 1).any():
        raise InvalidInputError(f"ratio must hold one integer >= 1 per arm; got {list(ratio)}.")
    block_size = check_int("block_size", block_size, minimum=1)
    total = int(ratio_arr.sum())
    if block_size % total:
        raise InvalidInputError(f"block_size must be a multiple of sum(ratio) = {total}; got {block_size}.")
    stratum = np.asarray(stratum, dtype=np.int64)
    n = stratum.shape[0]
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    if (stratum < 0).any():
        raise InvalidInputError("stratum must hold indices >= 0.")
    k = int(stratum.max()) + 1 if n_strata is None else int(n_strata)
    counts = np.bincount(stratum, minlength=k)
    blocks_per = -(-counts // block_size)
    b_max = int(blocks_per.max())
    template = np.repeat(np.arange(ratio_arr.size), ratio_arr * (block_size // total))
    # one stream per stratum, read block after block: block b of stratum s never depends on how
    # many patients enrol (a loop over strata, not patients)
    u = np.ones((k, b_max, block_size))
    for s in range(k):
        if blocks_per[s]:
            u[s, : blocks_per[s]] = child_generator(seed, s).random((int(blocks_per[s]), block_size))
    perm = np.argsort(u, axis=2, kind="stable")
    seq = template[perm].reshape(k, b_max * block_size)
    # rank of each patient within its stratum, in enrolment order
    order = np.argsort(stratum, kind="stable")
    start = np.concatenate([[0], np.cumsum(counts)[:-1]])
    rank = np.empty(n, dtype=np.int64)
    rank[order] = np.arange(n) - np.repeat(start, counts)
    return seq[stratum, rank]


def compute_block_deviation_bound(ratio: Sequence[int], block_size: int, n_strata: int) -> np.ndarray:
    """Largest possible |n_arm - n x ratio/sum(ratio)| per arm: one incomplete block per stratum."""
    r = np.asarray(ratio, dtype=float)
    m = block_size / r.sum()
    return n_strata * r * m
