"""ADaM schemas: each check fires on a small hand-made violation with one line naming the dataset,
the variable and the keys; real data (the CDISC pilot, the hand-built AD ADaM) pass."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from ad_adam_data import make_ad_adam
from dermsim.cdisc.schemas import (
    ADEFF,
    ADSL,
    SCHEMAS,
    DatasetSchema,
    check_dataset,
    schema_for,
    variable_labels,
)
from dermsim.errors import DataValidationError, InvalidInputError


@pytest.fixture
def ad() -> dict[str, pd.DataFrame]:
    return make_ad_adam(n=15)


def _adtte() -> pd.DataFrame:
    return pd.DataFrame({"USUBJID": ["S1", "S2", "S3"], "PARAMCD": "TTDE", "PARAM": "Time to event",
                         "AVAL": [10.0, 25.0, 3.0], "CNSR": [0.0, 1.0, 0.0],
                         "STARTDT": pd.to_datetime(["2020-01-01"] * 3),
                         "ADT": pd.to_datetime(["2020-01-10", "2020-01-25", "2020-01-03"])})


def _raises(name: str, df: pd.DataFrame, *words: str, strict: bool = False) -> str:
    with pytest.raises(DataValidationError) as info:
        check_dataset(name, df, strict=strict)
    msg = str(info.value)
    assert len(msg.splitlines()) == 1, msg
    for w in words:
        assert w in msg, msg
    return msg


def test_hand_built_ad_adam_passes(ad: dict[str, pd.DataFrame]) -> None:
    for name, df in ad.items():
        assert check_dataset(name, df) is df


def test_duplicate_subject_in_adsl(ad: dict[str, pd.DataFrame]) -> None:
    adsl = pd.concat([ad["adsl"], ad["adsl"].iloc[[0]]], ignore_index=True)
    msg = _raises("ADSL", adsl)
    assert msg == "ADSL has 2 records for USUBJID AD3-001; each subject must appear once."


def test_duplicate_adeff_keys_name_all_keys(ad: dict[str, pd.DataFrame]) -> None:
    adeff = pd.concat([ad["adeff"], ad["adeff"].iloc[[3]]], ignore_index=True)
    row = ad["adeff"].iloc[3]
    _raises("ADEFF", adeff, "ADEFF has 2 records", f"USUBJID {row.USUBJID}", f"PARAMCD {row.PARAMCD}",
            f"AVISITN {int(row.AVISITN)}", "must be unique")


def test_imputed_record_beside_observed_one_is_a_different_key(ad: dict[str, pd.DataFrame]) -> None:
    extra = ad["adeff"].iloc[[3]].assign(DTYPE="LOCF")
    check_dataset("ADEFF", pd.concat([ad["adeff"], extra], ignore_index=True))


def test_bds_keys_are_unique_among_analysis_records_only() -> None:
    df = pd.DataFrame({"USUBJID": ["S1", "S1"], "PARAMCD": "ACTOT", "AVISITN": [24, 24],
                       "AVAL": [10.0, 12.0], "ANL01FL": ["Y", ""]})
    check_dataset("ADQS", df)
    _raises("ADQS", df.assign(ANL01FL="Y"), "ADQS has 2 records", "among ANL01FL = 'Y' records")


@pytest.mark.parametrize(("name", "drop", "words"), [
    ("ADSL", "USUBJID", ["ADSL: required variable USUBJID is missing."]),
    ("ADEFF", "PARAMCD", ["ADEFF", "PARAMCD", "missing"]),
    ("ADAE", "AEDECOD", ["ADAE", "AEDECOD", "missing"]),
])
def test_missing_required_variable(ad: dict[str, pd.DataFrame], name: str, drop: str,
                                   words: list[str]) -> None:
    _raises(name, ad[name.lower()].drop(columns=drop), *words)


def test_missing_required_variable_in_adtte() -> None:
    _raises("ADTTE", _adtte().drop(columns="CNSR"), "ADTTE: required variable CNSR is missing.")


def test_aval_or_avalc_in_generic_bds() -> None:
    df = pd.DataFrame({"USUBJID": ["S1"], "PARAMCD": ["X"]})
    _raises("ADQS", df, "one of the variables AVAL or AVALC")
    check_dataset("ADQS", df.assign(AVALC=["Improved"]))


def test_strict_needs_the_expected_variables(ad: dict[str, pd.DataFrame]) -> None:
    msg = _raises("ADEFF", ad["adeff"], "ADEFF: required variables", "STUDYID", "PARAM", "CRIT1FL",
                  strict=True)
    assert "PARAMCD" not in msg.replace("PARAM,", "")


def test_num_variable_holding_text(ad: dict[str, pd.DataFrame]) -> None:
    adsl = ad["adsl"].astype({"AGE": object})
    adsl.loc[2, "AGE"] = "six"
    _raises("ADSL", adsl, "ADSL.AGE must be numeric (Num); got 'six' for USUBJID AD3-003.")


def test_char_codes_read_as_numbers_pass_unless_strict(ad: dict[str, pd.DataFrame]) -> None:
    adsl = ad["adsl"].assign(SITEID=701)
    check_dataset("ADSL", adsl)
    with pytest.raises(DataValidationError, match=r"ADSL\.SITEID must be character \(Char\)"):
        check_dataset("ADSL", adsl.assign(ARM=adsl["TRT01P"], AGEU="YEARS", STUDYID="S"), strict=True)


@pytest.mark.parametrize(("name", "var", "value", "terms"), [
    ("ADSL", "SAFFL", "y", "(N, Y)"),
    ("ADSL", "SEX", "Male", "F, M, U, UNDIFFERENTIATED, ''"),
    ("ADEFF", "ABLFL", "N", "(Y, '')"),
    ("ADAE", "AESEV", "LIFE THREATENING", "MILD, MODERATE, SEVERE, ''"),
    ("ADAE", "TRTEMFL", "YES", "N, Y, ''"),
])
def test_terms_outside_the_controlled_list(ad: dict[str, pd.DataFrame], name: str, var: str, value: str,
                                           terms: str) -> None:
    df = ad[name.lower()].copy()
    df.loc[df.index[1], var] = value
    who = df.loc[df.index[1], "USUBJID"]
    _raises(name, df, f"{name}.{var} has value {value!r} outside the controlled terms", terms,
            f"for USUBJID {who}")


def test_extensible_terms_only_when_strict(ad: dict[str, pd.DataFrame]) -> None:
    adsl = ad["adsl"].assign(RACE="MARTIAN")
    check_dataset("ADSL", adsl)
    full = adsl.assign(SITEID="01", AGEU="YEARS", ARM=adsl["TRT01P"])
    _raises("ADSL", full, "ADSL.RACE has value 'MARTIAN'", strict=True)


def test_dates_before_1900_and_out_of_order(ad: dict[str, pd.DataFrame]) -> None:
    adsl = ad["adsl"].assign(TRTSDT=pd.Timestamp("2025-01-10"), TRTEDT=pd.Timestamp("2025-03-01"))
    check_dataset("ADSL", adsl)
    early = adsl.copy()
    early.loc[4, "TRTSDT"] = pd.Timestamp("1899-12-31")
    _raises("ADSL", early, "ADSL.TRTSDT has a date before 1900 (1899-12-31) for USUBJID AD3-005.")
    swapped = adsl.copy()
    swapped.loc[6, "TRTEDT"] = pd.Timestamp("2025-01-01")
    _raises("ADSL", swapped, "ADSL: TRTSDT 2025-01-10 is after TRTEDT 2025-01-01 for USUBJID AD3-007")


def test_dates_as_sas_numbers_and_iso_text_are_checked_too() -> None:
    adae = pd.DataFrame({"USUBJID": ["S1", "S2"], "AEBODSYS": "SOC", "AEDECOD": "PT",
                         "ASTDT": [20000.0, 20010.0], "AENDT": ["2014-10-05", "2014-10-01"]})
    _raises("ADAE", adae, "ADAE: ASTDT 2014-10-14 is after AENDT 2014-10-01 for USUBJID S2")
    _raises("ADAE", adae.assign(AENDT=["2014-10-05", "soon"]), "ADAE.AENDT must hold dates; got 'soon'")


def test_time_to_event_rules() -> None:
    check_dataset("ADTTE", _adtte())
    _raises("ADTTE", _adtte().assign(AVAL=[10.0, -1.0, 3.0]),
            "ADTTE.AVAL must be >= 0; got -1 for USUBJID S2")
    _raises("ADTTE", _adtte().assign(CNSR=[0.0, 0.5, 1.0]), "ADTTE.CNSR must hold whole numbers")
    _raises("ADTTE", _adtte().assign(ADT=pd.to_datetime(["2019-12-01", "2020-01-25", "2020-01-03"])),
            "ADTTE: STARTDT 2020-01-01 is after ADT 2019-12-01 for USUBJID S1")
    _raises("ADTTE", pd.concat([_adtte(), _adtte().iloc[[0]]]),
            "ADTTE has 2 records for USUBJID S1, PARAMCD TTDE")


def test_blank_subject_or_parameter(ad: dict[str, pd.DataFrame]) -> None:
    adsl = ad["adsl"].copy()
    adsl.loc[[3, 8], "USUBJID"] = ""
    _raises("ADSL", adsl, "ADSL.USUBJID is blank in rows 4, 9; every record needs it.")
    adeff = ad["adeff"].copy()
    adeff.loc[0, "PARAMCD"] = " "
    _raises("ADEFF", adeff, "ADEFF.PARAMCD is blank in row 1;")


def test_many_offenders_are_counted_not_listed(ad: dict[str, pd.DataFrame]) -> None:
    adsl = ad["adsl"].assign(EFFFL="?")
    _raises("ADSL", adsl, "for USUBJID AD3-001, AD3-002, AD3-003 (and 12 more)")


def test_unknown_dataset_passes_and_schemas_are_declarative() -> None:
    df = pd.DataFrame({"X": [1]})
    assert check_dataset("ADXYZ", df) is df
    custom = DatasetSchema(name="ADX", label="X", structure="BDS", variables=ADSL.variables,
                           required=("USUBJID",), keys=("USUBJID",))
    with pytest.raises(DataValidationError, match="ADX: required variable USUBJID"):
        check_dataset("ADX", df, schema=custom)
    with pytest.raises(InvalidInputError, match="NOPE"):
        DatasetSchema(name="ADY", label="Y", structure="BDS", variables=(), required=("NOPE",))
    assert DatasetSchema.from_dict(ADEFF.to_dict()) == ADEFF
    assert schema_for("adeff") is SCHEMAS["ADEFF"]


def test_labels_follow_the_adam_ig() -> None:
    labels = variable_labels("ADEFF")
    assert labels["PARAMCD"] == "Parameter Code" and labels["CHG"] == "Change from Baseline"
    assert labels["CRIT1FL"] == "Criterion 1 Evaluation Result Flag" and labels["DTYPE"] == "Derivation Type"
    assert variable_labels("ADAE")["TRTEMFL"] == "Treatment Emergent Analysis Flag"
    assert variable_labels("ADTTE")["CNSR"] == "Censor"
    for schema in SCHEMAS.values():
        assert all(len(v.label) <= 40 and len(v.name) <= 8 for v in schema.variables), schema.name


def test_not_a_frame() -> None:
    with pytest.raises(InvalidInputError, match="expected a pandas DataFrame"):
        check_dataset("ADSL", {"USUBJID": ["a"]})  # type: ignore[arg-type]


@pytest.mark.parametrize("name", ["adsl", "adae", "adtte", "adcibc"])
def test_cdisc_pilot_passes_strict(shared_dir: Path, name: str) -> None:
    from dermsim.io import read_xpt  # test-only: the io layer reads the file

    path = shared_dir / "data" / "cdisc_pilot" / f"{name}.xpt"
    if not path.is_file():
        pytest.skip(f"{path} not found")
    check_dataset(name, read_xpt(path).data, strict=True)


def test_empty_columns_and_frames_pass() -> None:
    check_dataset("ADSL", pd.DataFrame({"USUBJID": pd.Series([], dtype=object)}))
    check_dataset("ADSL", pd.DataFrame({"USUBJID": ["a"], "TRTSDT": [np.nan], "AGE": [""]}))
