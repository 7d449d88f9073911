"""``dermsim population`` driven as a user would: the summary table, and bad input giving one line
on stderr with exit code 2."""

from __future__ import annotations

from pathlib import Path

import pytest

from dermsim.cli import main
from dermsim.model.population.spec import SPEC_DIR


def test_population_summary_beside_published_values(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["population", "true-ad3", "--n", "3000", "--seed", "4"]) == 0
    out = capsys.readouterr().out
    for text in ("true-ad3: 3,000 virtual patients (seed 4)", "age, completed years", "6.5 (2.9)",
                 "8.6 (5.4)", "10.5 (5.4)", "54.2", "C confirmed", "A assumption", "AD3-region"):
        assert text in out


def test_population_from_a_spec_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "mine.toml"
    path.write_text((SPEC_DIR / "true-ad1.toml").read_text(encoding="utf-8").replace(
        'name = "true-ad1"', 'name = "mine"'), encoding="utf-8")
    assert main(["population", str(path), "--n", "500", "--chunk-size", "128"]) == 0
    assert "mine: 500 virtual patients" in capsys.readouterr().out


@pytest.mark.parametrize(("args", "expect"), [
    (["population", "true-ad7"], "population must be one of true-ad1, true-ad2, true-ad3"),
    (["population", "true-ad3", "--n", "1"], "--n must be an integer >= 2; got 1"),
    (["population", "true-ad3", "--seed", "-4"], "seed must be an integer >= 0; got -4"),
])
def test_bad_input_one_line_exit_2(args: list[str], expect: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(args) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and expect in err and "Traceback" not in err


def test_broken_spec_file_names_file_and_field(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "reversed.toml"
    path.write_text((SPEC_DIR / "true-ad3.toml").read_text(encoding="utf-8").replace(
        "min_y = 2.0, max_y = 12.0", "min_y = 12.0, max_y = 2.0"), encoding="utf-8")
    assert main(["population", str(path)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert "population spec reversed.toml: field age.bands.0: max_y (2) must be above min_y (12)" in err
