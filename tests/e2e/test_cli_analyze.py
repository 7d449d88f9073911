"""``dermsim analyze`` driven as a user would: the CDISC pilot end to end, the AD plan on a small
hand-built ADaM, and bad input giving one line on stderr and exit code 2."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pandas as pd
import pytest

from ad_adam_data import make_ad_adam
from dermsim.cli import main
from dermsim.io.ard import read_ard

ROOT = Path(__file__).resolve().parents[2]
VEH = "Vehicle cream BID"
PILOT_PLAN = ROOT / "examples" / "cdisc_pilot" / "plan.toml"
PILOT_IDS = {"t14-1-01", "t14-2-01", "t14-3-01", "t14-3-11", "t14-3-13", "t14-5-01", "f14-ttde"}


@pytest.fixture(scope="module", autouse=True)
def _needs_reader() -> None:
    io = pytest.importorskip("dermsim.io", reason="the dataset readers (dermsim.io) are not present")
    if not hasattr(io, "read_adam_dir"):
        pytest.skip("dermsim.io.read_adam_dir is not present yet")


@pytest.fixture
def pilot(shared_dir: Path) -> Path:
    path = shared_dir / "data" / "cdisc_pilot"
    if not path.is_dir():
        pytest.skip(f"CDISC pilot data not found at {path}")
    return path


def _write_csv(datasets: dict[str, pd.DataFrame], folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, df in datasets.items():
        df.to_csv(folder / f"{name}.csv.gz", index=False)
    return folder


def test_pilot_end_to_end_under_30_s(pilot: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "pilot"
    t0 = time.perf_counter()
    rc = main(["analyze", str(pilot), "--plan", str(PILOT_PLAN), "--out", str(out)])
    elapsed = time.perf_counter() - t0
    assert rc == 0, capsys.readouterr().err
    assert elapsed < 30.0
    csv = read_ard(out / "ard.csv")
    parquet = read_ard(out / "ard.parquet")
    assert set(csv["analysis_id"]) == PILOT_IDS
    pd.testing.assert_series_equal(csv["stat_value"], parquet["stat_value"], check_exact=True)
    meta = json.loads((out / "ard_meta.json").read_text())
    assert meta["seed"]["entropy"] == 1 and meta["rows"] == len(csv)
    assert {a["id"] for a in meta["plan"]["analysis"]} == PILOT_IDS
    assert meta["datasets"]["adsl"]["format"] == "xpt"
    tables = sorted(p.stem for p in (out / "tables").glob("*.txt"))
    assert set(tables) == PILOT_IDS
    assert "Xanomeline High Dose" in (out / "tables" / "t14-3-01.txt").read_text()


def test_ad_default_plan_on_a_small_adam(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    pytest.importorskip("dermsim.analysis.stratified", reason="binary statistics not present yet")
    adam = _write_csv(make_ad_adam(), tmp_path / "adam")
    rc = main(["analyze", str(adam), "--out", str(tmp_path / "out"), "--seed", "2"])
    assert rc == 0, capsys.readouterr().err
    ard = pd.read_parquet(tmp_path / "out" / "ard.parquet")
    primary = ard[ard["analysis_id"] == "iga-ts-w8"]
    arms = set(primary.loc[primary["stat_name"] == "pct", "group_level"])
    assert arms == {"Ruxolitinib cream 0.75%", "Ruxolitinib cream 1.5%", VEH}
    rd = primary[(primary["comparator"] == VEH) & (primary["stat_name"].isin(
        ["estimate", "ci_lower", "ci_upper", "p_value"]))]
    assert len(rd) >= 8 and rd["stat_value"].notna().all()


def _bad(tmp_path: Path, change) -> Path:
    data = make_ad_adam()
    change(data)
    return _write_csv(data, tmp_path / "bad")


@pytest.mark.parametrize(("change", "plan_edit", "expect"), [
    (lambda d: d.update(adsl=pd.concat([d["adsl"], d["adsl"].iloc[[0]]])), None,
     ["ADSL", "USUBJID", "AD3-001"]),
    (lambda d: d.update(adeff=d["adeff"].drop(columns="BASE")), None, ["ADEFF", "BASE"]),
    (lambda d: None, ('parameter = "ITCHNRS"', 'parameter = "NRSX"'), ["ADEFF", "PARAMCD", "NRSX"]),
    (lambda d: d.update(adsl=d["adsl"].assign(STRATAR=d["adsl"]["STRATAR"].where(d["adsl"].index > 0, ""))),
     None, ["ADEFF", "STRATAR", "covariates", "AD3-001"]),
])
def test_bad_input_one_line_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str], change, plan_edit,
                                   expect: list[str]) -> None:
    adam = _bad(tmp_path, change)
    plan = tmp_path / "plan.toml"
    text = (ROOT / "src" / "dermsim" / "analysis" / "plans" / "ad_default.toml").read_text()
    # the NRS analysis alone keeps the case independent of the binary statistics
    head, *analyses = text.split("[[analysis]]")
    text = head + "[[analysis]]" + next(a for a in analyses if 'id = "nrs-chg"' in a)
    if plan_edit:
        text = text.replace(*plan_edit)
    plan.write_text(text)
    rc = main(["analyze", str(adam), "--plan", str(plan), "--out", str(tmp_path / "out")])
    err = capsys.readouterr().err.strip()
    assert rc == 2
    assert len(err.splitlines()) == 1, err
    for word in expect:
        assert word in err, err
    assert not (tmp_path / "out" / "ard.csv").exists()


@pytest.mark.slow
def test_simulated_true_ad3_with_the_default_plan(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """``dermsim trial simulate true-ad3`` then ``dermsim analyze`` with the built-in AD plan:
    IGA-TS per arm, and each cream strength vs vehicle as a risk difference stratified by the
    randomization strata (MH weights, Sato variance) with CI, and the CMH p-value."""
    rc = main(["trial", "simulate", "true-ad3", "--seed", "1", "--out", str(tmp_path / "ad3"),
               "--format", "parquet"])
    assert rc == 0, capsys.readouterr().err
    rc = main(["analyze", str(tmp_path / "ad3" / "adam"), "--out", str(tmp_path / "out")])
    assert rc == 0, capsys.readouterr().err
    ard = read_ard(tmp_path / "out" / "ard.parquet")
    primary = ard[ard["analysis_id"] == "iga-ts-w8"]
    per_arm = primary[(primary["comparator"] == "") & (primary["stat_name"] == "n")]
    assert len(per_arm) == 3 and per_arm["stat_value"].sum() == 330
    rd = primary[primary["comparator"] == VEH].pivot(index="group_level", columns="stat_name",
                                                     values="stat_value")
    assert len(rd) == 2
    for col in ("estimate", "se", "ci_lower", "ci_upper", "p_value"):
        assert rd[col].notna().all(), col
    assert ((rd["ci_lower"] <= rd["estimate"]) & (rd["estimate"] <= rd["ci_upper"])).all()
    # one method name per analysis; the estimator of each statistic is in its label
    assert set(primary["method"]) == {"proportion_rd_cmh"}
    labels = set(primary.loc[primary["comparator"] == VEH, "stat_label"])
    assert "Estimate (common risk difference, MH weights, Sato variance)" in labels
    assert "p-value (Cochran-Mantel-Haenszel test)" in labels
    assert set(ard["analysis_id"]) >= {"easi75-w8", "nrs4-w8", "easi-pchg", "teae-soc-pt", "disposition"}


def test_only_runs_the_named_analyses_and_rejects_unknown_ids(pilot: Path, tmp_path: Path,
                                                               capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "two"
    rc = main(["analyze", str(pilot), "--plan", str(PILOT_PLAN), "--out", str(out), "--only",
               "t14-1-01,f14-ttde", "--no-tables"])
    assert rc == 0, capsys.readouterr().err
    assert set(read_ard(out / "ard.csv")["analysis_id"]) == {"t14-1-01", "f14-ttde"}
    assert not (out / "tables").exists()
    rc = main(["analyze", str(pilot), "--plan", str(PILOT_PLAN), "--out", str(out), "--only", "t99"])
    err = capsys.readouterr().err
    assert rc == 2 and "analysis_id must be one of t14-1-01" in err and "'t99'" in err
