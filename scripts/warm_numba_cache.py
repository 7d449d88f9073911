"""Compile the engine's kernels into numba's on-disk cache (``__pycache__`` beside the source).

``make test`` runs this before the tests on a fresh checkout: otherwise each pytest worker, and each
command-line subprocess started before the cache is written, compiles the same kernels itself (about
a minute each on a 2-core machine). The tests run the same machine code either way; the engine bench
measures the cold start separately, with an empty cache directory. The two processes that compile
side by side are :func:`dermsim.model.precompile.compile_kernels`, which a cold run of the engine
itself uses too.
"""

from __future__ import annotations

from dermsim.engine.compiled import HAVE_NUMBA
from dermsim.model.precompile import compile_kernels


def main() -> None:
    if not HAVE_NUMBA:
        print("warm_numba_cache: numba is not installed; nothing to compile")
        return
    print(f"warm_numba_cache: kernels compiled and cached in {compile_kernels():.0f} s")


if __name__ == "__main__":
    main()
