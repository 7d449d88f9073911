"""Time to event (statistics: :mod:`dermsim.analysis.survival`): Kaplan-Meier by group and the
log-rank test."""

from __future__ import annotations

import numpy as np

from dermsim.analysis.ard import make_rows
from dermsim.analysis.method_base import AnalysisInput, MethodSpec, Rows, group_levels
from dermsim.analysis.methods.common import _as_float_list, _blocks, _num_text, _variable
from dermsim.analysis.methods.registry import register
from dermsim.analysis.survival import estimate_km_by_group, test_logrank
from dermsim.errors import DataValidationError


@register("km", MethodSpec("tte", ("group",), ("at_risk_every", "at_risk_to", "times", "alpha",
                                               "censor_variable")))
def _km(inp: AnalysisInput) -> Rows:
    """Kaplan-Meier by group with log-log CIs (SAS LIFETEST): n, events, median with CI, numbers
    at risk and survival with CI at ``times`` and every ``at_risk_every`` up to ``at_risk_to``;
    log-rank test over the groups."""
    spec, df = inp.spec, inp.data
    y = _variable(inp)
    cnsr = str(spec.options.get("censor_variable", "CNSR"))
    for v in (y, cnsr):
        if v not in df.columns:
            raise DataValidationError(f"{inp.dataset_label}: variable {v} is missing (analysis {spec.id}).")
    alpha = float(spec.options.get("alpha", 0.05))
    step = float(spec.options.get("at_risk_every", 0) or 0)
    upto = float(spec.options.get("at_risk_to", df[y].max()))
    times = sorted(set(_as_float_list(spec.options.get("times")) +
                       (list(np.arange(0, upto + step / 2, step)) if step > 0 else [])))
    t = df[y].to_numpy(float)
    event = (df[cnsr].to_numpy(float) == 0).astype(float)
    g = df[spec.group].astype(str).to_numpy()
    arms = group_levels(df, spec.group)
    rows: Rows = []
    fits = estimate_km_by_group(t, event, g, levels=arms, conf_type="log-log", conf_level=1 - alpha)
    for a in arms:
        rows += _blocks(inp.ctx, fits[a].ard_blocks(times))
        # the whole step function (survival after each event time) for the Kaplan-Meier figure
        f = fits[a]
        ev = np.asarray(f.n_event) > 0
        for t_ev, s_ev in zip(np.asarray(f.time)[ev], np.asarray(f.survival)[ev], strict=True):
            rows += make_rows(inp.ctx, {"estimate": float(s_ev)}, variable_level="curve",
                              timepoint=_num_text(t_ev), group_level=a)
    if len(arms) > 1:
        lr = test_logrank(t, event, g, levels=arms)
        rows += make_rows(inp.ctx, dict(lr.to_ard_rows()), variable_level="log-rank", method="logrank")
    return rows
