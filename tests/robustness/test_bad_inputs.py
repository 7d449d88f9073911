# ruff: noqa: E501  (a table of cases: one case a line reads better than wrapped)
"""Bad input over every command and reader: exit 2, one stderr line, no traceback, nothing written
or changed (see conftest). Each case builds its inputs in a fresh folder and returns the argv."""

from __future__ import annotations

import gzip
import json
import os
from collections.abc import Callable
from pathlib import Path

import pytest

from robustness.corpus import copy_adam, run_cli, tally_and_check

Builder = Callable[[Path, Path, Path], list[str]]
CASES: list[tuple[str, Builder]] = []


def case(cid: str, argv: list[str] | Builder) -> None:
    CASES.append((cid, argv if callable(argv) else (lambda d, t, c, a=argv: list(a))))


def _bad(values: dict[str, list[str]], prefix: list[str], cid: str, suffix: list[str] = ()) -> None:
    for opt, vals in values.items():
        for v in vals:
            case(f"{cid}{opt}={v}", [*prefix, opt, v, *list(suffix)])


# ---- option values --------------------------------------------------------------------------------
NUM = ["abc", "", "nan", "inf"]
_bad({"--n": ["-1", "0", "1e23", "99999999999", "abc", "2.5"], "--seed": ["-1", "x", "1.5"],
      "--n-replicates": ["0", "-3", "10000000"]},
     ["run", "true-ad3", "--out", "o"], "run")
case("run-unknown-scenario", ["run", "true-ad9", "--out", "o"])
case("run-missing-toml", ["run", "nothere.toml", "--out", "o"])
case("run-unknown-option", ["run", "true-ad3", "--out", "o", "--bogus"])
case("run-no-out", ["run", "true-ad3"])
_bad({"--n": ["-1", "0", "1e23", "2000000"], "--seed": ["-1"], "--format": ["sas", "", "xpt,foo"],
      "--chunk-size": ["0", "-5", "100000000"], "--posterior": ["bogus", "missing.json"]},
     ["trial", "simulate", "true-ad3", "--out", "o", "--seed", "1"], "trial", )
case("trial-unknown-design", ["trial", "simulate", "nope", "--seed", "1", "--out", "o"])
_bad({"--n": ["-1", "0", "1e23", "20000000"], "--weeks": ["0", "-1", "1e9", *NUM],
      "--strength": ["-1", "101", *NUM], "--interval-h": ["-1", "25", "nan"], "--workers": ["0", "100000"],
      "--record": ["bogus", ""], "--blocked": ["bogus"], "--grams": ["-1", "nan"],
      "--population": ["bogus"], "--posterior": ["bogus"], "--params": ["nowhere"], "--seed": ["-1"]},
     ["simulate", "--out", "s.parquet", "--seed", "1", "--n", "5"], "simulate")
_bad({"--n": ["-1", "0", "1e23", "20000000"], "--chunk-size": ["0", "-1"], "--seed": ["-1"]},
     ["population", "true-ad3"], "population")
case("population-unknown", ["population", "bogus", "--n", "10"])
_power = ["design", "power", "true-ad3", "--seed", "1", "--out", "o", "--replicates", "2", "--n", "40"]
_bad({"--replicates": ["0", "-1", "10000000"], "--alpha": ["0", "1", "-0.1", "nan"],
      "--ratio": ["rux150=1", "bogus=1,vehicle=1", "rux150=x,vehicle=1", "rux150=0,vehicle=0"],
      "--strata": ["bogus"], "--primary-day": ["-1", "0", "100000"], "--workers": ["0", "-2"],
      "--scheduler": ["foo", "http://x"], "--chunk-size": ["0", "-1"], "--replicate-block": ["0", "-4"],
      "--truth-patients": ["-5", "50", "1e23"], "--parameters": ["bogus"], "--seed": ["-1"]},
     _power, "power")
for bad_n in ["0", "-10", "abc", "100:50:10", "10:100:0", "", "1e23", "1,2,x"]:
    case(f"power--n={bad_n}", ["design", "power", "true-ad3", "--seed", "1", "--out", "o", "--replicates",
                               "2", "--n", bad_n])
case("power-unknown-scenario", ["design", "power", "bogus", "--seed", "1", "--out", "o", "--n", "40"])
_ss = ["design", "sample-size", "true-ad3", "--seed", "1", "--out", "o", "--replicates", "2"]
_bad({"--power": ["0", "1", "1.5", "-0.2", "nan"], "--n": ["0", "abc", "50:10:5"]}, _ss, "samplesize")
case("sweep-missing-grid", ["design", "sweep", "nogrid.toml", "--seed", "1", "--out", "o"])
_bad({"--particles": ["0", "-1", "1000000"], "--proposals": ["0", "1"], "--generations": ["0", "-1", "5000"],
      "--n-vp": ["0", "-5", "100000000"], "--targets": ["missing.toml"], "--seed": ["-1"]},
     ["calibrate", "--out", "post.json"], "calibrate")
_dose = ["dose", "--age", "6", "--area-pct", "10"]
_bad({"--age": ["-1", "0", "1", "200", "nan", "abc"], "--weight": ["-1", "0", "nan", "5000"],
      "--height": ["0", "-3", "nan"], "--strength": ["-1", "7", "nan"], "--per-day": ["0", "-1"],
      "--draws": ["0", "-1", "100000000"], "--grams-per-day": ["-1", "nan"], "--sex": ["X", "female"],
      "--seed": ["-1"]}, _dose, "dose")
for regions in ["arms", "arms:abc", "arms:50,arms:60", "nose:10", "arms:-5", "arms:150", ",", "arms:nan"]:
    case(f"dose-regions={regions}", ["dose", "--age", "6", "--regions", regions])
case("dose-area-and-regions", ["dose", "--age", "6", "--regions", "arms:50", "--area-pct", "5"])
for area in ["0", "-1", "101", "nan"]:
    case(f"dose-area={area}", ["dose", "--age", "6", "--area-pct", area])
case("dose-no-area", ["dose", "--age", "6"])
_bad({"--age": ["-1", "200", "nan"], "--area-pct": ["0", "101"], "--weight": ["-2"]},
     ["family-sheet", "--age", "6", "--out", "sheet.html", "--area-pct", "10"], "family")
case("family-bad-suffix", ["family-sheet", "--age", "6", "--area-pct", "10", "--out", "sheet.docx"])
_bad({"--format": ["bogus"], "--strength": ["-1", "nan"], "--age": ["-1", "500"], "--weight-kg": ["0", "-1"],
      "--height-cm": ["-1"], "--affected-pct": ["150", "-1"], "--interval-h": ["0", "-1"],
      "--grams": ["-1"], "--params": ["nowhere"]}, ["model", "export", "--out", "m.xml"], "export")
_bad({"--group": ["bogus"], "--format": ["bogus"], "--params": ["nowhere"]}, ["model", "params"], "params")
case("evidence-show-unknown", ["evidence", "show", "true-ad9"])
case("evidence-show-format", ["evidence", "show", "true-ad1", "--format", "yaml"])
case("evidence-list-data-dir", ["evidence", "list", "--data-dir", "nowhere"])
case("validate-missing-posterior", ["validate", "--posterior", "nope.json", "--out", "v"])


# ---- damaged data for data check / data convert / analyze ----------------------------------------------
def _with(files: dict[str, bytes | str | None], *, base: str = "adam") -> Callable[[Path, Path, Path], Path]:
    """A folder ``d/in`` with the valid datasets, then ``files`` written over them (None deletes)."""
    def make(d: Path, trial: Path, csvdir: Path) -> Path:
        src = trial / "adam" if base == "adam" else csvdir
        folder = copy_adam(src, d / "in")
        for name, content in files.items():
            p = folder / name
            if content is None:
                p.unlink()
            elif isinstance(content, bytes):
                p.write_bytes(content)
            else:
                p.write_text(content)
        return folder
    return make


def _json_with(trial: Path, var: str, literal: str) -> str:
    doc = json.loads((trial / "adam" / "adsl.json").read_text())
    i = [c["name"] for c in doc["columns"]].index(var)
    doc["rows"][0][i] = "__X__"
    return json.dumps(doc).replace('"__X__"', literal)


def damaged(cid: str, make: Callable[[Path, Path, Path], Path | None], extra: list[str] = (),
            commands: tuple[str, ...] = ("data check", "data convert", "analyze")) -> None:
    for cmd in (c.split() for c in commands):
        def build(d: Path, t: Path, c: Path, make=make, cmd=cmd) -> list[str]:
            folder = make(d, t, c)
            target = str(folder) if folder is not None else str(d / "missing")
            tail = ["--out", "o"] if cmd[0] in ("analyze",) or cmd[-1] == "convert" else []
            return [*cmd, target, *tail, *extra]
        case(f"{'-'.join(cmd)}:{cid}", build)


def _trunc(frac: float) -> Callable[[Path, Path, Path], Path]:
    def make(d: Path, t: Path, c: Path) -> Path:
        data = (t / "adam" / "adsl.xpt").read_bytes()
        return _with({"adsl.xpt": data[: int(len(data) * frac)]})(d, t, c)
    return make


def _xpt_cut_records(n_records_short: int) -> Callable[[Path, Path, Path], Path]:
    def make(d: Path, t: Path, c: Path) -> Path:
        data = (t / "adam" / "adsl.xpt").read_bytes()
        return _with({"adsl.xpt": data[: len(data) - 80 * n_records_short]})(d, t, c)
    return make


def _only(files: dict[str, bytes | str]) -> Callable[[Path, Path, Path], Path]:
    def make(d: Path, t: Path, c: Path) -> Path:
        folder = d / "in"
        folder.mkdir()
        for k, v in files.items():
            (folder / k).write_bytes(v if isinstance(v, bytes) else v.encode())
        return folder
    return make


def _json_only(literal: str, var: str = "AGE") -> Callable[[Path, Path, Path], Path]:
    def make(d: Path, t: Path, c: Path) -> Path:
        folder = copy_adam(t / "adam", d / "in", keep=("adae.json", "adeff.json", "define.json"))
        (folder / "adsl.json").write_text(_json_with(t, var, literal))
        return folder
    return make


def _symlink_out(d: Path, t: Path, c: Path) -> Path:
    folder = copy_adam(t / "adam", d / "in", keep=("adae.xpt", "adeff.xpt"))
    outside = d / "elsewhere"
    outside.mkdir()
    (outside / "adsl.xpt").write_bytes((t / "adam" / "adsl.xpt").read_bytes())
    os.symlink(outside / "adsl.xpt", folder / "adsl.xpt")
    return folder


def _not_a_folder(d: Path, t: Path, c: Path) -> Path:
    (d / "in").write_text("a file\n")
    return d / "in"


damaged("missing-folder", lambda d, t, c: None)
damaged("file-not-folder", _not_a_folder)
damaged("empty-folder", lambda d, t, c: (d / "in").mkdir() or d / "in")
damaged("only-other-files", _only({"readme.txt": "hello"}))
damaged("xpt-half", _trunc(0.5))
damaged("xpt-90pct", _trunc(0.9))
damaged("xpt-header-only", _trunc(0.02))
damaged("xpt-one-record-short", _xpt_cut_records(1))
damaged("xpt-garbage", _with({"adsl.xpt": b"\x00garbage" * 50}))
damaged("xpt-empty", _with({"adsl.xpt": b""}))
damaged("json-age-1e999", _json_only("1e999"))
damaged("json-age-NaN", _json_only("NaN"))
damaged("json-age-Infinity", _json_only("-Infinity"))
damaged("json-age-text", _json_only('"old"'))
damaged("json-not-json", _only({"adsl.json": "{not json"}))
damaged("json-array", _only({"adsl.json": "[1, 2, 3]"}))
damaged("json-records-lie", _only({"adsl.json": json.dumps({
    "datasetJSONCreationDateTime": "2026-01-01T00:00:00", "datasetJSONVersion": "1.1.0", "itemGroupOID": "IG.ADSL",
    "records": 5, "name": "ADSL", "label": "x", "columns": [
        {"itemOID": "IT.USUBJID", "name": "USUBJID", "label": "id", "dataType": "string", "length": 3}],
    "rows": [["a"]]})}))
damaged("json-bad-utf8", _only({"adsl.json": b"\xff\xfe{}"}))
damaged("csv-empty", _only({"adsl.csv": ""}))
# an ADSL with no subject is a dataset (data check lists it: 0 records); there is nothing to analyse
damaged("csv-adsl-no-records", _only({"adsl.csv": "USUBJID\n"}), commands=("analyze",))
def _csv_value(name: str, var: str, value: str) -> Callable[[Path, Path, Path], Path]:
    def make(d: Path, t: Path, c: Path) -> Path:
        import pandas as pd

        folder = copy_adam(c, d / "in")
        df = pd.read_csv(folder / name, dtype=str, keep_default_na=False)
        df.loc[0, var] = value
        df.to_csv(folder / name, index=False)
        return folder
    return make


damaged("csv-age-inf", _csv_value("adsl.csv", "AGE", "inf"))
damaged("csv-age-text", _csv_value("adsl.csv", "AGE", "old"))
damaged("csv-date-bad", _csv_value("adsl.csv", "TRTSDT", "2024-13-45"))
damaged("csv-bad-utf8", _only({"adsl.csv": b"USUBJID,AGE\n\xff\xfe,3\n"}))
damaged("csv-gz-not-gzip", _only({"adsl.csv.gz": b"not gzip at all"}))
damaged("csv-gz-truncated", _only({"adsl.csv.gz": gzip.compress(b"USUBJID,AGE\n" + b"a,1\n" * 500)[:60]}))
damaged("csv-duplicate-column", _only({"adsl.csv": "USUBJID,AGE,AGE\na,1,2\n"}))
damaged("parquet-garbage", _with({"adsl.parquet": b"PAR1garbagePAR1", "adsl.xpt": None, "adsl.json": None}))
damaged("symlink-outside", _symlink_out)
damaged("adsl-missing-usubjid", _only({"adsl.csv": "STUDYID,AGE\nS,3\n"}))
damaged("adsl-duplicate-keys", _only({"adsl.csv": "STUDYID,USUBJID,AGE\nS,a,3\nS,a,4\n"}))


def _cross(d: Path, t: Path, c: Path) -> Path:
    import pandas as pd

    folder = copy_adam(c, d / "in", keep=("adae.csv", "adeff.csv", "define.json"))
    adsl = pd.read_csv(c / "adsl.csv", dtype=str, keep_default_na=False)
    adsl.iloc[: len(adsl) // 2].to_csv(folder / "adsl.csv", index=False)
    return folder


case("data-check:adae-subjects-not-in-adsl-strict", lambda d, t, c: ["data", "check", str(_cross(d, t, c)), "--strict"])
case("data-check:datasets-bogus", lambda d, t, c: ["data", "check", str(t / "adam"), "--datasets", "adxx"])
case("data-check:datasets-empty", lambda d, t, c: ["data", "check", str(t / "adam"), "--datasets", ","])
case("data-convert:format-bogus", lambda d, t, c: ["data", "convert", str(t / "adam"), "--out", "o", "--format", "sas"])
case("data-convert:out-is-input", lambda d, t, c: ["data", "convert", str(copy_adam(t / "adam", d / "in")), "--out",
                                                   str(d / "in")])
case("analyze:plan-missing", lambda d, t, c: ["analyze", str(t / "adam"), "--out", "o", "--plan", "noplan.toml"])
case("analyze:plan-bad-toml", lambda d, t, c: ((d / "p.toml").write_text("[[analysis]\nid=") and
                                               ["analyze", str(t / "adam"), "--out", "o", "--plan", str(d / "p.toml")]))
case("analyze:only-bogus", lambda d, t, c: ["analyze", str(t / "adam"), "--out", "o", "--only", "t99"])
case("report:source-missing", ["report", "nowhere", "--out", "o"])
case("report:empty-ard-csv", lambda d, t, c: ((d / "ard.csv").write_text("") or ["report", str(d / "ard.csv"),
                                                                                  "--out", "o"]))
case("report:garbage-ard-parquet", lambda d, t, c: ((d / "ard.parquet").write_bytes(b"PAR1xxPAR1") and
                                                    ["report", str(d / "ard.parquet"), "--out", "o"]))
case("report:folder-without-ard", lambda d, t, c: ((d / "run").mkdir() or ["report", str(d / "run"), "--out", "o"]))
case("report:ard-wrong-columns", lambda d, t, c: ((d / "ard.csv").write_text("a,b\n1,2\n") and
                                                  ["report", str(d / "ard.csv"), "--out", "o"]))



# ---- pharmacometric options (issue 18) ------------------------------------------------------------------
def _cov(name: str, data: str | bytes) -> Builder:
    def build(d: Path, t: Path, c: Path) -> list[str]:
        (d / name).write_bytes(data if isinstance(data, bytes) else data.encode())
        return ["simulate", "--covariates", str(d / name), "--seed", "1", "--out", "s.parquet", "--weeks", "1"]
    return build


_bad({"--hours": ["0:4:x", "0:9999:1", "5,2", "x", "4:0:1"]},
     ["simulate", "--out", "s.parquet", "--seed", "1", "--n", "3", "--weeks", "1", "--record", "cp_nM"], "simulate-hours")
_bad({"--days": ["7,14", "0,14,7", "0:99:7", "0,1.5", "x", "0:56:x"]},
     ["simulate", "--out", "s.parquet", "--seed", "1", "--n", "3", "--weeks", "8"], "simulate-days")
case("simulate-hours-only-scores", ["simulate", "--out", "s.parquet", "--seed", "1", "--n", "3", "--weeks", "1", "--record", "easi", "--hours", "0:24:1"])
case("simulate:covariates-missing-file", ["simulate", "--covariates", "nowhere.csv", "--seed", "1", "--out", "s.parquet"])
case("simulate:covariates-empty", _cov("cov.csv", ""))
case("simulate:covariates-no-age", _cov("cov.csv", "SEX\nF\n"))
case("simulate:covariates-bad-sex", _cov("cov.csv", "AGE,SEX\n5,Q\n"))
case("simulate:covariates-age-1", _cov("cov.csv", "AGE\n1\n"))
case("simulate:covariates-text-weight", _cov("cov.csv", "AGE,WT\n5,heavy\n"))
case("simulate:covariates-garbage-parquet", _cov("cov.parquet", b"PAR1xxPAR1"))
case("simulate:covariates-xlsx", _cov("cov.xlsx", "AGE\n5\n"))
_bad({"--n": ["100", "0", "-4", "x"], "--output": ["bogus"], "--method": ["bogus"], "--params": ["nope"],
      "--posterior": ["prior", "missing.json"], "--patients": ["1", "0"]},
     ["model", "sensitivity", "--out", "o", "--output", "css"], "sensitivity")
case("validate-vpc-data-missing", ["validate", "--out", "v", "--vpc-data", "nowhere.csv"])
case("validate-vpc-draws-negative", ["validate", "--out", "v", "--vpc-draws", "-1"])
case("validate-pk-draws-zero", ["validate", "--out", "v", "--pk-draws", "0"])

# ---- design TOML damage --------------------------------------------------------------------------------
def _design_toml(text: str, cmd: str) -> Builder:
    def build(d: Path, t: Path, c: Path) -> list[str]:
        (d / "my.toml").write_text(text)
        if cmd == "run":
            return ["run", str(d / "my.toml"), "--out", "o", "--n", "6"]
        if cmd == "trial":
            return ["trial", "simulate", str(d / "my.toml"), "--seed", "1", "--out", "o", "--n", "6"]
        return ["design", "power", str(d / "my.toml"), "--seed", "1", "--out", "o", "--n", "40",
                "--replicates", "2"]
    return build


_TOMLS = {
    "syntax": "[design\nid = 'x'",
    "empty": "",
    "binary": "\x00\x01\x02",
    "wrong-type": "[design]\nid = 5\n",
    "unknown-key": "bogus = 1\n",
}
for tname, text in _TOMLS.items():
    for cmd in ("run", "trial", "design"):
        case(f"toml-{tname}-{cmd}", _design_toml(text, cmd))


# ---- the output location ------------------------------------------------------------------------------
def _out_cases(cid: str, argv: list[str], kind: str = "dir") -> None:
    """--out that is a file, a non-empty folder of the user's, and under a file."""
    def as_file(d: Path, t: Path, c: Path, argv=argv) -> list[str]:
        (d / "target").write_text("user file\n")
        return [a.replace("@OUT", "target").replace("@ADAM", str(t / "adam")) for a in argv]

    def nonempty(d: Path, t: Path, c: Path, argv=argv) -> list[str]:
        (d / "target").mkdir()
        (d / "target" / "thesis.docx").write_text("do not delete\n")
        return [a.replace("@OUT", "target").replace("@ADAM", str(t / "adam")) for a in argv]

    def under_file(d: Path, t: Path, c: Path, argv=argv) -> list[str]:
        return [a.replace("@OUT", "notes.txt/sub").replace("@ADAM", str(t / "adam")) for a in argv]

    def folder_for_file(d: Path, t: Path, c: Path, argv=argv) -> list[str]:
        (d / "target").mkdir()
        return [a.replace("@OUT", "target").replace("@ADAM", str(t / "adam")) for a in argv]

    if kind == "dir":
        case(f"out-is-file:{cid}", as_file)
        case(f"out-not-empty:{cid}", nonempty)
    else:
        case(f"out-exists:{cid}", as_file)
        case(f"out-is-folder:{cid}", folder_for_file)
    case(f"out-under-file:{cid}", under_file)


_out_cases("run", ["run", "true-ad3", "--n", "6", "--out", "@OUT"])
_out_cases("trial", ["trial", "simulate", "true-ad3", "--seed", "1", "--n", "6", "--out", "@OUT"])
_out_cases("convert", ["data", "convert", "@ADAM", "--out", "@OUT"])
_out_cases("analyze", ["analyze", "@ADAM", "--out", "@OUT"])
_out_cases("power", ["design", "power", "true-ad3", "--seed", "1", "--n", "40", "--replicates", "2", "--out",
                     "@OUT"])
_out_cases("sample-size", ["design", "sample-size", "true-ad3", "--seed", "1", "--n", "40:60:20",
                           "--replicates", "2", "--out", "@OUT"])
_out_cases("simulate", ["simulate", "--seed", "1", "--n", "5", "--out", "@OUT"], "file")
_out_cases("export", ["model", "export", "--out", "@OUT"], "file")
_out_cases("family", ["family-sheet", "--age", "6", "--area-pct", "10", "--out", "@OUT"], "file")
_out_cases("dose-html", ["dose", "--age", "6", "--area-pct", "10", "--html", "@OUT"], "file")


@pytest.mark.parametrize("cid,build", CASES, ids=[c[0] for c in CASES])
def test_bad_input_is_one_clean_line(cid: str, build: Builder, case_dir: Path, valid_trial: Path,
                                     valid_csv: Path, capsys: pytest.CaptureFixture[str]) -> None:
    argv = build(case_dir, valid_trial, valid_csv)
    tally_and_check(run_cli(argv, case_dir, capsys))


def test_corpus_is_large_enough() -> None:
    assert len(CASES) >= 200, len(CASES)
