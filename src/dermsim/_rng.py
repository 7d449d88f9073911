"""Random streams: every stochastic function takes ``seed`` and normalises it here, once.

Each patient, replicate or chunk gets its own child stream from ``SeedSequence.spawn`` (or from a
spawn key computed directly), so results do not depend on the order, the chunking or the number of
workers that produced them.
"""

from __future__ import annotations

import numpy as np

from dermsim.errors import InvalidInputError

SeedLike = int | np.random.SeedSequence | np.random.Generator | None


def as_seed_sequence(seed: SeedLike) -> np.random.SeedSequence:
    """Return a SeedSequence for ``seed`` (int >= 0, SeedSequence or Generator)."""
    if isinstance(seed, np.random.SeedSequence):
        return seed
    if isinstance(seed, np.random.Generator):
        ss = seed.bit_generator.seed_seq
        if not isinstance(ss, np.random.SeedSequence):  # pragma: no cover - exotic bit generators
            raise InvalidInputError("seed: the Generator has no SeedSequence to spawn from.")
        return ss
    if seed is None:
        raise InvalidInputError("seed is required (an int >= 0) so that results are reproducible.")
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or int(seed) < 0:
        raise InvalidInputError(f"seed must be an integer >= 0; got {seed!r}.")
    return np.random.SeedSequence(int(seed))


def as_generator(seed: SeedLike) -> np.random.Generator:
    """Return a Generator for ``seed``; a Generator passes through unchanged."""
    if isinstance(seed, np.random.Generator):
        return seed
    return np.random.default_rng(as_seed_sequence(seed))


def child_sequence(seed: SeedLike, *key: int) -> np.random.SeedSequence:
    """The child stream at spawn key ``key`` below ``seed``, without spawning its siblings.

    ``child_sequence(s, i)`` equals ``as_seed_sequence(s).spawn(i + 1)[i]`` for a fresh sequence,
    so a worker can build replicate ``i``'s stream on its own.
    """
    parent = as_seed_sequence(seed)
    return np.random.SeedSequence(
        entropy=parent.entropy,
        spawn_key=(*parent.spawn_key, *(int(k) for k in key)),
        pool_size=parent.pool_size,
    )


def child_generator(seed: SeedLike, *key: int) -> np.random.Generator:
    """Generator of :func:`child_sequence`."""
    return np.random.default_rng(child_sequence(seed, *key))


def seed_record(seed: SeedLike) -> dict[str, object]:
    """What a result records of its seed: entropy and spawn key."""
    ss = as_seed_sequence(seed)
    return {"entropy": int(ss.entropy) if ss.entropy is not None else None,
            "spawn_key": list(ss.spawn_key)}
