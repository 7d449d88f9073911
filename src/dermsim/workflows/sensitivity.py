"""``dermsim model sensitivity``: local (tornado) or global (Sobol') sensitivity of a model output to
the calibrated parameters over the posterior (:mod:`dermsim.calibration.sensitivity`), written as a
CSV, a figure (PNG and SVG) and ``sensitivity.json`` (the run's settings and provenance)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from dermsim import __version__
from dermsim._validate import check_choice, check_int
from dermsim.calibration.sensitivity import METHODS, OUTPUTS, ModelOutputs, posterior_problem, sobol, tornado
from dermsim.errors import InvalidInputError
from dermsim.report.figures import save_figure
from dermsim.report.pmx_figures import plot_sobol, plot_tornado
from dermsim.workflows.model import resolve_model
from dermsim.workflows.outputs import check_out, output_dir
from dermsim.workflows.progress import NO_PROGRESS, CancelToken, Progress, check_cancel

__all__ = ["METHODS", "OUTPUTS", "SensitivityRun", "run_sensitivity"]


@dataclass(frozen=True)
class SensitivityRun:
    out: Path
    output: str
    method: str
    table: pd.DataFrame
    evaluations: int
    settings: dict


def run_sensitivity(out: str | Path, *, output: str = "iga_ts_w8", method: str = "sobol", n: int = 256,
                    params: str | None = None, posterior: str | Path = "shipped",
                    population: str = "true-ad1", patients: int = 100, strength: float = 1.5,
                    seed: int = 1, second_order: bool = False, workers: int = 2, overwrite: bool = False,
                    progress: Progress = NO_PROGRESS, cancel: CancelToken | None = None) -> SensitivityRun:
    """Sensitivity of ``output`` (one of OUTPUTS) to the posterior's calibrated parameters (all, or
    the comma-separated ``params``) over their 5-95 % ranges; ``method`` tornado or sobol (base
    sample ``n``, a power of 2: N (D + 2) model evaluations). Writes ``out/sensitivity.csv``,
    ``out/<method>.png|svg`` and ``out/sensitivity.json``."""
    check_choice("--output", output, tuple(OUTPUTS))
    check_choice("--method", method, METHODS)
    check_int("--n", n, minimum=2)
    out = check_out(out, overwrite=overwrite)
    model = resolve_model(posterior)
    if model.posterior is None:
        why = f": {model.fallback}" if model.fallback else ""
        raise InvalidInputError(f"--posterior must give a calibrated posterior (shipped or a file) to vary "
                                f"parameters over; got {posterior!s}{why}.")
    names = [p.strip() for p in params.split(",") if p.strip()] if params else None
    problem = posterior_problem(model.posterior, names)
    d = len(problem.names)
    total = (2 * d + 1) if method == "tornado" else n * ((2 * d + 2) if second_order else (d + 2))
    progress.start(total, f"{method}: {output}")

    def advance(k: int) -> None:
        check_cancel(cancel)
        progress.advance(k)

    evaluator = ModelOutputs(model.posterior, problem, population=population, n_patients=patients,
                             strength_pct=strength, seed=seed, workers=workers, progress=advance)
    func = lambda X: evaluator(X, output)  # noqa: E731
    if method == "tornado":
        table = tornado(func, problem)
    else:
        table = sobol(func, problem, n, seed=seed, second_order=second_order)
    progress.done(f"{total} model evaluations")
    label = OUTPUTS[output]
    settings = {"output": output, "output_label": label, "method": method,
                "n": n if method == "sobol" else None, "second_order": second_order, "evaluations": total,
                "parameters": list(problem.names),
                "ranges": "posterior 5-95 % quantiles, independent uniform (Sobol'); 5 % / 95 % one at a "
                          "time (tornado); others at the posterior weighted median",
                "population": population, "patients": patients, "strength_pct": strength, "seed": seed,
                "dermsim_version": __version__, "provenance": model.provenance()}
    if method == "sobol":
        settings.update({k: table.attrs.get(k) for k in ("output_mean", "output_sd")})
    with output_dir(out, overwrite=overwrite) as tmp:
        table.to_csv(tmp / "sensitivity.csv", index=False, lineterminator="\n")
        fig = plot_tornado(table, label) if method == "tornado" else plot_sobol(table, label)
        save_figure(fig, tmp, method)
        (tmp / "sensitivity.json").write_text(json.dumps(settings, indent=2, default=str) + "\n")
    return SensitivityRun(out, output, method, table, total, settings)
