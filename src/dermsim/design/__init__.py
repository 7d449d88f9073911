"""Design at scale: operating characteristics over thousands of virtual trials, sample size by
simulation and design sweeps, stored in DuckDB, run locally or on a Dask cluster."""

from __future__ import annotations

from dermsim.design.binomial import (
    compute_power_two_proportions,
    compute_sample_size_two_proportions,
    sample_binomial_counts,
)
from dermsim.design.replicate import DEFAULT_REPLICATE_BLOCK, simulate_chunk
from dermsim.design.resolve import resolve_design
from dermsim.design.runner import OCRun, simulate_operating_characteristics
from dermsim.design.search import (
    SampleSizeResult,
    estimate_sample_size,
    fit_power_curve,
    make_power_designs,
    run_sweep,
)
from dermsim.design.spec import BinomialDesign, DesignGrid, DesignSpec, Hypothesis, parse_range
from dermsim.design.storage import ResultStore
from dermsim.design.summaries import (
    compute_mcse_proportion,
    summarise_designs,
    summarise_operating_characteristics,
)

__all__ = [
    "DEFAULT_REPLICATE_BLOCK",
    "BinomialDesign",
    "DesignGrid",
    "DesignSpec",
    "Hypothesis",
    "OCRun",
    "ResultStore",
    "SampleSizeResult",
    "compute_mcse_proportion",
    "compute_power_two_proportions",
    "compute_sample_size_two_proportions",
    "estimate_sample_size",
    "fit_power_curve",
    "make_power_designs",
    "parse_range",
    "resolve_design",
    "run_sweep",
    "sample_binomial_counts",
    "simulate_chunk",
    "simulate_operating_characteristics",
    "summarise_designs",
    "summarise_operating_characteristics",
]
