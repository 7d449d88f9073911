"""A virtual population beside the published baseline it was built to match."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from dermsim._validate import check_int
from dermsim.model.population.sampling import (
    calibrate_population,
    compute_population_summary,
    sample_population,
)
from dermsim.model.population.spec import PopulationSpec, builtin_populations, load_population_spec

__all__ = ["PopulationCheck", "builtin_populations", "check_population"]

_STATUS_TEXT = {"C": "C confirmed", "D": "D derived", "U": "U unconfirmed", "A": "A assumption"}
STATUS_LEGEND = ("Status: C confirmed, D derived, U unconfirmed (provisional), "
                 "A pre-specified assumption (not data).")
COLUMNS = ("characteristic", "sampled mean (SD)", "target mean (SD)", "status", "source")


def _ms(mean: float, sd: float, digits: int = 1) -> str:
    return f"{mean:.{digits}f} ({sd:.{digits}f})"


@dataclass(frozen=True)
class PopulationCheck:
    """A sampled population's baseline marginals beside their targets: ``rows`` (targets) and
    ``derived_rows`` (model outputs) as strings in :data:`COLUMNS` order."""

    spec: PopulationSpec
    n: int
    seed: int
    summary: dict[str, Any]
    rows: tuple[tuple[str, ...], ...]
    derived_rows: tuple[tuple[str, ...], ...]
    calibration_s: float
    sampling_s: float

    @property
    def title(self) -> str:
        return f"{self.spec.name}: {self.n:,} virtual patients (seed {self.seed}) vs published baseline"


def check_population(trial: str | Path, n: int = 100_000, seed: int = 1,
                     chunk_size: int | None = None) -> PopulationCheck:
    """Sample a trial's virtual population (a built-in name or a PopulationSpec TOML) and compare it
    with the published baseline marginals, with status and source of every target."""
    check_int("--n", n, minimum=2)
    spec = load_population_spec(Path(trial) if str(trial).endswith(".toml") else str(trial))
    t0 = time.perf_counter()
    cal = calibrate_population(spec)  # once per spec and process
    t1 = time.perf_counter()
    pop = sample_population(spec, n, seed, chunk_size=chunk_size)
    t2 = time.perf_counter()
    s = compute_population_summary(pop)
    sev = spec.severity
    rows = []
    age = spec.age.bands
    if len(age) == 1 and age[0].mean_y is not None and age[0].sd_y is not None:
        rows.append(("age, completed years", _ms(s["age_y_mean"], s["age_y_sd"]),
                     _ms(age[0].mean_y, age[0].sd_y), _STATUS_TEXT[age[0].status], age[0].source))
    else:
        rows.append(("age, completed years", _ms(s["age_y_mean"], s["age_y_sd"]), "by band (below)", "", ""))
        for band in age:
            share = 100.0 * float(((pop.age_y >= band.min_y) & (pop.age_y < band.max_y)).mean())
            rows.append((f"  age {band.min_y:g}-<{band.max_y:g} y, %", f"{share:.1f}",
                         f"{band.weight_pct:g}", _STATUS_TEXT[band.status], band.source))
    rows.append(("female, %", f"{s['female_pct']:.1f}", f"{spec.female_pct.value:g}",
                 _STATUS_TEXT[spec.female_pct.status], spec.female_pct.source))
    for label, key, target in (("EASI", "easi0", sev.easi),
                               ("affected BSA, %", "affected_pct", sev.affected_pct),
                               ("itch NRS (true weekly mean)", "nrs0", sev.nrs)):
        rows.append((label, _ms(s[f"{key}_mean"], s[f"{key}_sd"]), _ms(target.mean, target.sd),
                     _STATUS_TEXT[target.status], target.source))
    rows.append(("IGA 3 (moderate), %", f"{s['iga3_pct']:.1f}", f"{sev.iga3_pct.value:g}",
                 _STATUS_TEXT[sev.iga3_pct.status], sev.iga3_pct.source))
    derived = []
    for label, key in (("weight, kg", "weight_kg"), ("height, cm", "height_cm"), ("BSA, m2", "bsa_m2")):
        derived.append((label, _ms(s[f"{key}_mean"], s[f"{key}_sd"], 2 if key == "bsa_m2" else 1),
                        "-", "output", f"CDC growth reference (rcpchgrowth); {spec.bsa_formula}"))
    derived.append(("head involved (>= 0.2% BSA), %", f"{s['head_involved_pct']:.1f}", "-", "output",
                    "lesion map; compare facial involvement 39% (TRuE-AD1/2 pooled)"))
    law = cal.severity
    by_iga = [float(pop.easi0[pop.iga0 == g].mean()) if np.any(pop.iga0 == g) else float("nan")
              for g in (2, 3)]
    ratio = sev.easi_ratio_iga3_to_iga2
    derived.append(("EASI at IGA 2 / IGA 3 (mean)", f"{by_iga[0]:.1f} / {by_iga[1]:.1f}",
                    f"ratio {ratio.value:g}", _STATUS_TEXT[ratio.status],
                    f"EASI = sign severity x area term; severity 1 + 11 expit({law.mu:.3f} + {law.delta:.3f} "
                    f"[IGA 3] + {law.sigma:.3f} z), fitted on {cal.n_calibration:,} patients"))
    return PopulationCheck(spec, n, seed, s, tuple(rows), tuple(derived), t1 - t0, t2 - t1)
