"""Operating characteristics of candidate designs: power over sample sizes, the sample size for a
target power, and sweeps over a TOML grid, each stored chunk by chunk in ``out/design.duckdb``
(``resume`` continues a killed or cancelled run) with ``results.parquet``, ``summary.csv``,
``designs.csv``, ``report.html`` and the power curve as PNG and SVG."""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from dermsim._atomic import atomic_path
from dermsim._validate import LIMITS, check_int, check_range
from dermsim.design import (
    DEFAULT_REPLICATE_BLOCK,
    DesignGrid,
    DesignSpec,
    OCRun,
    ResultStore,
    estimate_sample_size,
    make_power_designs,
    parse_range,
    simulate_operating_characteristics,
    summarise_designs,
    summarise_operating_characteristics,
)
from dermsim.errors import InvalidInputError
from dermsim.report.design_report import (
    export_design_report,
    plot_power_curve,
    render_design_report,
    save_figure,
)
from dermsim.workflows.model import resolve_model
from dermsim.workflows.outputs import check_out, record_files, remove_written
from dermsim.workflows.progress import NO_PROGRESS, CancelToken, Progress, check_cancel

__all__ = [
    "DEFAULT_REPLICATE_BLOCK",
    "DesignOptions",
    "DesignStudy",
    "base_design",
    "run_design_study",
    "run_design_sweep",
    "run_sample_size_study",
]


@dataclass(frozen=True)
class DesignOptions:
    """How a design study runs (none of it changes the numbers except ``seed``, ``replicates``,
    ``replicate_block`` and ``parameters``)."""

    replicates: int = 2000
    seed: int = 0
    resume: bool = False
    workers: int | None = None
    scheduler: str | None = None
    chunk_size: int | None = None
    replicate_block: int = DEFAULT_REPLICATE_BLOCK
    parameters: str = "posterior"   # "posterior" (the shipped one, a draw per replicate block) or "prior"
    overwrite: bool = False         # replace an earlier design run in --out (its files only)


@dataclass(frozen=True)
class DesignStudy:
    """The result of a design study; files in ``out``."""

    out: Path
    run: OCRun
    summary: pd.DataFrame        # by design and hypothesis
    designs: pd.DataFrame        # probability of success per design
    truth: pd.DataFrame | None
    sample_size: Any             # SampleSizeResult of run_sample_size_study, else None
    seconds: float

    def designs_table(self) -> pd.DataFrame:
        return self.designs[["design_id", "n_total", "n_replicates", "probability_of_success",
                             "probability_of_success_mcse"]]


def base_design(name: str, n: int, *, strata: str | None = None, primary_day: int | None = None,
                alpha: float = 0.05, null: bool = False, ratio: str | None = None) -> DesignSpec:
    """A design variation from command-line style text (``ratio`` "rux150=1,vehicle=1", ``strata``
    factors joined by "+" or "none")."""
    ratio_map = None
    if ratio:
        try:
            ratio_map = {k.strip(): int(v) for k, v in (p.split("=") for p in ratio.split(","))}
        except ValueError:
            raise InvalidInputError(f"--ratio must look like rux150=1,vehicle=1; got {ratio!r}.") from None
    strata_list = None if strata is None else ([] if strata in ("", "none") else strata.split("+"))
    return DesignSpec.from_dict(
        {
            "id": name,
            "n_total": n,
            "ratio": ratio_map,
            "strata": strata_list,
            "primary_day": primary_day,
            "alpha": alpha,
            "null": null,
        },
        where="(command line)",
    )


def _posterior(parameters: str) -> Any:
    if parameters == "prior":
        return None
    if parameters != "posterior":
        raise InvalidInputError(f"--parameters must be one of prior, posterior; got {parameters!r}.")
    return resolve_model("shipped").posterior


def _check_truth(truth_patients: int, parameters: str) -> None:
    check_int("--truth-patients", truth_patients, minimum=0, maximum=LIMITS["patients"])
    if 0 < truth_patients < 100:
        raise InvalidInputError(f"--truth-patients must be 0 (none) or at least 100; got {truth_patients}.")
    if truth_patients > 0 and parameters != "prior":
        raise InvalidInputError(
            "--truth-patients needs --parameters prior (the true effect under a "
            f"posterior would average over its draws); got --parameters {parameters}."
        )


def _truth(scenario: Any, designs: Sequence[Any], n_patients: int, seed: int) -> pd.DataFrame | None:
    """Large-sample true effects (for bias and coverage), once per design content (n aside)."""
    if n_patients <= 0:
        return None
    from dermsim.design.truth import estimate_true_effects, truth_key

    cache: dict[int, Any] = {}
    frames = []
    for d in designs:
        k = truth_key(d)
        if k not in cache:
            cache[k] = estimate_true_effects(scenario, d, n_patients, seed)
        frames.append(cache[k].assign(design_id=d.id))
    return pd.concat(frames, ignore_index=True)


@contextlib.contextmanager
def _stored_run(out: Path, opt: DesignOptions, progress: Progress,
                cancel: CancelToken | None) -> Iterator[dict[str, Any]]:
    """Open the run's DuckDB store (refusing to mix runs without resume); yields the keyword
    arguments of a simulation call and exports the results to Parquet when the run ends. The
    progress callback also checks ``cancel``: a cancelled run keeps its committed chunks."""
    # the output policy first: nothing is created for a command that is refused
    check_out(out, overwrite=opt.overwrite, resume=opt.resume, resumable=True)
    posterior = _posterior(opt.parameters)
    fresh = not out.exists() or not any(out.iterdir())
    if opt.overwrite and not opt.resume and not fresh:
        remove_written(out)
    out.mkdir(parents=True, exist_ok=True)
    db = out / "design.duckdb"
    if db.exists() and not opt.resume:
        raise InvalidInputError(
            f"--out {out} already holds design.duckdb; pass --resume to continue that run "
            "or choose another directory."
        )
    seen = -1

    def update(done: int, total: int) -> None:
        nonlocal seen
        if seen < 0:
            progress.start(total, "replicates")
            seen = 0
        progress.advance(done - seen)
        seen = done
        check_cancel(cancel)

    check_cancel(cancel)
    empty_failure = False
    try:
        with ResultStore(db) as store:
            record_files(out, [db.name, f"{db.name}.wal", "results.parquet"])
            try:
                yield {"store": store, "progress": update, "resume": opt.resume, "chunk_size": opt.chunk_size,
                       "scheduler": opt.scheduler, "workers": opt.workers,
                       "replicate_block": opt.replicate_block, "posterior": posterior}
            except BaseException:
                empty_failure = store.n_results() == 0
                raise
            finally:
                progress.done("")
            store.export_parquet(out / "results.parquet")
    finally:
        if empty_failure and fresh:
            # refused or failed before its first chunk: leave nothing that blocks the corrected command
            remove_written(out)
            with contextlib.suppress(OSError):
                out.rmdir()


_DESIGN_FILES = ("design.duckdb", "design.duckdb.wal", "results.parquet", "summary.csv", "designs.csv",
                 "truth.csv", "sample_size.json", "power_curve.png", "power_curve.svg", "report.html")


def _write_outputs(run: OCRun, out: Path, *, title: str, seconds: float, scenario: str,
                   sample_size: Any = None, target: float | None = None,
                   truth: pd.DataFrame | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    summary = summarise_operating_characteristics(run.results, run.designs, truth=truth)
    if truth is not None:
        with atomic_path(out / "truth.csv") as tmp:
            truth.to_csv(tmp, index=False)
    designs = summarise_designs(run.results, run.designs)
    for frame, name in ((summary, "summary.csv"), (designs, "designs.csv")):
        with atomic_path(out / name) as tmp:
            frame.to_csv(tmp, index=False)
    setup = {
        "scenario": scenario,
        "replicates per design": run.n_replicates,
        "seed": run.seed["entropy"],
        "replicate block": run.replicate_block,
        "model parameters": run.parameters,
        "dermsim": run.version,
        "analysis": "CMH test over the design's strata; MH-Sato risk difference (Wald when unstratified); "
        "dropouts before the primary visit are non-responders; success = fixed-sequence rejections in "
        "favour of the treatment",
        "conduct": "one adherence per arm (the scenario's mean); constant weekly dropout hazard",
        "wall time (s)": f"{seconds:.1f}",
    }
    s = summary.assign(
        n_total=summary["design_id"].map(dict(zip(designs["design_id"], designs["n_total"], strict=True))),
        label=summary["endpoint"] + " " + summary["treatment"] + " vs " + summary["control"],
    )
    if s["n_total"].nunique() > 1:
        fig = plot_power_curve(
            s[~s["null"]], target_power=target, fitted=None if sample_size is None else sample_size.fit
        )
        save_figure(fig, out / "power_curve.png")
        save_figure(fig, out / "power_curve.svg")
    page = render_design_report(
        summary,
        designs,
        run.results,
        title=title,
        setup=setup,
        fitted=None if sample_size is None else sample_size.fit,
        target_power=target,
        sample_size=None if sample_size is None else sample_size.to_dict(),
    )
    export_design_report(page, out / "report.html")
    record_files(out, [f for f in _DESIGN_FILES if (out / f).exists()])
    return summary, designs


def run_design_study(
    scenario: str,
    designs: Sequence[Any],
    out: str | Path,
    options: DesignOptions = DesignOptions(),
    *,
    title: str | None = None,
    truth_patients: int = 0,
    progress: Progress = NO_PROGRESS,
    cancel: CancelToken | None = None,
) -> DesignStudy:
    """Operating characteristics of ``designs`` (variations of ``scenario``), written into ``out``.
    ``cancel`` is checked after every committed chunk; ``resume`` then continues."""
    out = Path(out)
    _check_truth(truth_patients, options.parameters)
    t0 = time.perf_counter()
    with _stored_run(out, options, progress, cancel) as run_kw:
        run = simulate_operating_characteristics(scenario, designs, options.replicates, options.seed,
                                                 **run_kw)
    sec = time.perf_counter() - t0
    truth = _truth(scenario, designs, truth_patients, options.seed)
    summary, table = _write_outputs(run, out, title=title or f"Operating characteristics: {scenario}",
                                    seconds=sec, scenario=scenario, truth=truth)
    return DesignStudy(out, run, summary, table, truth, None, sec)


def power_designs(n: str, **variation: Any) -> list[DesignSpec]:
    """The designs of a power curve: ``n`` is START:STOP:STEP or a comma list of total sizes;
    ``variation`` as :func:`base_design` (strata, primary_day, alpha, null, ratio)."""
    sizes = parse_range(n, name="--n")
    return make_power_designs(base_design("power", sizes[0], **variation), sizes)


def run_sample_size_study(
    scenario: str,
    out: str | Path,
    *,
    power: float = 0.9,
    n: str = "100:700:100",
    options: DesignOptions = DesignOptions(),
    ratio: str | None = None,
    strata: str | None = None,
    primary_day: int | None = None,
    alpha: float = 0.05,
    progress: Progress = NO_PROGRESS,
    cancel: CancelToken | None = None,
) -> DesignStudy:
    """Smallest total N reaching ``power``, with its Monte-Carlo interval (``out/sample_size.json``)."""
    out = Path(out)
    check_range("--power", power, 0.0, 1.0, low_open=True, high_open=True)
    sizes = parse_range(n, name="--n")
    base = base_design("ss", sizes[0], strata=strata, primary_day=primary_day, alpha=alpha, null=False,
                       ratio=ratio)
    t0 = time.perf_counter()
    with _stored_run(out, options, progress, cancel) as run_kw:
        res = estimate_sample_size(scenario, base, power, sizes, options.replicates, options.seed, **run_kw)
    sec = time.perf_counter() - t0
    with atomic_path(out / "sample_size.json") as tmp:
        tmp.write_text(json.dumps(res.to_dict(), indent=2, default=float), encoding="utf-8")
    summary, table = _write_outputs(res.run, out, title=f"Sample size for {power:g} power: {scenario}",
                                    seconds=sec, scenario=scenario, sample_size=res, target=power)
    return DesignStudy(out, res.run, summary, table, None, res, sec)


def run_design_sweep(
    grid: str | Path,
    out: str | Path,
    options: DesignOptions = DesignOptions(),
    *,
    truth_patients: int = 0,
    progress: Progress = NO_PROGRESS,
    cancel: CancelToken | None = None,
) -> DesignStudy:
    """Operating characteristics of every design of a TOML grid."""
    grid = Path(grid)
    g = DesignGrid.from_toml(grid)
    return run_design_study(g.scenario, g.designs(), out, options, title=f"Design sweep: {grid.name}",
                            truth_patients=truth_patients, progress=progress, cancel=cancel)
