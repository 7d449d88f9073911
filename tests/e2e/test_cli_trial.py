"""``dermsim trial simulate`` as a user runs it: folders, formats, byte-identical reruns, XPT read
by pandas and R haven, Dataset-JSON valid, bad designs rejected in one line with exit code 2."""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from dermsim.cli import main
from dermsim.io import read_dataset_json, read_parquet, validate_dataset_json

N = 40


def _run(out: Path, *extra: str, seed: str = "1") -> int:
    return main(["trial", "simulate", "true-ad3", "--seed", seed, "--out", str(out), "--n", str(N), *extra])


def _digests(root: Path) -> dict[str, str]:
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


@pytest.fixture(scope="module")
def trial_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("trial") / "out"
    assert _run(out) == 0
    return out


def test_layout_and_define(trial_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    names = {p.name for p in (trial_dir / "sdtm").iterdir()}
    for dom in ("dm", "ex", "qs", "ae", "ds"):
        assert {f"{dom}.xpt", f"{dom}.json", f"{dom}.parquet"} <= names
    assert {f"{d}.{e}" for d in ("adsl", "adeff", "adae") for e in ("xpt", "json", "parquet")} <= {
        p.name for p in (trial_dir / "adam").iterdir()
    }
    define = json.loads((trial_dir / "define.json").read_text())
    by_name = {d["name"]: d for d in define["datasets"]}
    assert set(by_name) == {"DM", "EX", "QS", "AE", "DS", "ADSL", "ADEFF", "ADAE"}
    assert by_name["ADSL"]["records"] == N and by_name["ADSL"]["standard"] == "ADaM"
    assert by_name["ADEFF"]["keys"][:3] == ["USUBJID", "PARAMCD", "AVISITN"]
    labels = {v["name"]: v["label"] for v in by_name["ADSL"]["variables"]}
    assert labels["TRT01P"] == "Planned Treatment for Period 01" and labels["IGASTR"]
    assert all(v["label"] for d in define["datasets"] for v in d["variables"])


@pytest.mark.slow
def test_seed_1_byte_identical_across_runs_and_chunk_sizes(trial_dir: Path, tmp_path: Path) -> None:
    assert _run(tmp_path / "again") == 0
    assert _run(tmp_path / "chunked", "--chunk-size", "7") == 0
    ref = _digests(trial_dir)
    assert _digests(tmp_path / "again") == ref
    assert _digests(tmp_path / "chunked") == ref
    assert _run(tmp_path / "seed2", seed="2") == 0
    assert _digests(tmp_path / "seed2") != ref


def test_formats_agree(trial_dir: Path) -> None:
    for folder, name in (("adam", "adsl"), ("adam", "adeff"), ("sdtm", "qs")):
        xpt = pd.read_sas(trial_dir / folder / f"{name}.xpt", format="xport", encoding="utf-8")
        pq = read_parquet(trial_dir / folder / f"{name}.parquet").data
        validate_dataset_json(trial_dir / folder / f"{name}.json")
        js = read_dataset_json(trial_dir / folder / f"{name}.json").data
        assert list(xpt.columns) == list(pq.columns) == list(js.columns)
        for col in pq.columns:
            a, b = pq[col], js[col]
            if pd.api.types.is_numeric_dtype(a):
                # pandas decodes an IBM-float zero as 5.4e-79 (its xport reader), hence the atol
                np.testing.assert_allclose(
                    a.to_numpy(float), xpt[col].to_numpy(float), rtol=1e-12, atol=1e-70, equal_nan=True
                )
                np.testing.assert_allclose(a.to_numpy(float), b.to_numpy(float), rtol=0, equal_nan=True)
            elif pd.api.types.is_datetime64_any_dtype(a):
                assert a.equals(b)
            else:
                assert list(a.fillna("")) == list(b.fillna("")) == list(xpt[col].fillna("").str.rstrip())


@pytest.mark.external
def test_xpt_read_by_r_haven(trial_dir: Path, tmp_path: Path) -> None:
    """R: ``haven::read_xpt("adsl.xpt")``; values and labels agree with the Parquet copy."""
    if shutil.which("Rscript") is None:
        pytest.skip("Rscript is not installed (scripts/install-external.sh installs R and haven)")
    out = tmp_path / "adsl_r.csv"
    script = (
        f'd <- haven::read_xpt("{trial_dir / "adam" / "adsl.xpt"}"); '
        f"write.csv(data.frame(USUBJID=d$USUBJID, AGE=d$AGE, TRT01P=d$TRT01P, IGABL=d$IGABL, "
        f'TRTSDT=format(d$TRTSDT)), "{out}", row.names=FALSE); '
        f'cat(attr(d$TRT01P, "label"))'
    )
    res = subprocess.run(["Rscript", "-e", script], capture_output=True, text=True, timeout=120, check=False)
    if res.returncode != 0 and "haven" in res.stderr:
        pytest.skip("R package haven is missing (apt-get install -y r-cran-haven)")
    assert res.returncode == 0, res.stderr
    assert res.stdout.strip() == "Planned Treatment for Period 01"
    r = pd.read_csv(out)
    pq = read_parquet(trial_dir / "adam" / "adsl.parquet").data
    assert list(r["USUBJID"]) == list(pq["USUBJID"])
    np.testing.assert_allclose(r["AGE"], pq["AGE"], rtol=0)
    np.testing.assert_allclose(r["IGABL"], pq["IGABL"], rtol=0)
    assert list(r["TRT01P"]) == list(pq["TRT01P"])
    assert list(r["TRTSDT"]) == list(pq["TRTSDT"].dt.strftime("%Y-%m-%d"))


def test_bad_design_one_line_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    src = Path(__file__).parents[2] / "examples" / "trial_design_example.toml"
    bad = tmp_path / "bad.toml"
    bad.write_text(src.read_text().replace("ratio = 1\n", "ratio = 0\n"))
    rc = main(["trial", "simulate", str(bad), "--seed", "1", "--out", str(tmp_path / "o")])
    err = capsys.readouterr().err.strip()
    assert rc == 2
    assert err.count("\n") == 0 and "bad.toml" in err and "arms.1.ratio" in err
    assert not (tmp_path / "o").exists()
    rc = main(
        ["trial", "simulate", "true-ad3", "--seed", "1", "--out", str(tmp_path / "o"), "--format", "sas"]
    )
    assert rc == 2 and "--format" in capsys.readouterr().err
    assert not (tmp_path / "o").exists()


def test_failed_run_keeps_previous_folder(trial_dir: Path, tmp_path: Path, monkeypatch) -> None:
    out = tmp_path / "keep"
    shutil.copytree(trial_dir, out)
    before = _digests(out)
    import dermsim.io.study as study_files

    def boom(*a, **k):
        raise RuntimeError("disk full")

    monkeypatch.setattr(study_files, "write_adam_dir", boom)
    # an internal error: exit 1 with a one-line hint; --overwrite was given, yet the old folder stays
    assert main(["trial", "simulate", "true-ad3", "--seed", "3", "--out", str(out), "--n", "10",
                 "--overwrite"]) == 1
    assert _digests(out) == before
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]
