"""A small on-disk cache of derived numbers that every process would otherwise recompute.

An entry is a JSON object stored under a SHA-256 key of everything the numbers depend on: the
caller passes the inputs, and :func:`source_digest` adds the content of the code that computes
them, so an edited module or a new version can never read an old entry. A missing, unreadable or
malformed entry is a miss; a cache folder that cannot be written is skipped (the numbers are
computed as if there were no cache). JSON floats round-trip exactly (``repr``), so a hit gives the
very bits the computation gave.

The folder is ``$DERMSIM_CACHE_DIR``, else ``$XDG_CACHE_HOME/dermsim``, else ``~/.cache/dermsim``;
``DERMSIM_CACHE_DIR=off`` (or empty) turns the cache off. Written by hand: the standard libraries (joblib's
Memory, diskcache) key by the function's own source only, not by the modules it calls.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any, TypeVar

from dermsim._atomic import atomic_path

OFF = "off"
T = TypeVar("T")
_PACKAGE = Path(__file__).resolve().parent


def cache_dir() -> Path | None:
    """The cache folder, or None when the cache is off."""
    env = os.environ.get("DERMSIM_CACHE_DIR")
    if env is not None:
        return None if env.strip().lower() in (OFF, "") else Path(env)
    xdg = os.environ.get("XDG_CACHE_HOME")
    return (Path(xdg) if xdg else Path.home() / ".cache") / "dermsim"


@functools.cache
def source_digest(parts: tuple[str, ...]) -> str:
    """SHA-256 of the files of ``parts`` (paths relative to the package: a module file, or a folder
    for every file below it but compiled caches), names and contents, in a fixed order."""
    h = hashlib.sha256()
    for part in parts:
        root = _PACKAGE / part
        files = sorted(p for p in root.rglob("*") if p.is_file()) if root.is_dir() else [root]
        for f in files:
            if "__pycache__" in f.parts or f.suffix in (".pyc", ".nbi", ".nbc"):
                continue
            h.update(f.relative_to(_PACKAGE).as_posix().encode() + b"\0" + f.read_bytes() + b"\0")
    return h.hexdigest()


def entry_key(kind: str, inputs: Mapping[str, Any], code: Iterable[str]) -> str:
    """The key of an entry of ``kind`` computed from ``inputs`` (JSON-able) by the code ``code``."""
    text = json.dumps({"kind": kind, "inputs": inputs, "code": source_digest(tuple(code))}, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()


def numeric_platform() -> dict[str, Any]:
    """What besides the inputs and dermsim's code can move floating-point results in their last
    bits: NumPy's and SciPy's versions, NumPy's CPU dispatch (its AVX-512 exp and log round
    differently from the AVX2 ones; ``NPY_DISABLE_CPU_FEATURES`` switches between them) and
    OpenBLAS's kernel choice. Part of the key of any entry computed with them."""
    import numpy as np
    import scipy

    try:
        from numpy._core._multiarray_umath import __cpu_features__

        cpu: Any = sorted(k for k, on in __cpu_features__.items() if on)
    except ImportError:  # pragma: no cover - a NumPy without this table: the machine and the switch
        import platform

        cpu = [platform.machine(), os.environ.get("NPY_DISABLE_CPU_FEATURES", "")]
    return {"numpy": np.__version__, "scipy": scipy.__version__, "cpu": cpu,
            "openblas_coretype": os.environ.get("OPENBLAS_CORETYPE", "")}


def _path(kind: str, key: str) -> Path | None:
    root = cache_dir()
    return None if root is None else root / kind / f"{key}.json"


def load(kind: str, key: str) -> dict[str, Any] | None:
    """The entry stored under ``key``, or None (no cache, no entry, or an entry that is not a JSON
    object)."""
    path = _path(kind, key)
    if path is None:
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def store(kind: str, key: str, data: Mapping[str, Any]) -> None:
    """Store ``data`` under ``key`` (atomically: a reader sees the old entry or the new one); a
    folder that cannot be written leaves the cache as it was."""
    path = _path(kind, key)
    if path is None:
        return
    try:
        with atomic_path(path) as tmp:
            tmp.write_text(json.dumps(dict(data)), encoding="utf-8")
    except OSError:
        return


def cached(kind: str, key: str, compute: Callable[[], T], encode: Callable[[T], Mapping[str, Any]],
           decode: Callable[[dict[str, Any]], T]) -> T:
    """The value stored under ``key`` (``decode`` of the entry), else ``compute()``, stored with
    ``encode``. An entry ``decode`` rejects (KeyError, TypeError, ValueError) is a miss and is
    overwritten."""
    hit = load(kind, key)
    if hit is not None:
        try:
            return decode(hit)
        except (KeyError, TypeError, ValueError):
            pass
    value = compute()
    store(kind, key, encode(value))
    return value
