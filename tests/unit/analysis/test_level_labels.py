"""Option ``level_labels``: a coded categorical variable (the CDISC pilot's CIBIC+ score, AVAL 1-7
without AVALC) is reported under its labels, counted by code in code order."""

from __future__ import annotations

import pytest

from ad_adam_data import make_ad_adam
from dermsim.analysis.plan import AnalysisPlan, AnalysisSpec
from dermsim.analysis.run import run_plan


def _spec(**options: object) -> AnalysisSpec:
    return AnalysisSpec(id="iga-bl", dataset="adsl", group="TRT01P", variables=["IGABL"],
                        method="categorical", options=options)


def test_labels_replace_the_codes_and_keep_their_order_and_counts() -> None:
    data = make_ad_adam(40, seed=2)
    plain = run_plan(AnalysisPlan(analyses=(_spec(levels=["3", "2"]),)), data, seed=1)
    named = run_plan(AnalysisPlan(analyses=(_spec(levels=["3", "2"], level_labels=["Moderate", "Mild"]),)),
                     data, seed=1)
    lv = named.loc[named["stat_name"] == "count", "variable_level"]
    assert list(dict.fromkeys(lv)) == ["Moderate", "Mild"]
    # the same counts, only the level renamed
    back = named.assign(variable_level=named["variable_level"].replace({"Moderate": "3", "Mild": "2"}))
    assert back["stat_value"].equals(plain["stat_value"])
    assert (back["variable_level"] == plain["variable_level"]).all()
    count = data["adsl"]["IGABL"].astype(str).eq("3").sum()
    total = named[(named["variable_level"] == "Moderate") & (named["group_level"] == "")
                  & (named["stat_name"] == "count")]["stat_value"].iloc[0]
    assert total == count


@pytest.mark.parametrize("options", [{"level_labels": ["Mild"]},
                                     {"levels": ["2", "3"], "level_labels": ["Mild"]},
                                     {"levels": ["2", "3"], "level_labels": "Mild"}])
def test_labels_need_one_per_level(options: dict) -> None:
    with pytest.raises(ValueError, match=r"options.level_labels' must be a list with one label per entry"):
        _spec(**options)
