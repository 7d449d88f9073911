"""``dermsim model posterior``: what a posterior says and how far to trust it, on one page.

Per calibrated parameter: prior median, weighted posterior median and 90 % interval, shrinkage
against the prior and its verdict; the parameter correlations (unconstrained scale), the effective
sample size of the weights, and the checks recorded in the posterior's diagnostics file
(``<posterior>.diagnostics.json`` beside it: convergence of the fit, importance-sampling health,
posterior predictive coverage of the targets, identifiability). Nothing is refitted or simulated.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from dermsim.calibration.diagnostics import compute_correlations, compute_identifiability, diagnostics_path
from dermsim.calibration.posterior import load_posterior
from dermsim.calibration.targets import hash_file
from dermsim.errors import DataValidationError, InvalidInputError
from dermsim.workflows.model import ResolvedModel, resolve_model
from dermsim.workflows.model_export import parameters_label

__all__ = ["PosteriorSummary", "summarize_posterior"]

# |r| at or above which a pair of parameters is listed as strongly correlated
STRONG_CORRELATION = 0.5


@dataclass(frozen=True)
class PosteriorSummary:
    """A posterior's parameters, correlations, ESS and checks (:func:`summarize_posterior`)."""

    model: ResolvedModel
    version: str
    method: str
    n_draws: int
    ess: float
    parameters: list[dict[str, Any]]
    correlations: dict[str, Any]
    strong_pairs: list[dict[str, Any]]
    checks: list[dict[str, Any]]
    notes: list[str] = field(default_factory=list)
    diagnostics_file: str | None = None

    @property
    def label(self) -> str:
        return parameters_label(self.model)

    def to_dict(self) -> dict[str, Any]:
        return {"posterior": self.model.provenance(), "version": self.version, "method": self.method,
                "n_draws": self.n_draws, "ess": self.ess, "parameters": self.parameters,
                "correlations": self.correlations, "strong_correlations": self.strong_pairs,
                "checks": self.checks, "notes": self.notes, "diagnostics_file": self.diagnostics_file}


def _check(name: str, value: Any, ok: bool | None, note: str = "") -> dict[str, Any]:
    return {"check": name, "value": value, "ok": ok, "note": note}


def _checks(diag: dict[str, Any], ess: float, n: int) -> list[dict[str, Any]]:
    """The checks a diagnostics file records (both formats: the likelihood fit and ABC-SMC)."""
    out = [_check("ESS of the weights (Kish)", round(ess, 1), None, f"of {n} draws")]
    fit = diag.get("map") or {}
    if fit:
        out.append(_check("MAP optimiser converged", bool(fit.get("converged")), bool(fit.get("converged")),
                          str(fit.get("message", ""))))
    imp = diag.get("importance_sampling") or {}
    if imp:
        out.append(_check("importance sampling converged", bool(imp.get("converged")),
                          bool(imp.get("converged")), str(imp.get("mode", ""))))
        if "ess_importance_check" in imp:
            target = imp.get("target_ess")
            value = float(imp["ess_importance_check"])
            out.append(_check("ESS of the importance check", round(value, 2),
                              None if target is None else value >= float(target),
                              f"target {target}; {imp.get('simulated_draws', '?')} draws simulated"))
        if "pareto_k" in imp:
            k = float(imp["pareto_k"])
            out.append(_check("Pareto k of the importance weights", round(k, 2), k < 0.7,
                              "< 0.7 reliable, >= 0.7 the weights are unreliable"))
        if imp.get("shipped_weights"):
            out.append(_check("weights shipped", "", None, str(imp["shipped_weights"])))
    smc = diag.get("smc") or {}
    if smc:
        eps = smc.get("epsilons") or []
        out.append(_check("ABC-SMC generations", smc.get("generations_done"), None,
                          f"final tolerance {eps[-1]:.4g}" if eps else ""))
    for key, label in (("ppc", "posterior predictive 90 % interval holds the target"),
                       ("dose_contrast", "90 % interval holds the published dose contrast")):
        rows = diag.get(key) or []
        if rows:
            inside = sum(bool(r.get("inside")) for r in rows)
            missed = [str(r.get("target") or r.get("contrast")) for r in rows if not r.get("inside")]
            out.append(_check(label, f"{inside}/{len(rows)}", inside == len(rows),
                              ("outside: " + ", ".join(missed)) if missed else ""))
    return out


def _strong_pairs(corr: dict[str, Any]) -> list[dict[str, Any]]:
    names, m = corr["names"], np.asarray(corr["matrix"], float)
    pairs = [{"a": names[i], "b": names[j], "r": float(m[i, j])}
             for i in range(len(names)) for j in range(i + 1, len(names))
             if abs(m[i, j]) >= STRONG_CORRELATION]
    return sorted(pairs, key=lambda p: -abs(p["r"]))


def summarize_posterior(posterior: str | Path = "shipped") -> PosteriorSummary:
    """Summary of ``posterior`` ("shipped" or a posterior JSON file), resolved by the one rule
    (:func:`resolve_model`); the shipped one must be usable (otherwise the reason is the error)."""
    if str(posterior) == "prior":
        raise InvalidInputError("--posterior must be 'shipped' or a posterior file; 'prior' has no "
                                "posterior to summarize (dermsim model params --posterior prior lists the "
                                "prior values).")
    unusable = ""
    try:
        model = resolve_model(posterior)
    except DataValidationError as exc:
        # a posterior FILE fitted on other parameter files cannot drive a simulation, but it can
        # still be read and summarized (the reason is shown as a failed check)
        if "fitted on other parameter files" not in str(exc):
            raise
        path = Path(posterior)
        model = ResolvedModel(str(path), None, load_posterior(path), path, hash_file(path))
        unusable = str(exc).rstrip(".")
    post = model.posterior
    if post is None:
        raise InvalidInputError(f"--posterior shipped: no calibrated posterior is in use ({model.fallback}).")
    dpath = diagnostics_path(model.path) if model.path is not None else None
    diag: dict[str, Any] = {}
    if dpath is not None and dpath.exists():
        try:
            diag = json.loads(dpath.read_text())
        except json.JSONDecodeError as exc:
            raise InvalidInputError(f"{dpath.name}: not valid JSON ({exc}).") from None
        if diag.get("posterior_version") not in (None, post.version):
            raise InvalidInputError(f"{dpath.name}: diagnostics of posterior {diag['posterior_version']!r}, "
                                    f"not of {post.version!r}.")
    # identifiability and correlations follow from the draws; the diagnostics file adds the checks
    ident = {row["parameter"]: row for row in compute_identifiability(post)}
    corr = compute_correlations(post)
    corr.pop("posterior_sd_unconstrained")
    corr["scale"] = "unconstrained (log / logit) scale of the calibration, weighted"
    rows = []
    for p, name in zip(post.prior.parameters, post.names, strict=True):
        r = ident[name]
        rows.append({"parameter": name, "model_parameter": p.model_name or "(trial level)", "field": p.field,
                     "unit": p.unit, "prior_median": p.prior_mean, "median": r["median"], "q05": r["q05"],
                     "q95": r["q95"], "shrinkage_ratio": r["shrinkage_ratio"], "verdict": r["verdict"]})
    checks = _checks(diag, float(post.ess), post.n)
    checks.insert(0, _check("usable by simulations (fits the current model parameter files)",
                            not unusable, not unusable, unusable))
    notes = [str(n) for n in diag.get("identifiability_notes", [])]
    if not diag:
        notes.append("no diagnostics file beside the posterior: convergence and predictive checks not shown")
    return PosteriorSummary(model=model, version=post.version, method=str(post.meta.get("method", "abc-smc")),
                            n_draws=post.n, ess=float(post.ess), parameters=rows, correlations=corr,
                            strong_pairs=_strong_pairs(corr), checks=checks,
                            notes=notes, diagnostics_file=dpath.name if diag and dpath is not None else None)
