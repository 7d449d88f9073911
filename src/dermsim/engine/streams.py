"""Random streams keyed by absolute patient index, so chunking never changes the numbers.

Patients are grouped in fixed blocks of ``block_size``; block b of stream s draws from
``child_generator(seed, s, b)``. Any chunk [start, stop) regenerates the blocks it overlaps and
keeps its rows, so the draws of patient i are the same for every chunk size and worker count.

Normals are numpy's ``Generator.standard_normal`` block by block. Where the compiled engine is
loaded in this process, the same numbers come from compiled code (``compiled.fill_standard_normal``:
numba's Generator gives numpy's numbers, at half the cost) straight into the result, and a block's
draws stop after the last number kept. A process that only samples a population never imports
numba for it: loading the compiled code there would cost more than it saves.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator

import numpy as np

from dermsim._rng import SeedLike, child_generator

BLOCK_SIZE = 1024


def _normal_filler() -> Callable[..., None] | None:
    """compiled.fill_standard_normal where the compiled engine is loaded in this process, else None."""
    compiled = sys.modules.get("dermsim.engine.compiled")
    return compiled.fill_standard_normal if compiled is not None and compiled.HAVE_NUMBA else None


def _normals_into(gen: np.random.Generator, shape: tuple[int, int], rows: slice, cols: slice,
                  out: np.ndarray, o_r: int, o_c: int) -> None:
    """out[o_r:, o_c:] <- rows x cols of a ``shape`` block of standard normals from ``gen``."""
    fill = _normal_filler()
    if fill is None:
        block = gen.standard_normal(shape)[rows, cols]
        out[o_r:o_r + block.shape[0], o_c:o_c + block.shape[1]] = block
    else:
        fill(gen, shape[1], rows.start, rows.stop, cols.start, cols.stop, out, o_r, o_c)


def _block_rows(start: int, stop: int, block_size: int) -> Iterator[tuple[int, slice, int]]:
    """(block, rows of the block, offset in the result) of the blocks patients [start, stop) overlap."""
    for b in range(start // block_size, (stop - 1) // block_size + 1):
        lo, hi = max(start, b * block_size), min(stop, (b + 1) * block_size)
        yield b, slice(lo - b * block_size, hi - b * block_size), lo - start


def block_normals(seed: SeedLike, stream: int, start: int, stop: int, width: int,
                  block_size: int = BLOCK_SIZE) -> np.ndarray:
    """Standard normals of shape (stop - start, width) for patients [start, stop) of ``stream``."""
    out = np.empty((stop - start, width))
    for b, rows, at in _block_rows(start, stop, block_size):
        gen = child_generator(seed, stream, b)
        _normals_into(gen, (block_size, width), rows, slice(0, width), out, at, 0)
    return out


def block_uniforms(seed: SeedLike, stream: int, start: int, stop: int, width: int,
                   block_size: int = BLOCK_SIZE) -> np.ndarray:
    """Uniforms on [0, 1) of shape (stop - start, width), as :func:`block_normals`."""
    out = np.empty((stop - start, width))
    for b, rows, at in _block_rows(start, stop, block_size):
        block = child_generator(seed, stream, b).random((block_size, width))
        out[at:at + rows.stop - rows.start] = block[rows]
    return out


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
    for b, rows, at in _block_rows(start, stop, block_size):
        for k in range(day0 // day_block, (day1 - 1) // day_block + 1):
            d_lo, d_hi = max(day0, k * day_block), min(day1, (k + 1) * day_block)
            _normals_into(child_generator(seed, stream, b, k), (block_size, day_block), rows,
                          slice(d_lo - k * day_block, d_hi - k * day_block), out, at, d_lo - day0)
    return out
