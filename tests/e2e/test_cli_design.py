"""``dermsim design power | sample-size | sweep`` driven as a user would, on tiny runs."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pandas as pd
import pytest

from dermsim.cli import main

TINY = ["--replicates", "4", "--replicate-block", "2", "--quiet"]


def test_power_uses_the_shipped_posterior_by_default(tmp_path: Path) -> None:
    out = tmp_path / "default"
    assert main(["design", "power", "true-ad3", "--n", "40", "--seed", "2", "--out", str(out), *TINY]) == 0
    from dermsim.calibration.posterior import DEFAULT_VERSION

    assert f"parameters: posterior {DEFAULT_VERSION}" in (out / "report.html").read_text(encoding="utf-8")


def test_power_writes_everything_and_resume_adds_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "power"
    # prior parameters: the large-sample truth (--truth-patients) is defined for the prior only
    args = ["design", "power", "true-ad3", "--n", "40,60", "--seed", "1", "--out", str(out), *TINY,
            "--parameters", "prior"]
    assert main(args) == 0
    for name in (
        "design.duckdb",
        "results.parquet",
        "summary.csv",
        "designs.csv",
        "report.html",
        "power_curve.png",
        "power_curve.svg",
    ):
        assert (out / name).is_file(), name
    first = pd.read_parquet(out / "results.parquet")
    assert sorted(first["design_id"].unique()) == ["power_n40", "power_n60"]
    assert first.groupby("design_id")["replicate"].nunique().tolist() == [4, 4]
    page = (out / "report.html").read_text(encoding="utf-8")
    assert "data:image/png;base64," in page and "Power curves" in page and "prior (model defaults)" in page
    capsys.readouterr()
    # a second run into the same directory must be explicit
    assert main(args) == 2
    assert "pass --resume" in capsys.readouterr().err
    assert main([*args, "--resume", "--truth-patients", "600"]) == 0
    pd.testing.assert_frame_equal(pd.read_parquet(out / "results.parquet"), first)
    # the large-sample truth: one per design content, shared by both sample sizes; bias and coverage
    truth = pd.read_csv(out / "truth.csv")
    assert truth.groupby("hypothesis")["truth"].nunique().eq(1).all()
    summary = pd.read_csv(out / "summary.csv")
    assert summary["bias"].notna().all() and summary["coverage"].between(0, 1).all()
    with duckdb.connect(str(out / "design.duckdb"), read_only=True) as con:
        assert con.execute("SELECT count(*) FROM results").fetchone()[0] == len(first)


def test_sweep_from_toml(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    grid = tmp_path / "grid.toml"
    grid.write_text(
        'scenario = "true-ad3"\n[base]\nendpoints = ["iga_ts"]\n[grid]\nn_total = [30]\n'
        'ratio = [{rux150 = 1, vehicle = 1}]\nstrata = [["IGASTR"], []]\nprimary_day = [29]\n',
        encoding="utf-8",
    )
    out = tmp_path / "sweep"
    assert main(["design", "sweep", str(grid), "--seed", "2", "--out", str(out), *TINY]) == 0
    designs = pd.read_csv(out / "designs.csv")
    assert designs["design_id"].tolist() == [
        "n30_r-rux1501.vehicle1_s-IGASTR_d29",
        "n30_r-rux1501.vehicle1_s-none_d29",
    ]
    assert "n30_r-rux1501.vehicle1_s-IGASTR_d29" in capsys.readouterr().out


def test_sample_size_reports_n_and_interval(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "ss"
    args = [
        "design",
        "sample-size",
        "true-ad3",
        "--power",
        "0.8",
        "--n",
        "20,40,60",
        "--ratio",
        "rux150=1,vehicle=1",
        "--strata",
        "none",
        "--seed",
        "3",
        "--out",
        str(out),
        *TINY,
    ]
    assert main(args) == 0
    text = capsys.readouterr().out
    assert "n_required =" in text and "Monte-Carlo 95% interval" in text
    assert (out / "sample_size.json").is_file()


@pytest.mark.parametrize(
    ("args", "expect"),
    [
        (["design", "power", "true-ad9", "--seed", "1"], "design must be one of"),
        (["design", "power", "true-ad3", "--n", "9:1:1", "--seed", "1"], "--n must be START:STOP:STEP"),
        (
            ["design", "power", "true-ad3", "--n", "40", "--seed", "1", "--ratio", "rux150=1"],
            "ratio must name at least 2",
        ),
        (
            [
                "design",
                "power",
                "true-ad3",
                "--n",
                "40",
                "--seed",
                "1",
                "--workers",
                "2",
                "--scheduler",
                "tcp://h:1",
            ],
            "exclude each other",
        ),
    ],
)
def test_bad_input_one_line_exit_2(
    tmp_path: Path, args: list[str], expect: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main([*args, "--out", str(tmp_path / "o"), "--quiet", "--replicates", "2"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and expect in err and "Traceback" not in err
