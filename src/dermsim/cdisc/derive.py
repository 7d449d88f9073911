"""Admiral-style derivations: each ``derive_*`` takes a dataset first, checks every argument up
front, and returns a NEW frame with the variable(s) added (the input is never modified).

Names and meanings follow admiral (pharmaverse): ``derive_var_base``, ``derive_var_chg``,
``derive_var_pchg``, ``derive_vars_dy``, ``derive_var_extreme_flag``, ``derive_var_trtemfl``,
``derive_vars_merged``. Written here because no maintained Python port of admiral exists; the
rules are the ADaM IG ones (study day without day 0; PCHG missing when BASE is 0).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from dermsim.errors import InvalidInputError


def _need(df: pd.DataFrame, cols: Sequence[str], fn: str) -> None:
    if not isinstance(df, pd.DataFrame):
        raise InvalidInputError(f"{fn}: dataset must be a pandas DataFrame; got {type(df).__name__}.")
    missing = [c for c in cols if c not in df.columns]
    if missing:
        raise InvalidInputError(
            f"{fn}: dataset must contain {', '.join(missing)}; it has {', '.join(map(str, df.columns[:12]))}."
        )


def derive_vars_merged(
    dataset: pd.DataFrame, dataset_add: pd.DataFrame, *, by_vars: Sequence[str], new_vars: Sequence[str]
) -> pd.DataFrame:
    """Add ``new_vars`` from ``dataset_add`` (at most one record per ``by_vars``), keeping row order."""
    _need(dataset, by_vars, "derive_vars_merged")
    _need(dataset_add, [*by_vars, *new_vars], "derive_vars_merged")
    dup = dataset_add.duplicated(list(by_vars))
    if dup.any():
        key = dataset_add.loc[dup, list(by_vars)].iloc[0].to_dict()
        raise InvalidInputError(
            f"derive_vars_merged: dataset_add has several records for {key}; "
            "by_vars must identify one record."
        )
    clash = [v for v in new_vars if v in dataset.columns]
    if clash:
        raise InvalidInputError(f"derive_vars_merged: new_vars {clash} already exist in dataset.")
    add = dataset_add[[*by_vars, *new_vars]]
    return dataset.merge(add, on=list(by_vars), how="left", sort=False, validate="many_to_one")


def derive_vars_dy(
    dataset: pd.DataFrame, *, reference_date: str = "TRTSDT", source_vars: Sequence[str] = ("ADT",)
) -> pd.DataFrame:
    """Study day of each ``<X>DT`` in ``source_vars`` as ``<X>DY``: date - reference + 1 on or after
    the reference, date - reference before it (no day 0)."""
    _need(dataset, [reference_date, *source_vars], "derive_vars_dy")
    out = dataset.copy()
    ref = pd.to_datetime(out[reference_date])
    for var in source_vars:
        if not var.endswith("DT"):
            raise InvalidInputError(f"derive_vars_dy: source_vars must end in DT; got {var!r}.")
        d = (pd.to_datetime(out[var]) - ref).dt.days.astype(float)
        out[var[:-2] + "DY"] = np.where(d >= 0, d + 1, d)
    return out


def derive_var_extreme_flag(
    dataset: pd.DataFrame,
    *,
    by_vars: Sequence[str],
    order: Sequence[str],
    new_var: str,
    mode: str = "last",
    filter_mask: np.ndarray | None = None,
) -> pd.DataFrame:
    """``new_var`` = "Y" on the first or last record (by ``order``) of each ``by_vars`` group among
    the records where ``filter_mask`` holds (all records if None); "" elsewhere."""
    _need(dataset, [*by_vars, *order], "derive_var_extreme_flag")
    if mode not in ("first", "last"):
        raise InvalidInputError(f"derive_var_extreme_flag: mode must be 'first' or 'last'; got {mode!r}.")
    out = dataset.copy()
    mask = np.ones(len(out), dtype=bool) if filter_mask is None else np.asarray(filter_mask, dtype=bool)
    if mask.shape != (len(out),):
        raise InvalidInputError(
            f"derive_var_extreme_flag: filter_mask must have {len(out)} values; got {mask.shape}."
        )
    sub = out.loc[mask].sort_values([*by_vars, *order], kind="stable")
    pick = (
        sub.groupby(list(by_vars), sort=False).head(1)
        if mode == "first"
        else sub.groupby(list(by_vars), sort=False).tail(1)
    )
    flag = np.full(len(out), "", dtype=object)
    flag[out.index.get_indexer(pick.index)] = "Y"
    out[new_var] = flag
    return out


def derive_var_base(
    dataset: pd.DataFrame,
    *,
    by_vars: Sequence[str] = ("USUBJID", "PARAMCD"),
    source_var: str = "AVAL",
    new_var: str = "BASE",
    flag_var: str = "ABLFL",
) -> pd.DataFrame:
    """``new_var`` = ``source_var`` of the record flagged ``flag_var == "Y"`` in each group."""
    _need(dataset, [*by_vars, source_var, flag_var], "derive_var_base")
    base = dataset.loc[dataset[flag_var] == "Y", [*by_vars, source_var]]
    if base.duplicated(list(by_vars)).any():
        key = base.loc[base.duplicated(list(by_vars)), list(by_vars)].iloc[0].to_dict()
        raise InvalidInputError(f"derive_var_base: more than one {flag_var} record for {key}.")
    out = dataset.drop(columns=[new_var], errors="ignore")
    return out.merge(base.rename(columns={source_var: new_var}), on=list(by_vars), how="left", sort=False)


def derive_var_chg(dataset: pd.DataFrame) -> pd.DataFrame:
    """CHG = AVAL - BASE."""
    _need(dataset, ["AVAL", "BASE"], "derive_var_chg")
    out = dataset.copy()
    out["CHG"] = out["AVAL"].astype(float) - out["BASE"].astype(float)
    return out


def derive_var_pchg(dataset: pd.DataFrame) -> pd.DataFrame:
    """PCHG = 100 x CHG / BASE; missing when BASE is 0 or missing."""
    _need(dataset, ["AVAL", "BASE"], "derive_var_pchg")
    out = dataset.copy()
    base = out["BASE"].astype(float).to_numpy()
    chg = out["AVAL"].astype(float).to_numpy() - base
    with np.errstate(divide="ignore", invalid="ignore"):
        out["PCHG"] = np.where(base != 0, 100.0 * chg / np.where(base != 0, base, 1.0), np.nan)
    return out


def derive_var_crit_flag(
    dataset: pd.DataFrame,
    *,
    condition: np.ndarray,
    description: str,
    crit_nr: int = 1,
    values_yn: bool = True,
) -> pd.DataFrame:
    """CRITy = ``description`` and CRITyFL = "Y"/"N" (or "Y"/"") from a boolean ``condition``;
    a missing condition (NaN AVAL) leaves both blank."""
    condition = np.asarray(condition, dtype=float)
    if condition.shape != (len(dataset),):
        raise InvalidInputError(
            f"derive_var_crit_flag: condition must have {len(dataset)} values; got {condition.shape}."
        )
    out = dataset.copy()
    known = ~np.isnan(condition)
    out[f"CRIT{crit_nr}"] = np.where(known, description, "").astype(object)
    out[f"CRIT{crit_nr}FL"] = np.where(
        ~known, "", np.where(condition == 1, "Y", "N" if values_yn else "")
    ).astype(object)
    return out


def derive_var_trtemfl(
    dataset: pd.DataFrame,
    *,
    start_date: str = "ASTDT",
    trt_start_date: str = "TRTSDT",
    trt_end_date: str = "TRTEDT",
    end_window_d: int = 30,
) -> pd.DataFrame:
    """TRTEMFL = "Y" when the event starts on or after the first application and no later than
    ``end_window_d`` days after the last; "" otherwise (admiral ``derive_var_trtemfl``)."""
    _need(dataset, [start_date, trt_start_date, trt_end_date], "derive_var_trtemfl")
    if end_window_d < 0:
        raise InvalidInputError(f"end_window_d must be >= 0; got {end_window_d}.")
    out = dataset.copy()
    st = pd.to_datetime(out[start_date])
    ok = (st >= pd.to_datetime(out[trt_start_date])) & (
        st <= pd.to_datetime(out[trt_end_date]) + pd.Timedelta(days=end_window_d)
    )
    out["TRTEMFL"] = np.where(ok.to_numpy(), "Y", "").astype(object)
    return out
