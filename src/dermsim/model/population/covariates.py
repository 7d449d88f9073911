"""A user's covariate table: real or planned patients, as pharmacometricians bring them.

``read_covariate_table(source)`` takes a CSV or Parquet file or a pandas DataFrame with one row
per patient and returns the checked columns under the names of :meth:`Population.to_frame`:

========================  ==========================================================
column (aliases)          meaning, accepted values
========================  ==========================================================
``age_y`` (AGE)           age in years, 2-100 (the CDC growth reference starts at 2 y)
``sex`` (SEX)             "F" or "M" (also female/male, any case)
``weight_kg`` (WT)        body weight, kg, 5-250
``height_cm`` (HT)        height, cm, 70-230
``bsa_m2`` (BSA)          body surface area, m2, 0.2-3.5 (default: the spec's formula)
``affected_pct`` (AFFPCT) affected (= treated) %BSA, (0, 100]
``region_pct_<region>``   % of total BSA affected in each Lund-Browder region (all or none)
``easi_region_pct_<k>``   % of each EASI region affected, k in head_neck, trunk, upper_limbs, lower_limbs
``iga0`` (IGA0)           baseline IGA, 1-4
``easi0`` (EASI0)         baseline EASI, (0, 72]
``nrs0`` (NRS0)           true baseline weekly-mean itch NRS, 0-10
========================  ==========================================================

``age_y`` is required; every other column is optional. ``sample_population(spec, n, seed,
covariates=table)`` keeps every given value exactly and draws the rest as it draws a patient of
``spec``, at the given values (the age-dependent growth curves, lesion site preference and EASI
weights use the given age; EASI is the drawn sign severity times the area term of the given or
drawn lesion map). Stated limit: the copula links from a given column to the drawn ones are not
conditioned on (a given %BSA does not shift the drawn itch), and the spec's entry criteria are not
applied to a user table (its patients are who the user says they are; only the ranges above are).

A bad table is refused in one line naming the source, the column, the first bad row and what was
expected.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from dermsim.errors import DataValidationError
from dermsim.model.population import body

EASI_REGIONS: tuple[str, ...] = ("head_neck", "trunk", "upper_limbs", "lower_limbs")

# (lower, upper, lower open?) of every numeric column; wide enough for any real patient, narrow
# enough to catch units (weight in g, height in m) and typos
RANGES: dict[str, tuple[float, float, bool]] = {
    "age_y": (2.0, 100.0, False),
    "weight_kg": (5.0, 250.0, False),
    "height_cm": (70.0, 230.0, False),
    "bsa_m2": (0.2, 3.5, False),
    "affected_pct": (0.0, 100.0, True),
    "easi0": (0.0, 72.0, True),
    "nrs0": (0.0, 10.0, False),
    "iga0": (1.0, 4.0, False),
}
ALIASES: dict[str, str] = {
    "age": "age_y", "sex": "sex", "wt": "weight_kg", "weight": "weight_kg", "ht": "height_cm",
    "height": "height_cm", "bsa": "bsa_m2", "affpct": "affected_pct", "bsapct": "affected_pct",
    "iga0": "iga0", "easi0": "easi0", "nrs0": "nrs0",
}
# a region map must add up to affected_pct within this (table values are rounded)
REGION_SUM_TOL_PCT = 0.05


def _fail(where: str, column: str, row: int | None, problem: str) -> DataValidationError:
    at = "" if row is None else f", row {row + 1}"
    return DataValidationError(f"covariate table {where}: column {column}{at}: {problem}.")


def _load(source: Any) -> tuple[pd.DataFrame, str]:
    if isinstance(source, pd.DataFrame):
        return source.copy(), "(data frame)"
    path = Path(source)
    where = str(path)
    if not path.is_file():
        raise DataValidationError(f"covariate table {where}: no such file "
                                  "(expected a .csv or .parquet file).")
    suffix = path.suffix.lower()
    try:
        if suffix == ".csv":
            return pd.read_csv(path), where
        if suffix in (".parquet", ".pq"):
            return pd.read_parquet(path), where
    except (ValueError, OSError, pd.errors.ParserError) as exc:
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise DataValidationError(f"covariate table {where}: not readable ({reason}).") from None
    raise DataValidationError(f"covariate table {where}: unknown file type {suffix!r} "
                              "(expected .csv or .parquet).")


def _canonical_names(frame: pd.DataFrame, where: str, regions: tuple[str, ...]) -> pd.DataFrame:
    known = set(RANGES) | {"sex", "patient", "id"} | {f"region_pct_{r}" for r in regions} | {
        f"easi_region_pct_{k}" for k in EASI_REGIONS}
    rename = {}
    for col in frame.columns:
        name = str(col).strip()
        canon = ALIASES.get(name.lower(), name.lower() if name.lower() in known else name)
        if canon in rename.values():
            raise _fail(where, name, None, f"names {canon} a second time")
        rename[col] = canon
    return frame.rename(columns=rename)


def _numeric(frame: pd.DataFrame, col: str, where: str) -> np.ndarray:
    values = pd.to_numeric(frame[col], errors="coerce").to_numpy(dtype=float)
    bad = np.flatnonzero(~np.isfinite(values))
    if bad.size:
        raise _fail(where, col, int(bad[0]), f"expected a number, got {frame[col].iloc[bad[0]]!r}")
    return values


def read_covariate_table(source: Any) -> dict[str, np.ndarray]:
    """The checked columns of a covariate table (CSV/Parquet path or DataFrame), canonical names;
    region maps as ``region_pct`` (n x Lund-Browder regions) and ``easi_region_pct`` (n x 4)."""
    frame, where = _load(source)
    regions = body.region_names()
    frame = _canonical_names(frame, where, regions)
    if len(frame) == 0:
        raise DataValidationError(f"covariate table {where}: no rows (expected one row per patient).")
    if "age_y" not in frame.columns:
        raise _fail(where, "age_y", None, "missing (every patient needs an age, in years)")
    out: dict[str, np.ndarray] = {}
    for col, (lo, hi, open_lo) in RANGES.items():
        if col not in frame.columns:
            continue
        x = _numeric(frame, col, where)
        bad = np.flatnonzero((x <= lo if open_lo else x < lo) | (x > hi))
        if bad.size:
            lo_txt = f"({lo:g}" if open_lo else f"[{lo:g}"
            raise _fail(where, col, int(bad[0]), f"expected a value in {lo_txt}, {hi:g}], got {x[bad[0]]:g}")
        if col == "iga0":
            if np.any(x != np.round(x)):
                row = int(np.flatnonzero(x != np.round(x))[0])
                raise _fail(where, col, row, f"expected a whole IGA grade 1-4, got {x[row]:g}")
            x = x.astype(np.int8)
        out[col] = x
    if "sex" in frame.columns:
        raw = frame["sex"].astype(str).str.strip().str.upper()
        sex = raw.map({"F": "F", "FEMALE": "F", "M": "M", "MALE": "M"})
        bad = np.flatnonzero(sex.isna().to_numpy())
        if bad.size:
            raise _fail(where, "sex", int(bad[0]), f"expected F or M, got {frame['sex'].iloc[bad[0]]!r}")
        out["sex"] = sex.to_numpy().astype("<U1")
    region_cols = [f"region_pct_{r}" for r in regions]
    given = [c for c in region_cols if c in frame.columns]
    if given:
        if len(given) != len(region_cols):
            missing = [c for c in region_cols if c not in frame.columns]
            raise _fail(where, missing[0], None, f"missing (give all {len(region_cols)} region_pct_<region> "
                        f"columns or none; regions: {', '.join(regions)})")
        rp = np.stack([_numeric(frame, c, where) for c in region_cols], axis=1)
        sizes = body.compute_region_sizes_pct(out["age_y"])
        over = (rp < 0) | (rp > sizes + 1e-6)
        if over.any():
            i, r = map(int, np.argwhere(over)[0])
            raise _fail(where, region_cols[r], i, f"expected 0 to the region's size at this age "
                        f"({sizes[i, r]:.3g}% of total BSA), got {rp[i, r]:g}")
        total = rp.sum(axis=1)
        if "affected_pct" in out:
            off = np.flatnonzero(np.abs(total - out["affected_pct"]) > REGION_SUM_TOL_PCT)
            if off.size:
                i = int(off[0])
                raise _fail(where, "affected_pct", i, f"expected the sum of the region_pct columns "
                            f"({total[i]:.4g}), got {out['affected_pct'][i]:g}")
        elif np.any(total <= 0):
            raise _fail(where, "region_pct_*", int(np.flatnonzero(total <= 0)[0]),
                        "expected some affected skin, got 0 in every region")
        out["region_pct"] = rp
    easi_cols = [f"easi_region_pct_{k}" for k in EASI_REGIONS]
    given = [c for c in easi_cols if c in frame.columns]
    if given:
        if len(given) != len(easi_cols):
            missing = [c for c in easi_cols if c not in frame.columns]
            raise _fail(where, missing[0], None,
                        "missing (give all four easi_region_pct_<k> columns or none)")
        ep = np.stack([_numeric(frame, c, where) for c in easi_cols], axis=1)
        bad = np.argwhere((ep < 0) | (ep > 100))
        if bad.size:
            i, k = map(int, bad[0])
            raise _fail(where, easi_cols[k], i, f"expected a percent in [0, 100], got {ep[i, k]:g}")
        out["easi_region_pct"] = ep
    return out
