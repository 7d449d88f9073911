"""Chunks of patients: the unit of work that bounds memory."""

from __future__ import annotations

from collections.abc import Iterator

from dermsim._validate import check_int


def iter_chunks(n: int, chunk_size: int) -> Iterator[slice]:
    """Consecutive slices covering ``range(n)``, each at most ``chunk_size`` long."""
    check_int("n", n, minimum=1)
    check_int("chunk_size", chunk_size, minimum=1)
    for start in range(0, n, chunk_size):
        yield slice(start, min(start + chunk_size, n))
