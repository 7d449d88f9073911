"""Visual predictive checks (:mod:`dermsim.calibration.vpc`): simulated trials by visit with 90 %
prediction bands against published TRuE-AD1/2 results or a user's NONMEM dataset; written as
``vpc.csv``, ``vpc.png``/``vpc.svg`` and ``vpc.json``. ``dermsim validate`` runs it into its folder."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from dermsim import __version__
from dermsim._atomic import atomic_path
from dermsim.calibration.posterior import Posterior
from dermsim.calibration.vpc import VpcArm, adam_arms, compute_vpc, nonmem_arms, published_arms
from dermsim.errors import DataValidationError
from dermsim.report.figures import save_figure
from dermsim.report.pmx_figures import plot_vpc

__all__ = ["VpcRun", "vpc_arms", "vpc_summary_lines", "write_vpc"]


@dataclass(frozen=True)
class VpcRun:
    table: pd.DataFrame
    files: tuple[Path, ...]


def vpc_arms(data: str | Path | None = None, *, population: str = "true-ad3", n_pool: int = 300,
             seed: int = 1) -> list[VpcArm]:
    """The arms to check (read and validated here, before anything is simulated): the published
    TRuE-AD1/2 results (``data`` None), a NONMEM dataset (a .csv file) or a sponsor ADaM folder
    (ADSL + ADEFF), whose subjects are drawn around from ``population`` where they lack covariates."""
    if data is not None and not Path(data).exists():
        raise DataValidationError(f"--vpc-data {data}: no such file or folder (expected a NONMEM .csv or an "
                                  "ADaM folder).")
    if data is None:
        arms = published_arms(n_pool=n_pool, seed=seed)
    elif Path(data).is_dir():
        # a sponsor ADaM folder (adsl and adeff in any format dermsim reads)
        from dermsim.io import read_adam_dir

        ds = read_adam_dir(data, ["adsl", "adeff"])
        arms = adam_arms(ds["adsl"].data, ds["adeff"].data, name=Path(data).name, population=population,
                         seed=seed, n_pool=n_pool)
    else:
        arms = nonmem_arms(data, population=population, seed=seed, n_pool=n_pool)
    return arms


def write_vpc(post: Posterior, out: str | Path, *, data: str | Path | None = None,
              population: str = "true-ad3", n_draws: int = 20, n_pool: int = 300, n_replicates: int = 500,
              seed: int = 1, posterior_sha256: str | None = None,
              arms: list[VpcArm] | None = None) -> VpcRun:
    """The VPC of ``arms`` (default: :func:`vpc_arms` of ``data``) into folder ``out``."""
    if arms is None:
        arms = vpc_arms(data, population=population, n_pool=n_pool, seed=seed)
    table = compute_vpc(post, arms, n_draws=n_draws, n_replicates=n_replicates, seed=seed)
    folder = Path(out)
    folder.mkdir(parents=True, exist_ok=True)
    with atomic_path(folder / "vpc.csv") as tmp:
        table.to_csv(tmp, index=False, lineterminator="\n", float_format="%.4g")
    paths = save_figure(plot_vpc(table), folder, "vpc")
    meta = {**table.attrs, "observed": "published TRuE-AD1/2 arm results (calibration targets; weeks <= 8)"
            if data is None else f"user dataset {Path(data).name}", "n_pool": n_pool,
            "posterior_sha256": posterior_sha256, "dermsim_version": __version__,
            "bands": "5-95 % of simulated trials (posterior draw, between-trial logit effect, binomial "
                     "sampling at the arm size)"}
    with atomic_path(folder / "vpc.json") as tmp:
        tmp.write_text(json.dumps(meta, indent=2, default=str) + "\n")
    return VpcRun(table, (folder / "vpc.csv", paths["png"], paths["svg"], folder / "vpc.json"))


def vpc_summary_lines(table: pd.DataFrame, title: str) -> list[str]:
    """Markdown lines: every observed point beside its band."""
    seen = table.dropna(subset=["observed"])
    inside = int((seen["inside"] == "yes").sum())
    lines = [f"## {title}: {inside} of {len(seen)} observed results inside their 90% prediction band", "",
             "| trial | arm | endpoint | week | observed | predicted median | 90% band | inside |",
             "|---|---|---|---|---|---|---|---|"]
    for r in seen.itertuples(index=False):
        lines.append(f"| {r.trial} | {r.arm} | {r.endpoint} | {r.week:g} | {r.observed:.1f}% "
                     f"({r.observed_status}) | {r.pred_median:.1f}% | {r.pi05:.1f}-{r.pi95:.1f}% "
                     f"| {r.inside} |")
    return lines
