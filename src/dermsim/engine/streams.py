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
