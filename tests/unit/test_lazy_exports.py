"""Packages whose names load on first use (dermsim._lazy): every name is its module's own object,
``__all__`` names exactly the imports type checkers read, and importing the package loads none of
the modules behind it."""

from __future__ import annotations

import importlib
import subprocess
import sys

import pytest

PACKAGES = {"dermsim.workflows": 70, "dermsim.analysis": 40}  # package: at least this many names


@pytest.mark.parametrize("package", sorted(PACKAGES))
def test_every_lazy_name_resolves_to_its_module_s_object(package: str) -> None:
    # __all__ stays a literal list (type checkers read only literals) and must name exactly the
    # imports under TYPE_CHECKING: a name added to the imports only, or dropped from them only,
    # fails here
    pkg = importlib.import_module(package)
    exports = pkg._LAZY.exports
    assert len(exports) > PACKAGES[package] and sorted(pkg.__all__) == sorted(exports)
    for name, module in exports.items():
        assert getattr(pkg, name) is getattr(importlib.import_module(module), name), name
    assert set(exports) <= set(dir(pkg))
    with pytest.raises(AttributeError, match=f"module '{package}' has no attribute 'no_such_name'"):
        pkg.no_such_name  # noqa: B018


def test_a_design_run_s_modules_do_not_load_statsmodels_or_scipy_stats() -> None:
    # what a design run imports (dermsim.design, and through it the batched statistics, a submodule
    # of dermsim.analysis) used to load statsmodels and scipy.stats, about a second of every run:
    # the package's __init__ imported every method, and the single-table functions of the modules
    # the batched statistics reuse imported them at the top
    code = ("import sys; import dermsim.design, dermsim.analysis.batched, dermsim.analysis; "
            "print(sorted(m for m in sys.modules if m.split('.')[0] == 'statsmodels' or m == 'scipy.stats' "
            "or m == 'dermsim.analysis.logistic'))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == "[]"
