"""Design specs: validation messages, dict round trips, TOML grids, ranges."""

from __future__ import annotations

from pathlib import Path

import pytest

from dermsim.design import BinomialDesign, DesignGrid, DesignSpec, Hypothesis, parse_range
from dermsim.design.spec import design_from_dict
from dermsim.errors import DataValidationError, InvalidInputError


def test_round_trip_and_frozen() -> None:
    d = DesignSpec(id="x", n_total=100, ratio={"rux150": 1, "vehicle": 1}, strata=[], primary_day=29)
    assert design_from_dict(d.to_dict()) == d
    b = BinomialDesign(
        id="b",
        n_total=10,
        arms=["t", "c"],
        ratio=[1, 1],
        rates={"iga_ts": [0.5, 0.2]},
        hypotheses=[Hypothesis(endpoint="iga_ts", treatment="t", control="c")],
    )
    assert design_from_dict(b.to_dict()) == b
    with pytest.raises(Exception, match="frozen"):
        d.n_total = 3  # type: ignore[misc]
    assert d.replace(n_total=200).n_total == 200 and d.n_total == 100
    assert d.key == DesignSpec(id="x", n_total=5).key != DesignSpec(id="y", n_total=5).key


def test_validation_names_the_field() -> None:
    with pytest.raises(InvalidInputError, match="field n_total"):
        DesignSpec.from_dict({"id": "x", "n_total": 1})
    with pytest.raises(InvalidInputError, match="n_total \\(11\\) must be a multiple of sum\\(ratio\\) = 2"):
        BinomialDesign.from_dict(
            {
                "id": "b",
                "n_total": 11,
                "arms": ["t", "c"],
                "ratio": [1, 1],
                "rates": {"iga_ts": [0.5, 0.2]},
                "hypotheses": [{"endpoint": "iga_ts", "treatment": "t", "control": "c"}],
            }
        )
    with pytest.raises(InvalidInputError, match="hypothesis arm 'z'"):
        BinomialDesign.from_dict(
            {
                "id": "b",
                "n_total": 10,
                "arms": ["t", "c"],
                "ratio": [1, 1],
                "rates": {"iga_ts": [0.5, 0.2]},
                "hypotheses": [{"endpoint": "iga_ts", "treatment": "z", "control": "c"}],
            }
        )


def test_parse_range() -> None:
    assert parse_range("150:600:150") == [150, 300, 450, 600]
    assert parse_range("200,330") == [200, 330]
    with pytest.raises(InvalidInputError, match="n must be START:STOP:STEP"):
        parse_range("600:150:50")


def test_grid_from_toml(tmp_path: Path) -> None:
    p = tmp_path / "grid.toml"
    p.write_text(
        'scenario = "true-ad3"\n[base]\nalpha = 0.025\n[grid]\nn_total = [200, 330]\n'
        'ratio = ["scenario", {rux150 = 1, vehicle = 1}]\nstrata = [["IGASTR"], []]\n'
        "primary_day = [29, 57]\n",
        encoding="utf-8",
    )
    designs = DesignGrid.from_toml(p).designs()
    assert len(designs) == 16
    assert len({d.id for d in designs}) == 16
    assert {d.alpha for d in designs} == {0.025}
    assert designs[0].ratio is None and designs[0].id == "n200_r-scenario_s-IGASTR_d29"
    bad = tmp_path / "bad.toml"
    bad.write_text('scenario = "true-ad3"\n[base]\nn_total = 3\n[grid]\nn_total = [200]\n', encoding="utf-8")
    with pytest.raises(DataValidationError, match="base must not set the grid axes"):
        DesignGrid.from_toml(bad)
