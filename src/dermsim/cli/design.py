"""``dermsim design power | sample-size | sweep``: operating characteristics of candidate designs.

Every command writes into ``--out DIR``: ``design.duckdb`` (per-replicate results, committed chunk
by chunk; ``--resume`` continues a killed run), ``results.parquet``, ``summary.csv`` (by
hypothesis), ``designs.csv`` (probability of success per design), ``report.html`` and the power
curve as PNG and SVG. ``--workers N`` runs a local Dask cluster, ``--scheduler tcp://HOST:PORT``
an existing one; the numbers are the same either way.
"""

from __future__ import annotations

import contextlib
import json
import time
from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    TextColumn,
    TimeRemainingColumn,
)
from rich.text import Text

from dermsim._atomic import atomic_path
from dermsim.cli import app
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

design_app = typer.Typer(
    help="Operating characteristics, sample size and design sweeps by simulation.", no_args_is_help=True
)
app.add_typer(design_app, name="design")

_console = Console(stderr=True)


class _RateColumn(ProgressColumn):
    def render(self, task: Any) -> Text:
        speed = task.finished_speed or task.speed
        return Text("-- rep/s" if speed is None else f"{speed:,.1f} rep/s", style="cyan")


def _progress(quiet: bool):
    if quiet:
        return None, None
    bar = Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        _RateColumn(),
        TextColumn("left"),
        TimeRemainingColumn(),
        console=_console,
        transient=False,
    )
    task = bar.add_task("replicates", total=None)

    def update(done: int, total: int) -> None:
        bar.update(task, completed=done, total=total)

    return bar, update


def _posterior(parameters: str) -> Any:
    if parameters == "prior":
        return None
    if parameters != "posterior":
        raise InvalidInputError(f"--parameters must be one of prior, posterior; got {parameters!r}.")
    try:
        from dermsim.calibration.posterior import default_posterior
    except ImportError:  # pragma: no cover - the calibration layer ships with the package
        raise InvalidInputError("--parameters posterior: dermsim.calibration is not available.") from None
    return default_posterior()


@contextlib.contextmanager
def _stored_run(out: Path, resume: bool, quiet: bool, **options: Any):
    """Open the run's DuckDB store (refusing to mix runs without --resume) with a progress bar;
    yields the keyword arguments of a simulation call (store, progress, resume and ``options``)
    and exports the results to Parquet when the run ends."""
    out.mkdir(parents=True, exist_ok=True)
    db = out / "design.duckdb"
    if db.exists() and not resume:
        raise InvalidInputError(
            f"--out {out} already holds design.duckdb; pass --resume to continue that run "
            "or choose another directory."
        )
    bar, update = _progress(quiet)
    with ResultStore(db) as store:
        if bar is not None:
            bar.start()
        try:
            yield {"store": store, "progress": update, "resume": resume, **options}
        finally:
            if bar is not None:
                bar.stop()
        store.export_parquet(out / "results.parquet")


def _run(
    scenario: Any,
    designs: list[Any],
    *,
    replicates: int,
    seed: int,
    out: Path,
    resume: bool,
    workers: int | None,
    scheduler: str | None,
    chunk_size: int | None,
    replicate_block: int,
    parameters: str,
    quiet: bool,
) -> tuple[OCRun, float]:
    t0 = time.perf_counter()
    with _stored_run(out, resume, quiet, chunk_size=chunk_size, scheduler=scheduler, workers=workers,
                     replicate_block=replicate_block, posterior=_posterior(parameters)) as run_kw:
        run = simulate_operating_characteristics(
            scenario,
            designs,
            replicates,
            seed,
            **run_kw,
        )
    return run, time.perf_counter() - t0


def _write_outputs(
    run: OCRun,
    out: Path,
    *,
    title: str,
    seconds: float,
    scenario: str,
    sample_size: Any = None,
    target: float | None = None,
    truth: Any = None,
) -> None:
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
    typer.echo(
        designs[
            ["design_id", "n_total", "n_replicates", "probability_of_success", "probability_of_success_mcse"]
        ].to_string(index=False)
    )
    typer.echo(
        f"wrote {out}/ (design.duckdb, results.parquet, summary.csv, designs.csv, report.html) "
        f"in {seconds:.1f} s"
    )


_OPT_REPLICATES = typer.Option(2000, "--replicates", help="replicates (virtual trials) per design")
_OPT_SEED = typer.Option(..., "--seed", help="random seed (integer >= 0)")
_OPT_OUT = typer.Option(..., "--out", help="output directory")
_OPT_RESUME = typer.Option(
    False, "--resume", help="continue the run stored in --out (only missing replicates)"
)
_OPT_WORKERS = typer.Option(None, "--workers", help="start a local Dask cluster of N worker processes")
_OPT_SCHED = typer.Option(None, "--scheduler", help="address of a running Dask scheduler, tcp://HOST:PORT")
_OPT_CHUNK = typer.Option(None, "--chunk-size", help="replicates per task and per committed chunk")
_OPT_BLOCK = typer.Option(
    DEFAULT_REPLICATE_BLOCK,
    "--replicate-block",
    help="replicates per random-stream block (part of the seed: keep it to reproduce)",
)
_OPT_PARAMS = typer.Option(
    "posterior", "--parameters",
    help="model parameters: posterior (default: a draw of the shipped calibrated posterior per replicate "
    "block, i.e. with parameter uncertainty) or prior (the uncalibrated parameter files)",
)
_OPT_QUIET = typer.Option(False, "--quiet", help="no progress bar")


def _truth(scenario: Any, designs: list[Any], n_patients: int, seed: int, parameters: str) -> Any:
    """Large-sample true effects (for bias and coverage), once per design content (n aside)."""
    if n_patients <= 0:
        return None
    if parameters != "prior":
        raise InvalidInputError(
            "--truth-patients needs --parameters prior (the true effect under a "
            f"posterior would average over its draws); got --parameters {parameters}."
        )
    import pandas as pd

    from dermsim.design.simulate import estimate_true_effects, truth_key

    cache: dict[int, Any] = {}
    frames = []
    for d in designs:
        k = truth_key(d)
        if k not in cache:
            cache[k] = estimate_true_effects(scenario, d, n_patients, seed)
        frames.append(cache[k].assign(design_id=d.id))
    return pd.concat(frames, ignore_index=True)


_OPT_TRUTH = typer.Option(
    0,
    "--truth-patients",
    help="patients of one large virtual trial giving the true effects (bias, coverage); 0: none",
)


def _base_design(
    name: str,
    n: int,
    strata: str | None,
    primary_day: int | None,
    alpha: float,
    null: bool,
    ratio: str | None,
) -> DesignSpec:
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


@design_app.command("power")
def power_cmd(
    scenario: str = typer.Argument(..., help="built-in scenario (true-ad3, ...) or a design TOML"),
    n: str = typer.Option("150:600:50", "--n", help="total sample sizes START:STOP:STEP or a comma list"),
    replicates: int = _OPT_REPLICATES,
    seed: int = _OPT_SEED,
    out: Path = _OPT_OUT,
    resume: bool = _OPT_RESUME,
    workers: int | None = _OPT_WORKERS,
    scheduler: str | None = _OPT_SCHED,
    chunk_size: int | None = _OPT_CHUNK,
    replicate_block: int = _OPT_BLOCK,
    ratio: str | None = typer.Option(None, "--ratio", help="arms and ratio, e.g. rux150=1,vehicle=1"),
    strata: str | None = typer.Option(None, "--strata", help="factors joined by +, or none"),
    primary_day: int | None = typer.Option(None, "--primary-day", help="study day of the primary visit"),
    alpha: float = typer.Option(0.05, "--alpha", help="two-sided level of each test"),
    null: bool = typer.Option(False, "--null", help="every arm gets the vehicle: type I error"),
    parameters: str = _OPT_PARAMS,
    truth_patients: int = _OPT_TRUTH,
    quiet: bool = _OPT_QUIET,
) -> None:
    """Power (probability of success) over a range of total sample sizes."""
    sizes = parse_range(n, name="--n")
    base = _base_design("power", sizes[0], strata, primary_day, alpha, null, ratio)
    designs = make_power_designs(base, sizes)
    run, sec = _run(
        scenario,
        designs,
        replicates=replicates,
        seed=seed,
        out=out,
        resume=resume,
        workers=workers,
        scheduler=scheduler,
        chunk_size=chunk_size,
        replicate_block=replicate_block,
        parameters=parameters,
        quiet=quiet,
    )
    _write_outputs(
        run,
        out,
        title=f"Power by sample size: {scenario}",
        seconds=sec,
        scenario=scenario,
        truth=_truth(scenario, designs, truth_patients, seed, parameters),
    )


@design_app.command("sample-size")
def sample_size_cmd(
    scenario: str = typer.Argument(..., help="built-in scenario (true-ad3, ...) or a design TOML"),
    power: float = typer.Option(0.9, "--power", help="target probability of success"),
    n: str = typer.Option("100:700:100", "--n", help="grid of total sample sizes to simulate"),
    replicates: int = _OPT_REPLICATES,
    seed: int = _OPT_SEED,
    out: Path = _OPT_OUT,
    resume: bool = _OPT_RESUME,
    workers: int | None = _OPT_WORKERS,
    scheduler: str | None = _OPT_SCHED,
    chunk_size: int | None = _OPT_CHUNK,
    replicate_block: int = _OPT_BLOCK,
    ratio: str | None = typer.Option(None, "--ratio", help="arms and ratio, e.g. rux150=1,vehicle=1"),
    strata: str | None = typer.Option(None, "--strata", help="factors joined by +, or none"),
    primary_day: int | None = typer.Option(None, "--primary-day", help="study day of the primary visit"),
    alpha: float = typer.Option(0.05, "--alpha", help="two-sided level of each test"),
    parameters: str = _OPT_PARAMS,
    quiet: bool = _OPT_QUIET,
) -> None:
    """Smallest total N reaching --power, with its Monte-Carlo interval."""
    sizes = parse_range(n, name="--n")
    base = _base_design("ss", sizes[0], strata, primary_day, alpha, False, ratio)
    t0 = time.perf_counter()
    with _stored_run(out, resume, quiet, chunk_size=chunk_size, scheduler=scheduler, workers=workers,
                     replicate_block=replicate_block, posterior=_posterior(parameters)) as run_kw:
        res = estimate_sample_size(
            scenario,
            base,
            power,
            sizes,
            replicates,
            seed,
            **run_kw,
        )
    sec = time.perf_counter() - t0
    with atomic_path(out / "sample_size.json") as tmp:
        tmp.write_text(json.dumps(res.to_dict(), indent=2, default=float), encoding="utf-8")
    _write_outputs(
        res.run,
        out,
        title=f"Sample size for {power:g} power: {scenario}",
        seconds=sec,
        scenario=scenario,
        sample_size=res,
        target=power,
    )
    lo, hi = res.n_interval
    typer.echo(
        f"n_required = {res.n_required} (Monte-Carlo 95% interval {lo:.0f}-{hi:.0f}); "
        f"conservative grid n = {res.n_grid_conservative}"
    )


@design_app.command("sweep")
def sweep_cmd(
    grid: Path = typer.Argument(..., help="TOML grid over n_total, ratio, strata, primary_day"),
    replicates: int = _OPT_REPLICATES,
    seed: int = _OPT_SEED,
    out: Path = _OPT_OUT,
    resume: bool = _OPT_RESUME,
    workers: int | None = _OPT_WORKERS,
    scheduler: str | None = _OPT_SCHED,
    chunk_size: int | None = _OPT_CHUNK,
    replicate_block: int = _OPT_BLOCK,
    parameters: str = _OPT_PARAMS,
    truth_patients: int = _OPT_TRUTH,
    quiet: bool = _OPT_QUIET,
) -> None:
    """Operating characteristics of every design of a TOML grid."""
    g = DesignGrid.from_toml(grid)
    run, sec = _run(
        g.scenario,
        g.designs(),
        replicates=replicates,
        seed=seed,
        out=out,
        resume=resume,
        workers=workers,
        scheduler=scheduler,
        chunk_size=chunk_size,
        replicate_block=replicate_block,
        parameters=parameters,
        quiet=quiet,
    )
    _write_outputs(
        run,
        out,
        title=f"Design sweep: {grid.name}",
        seconds=sec,
        scenario=g.scenario,
        truth=_truth(g.scenario, g.designs(), truth_patients, seed, parameters),
    )
