"""Random streams keyed by absolute patient index, so chunking never changes the numbers.

Patients are grouped in fixed blocks of ``block_size``; block b of stream s draws from
``child_generator(seed, s, b)``. Any chunk [start, stop) regenerates the blocks it overlaps and
keeps its rows, so the draws of patient i are the same for every chunk size and worker count.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from dermsim._rng import SeedLike, child_generator

BLOCK_SIZE = 1024


def _block_draws(seed: SeedLike, stream: int, start: int, stop: int, width: int,
                 draw: Callable[[np.random.Generator, tuple[int, int]], np.ndarray],
                 block_size: int) -> np.ndarray:
    out = np.empty((stop - start, width))
    b0, b1 = start // block_size, (stop - 1) // block_size
    for b in range(b0, b1 + 1):
        block = draw(child_generator(seed, stream, b), (block_size, width))
        lo, hi = max(start, b * block_size), min(stop, (b + 1) * block_size)
        out[lo - start:hi - start] = block[lo - b * block_size:hi - b * block_size]
    return out


def block_normals(seed: SeedLike, stream: int, start: int, stop: int, width: int,
                  block_size: int = BLOCK_SIZE) -> np.ndarray:
    """Standard normals of shape (stop - start, width) for patients [start, stop) of ``stream``."""
    return _block_draws(seed, stream, start, stop, width,
                        lambda g, shape: g.standard_normal(shape), block_size)


def block_uniforms(seed: SeedLike, stream: int, start: int, stop: int, width: int,
                   block_size: int = BLOCK_SIZE) -> np.ndarray:
    """Uniforms on [0, 1) of shape (stop - start, width), as :func:`block_normals`."""
    return _block_draws(seed, stream, start, stop, width, lambda g, shape: g.random(shape), block_size)


DAY_BLOCK = 64


def block_normals_by_day(seed: SeedLike, stream: int, start: int, stop: int, day0: int, day1: int,
                         block_size: int = BLOCK_SIZE, day_block: int = DAY_BLOCK) -> np.ndarray:
    """Standard normals (stop - start, day1 - day0) for patients [start, stop) and days [day0, day1).

    Keyed by patient block AND day block (``child_generator(seed, stream, b, k)`` draws days
    [k day_block, (k + 1) day_block)), so the number of patient i on day d is the same whatever
    the run's length, its first day or its chunking: a run restarted from a saved state at day k
    draws exactly the noise an uninterrupted run draws from day k on.
    """
    out = np.empty((stop - start, day1 - day0))
    if day1 <= day0:
        return out
    b0, b1 = start // block_size, (stop - 1) // block_size
    k0, k1 = day0 // day_block, (day1 - 1) // day_block
    for b in range(b0, b1 + 1):
        lo, hi = max(start, b * block_size), min(stop, (b + 1) * block_size)
        for k in range(k0, k1 + 1):
            block = child_generator(seed, stream, b, k).standard_normal((block_size, day_block))
            d_lo, d_hi = max(day0, k * day_block), min(day1, (k + 1) * day_block)
            out[lo - start:hi - start, d_lo - day0:d_hi - day0] = \
                block[lo - b * block_size:hi - b * block_size, d_lo - k * day_block:d_hi - k * day_block]
    return out
