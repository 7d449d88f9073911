"""Binary and categorical comparisons (statistics from the binary-statistics modules): responder
proportions with the stratified risk difference and CMH test, the treatment-by-subgroup
interaction, the CMH statistics of a categorical response, and the tipping-point sensitivity
(statistics: :mod:`dermsim.analysis.sensitivity`)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from dermsim.analysis.ard import make_rows
from dermsim.analysis.cmh import test_cmh_frame
from dermsim.analysis.estimands import apply_estimand
from dermsim.analysis.method_base import ORDER_VARS, AnalysisInput, MethodSpec, Rows, group_levels
from dermsim.analysis.methods.common import (
    _KEY,
    _as_float_list,
    _as_list,
    _blocks,
    _categorical_rows,
    _pairs,
    _population_subjects,
    _records,
    _response_value,
    _stratum_key,
    _variable,
    _visits,
)
from dermsim.analysis.methods.registry import register
from dermsim.analysis.proportions import estimate_proportion
from dermsim.analysis.sensitivity import estimate_tipping_point
from dermsim.analysis.stratified import (
    estimate_common_risk_difference,
    test_breslow_day,
    test_mantel_haenszel,
)
from dermsim.errors import DataValidationError, NotEstimableError


def _binary_subgroup_interaction(inp: AnalysisInput) -> Rows:
    """Treatment-by-subgroup interaction for each arm vs the comparator: Breslow-Day test of equal
    odds ratios across the levels of each subgroup variable (``variable_level`` =
    ``"interaction VAR"``), on the whole population."""
    spec = inp.spec
    var = _variable(inp)
    rows: Rows = []
    for visit in _visits(inp):
        df = _records(inp, visit)
        arms = group_levels(df, spec.group)
        response = _response_value(inp, df[var])
        hit = (df[var] == response).to_numpy()
        arm = df[spec.group].astype(str).to_numpy()
        for sg in spec.subgroups:
            key = df[sg].astype(str).to_numpy()
            levels = sorted(set(key))
            for a, r in _pairs(inp, arms):
                cnt = [np.array([m[key == lv].sum() for lv in levels], dtype=float)
                       for g in (a, r) for m in (hit & (arm == g), arm == g)]
                ok = (cnt[1] > 0) & (cnt[3] > 0)
                if ok.sum() < 2:
                    continue
                with np.errstate(invalid="ignore", divide="ignore"):
                    bd = test_breslow_day(*(c[ok] for c in cnt))
                rows += make_rows(inp.ctx, dict(bd.to_ard_rows()), variable_level=f"interaction {sg}",
                                  group_level=a, comparator=r, visit=visit, method=bd.method)
    return rows


# Binary responder: per-arm proportion with CI; stratified risk difference vs comparator
# (Mantel-Haenszel weights, Sato variance) and the CMH test over the strata; with subgroups
# also the treatment-by-subgroup Breslow-Day test.
@register("proportion_rd_cmh", MethodSpec("binary", ("variable", "visit", "group", "comparator"),
                                          ("response", "alpha", "ci_method", "rd_method", "ice_flag"),
                                          ("observed", "composite_nri", "locf")),
          interaction=_binary_subgroup_interaction)
def _proportion_rd_cmh(inp: AnalysisInput) -> Rows:
    """Per arm: responders, proportion with CI (Wilson by default). Each arm vs the comparator:
    common risk difference over the strata (Mantel-Haenszel weights, Sato variance by default)
    and the Mantel-Haenszel (CMH, 2 x 2 x K) test without continuity correction."""
    spec, ctx = inp.spec, inp.ctx
    var = _variable(inp)
    ci_method = str(spec.options.get("ci_method", "wilson"))
    rd_method = str(spec.options.get("rd_method", "mh_sato"))
    alpha = float(spec.options.get("alpha", 0.05))
    rows: Rows = []
    for visit in _visits(inp):
        df = _records(inp, visit)
        arms = group_levels(df, spec.group)
        response = _response_value(inp, df[var])
        hit = (df[var] == response).to_numpy()
        arm = df[spec.group].astype(str).to_numpy()
        for a in arms:
            sel = arm == a
            n, k = int(sel.sum()), int(hit[sel].sum())
            if n == 0:
                continue
            res = estimate_proportion(k, n, method=ci_method, conf_level=1 - alpha)
            rows += make_rows(ctx, {**dict(res.to_ard_rows()), "pct": 100 * k / n}, group_level=a,
                              visit=visit, method=f"proportion_{ci_method}")
        skey = _stratum_key(df, spec.strata).to_numpy()
        levels = sorted(set(skey))
        for a, r in _pairs(inp, arms):
            counts = []
            for g in (a, r):
                in_g = arm == g
                counts.append(np.array([hit[in_g & (skey == s)].sum() for s in levels], dtype=float))
                counts.append(np.array([(in_g & (skey == s)).sum() for s in levels], dtype=float))
            x1, n1, x2, n2 = counts
            usable = (n1 > 0) & (n2 > 0)
            if not usable.any():
                raise NotEstimableError(
                    f"{inp.dataset_label}: no stratum of {', '.join(spec.strata) or 'the analysis'} holds "
                    f"both {a!r} and {r!r} at {visit or 'the analysis'} (analysis {spec.id}).")
            rd = estimate_common_risk_difference(x1, n1, x2, n2, method=rd_method, conf_level=1 - alpha)
            rows += make_rows(ctx, {k: v for k, v in rd.to_ard_rows() if k in ("estimate", "se", "ci_lower",
                                                                                "ci_upper")},
                              group_level=a, comparator=r, visit=visit, method=f"common_rd_{rd_method}")
            with np.errstate(invalid="ignore", divide="ignore"):  # no responders at all: NaN, reported
                mh = test_mantel_haenszel(x1[usable], n1[usable], x2[usable], n2[usable])
            rows += make_rows(ctx, dict(mh.to_ard_rows()), group_level=a, comparator=r, visit=visit,
                              method="cmh")
    return rows


_CMH_LABELS = {"general_association": "general association", "row_mean_scores": "row mean scores",
               "correlation": "nonzero correlation"}


def _cmh_rows(inp: AnalysisInput, df: pd.DataFrame, row: str, visit: str, group_level: str,
              comparator: str) -> Rows:
    res = test_cmh_frame(df, row=row, col=_variable(inp), strata=list(inp.spec.strata) or None,
                         dataset=inp.dataset_label)
    rows: Rows = []
    for name, pairs in res.to_ard_rows_by_test().items():
        rows += make_rows(inp.ctx, dict(pairs), variable_level=_CMH_LABELS[name], visit=visit,
                          group_level=group_level, comparator=comparator, method=f"cmh_{name}")
    return rows


@register("cmh", MethodSpec("categorical", ("variable", "visit", "group"), ("levels",),
                            ("observed", "locf")))
def _cmh(inp: AnalysisInput) -> Rows:
    """Counts by category and group per visit; CMH statistics (SAS PROC FREQ ``CMH``) over the
    strata for all groups and for each group vs the comparator. The group's numeric companion
    (TRTPN for TRTP), when present, gives the row scores of the correlation statistic."""
    spec = inp.spec
    var = _variable(inp)
    rows: Rows = []
    for visit in _visits(inp):
        df = _records(inp, visit) if visit else inp.data
        arms = group_levels(df, spec.group)
        rows += _categorical_rows(inp, df, var, arms, visit=visit,
                                  levels=_as_list(spec.options.get("levels")) or None)
        order = ORDER_VARS.get(spec.group)
        row = order if order and order in df.columns else spec.group
        rows += _cmh_rows(inp, df, row, visit, "", "")
        for a, r in _pairs(inp, arms):
            sub = df[df[spec.group].astype(str).isin([a, r])]
            rows += _cmh_rows(inp, sub, row, visit, a, r)
    return rows


DEFAULT_DELTAS = tuple(float(d) for d in np.arange(-5.0, 1.0001, 0.25))


# Sensitivity of a binary primary: delta-adjusted MI over a grid of deltas, tipping point.
@register("tipping_point", MethodSpec("binary", ("variable", "visit", "group", "comparator"),
                                      ("response", "alpha", "deltas", "mi_m", "shifted", "ice_flag"),
                                      ("mi",)))
def _tipping_point(inp: AnalysisInput) -> Rows:
    """Delta-adjusted MI of the binary outcome (hypothetical strategy: a missing outcome, or one
    after an intercurrent event flagged by option ``ice_flag``, is imputed within arm x stratum
    and shifted by delta on the log-odds scale in the active arms), MH risk difference vs the
    comparator on every completed set, Rubin's rules, and the tipping delta."""
    spec = inp.spec
    var = _variable(inp)
    alpha = float(spec.options.get("alpha", 0.05))
    deltas = _as_float_list(spec.options.get("deltas")) or list(DEFAULT_DELTAS)
    m = int(spec.options.get("mi_m", 50))
    shifted = _as_list(spec.options.get("shifted")) or None
    ice = spec.options.get("ice_flag")
    rows: Rows = []
    for visit in _visits(inp):
        obs = apply_estimand("observed", inp.data, variable=var, visits=[visit], dataset=inp.dataset_label)
        if ice:
            if str(ice) not in obs.columns:
                raise DataValidationError(f"{inp.dataset_label}: variable {ice} (option 'ice_flag' of "
                                          f"analysis {spec.id}) is missing.")
            obs = obs[obs[str(ice)] != "Y"]
        subjects = _population_subjects(inp)
        data = subjects.merge(obs[[_KEY, var]], on=_KEY, how="left")
        res = estimate_tipping_point(data[var], data[spec.group].astype(str).to_numpy(),
                                     reference=str(spec.comparator), deltas=deltas,
                                     strata=_stratum_key(data, spec.strata).to_numpy(), shifted=shifted, m=m,
                                     seed=inp.seed, alpha=alpha, response=_response_value(inp, obs[var]))
        rows += _blocks(inp.ctx, res.ard_blocks(), visit=visit)
    return rows
