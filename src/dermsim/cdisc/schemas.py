"""Declarative ADaM dataset schemas and the checks that enforce them.

Each :class:`DatasetSchema` lists its variables (:class:`Variable`: name, ADaM IG label, SAS type,
core, controlled terms), the variables a dataset must have, its key variables and the date pairs
that must be in order. :func:`check_dataset` runs the checks and raises
:class:`~dermsim.errors.DataValidationError` with one line naming the dataset, the variable and
the offending keys, e.g. "ADSL has 2 records for USUBJID 01-701-1015; each subject must appear
once."

Two levels, because sponsor data differ in what they carry:

* the default checks what every analysis relies on: the ``required`` variables are present; a Num
  variable holds numbers (a date variable dates); non-extensible controlled terms (flags, SEX,
  AESEV ...) hold; keys are unique; dates are on or after 1900-01-01 and start <= end;
* ``strict=True`` (for datasets dermsim derives itself) also needs every ``expected`` variable
  (the ADaM IG "Req" ones and what dermsim's derivations promise), Char variables holding text,
  and extensible terms (RACE, DTYPE ...) within the list.

Labels and terms follow the ADaM IG v1.3 / OCCDS v1.1 / ADaM TTE v1.0 and CDISC Controlled
Terminology. The module is data plus checks: it never prints or writes files.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd

from dermsim.errors import DataValidationError, InvalidInputError

__all__ = [
    "ADAE",
    "ADEFF",
    "ADSL",
    "ADTTE",
    "BDS",
    "SCHEMAS",
    "DatasetSchema",
    "Variable",
    "check_dataset",
    "schema_for",
    "variable_labels",
    "variable_types",
]

Core = Literal["Req", "Cond", "Perm"]
Kind = Literal["char", "num", "date", "datetime"]

_YN = frozenset({"Y", "N"})
_YN_BLANK = frozenset({"Y", "N", ""})
_Y_BLANK = frozenset({"Y", ""})
_MIN_DATE = pd.Timestamp("1900-01-01")
_SAS_EPOCH = pd.Timestamp("1960-01-01")
_MAX_KEYS_SHOWN = 3


@dataclass(frozen=True)
class Variable:
    """One ADaM variable: name, label, kind (``char``, ``num``, ``date``, ``datetime``), core and
    controlled terms (``extensible`` terms are checked only when ``strict``)."""

    name: str
    label: str
    kind: Kind = "char"
    core: Core = "Perm"
    terms: frozenset[str] | None = None
    extensible: bool = False
    minimum: float | None = None
    integer: bool = False

    @property
    def type(self) -> str:
        """SAS type: ``Char`` or ``Num`` (dates are numbers in SAS)."""
        return "Char" if self.kind == "char" else "Num"

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "label": self.label, "kind": self.kind, "core": self.core,
                "terms": sorted(self.terms) if self.terms is not None else None,
                "extensible": self.extensible, "minimum": self.minimum, "integer": self.integer}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Variable:
        terms = d.get("terms")
        return cls(name=d["name"], label=d["label"], kind=d.get("kind", "char"), core=d.get("core", "Perm"),
                   terms=frozenset(terms) if terms is not None else None,
                   extensible=bool(d.get("extensible", False)), minimum=d.get("minimum"),
                   integer=bool(d.get("integer", False)))


@dataclass(frozen=True)
class DatasetSchema:
    """A dataset's variables, required variables, keys and ordered date pairs.

    ``required`` must be present at any level; ``one_of`` groups need at least one member (AVAL or
    AVALC); ``expected`` is needed with ``strict=True``. ``keys`` (with ``optional_keys`` where
    present, e.g. DTYPE) are unique over all records, or over the records where ``key_filter`` (a
    flag variable) is "Y" when the dataset has it; a dataset lacking a key variable is not checked.
    ``date_order`` pairs (start, end) must satisfy start <= end where both are present."""

    name: str
    label: str
    structure: str
    variables: tuple[Variable, ...]
    required: tuple[str, ...]
    expected: tuple[str, ...] = ()
    one_of: tuple[tuple[str, ...], ...] = ()
    keys: tuple[str, ...] = ()
    optional_keys: tuple[str, ...] = ()
    key_filter: str | None = None
    date_order: tuple[tuple[str, str], ...] = ()
    subject_key: str = "USUBJID"
    _index: Mapping[str, Variable] = field(default_factory=dict, compare=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_index", {v.name: v for v in self.variables})
        unknown = [n for n in (*self.required, *self.expected, *self.keys) if n not in self._index]
        if unknown:
            raise InvalidInputError(f"schema {self.name}: variables {', '.join(unknown)} are not declared.")

    def variable(self, name: str) -> Variable | None:
        return self._index.get(name)

    @property
    def labels(self) -> dict[str, str]:
        return {v.name: v.label for v in self.variables}

    def replace(self, **changes: Any) -> DatasetSchema:
        d = {k: getattr(self, k) for k in ("name", "label", "structure", "variables", "required", "expected",
                                            "one_of", "keys", "optional_keys", "key_filter", "date_order",
                                            "subject_key")}
        d.update(changes)
        return DatasetSchema(**d)

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "label": self.label, "structure": self.structure,
                "variables": [v.to_dict() for v in self.variables], "required": list(self.required),
                "expected": list(self.expected), "one_of": [list(g) for g in self.one_of],
                "keys": list(self.keys), "optional_keys": list(self.optional_keys),
                "key_filter": self.key_filter,
                "date_order": [list(p) for p in self.date_order], "subject_key": self.subject_key}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> DatasetSchema:
        return cls(name=d["name"], label=d["label"], structure=d["structure"],
                   variables=tuple(Variable.from_dict(v) for v in d["variables"]),
                   required=tuple(d["required"]), expected=tuple(d.get("expected", ())),
                   one_of=tuple(tuple(g) for g in d.get("one_of", ())), keys=tuple(d.get("keys", ())),
                   optional_keys=tuple(d.get("optional_keys", ())),
                   key_filter=d.get("key_filter"),
                   date_order=tuple(tuple(p) for p in d.get("date_order", ())),
                   subject_key=d.get("subject_key", "USUBJID"))


def _v(name: str, label: str, kind: Kind = "char", core: Core = "Perm", **kw: Any) -> Variable:
    return Variable(name, label, kind, core, **kw)


def _flag(name: str, label: str, terms: frozenset[str] = _Y_BLANK, core: Core = "Perm") -> Variable:
    return Variable(name, label, "char", core, terms=terms)


# --- controlled terms (CDISC CT; extensible lists are checked only when strict) -------------------
SEX_TERMS = frozenset({"M", "F", "U", "UNDIFFERENTIATED", ""})
AGEU_TERMS = frozenset({"YEARS", "MONTHS", "WEEKS", "DAYS", "HOURS", ""})
RACE_TERMS = frozenset({"AMERICAN INDIAN OR ALASKA NATIVE", "ASIAN", "BLACK OR AFRICAN AMERICAN",
                        "NATIVE HAWAIIAN OR OTHER PACIFIC ISLANDER", "WHITE", "MULTIPLE", "OTHER",
                        "UNKNOWN", "NOT REPORTED", ""})
ETHNIC_TERMS = frozenset({"HISPANIC OR LATINO", "NOT HISPANIC OR LATINO", "NOT REPORTED", "UNKNOWN", ""})
EOSSTT_TERMS = frozenset({"COMPLETED", "DISCONTINUED", "ONGOING", ""})
AESEV_TERMS = frozenset({"MILD", "MODERATE", "SEVERE", ""})
DTYPE_TERMS = frozenset({"", "LOCF", "WOCF", "BOCF", "LOV", "AVERAGE", "ENDPOINT", "MAXIMUM", "MINIMUM",
                         "PHANTOM", "INTERP", "EXTRAP", "MI", "NRI", "IMPUTED"})

_COMMON = (
    _v("STUDYID", "Study Identifier", core="Req"),
    _v("USUBJID", "Unique Subject Identifier", core="Req"),
    _v("SUBJID", "Subject Identifier for the Study"),
    _v("SITEID", "Study Site Identifier"),
    _v("SITEGR1", "Pooled Site Group 1"),
    _v("AGE", "Age", "num", minimum=0),
    _v("AGEU", "Age Units", terms=AGEU_TERMS),
    _v("AGEGR1", "Pooled Age Group 1"),
    _v("AGEGR1N", "Pooled Age Group 1 (N)", "num"),
    _v("SEX", "Sex", terms=SEX_TERMS),
    _v("RACE", "Race", terms=RACE_TERMS, extensible=True),
    _v("RACEN", "Race (N)", "num"),
    _v("ETHNIC", "Ethnicity", terms=ETHNIC_TERMS, extensible=True),
    _flag("ITTFL", "Intent-To-Treat Population Flag", _YN),
    _flag("SAFFL", "Safety Population Flag", _YN),
    _flag("EFFFL", "Efficacy Population Flag", _YN),
    _flag("FASFL", "Full Analysis Set Population Flag", _YN),
    _flag("PPROTFL", "Per-Protocol Population Flag", _YN),
    _flag("RANDFL", "Randomized Population Flag", _YN),
    _flag("COMPLFL", "Completers Population Flag", _YN),
    _v("TRTSDT", "Date of First Exposure to Treatment", "date"),
    _v("TRTEDT", "Date of Last Exposure to Treatment", "date"),
)

ADSL = DatasetSchema(
    name="ADSL", label="Subject-Level Analysis Dataset", structure="ADSL",
    variables=(
        *_COMMON,
        _v("ARM", "Description of Planned Arm", core="Req"),
        _v("ACTARM", "Description of Actual Arm"),
        _v("TRT01P", "Planned Treatment for Period 01", core="Req"),
        _v("TRT01PN", "Planned Treatment for Period 01 (N)", "num"),
        _v("TRT01A", "Actual Treatment for Period 01", core="Cond"),
        _v("TRT01AN", "Actual Treatment for Period 01 (N)", "num"),
        _v("TRTDURD", "Total Treatment Duration (Days)", "num", minimum=0),
        _v("TRT02P", "Planned Treatment for Period 02"),
        _v("TRT02PN", "Planned Treatment for Period 02 (N)", "num"),
        _v("TRT02A", "Actual Treatment for Period 02"),
        _v("TRT02AN", "Actual Treatment for Period 02 (N)", "num"),
        _v("AP01SDT", "Period 01 Start Date", "date"),
        _v("AP01EDT", "Period 01 End Date", "date"),
        _v("AP02SDT", "Period 02 Start Date", "date"),
        _v("AP02EDT", "Period 02 End Date", "date"),
        _v("RANDDT", "Date of Randomization", "date"),
        _v("EOSSTT", "End of Study Status", terms=EOSSTT_TERMS, extensible=True),
        _v("EOSDT", "End of Study Date", "date"),
        _v("DCSREAS", "Reason for Discontinuation from Study"),
        _flag("DTHFL", "Subject Death Flag"),
        _v("STRATAR", "Strata Used for Randomization"),
        _v("IGABL", "Baseline IGA Score", "num", minimum=0, integer=True),
        _v("EASIBL", "Baseline EASI Score", "num", minimum=0),
        _v("BSABL", "Baseline Affected BSA (%)", "num", minimum=0),
        _v("NRSBL", "Baseline Itch NRS Score", "num", minimum=0),
    ),
    required=("USUBJID",),
    expected=("STUDYID", "USUBJID", "SUBJID", "SITEID", "AGE", "AGEU", "SEX", "RACE", "ARM", "TRT01P",
              "TRT01A", "ITTFL", "SAFFL", "EFFFL"),
    keys=("USUBJID",),
    date_order=(("TRTSDT", "TRTEDT"), ("RANDDT", "EOSDT"), ("AP01SDT", "AP01EDT"), ("AP02SDT", "AP02EDT")),
)

_BDS_VARS = (
    *_COMMON,
    _v("TRTP", "Planned Treatment", core="Cond"),
    _v("TRTPN", "Planned Treatment (N)", "num"),
    _v("TRTA", "Actual Treatment", core="Cond"),
    _v("TRTAN", "Actual Treatment (N)", "num"),
    _v("PARAM", "Parameter", core="Req"),
    _v("PARAMCD", "Parameter Code", core="Req"),
    _v("PARAMN", "Parameter (N)", "num"),
    _v("AVISIT", "Analysis Visit", core="Cond"),
    _v("AVISITN", "Analysis Visit (N)", "num", core="Cond"),
    _v("VISIT", "Visit Name"),
    _v("VISITNUM", "Visit Number", "num"),
    _v("ADT", "Analysis Date", "date"),
    _v("ADY", "Analysis Relative Day", "num"),
    _v("AVAL", "Analysis Value", "num", core="Cond"),
    _v("AVALC", "Analysis Value (C)", core="Cond"),
    _v("BASE", "Baseline Value", "num", core="Cond"),
    _v("CHG", "Change from Baseline", "num", core="Cond"),
    _v("PCHG", "Percent Change from Baseline", "num", core="Cond"),
    _flag("ABLFL", "Baseline Record Flag", core="Cond"),
    _flag("ANL01FL", "Analysis Flag 01", core="Cond"),
    _v("CRIT1", "Analysis Criterion 1", core="Cond"),
    _flag("CRIT1FL", "Criterion 1 Evaluation Result Flag", _YN_BLANK, core="Cond"),
    _v("DTYPE", "Derivation Type", core="Cond", terms=DTYPE_TERMS, extensible=True),
    _v("BASETYPE", "Baseline Type"),
    _v("AWTARGET", "Analysis Window Target", "num"),
)

BDS = DatasetSchema(
    name="BDS", label="Basic Data Structure", structure="BDS",
    variables=_BDS_VARS,
    required=("USUBJID", "PARAMCD"),
    expected=("STUDYID", "USUBJID", "PARAM", "PARAMCD"),
    one_of=(("AVAL", "AVALC"),),
    keys=("USUBJID", "PARAMCD", "AVISITN"),
    optional_keys=("DTYPE",),
    key_filter="ANL01FL",
)

ADEFF = BDS.replace(
    name="ADEFF", label="Efficacy Analysis Dataset",
    required=("USUBJID", "PARAMCD", "AVISITN", "AVAL"),
    expected=("STUDYID", "USUBJID", "PARAM", "PARAMCD", "AVISIT", "AVISITN", "AVAL", "BASE", "CHG",
              "PCHG", "ABLFL", "ANL01FL", "CRIT1FL", "DTYPE"),
    one_of=(),
    key_filter=None,
)

ADQS = BDS.replace(name="ADQS", label="Questionnaire Analysis Dataset")

ADAE = DatasetSchema(
    name="ADAE", label="Adverse Events Analysis Dataset", structure="OCCDS",
    variables=(
        *_COMMON,
        _v("TRTP", "Planned Treatment", core="Cond"),
        _v("TRTPN", "Planned Treatment (N)", "num"),
        _v("TRTA", "Actual Treatment", core="Cond"),
        _v("TRTAN", "Actual Treatment (N)", "num"),
        _v("APERIOD", "Period", "num", integer=True),
        _v("APHASE", "Phase"),
        _v("APERSDT", "Period Start Date", "date"),
        _v("APEREDT", "Period End Date", "date"),
        _v("AESEQ", "Sequence Number", "num", integer=True),
        _v("AETERM", "Reported Term for the Adverse Event"),
        _v("AEDECOD", "Dictionary-Derived Term", core="Req"),
        _v("AEBODSYS", "Body System or Organ Class", core="Req"),
        _v("AESOC", "Primary System Organ Class"),
        _v("AESEV", "Severity/Intensity", terms=AESEV_TERMS),
        _v("ASEV", "Analysis Severity/Intensity", terms=AESEV_TERMS),
        _flag("AESER", "Serious Event", _YN_BLANK),
        _v("AEREL", "Causality"),
        _v("ASTDT", "Analysis Start Date", "date"),
        _v("AENDT", "Analysis End Date", "date"),
        _v("ASTDY", "Analysis Start Relative Day", "num"),
        _v("AENDY", "Analysis End Relative Day", "num"),
        _flag("TRTEMFL", "Treatment Emergent Analysis Flag", _YN_BLANK),
        _flag("AOCCFL", "1st Occurrence within Subject Flag"),
        _flag("AOCCSFL", "1st Occurrence of SOC Flag"),
        _flag("AOCCPFL", "1st Occurrence of Preferred Term Flag"),
    ),
    required=("USUBJID", "AEBODSYS", "AEDECOD"),
    expected=("STUDYID", "USUBJID", "TRTA", "AEDECOD", "AEBODSYS", "AESEV", "TRTEMFL", "ASTDY"),
    keys=("USUBJID", "AESEQ"),
    date_order=(("ASTDT", "AENDT"),),
)

ADTTE = DatasetSchema(
    name="ADTTE", label="Time-to-Event Analysis Dataset", structure="BDS",
    variables=(
        *_COMMON,
        _v("TRTP", "Planned Treatment", core="Cond"),
        _v("TRTA", "Actual Treatment", core="Cond"),
        _v("TRTAN", "Actual Treatment (N)", "num"),
        _v("PARAM", "Parameter", core="Req"),
        _v("PARAMCD", "Parameter Code", core="Req"),
        _v("AVAL", "Analysis Value", "num", core="Req", minimum=0),
        _v("STARTDT", "Time-to-Event Origin Date for Subject", "date", core="Cond"),
        _v("ADT", "Analysis Date", "date"),
        _v("CNSR", "Censor", "num", core="Req", minimum=0, integer=True),
        _v("EVNTDESC", "Event or Censoring Description"),
        _v("CNSDTDSC", "Censor Date Description"),
        _v("SRCDOM", "Source Data"),
        _v("SRCVAR", "Source Variable"),
        _v("SRCSEQ", "Source Sequence Number", "num"),
    ),
    required=("USUBJID", "PARAMCD", "AVAL", "CNSR"),
    expected=("STUDYID", "USUBJID", "PARAM", "PARAMCD", "AVAL", "CNSR", "STARTDT"),
    keys=("USUBJID", "PARAMCD"),
    date_order=(("STARTDT", "ADT"),),
)

SCHEMAS: dict[str, DatasetSchema] = {
    "ADSL": ADSL,
    "ADEFF": ADEFF,
    "ADQS": ADQS,
    "ADADAS": BDS.replace(name="ADADAS", label="ADAS-Cog Analysis"),
    "ADCIBC": BDS.replace(name="ADCIBC", label="CIBIC+ Analysis"),
    "ADAE": ADAE,
    "ADTTE": ADTTE,
}


def schema_for(name: str) -> DatasetSchema | None:
    """The schema of dataset ``name`` (case-insensitive), or None."""
    return SCHEMAS.get(str(name).upper())


def variable_labels(name: str | None = None) -> dict[str, str]:
    """ADaM IG labels by variable name: those of dataset ``name``, or of all known datasets."""
    schemas = [schema_for(name)] if name else list(SCHEMAS.values())
    out: dict[str, str] = {}
    for s in schemas:
        if s is not None:
            for v in s.variables:
                out.setdefault(v.name, v.label)
    return out


def variable_types(name: str | None = None) -> dict[str, str]:
    """Variable kinds (``char``, ``num``, ``date``, ``datetime``) by name, as :func:`variable_labels`."""
    schemas = [schema_for(name)] if name else list(SCHEMAS.values())
    out: dict[str, str] = {}
    for s in schemas:
        if s is not None:
            for v in s.variables:
                out.setdefault(v.name, v.kind)
    return out


# --- checks --------------------------------------------------------------------------------------

def _text(value: object) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, pd.Timestamp):
        return value.strftime("%Y-%m-%d") if value == value.normalize() else value.isoformat()
    return str(value)


def _who(df: pd.DataFrame, mask: np.ndarray, key: str) -> str:
    """'for USUBJID a, b, c (and 4 more)' for the records in ``mask``."""
    if key not in df.columns:
        rows = np.flatnonzero(mask)[:_MAX_KEYS_SHOWN] + 1
        more = int(mask.sum()) - len(rows)
        return "in rows " + ", ".join(map(str, rows)) + (f" (and {more} more)" if more > 0 else "")
    ids = list(dict.fromkeys(df.loc[mask, key].map(_text)))
    shown = ", ".join(ids[:_MAX_KEYS_SHOWN])
    more = len(ids) - _MAX_KEYS_SHOWN
    return f"for {key} {shown}" + (f" (and {more} more)" if more > 0 else "")


def _is_num(s: pd.Series) -> bool:
    return pd.api.types.is_numeric_dtype(s) and not pd.api.types.is_bool_dtype(s)


def _empty(s: pd.Series) -> np.ndarray:
    if pd.api.types.is_object_dtype(s) or pd.api.types.is_string_dtype(s):
        return (s.isna() | (s.astype(str).str.strip() == "")).to_numpy()
    return s.isna().to_numpy()


def _as_dates(name: str, var: str, s: pd.Series, df: pd.DataFrame, key: str) -> pd.Series:
    """A date/datetime variable as Timestamps (from datetime64, SAS numbers or ISO text)."""
    if pd.api.types.is_datetime64_any_dtype(s):
        return s
    if _is_num(s):
        unit = "s" if var.endswith("DTM") else "D"
        return _SAS_EPOCH + pd.to_timedelta(s, unit=unit)
    text = s.astype(object).where(~_empty(s), None)
    parsed = pd.to_datetime(text, format="ISO8601", errors="coerce")
    bad = (parsed.isna() & text.notna()).to_numpy()
    if bad.any():
        first = text[bad].iloc[0]
        raise DataValidationError(f"{name}.{var} must hold dates; got {first!r} {_who(df, bad, key)}.")
    return parsed


def _check_types(name: str, df: pd.DataFrame, schema: DatasetSchema, strict: bool) -> None:
    key = schema.subject_key
    for var in schema.variables:
        if var.name not in df.columns:
            continue
        s = df[var.name]
        empty = _empty(s)
        if empty.all():
            continue
        if var.kind == "num":
            if not _is_num(s):
                vals = pd.to_numeric(s.where(~empty), errors="coerce")
                bad = vals.isna().to_numpy() & ~empty
                if bad.any():
                    raise DataValidationError(
                        f"{name}.{var.name} must be numeric (Num); got {_text(s[bad].iloc[0])!r} "
                        f"{_who(df, bad, key)}.")
                if strict:
                    raise DataValidationError(f"{name}.{var.name} must be stored as Num; got text numbers.")
                s = vals
            v = s.to_numpy(dtype=float)
            if var.minimum is not None:
                bad = v < var.minimum
                if bad.any():
                    raise DataValidationError(f"{name}.{var.name} must be >= {var.minimum:g}; got "
                                              f"{_text(float(v[bad][0]))} {_who(df, bad, key)}.")
            if var.integer:
                bad = ~np.isnan(v) & (v != np.round(v))
                if bad.any():
                    raise DataValidationError(f"{name}.{var.name} must hold whole numbers; got "
                                              f"{_text(float(v[bad][0]))} {_who(df, bad, key)}.")
        elif var.kind == "char":
            if strict and not (pd.api.types.is_object_dtype(s) or pd.api.types.is_string_dtype(s)):
                raise DataValidationError(f"{name}.{var.name} must be character (Char); got {s.dtype}.")
        elif pd.api.types.is_datetime64_any_dtype(s) or _is_num(s) or not strict:
            _as_dates(name, var.name, s, df, key)
        else:
            raise DataValidationError(f"{name}.{var.name} must be a {var.kind} (Num with a date "
                                      f"format); got {s.dtype}.")


def _check_terms(name: str, df: pd.DataFrame, schema: DatasetSchema, strict: bool) -> None:
    for var in schema.variables:
        if var.terms is None or var.name not in df.columns or (var.extensible and not strict):
            continue
        s = df[var.name]
        text = s.astype(object).where(s.notna(), "").map(_text)
        bad = ~text.isin(var.terms).to_numpy()
        if bad.any():
            ordered = sorted(var.terms, key=lambda t: (t == "", t))
            allowed = ", ".join(repr(t) if t == "" else t for t in ordered)
            raise DataValidationError(
                f"{name}.{var.name} has value {text[bad].iloc[0]!r} outside the controlled terms "
                f"({allowed}) {_who(df, bad, schema.subject_key)}.")


def _check_blank_ids(name: str, df: pd.DataFrame, schema: DatasetSchema) -> None:
    """The subject key and the parameter code identify a record: neither may be blank."""
    for var in (schema.subject_key, "PARAMCD"):
        if var in df.columns and (var == schema.subject_key or var in schema.keys):
            empty = _empty(df[var])
            if empty.any():
                rows = np.flatnonzero(empty)[:_MAX_KEYS_SHOWN] + 1
                more = int(empty.sum()) - len(rows)
                raise DataValidationError(
                    f"{name}.{var} is blank in row{'s' if empty.sum() > 1 else ''} "
                    f"{', '.join(map(str, rows))}{f' (and {more} more)' if more > 0 else ''}; "
                    "every record needs it.")


def _check_keys(name: str, df: pd.DataFrame, schema: DatasetSchema) -> None:
    if not schema.keys or not all(k in df.columns for k in schema.keys):
        return
    keys = [*schema.keys, *(k for k in schema.optional_keys if k in df.columns)]
    data = df
    scope = ""
    if schema.key_filter and schema.key_filter in df.columns:
        data = df[df[schema.key_filter].astype(object) == "Y"]
        scope = f" among {schema.key_filter} = 'Y' records"
    dup = data.duplicated(keys, keep=False).to_numpy()
    if not dup.any():
        return
    first = data.loc[dup, keys].iloc[0]
    n = int((data[keys] == first).all(axis=1).sum())
    what = ", ".join(f"{k} {_text(first[k])}" for k in keys if _text(first[k]) != "")
    if keys == [schema.subject_key]:
        raise DataValidationError(f"{name} has {n} records for {what}; each subject must appear once.")
    raise DataValidationError(f"{name} has {n} records for {what}{scope}; the keys "
                              f"({', '.join(keys)}) must be unique.")


def _check_dates(name: str, df: pd.DataFrame, schema: DatasetSchema) -> None:
    key = schema.subject_key
    dates: dict[str, pd.Series] = {}
    for var in schema.variables:
        if var.kind in ("date", "datetime") and var.name in df.columns and not _empty(df[var.name]).all():
            dates[var.name] = _as_dates(name, var.name, df[var.name], df, key)
    for col in df.columns:
        if col not in dates and pd.api.types.is_datetime64_any_dtype(df[col]):
            dates[col] = df[col]
    for var_name, d in dates.items():
        early = (d < _MIN_DATE).to_numpy()
        if early.any():
            raise DataValidationError(f"{name}.{var_name} has a date before 1900 "
                                      f"({_text(d[early].iloc[0])}) {_who(df, early, key)}.")
    for start, end in schema.date_order:
        if start in dates and end in dates:
            bad = (dates[start] > dates[end]).to_numpy()
            if bad.any():
                i = np.flatnonzero(bad)[0]
                raise DataValidationError(
                    f"{name}: {start} {_text(dates[start].iloc[i])} is after {end} "
                    f"{_text(dates[end].iloc[i])} {_who(df, bad, key)}; the start must not be after the end.")


def check_dataset(name: str, df: pd.DataFrame, *, strict: bool = False,
                  schema: DatasetSchema | None = None) -> pd.DataFrame:
    """Check dataset ``name`` against its schema (:data:`SCHEMAS`, or ``schema``); return ``df``.

    Raises :class:`DataValidationError` on the first problem, in this order: required variables,
    types, controlled terms, blank subject or parameter codes, keys, dates. A name without a
    schema passes unchecked unless ``schema`` is given. ``strict=True`` is for datasets dermsim
    derives (see the module docstring).
    """
    if not isinstance(df, pd.DataFrame):
        raise InvalidInputError(f"{name}: expected a pandas DataFrame; got {type(df).__name__}.")
    label = str(name).upper()
    sch = schema or schema_for(label)
    if sch is None:
        return df
    needed = (*sch.required, *(sch.expected if strict else ()))
    missing = [v for v in dict.fromkeys(needed) if v not in df.columns]
    if missing:
        what = "variable" if len(missing) == 1 else "variables"
        raise DataValidationError(f"{label}: required {what} {', '.join(missing)} "
                                  f"{'is' if len(missing) == 1 else 'are'} missing.")
    for group in sch.one_of:
        if not any(v in df.columns for v in group):
            raise DataValidationError(f"{label}: one of the variables {' or '.join(group)} is required; "
                                      "none is present.")
    _check_types(label, df, sch, strict)
    _check_terms(label, df, sch, strict)
    _check_blank_ids(label, df, sch)
    _check_keys(label, df, sch)
    _check_dates(label, df, sch)
    return df


def describe_schemas(names: Iterable[str] | None = None) -> list[dict[str, Any]]:
    """The schemas as plain dicts (for documentation and define metadata)."""
    return [SCHEMAS[n.upper()].to_dict() for n in (names or SCHEMAS)]
