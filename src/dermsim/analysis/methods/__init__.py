"""The method registry: plan method names -> functions that turn analysis records into ARD rows.

Each method receives an :class:`~dermsim.analysis.method_base.AnalysisInput` (spec, records with
the population and parameter applied, all datasets, ARD context, seed) and returns ARD row dicts.
The methods hold the layout of an analysis (which groups, visits, pairs and denominators); the
numbers come from the statistics modules of this package and from statsmodels, scipy and lifelines.

One module per family (``summaries``, ``binary``, ``continuous``, ``adverse_events``,
``time_to_event``; shared helpers in ``common``); each method declares itself with
:func:`~dermsim.analysis.methods.registry.register`, so :data:`METHODS` is complete once the
modules below are imported.
"""

from __future__ import annotations

from collections.abc import Callable

from dermsim.analysis.method_base import AnalysisInput, Rows
from dermsim.analysis.methods import adverse_events, binary, continuous, summaries, time_to_event
from dermsim.analysis.methods.common import KNOWN_LEVELS
from dermsim.analysis.methods.registry import METHODS, register

__all__ = ["INTERACTIONS", "KNOWN_LEVELS", "METHODS", "REGISTRY", "register"]

# the modules are imported for their registrations
_FAMILIES = (summaries, binary, continuous, adverse_events, time_to_event)

# Views of METHODS for run_plan's ``methods=`` argument (name -> function).
REGISTRY: dict[str, Callable[[AnalysisInput], Rows]] = {k: m.run for k, m in METHODS.items()}
INTERACTIONS: dict[str, Callable[[AnalysisInput], Rows]] = {
    k: m.interaction for k, m in METHODS.items() if m.interaction is not None
}
