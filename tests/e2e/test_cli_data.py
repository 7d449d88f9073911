"""``dermsim data check`` and ``dermsim data convert`` driven as a user would; bad input gives one
line on stderr, exit code 2 and no output folder."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from ad_adam_data import make_ad_adam
from dermsim.cli import main
from dermsim.io import read_adam_dir, read_xpt, validate_dataset_json


def _csv_folder(folder: Path, data: dict[str, pd.DataFrame] | None = None) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, df in (data or make_ad_adam(n=12)).items():
        df.to_csv(folder / f"{name}.csv.gz", index=False)
    return folder


def test_check_lists_datasets(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rc = main(["data", "check", str(_csv_folder(tmp_path / "adam"))])
    out = capsys.readouterr().out
    assert rc == 0
    assert "ADSL" in out and "ADEFF" in out and "adae.csv.gz" in out
    assert "3 datasets read" in out


def test_convert_csv_to_xpt_and_json(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    src = _csv_folder(tmp_path / "adam")
    out = tmp_path / "out"
    rc = main(["data", "convert", str(src), "--out", str(out), "--format", "xpt,json"])
    assert rc == 0, capsys.readouterr().err
    assert sorted(p.name for p in out.iterdir() if p.name != ".dermsim-files.json") == [
        "adae.json", "adae.xpt", "adeff.json", "adeff.xpt", "adsl.json", "adsl.xpt", "define.json"]
    validate_dataset_json(out / "adeff.json")
    xpt = read_xpt(out / "adsl.xpt")
    assert xpt.meta.label == "Subject-Level Analysis Dataset"
    assert xpt.meta.column("AGE").label == "Age"
    back = read_adam_dir(out)
    assert len(back["adeff"].data) == len(read_adam_dir(src)["adeff"].data)


@pytest.mark.parametrize(("args", "change", "words"), [
    (["check"], lambda d: d.update(adsl=pd.concat([d["adsl"], d["adsl"].iloc[[1]]])),
     ["ADSL has 2 records for USUBJID AD3-002"]),
    (["check", "--strict"], None, ["ADAE: required variable STUDYID is missing."]),
    (["convert", "--format", "xpt,sas7bdat"], None, ["formats must be among", "sas7bdat"]),
    (["convert"], lambda d: d.update(adsl=d["adsl"].rename(columns={"TRT01PN": "TRT01PNUM"})),
     ["ADSL", "TRT01PNUM", "at most 8"]),
    (["convert", "--datasets", "adsl,adtte"], None, ["dataset ADTTE not found"]),
])
def test_bad_input_one_line_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str], args, change,
                                   words: list[str]) -> None:
    data = make_ad_adam(n=12)
    if change:
        change(data)
    src = _csv_folder(tmp_path / "adam", data)
    out = tmp_path / "out"
    cmd = ["data", args[0], str(src), *args[1:]]
    if args[0] == "convert":
        cmd += ["--out", str(out)]
    rc = main(cmd)
    err = capsys.readouterr().err.strip()
    assert rc == 2 and len(err.splitlines()) == 1, err
    for w in words:
        assert w in err, err
    assert not out.exists()


def test_pilot_check(shared_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    pilot = shared_dir / "data" / "cdisc_pilot"
    if not pilot.is_dir():
        pytest.skip(f"CDISC pilot data not found at {pilot}")
    rc = main(["data", "check", str(pilot), "--datasets", "adsl,adae,adtte,adcibc,adadas", "--strict"])
    assert rc == 0, capsys.readouterr().err
    assert "5 datasets read" in capsys.readouterr().out
