"""The analysis plan: TOML loading, validation messages, the population filter language."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from dermsim.analysis.plan import (
    METHOD_SPECS,
    AnalysisPlan,
    AnalysisSpec,
    default_plan_path,
    load_plan,
    parse_population,
)
from dermsim.errors import InvalidInputError

ROOT = Path(__file__).resolve().parents[3]

GOOD = """
[plan]
name = "mini"

[[analysis]]
id = "a1"
dataset = "ADEFF"
population = 'EFFFL == "Y" and AGE >= 6'
parameter = "IGATS"
variable = "AVAL"
visit = "Week 8"
group = "TRT01P"
comparator = "Vehicle"
strata = ["AGEGR1"]
estimand = "composite_nri"
method = "proportion_rd_cmh"
options = { response = 1 }
"""


def _write(tmp_path: Path, text: str) -> Path:
    p = tmp_path / "plan.toml"
    p.write_text(text, encoding="utf-8")
    return p


def test_load_plan_reads_fields_and_normalises(tmp_path: Path) -> None:
    plan = load_plan(_write(tmp_path, GOOD))
    a = plan.get("a1")
    assert a.dataset == "adeff" and a.visit == ("Week 8",) and a.strata == ("AGEGR1",)
    assert a.population_filter.names == ("EFFFL", "AGE")


def test_plan_round_trips_through_dict_and_is_frozen(tmp_path: Path) -> None:
    plan = load_plan(_write(tmp_path, GOOD))
    again = AnalysisPlan.from_dict(plan.to_dict())
    assert again == plan
    with pytest.raises(Exception):  # noqa: B017 - pydantic raises its own frozen-instance error
        plan.analyses[0].id = "x"  # type: ignore[misc]
    changed = plan.analyses[0].replace(visit=["Week 4"])
    assert changed.visit == ("Week 4",) and plan.analyses[0].visit == ("Week 8",)


@pytest.mark.parametrize(("edit", "expect"), [
    (('method = "proportion_rd_cmh"', 'method = "ancva"'), r"analysis 'a1': field 'method': must be one of"),
    (('estimand = "composite_nri"', 'estimand = "mi"'),
     r"analysis 'a1': field 'estimand': 'mi' does not apply"),
    (('comparator = "Vehicle"\n', ''), r"analysis 'a1': field 'comparator' is required"),
    (('options = { response = 1 }', 'options = { respons = 1 }'),
     r"field 'options': 'respons' is not an option"),
    (("population = 'EFFFL == \"Y\" and AGE >= 6'", "population = '__import__(\"os\").system(\"x\")'"),
     r"analysis 'a1': field 'population'.*only comparisons"),
    (('dataset = "ADEFF"', 'dataset = "ADEFF"\nbogus = 1'), r"analysis 'a1': field 'bogus'"),
])
def test_validation_errors_name_file_analysis_and_field(tmp_path: Path, edit: tuple[str, str],
                                                        expect: str) -> None:
    path = _write(tmp_path, GOOD.replace(*edit))
    with pytest.raises(InvalidInputError, match=expect) as info:
        load_plan(path)
    assert str(path) in str(info.value)
    assert "\n" not in str(info.value)


def test_duplicate_ids_and_empty_plans_are_rejected(tmp_path: Path) -> None:
    two = GOOD + GOOD.split("[plan]")[1].split('name = "mini"')[1]
    with pytest.raises(InvalidInputError, match="'a1' appears twice"):
        load_plan(_write(tmp_path, two))
    with pytest.raises(InvalidInputError, match="non-empty array"):
        load_plan(_write(tmp_path, '[plan]\nname = "x"\n'))
    with pytest.raises(InvalidInputError, match="not valid TOML"):
        load_plan(_write(tmp_path, "[[analysis]\n"))
    with pytest.raises(InvalidInputError, match=r"\[plan\] has unknown key 'versio'"):
        load_plan(_write(tmp_path, GOOD.replace('name = "mini"', 'name = "mini"\nversio = 1')))
    with pytest.raises(InvalidInputError, match="field 'visit' is required by method 'proportion_rd_cmh'"):
        load_plan(_write(tmp_path, GOOD.replace('visit = "Week 8"\n', "")))
    with pytest.raises(InvalidInputError, match="does not exist"):
        load_plan(tmp_path / "nope.toml")


def test_population_language() -> None:
    df = pd.DataFrame({"EFFFL": ["Y", "N", None, "Y"], "AGE": [5, 7, np.nan, 11],
                       "AGEGR1": ["2-6", "7-11", "7-11", "7-11"]})
    cases = {
        'EFFFL == "Y"': [1, 0, 0, 1],
        'EFFFL != "Y"': [0, 1, 1, 0],          # missing is "not Y", as in SAS
        "AGE >= 6 and EFFFL": [0, 0, 0, 1],
        'not (AGEGR1 in ["2-6"]) or AGE < 6': [1, 1, 1, 1],
        '6 <= AGE < 11': [0, 1, 0, 0],
        'AGEGR1 not in ["7-11"]': [1, 0, 0, 0],
        "AGE > -1": [1, 1, 0, 1],
        "": [1, 1, 1, 1],
    }
    for text, want in cases.items():
        assert parse_population(text).mask(df).astype(int).tolist() == want, text


@pytest.mark.parametrize("text", ["AGE + 1 > 2", "f(AGE)", "AGE if 1 else 2", "x.y == 1", "lambda: 1",
                                  "AGE in AGEGR1", "AGE is None", "[1][0] == 1", "AGE == "])
def test_population_rejects_anything_else(text: str) -> None:
    with pytest.raises(InvalidInputError, match="population"):
        parse_population(text)


def test_population_names_an_unknown_variable() -> None:
    with pytest.raises(InvalidInputError, match="names variable SAFFL"):
        parse_population('SAFFL == "Y"').mask(pd.DataFrame({"EFFFL": ["Y"]}))


def test_builtin_plans_load_and_cover_the_issue() -> None:
    ad = load_plan(default_plan_path())
    params = {a.parameter for a in ad.analyses}
    assert {"IGATS", "EASI50", "EASI75", "EASI90", "NRS4", "EASI", "ITCHNRS"} <= params
    primary = ad.get("iga-ts-w8")
    assert primary.strata and primary.comparator and primary.method == "proportion_rd_cmh"
    assert {a.method for a in ad.analyses} >= {"demographics", "disposition", "teae_summary", "teae_soc_pt"}
    assert any(a.subgroups for a in ad.analyses)
    pilot = load_plan(ROOT / "examples" / "cdisc_pilot" / "plan.toml")
    assert pilot.ids == ("t14-1-01", "t14-2-01", "t14-3-01", "t14-3-11", "t14-3-13", "t14-5-01", "f14-ttde")
    assert ad.get("easi-pchg-mmrm").method == "mmrm"


def test_every_method_has_a_spec_and_options_are_checked() -> None:
    assert "ancova" in METHOD_SPECS
    with pytest.raises(Exception, match=r"'strata'.*or 'covariates'"):
        AnalysisSpec(id="x", dataset="adeff", variable="CHG", visit="Week 2", group="TRTP", method="ancova",
                     strata=("A",), covariates=("B",))


def test_option_filters_are_checked_at_load(tmp_path: Path) -> None:
    text = """
[[analysis]]
id = "ae"
dataset = "adae"
group = "TRTA"
method = "teae_soc_pt"
options = { denominator_population = '__import__("os")' }
"""
    with pytest.raises(InvalidInputError, match=r"analysis 'ae': field 'options.denominator_population'"):
        load_plan(_write(tmp_path, text))
