"""The one declaration of the analysis methods: :data:`METHODS` (plan method name -> :class:`Method`),
filled by the :func:`register` decorator on each method function of this package."""

from __future__ import annotations

from collections.abc import Callable

from dermsim.analysis.method_base import AnalysisInput, Method, MethodSpec, Rows

__all__ = ["METHODS", "register"]

MethodFn = Callable[[AnalysisInput], Rows]

# What each method needs from an analysis (validated when a plan is loaded,
# :mod:`dermsim.analysis.plan`) and the function that lays it out.
METHODS: dict[str, Method] = {}


def register(name: str, spec: MethodSpec, *,
             interaction: MethodFn | None = None) -> Callable[[MethodFn], MethodFn]:
    """Declare the decorated function as the plan method ``name`` needing ``spec``; ``interaction``
    is its treatment-by-subgroup function, where it reports one."""

    def declare(fn: MethodFn) -> MethodFn:
        if name in METHODS:
            raise ValueError(f"analysis method {name!r} is declared twice")
        METHODS[name] = Method(spec, fn, interaction=interaction)
        return fn

    return declare
