"""CDISC ARS JSON, the R cards long format and Define-XML 2.1, each validated against its
published definition: the ARS v1 JSON schema and the Define-XML 2.1 XSD bundled in
dermsim.io.schemas; the cards columns and types as the package documents them
(group1/group1_level..., variable, variable_level, context, stat_name, stat_label, stat, fmt_fn,
warning, error)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from ad_adam_data import make_ad_adam
from dermsim.analysis.plan import default_plan_path, load_plan
from dermsim.analysis.run import run_plan
from dermsim.errors import DataValidationError
from dermsim.io.ars import ard_to_ars, validate_ars, write_ars
from dermsim.io.cards import CARDS_COLUMNS, ard_to_cards, write_cards
from dermsim.io.define import build_define_xml, read_define, validate_define_xml

IDS = ["populations", "demographics", "iga-ts-w8", "nrs-chg", "teae-soc-pt", "teae-soc-pt-lte"]


@pytest.fixture(scope="module")
def ard() -> pd.DataFrame:
    data = make_ad_adam(60, seed=3)
    return run_plan(load_plan(default_plan_path()).select(IDS), data, seed=1)


def test_ars_reporting_event_validates_against_the_published_schema(ard: pd.DataFrame,
                                                                   tmp_path: Path) -> None:
    titles = {"iga-ts-w8": "Primary: IGA-TS at Week 8"}
    path = write_ars(ard, tmp_path / "ard_ars.json", name="ad_default", titles=titles, validate=True)
    doc = json.loads(path.read_text(encoding="utf-8"))
    validate_ars(doc)
    assert [a["id"] for a in doc["analyses"]] == IDS
    primary = doc["analyses"][IDS.index("iga-ts-w8")]
    assert primary["purpose"]["controlledTerm"] == "PRIMARY OUTCOME MEASURE"
    assert primary["methodId"] == "MTH_proportion_rd_cmh"
    # every ARD row is one result, its raw value at full precision, with its groups
    assert sum(len(a["results"]) for a in doc["analyses"]) == len(ard)
    rows = ard[ard["analysis_id"] == "iga-ts-w8"]
    got = {float(r["rawValue"]) for r in primary["results"] if r["rawValue"] != "NA"}
    assert got == set(rows["stat_value"].dropna().astype(float))
    grouped = [r for r in primary["results"] if r.get("resultGroups")]
    assert any(g["groupingId"] == "GRP_COMPARATOR" for r in grouped for g in r["resultGroups"])
    ops = {o["id"] for m in doc["methods"] for o in m["operations"]}
    assert {r["operationId"] for a in doc["analyses"] for r in a["results"]} <= ops
    # a PT's system organ class is a grouping of its own
    soc = doc["analyses"][IDS.index("teae-soc-pt")]
    assert any(g["groupingId"] == "GRP_OUTER" for r in soc["results"] for g in r.get("resultGroups", []))


def test_ars_schema_rejects_a_broken_event(ard: pd.DataFrame) -> None:
    doc = ard_to_ars(ard.head(20), name="x")
    del doc["analyses"][0]["methodId"]
    with pytest.raises(DataValidationError, match="methodId"):
        validate_ars(doc)


def test_cards_long_format_columns_and_types(ard: pd.DataFrame, tmp_path: Path) -> None:
    c = ard_to_cards(ard)
    assert tuple(c.columns) == CARDS_COLUMNS
    assert {"group1", "group1_level", "variable", "variable_level", "context", "stat_name", "stat_label",
            "stat", "fmt_fn", "warning", "error"} <= set(c.columns)
    assert c["stat"].dtype == np.float64 and c["fmt_fn"].dtype == np.int64
    assert (c["fmt_fn"] >= 0).all()
    np.testing.assert_array_equal(c["stat"].to_numpy(), ard["stat_value"].to_numpy())
    pt = c[(c["variable"] == "AEDECOD") & (c["group5_level"] == "teae-soc-pt")]
    assert (pt["group2"] == "AEBODSYS").all() and (pt["group2_level"] != "").all()
    back = pd.read_csv(write_cards(ard, tmp_path / "ard_cards.csv"), keep_default_na=False,
                       float_precision="round_trip")
    assert tuple(back.columns) == CARDS_COLUMNS and len(back) == len(ard)
    np.testing.assert_allclose(back["stat"].replace("", np.nan).astype(float), ard["stat_value"],
                               rtol=0, atol=0, equal_nan=True)


def test_define_xml_21_validates_against_the_cdisc_xsd(tmp_path: Path) -> None:
    data = make_ad_adam(30, seed=2)
    doc = build_define_xml({"ADSL": data["adsl"], "ADAE": data["adae"]}, standard="ADaM", study="AD3",
                           keys={"ADSL": ["USUBJID"]}, structures={"ADSL": "ADSL", "ADAE": "OCCDS"})
    validate_define_xml(doc)
    path = tmp_path / "define.xml"
    path.write_bytes(doc)
    meta = read_define(path)
    assert set(meta) == {"ADSL", "ADAE"}
    assert [c.name for c in meta["ADSL"].columns] == list(data["adsl"].columns)
    bad = doc.replace(b'def:DefineVersion="2.1.0"', b'def:DefineVersion="2.1.0" Bogus="1"')
    with pytest.raises(DataValidationError, match=r"define\.xml line"):
        validate_define_xml(bad)


@pytest.mark.slow
def test_trial_folder_has_valid_define_xml_for_sdtm_and_adam(tmp_path: Path) -> None:
    """``dermsim trial simulate`` (and ``run``) write adam/define.xml and sdtm/define.xml."""
    from dermsim._rng import as_generator
    from dermsim.io.study import write_trial_dir
    from dermsim.trial import load_design, simulate_trial

    class Trajectories(dict):
        final_state: dict | None = None

    def provider(population, regimen, days, seed, *, record, chunk_size, initial_state=None):
        k = 0.01 * as_generator(seed).uniform(0.5, 1.5, (population.n, 1))
        log_t = (0.0 if initial_state is None else initial_state["log_t"]) - k * np.arange(days + 1)[None, :]
        t = np.exp(log_t)
        iga = np.clip(np.ceil(population.iga0[:, None] * t - 0.2), 0, 4).astype(np.int8)
        out = Trajectories({"easi": population.easi0[:, None] * t, "nrs_weekly": population.nrs0[:, None] * t,
                            "iga": iga})
        out.final_state = {"log_t": log_t[:, -1:]}  # stand-in for simulate_patients' saved state
        return out

    study = simulate_trial(load_design("true-ad3"), 3, n=24, trajectory_provider=provider)
    out = write_trial_dir(study, tmp_path / "trial", "xpt")
    for folder, names in (("adam", {"ADSL", "ADEFF", "ADAE"}), ("sdtm", {"DM", "EX", "QS", "AE", "DS"})):
        path = out / folder / "define.xml"
        validate_define_xml(path)
        assert set(read_define(path)) == names
