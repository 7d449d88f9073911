"""``dermsim run`` and ``dermsim report`` driven as a user would, on a small TRuE-AD3 (--n 100):
every output, reproducibility by seed, re-rendering without simulation, bad input."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from dermsim.cli import main
from dermsim.io.ard import read_ard

SMALL = ["--n", "100", "--seed", "1"]


def _files(root: Path, pattern: str) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.glob(pattern)) if p.is_file()}


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("run") / "true-ad3"
    assert main(["run", "true-ad3", *SMALL, "--out", str(out)]) == 0
    return out


@pytest.mark.slow
def test_run_writes_every_output(run_dir: Path) -> None:
    assert (run_dir / "report.html").is_file()
    rtf = sorted(p.stem for p in (run_dir / "tlf").glob("*.rtf"))
    for name in (
        "t14-1-1-disposition",
        "t14-1-2-demographics",
        "t14-2-1-primary",
        "t14-2-2-key-secondary",
        "t14-2-4-iga-ts-by-visit",
        "t14-2-7-subgroups",
        "t14-3-1-teae-overview",
        "t14-3-2-teae-soc-pt",
    ):
        assert name in rtf, rtf
    figs = {p.name for p in (run_dir / "figures").iterdir()}
    for stem in (
        "f-consort",
        "f-iga-ts-by-visit",
        "f-change-by-visit",
        "f-forest-iga-ts",
        "f-simulated-vs-published",
        "f-css-vs-281nM",
    ):
        assert {f"{stem}.png", f"{stem}.svg"} <= figs, figs
    for ds in ("adsl", "adeff", "adae"):
        assert (run_dir / "adam" / f"{ds}.xpt").is_file() and (run_dir / "adam" / f"{ds}.json").is_file()
    ard = read_ard(run_dir / "ard.csv")
    primary = ard[(ard["analysis_id"] == "iga-ts-w8") & (ard["comparator"] == "") & (ard["stat_name"] == "n")]
    assert primary["stat_value"].sum() == 100
    manifest = json.loads((run_dir / "manifest.json").read_text())
    assert manifest["scenario"] == "true-ad3" and manifest["seed"] == 1 and manifest["n_subjects"] == 100
    assert {"dermsim_version", "code_version", "posterior_version", "posterior_sha256", "parameters"} <= set(
        manifest
    )
    exposure = (run_dir / "model" / "exposure.csv").read_text().splitlines()
    assert exposure[0] == "arm,strength_pct,adherence,css_nM,grams_per_application,patient"
    assert len(exposure) == 101
    html = (run_dir / "report.html").read_text()
    assert "Model and calibration provenance" in html and "How this compares with the published trial" in html
    assert "href='adam/adsl.xpt'" in html and "href='ard.csv'" in html


@pytest.mark.slow
def test_same_seed_gives_identical_ard_and_datasets(
    run_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    again = tmp_path / "again"
    assert main(["run", "true-ad3", *SMALL, "--out", str(again)]) == 0
    out = capsys.readouterr().out
    assert "IGA-TS" in out and f"report: {again / 'report.html'}" in out.replace("\n", "")
    for pattern in ("ard.csv", "adam/*", "sdtm/*", "define.json", "model/exposure.csv", "tlf/*.rtf"):
        first, second = _files(run_dir, pattern), _files(again, pattern)
        assert first and first.keys() == second.keys(), pattern
        for name in first:
            assert first[name] == second[name], name
    other = tmp_path / "other"
    assert main(["run", "true-ad3", "--n", "100", "--seed", "2", "--out", str(other)]) == 0
    assert (other / "ard.csv").read_bytes() != (run_dir / "ard.csv").read_bytes()


@pytest.mark.slow
def test_report_rerenders_without_simulating(
    run_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import dermsim.trial

    def refuse(*_a: object, **_k: object) -> None:
        raise AssertionError("dermsim report must not simulate")

    monkeypatch.setattr(dermsim.trial, "simulate_trial", refuse)
    monkeypatch.setattr(dermsim.trial.conduct, "simulate_trial", refuse)
    out = tmp_path / "again"
    assert main(["report", str(run_dir), "--out", str(out)]) == 0
    assert _files(out, "tlf/*.rtf") == _files(run_dir, "tlf/*.rtf")
    html = (out / "report.html").read_text()
    assert "Model and calibration provenance" in html
    assert "href='../" in html  # data links point into the run folder
    bare = tmp_path / "bare"
    assert main(["report", str(run_dir / "ard.csv"), "--out", str(bare)]) == 0
    assert "Model and calibration" not in (bare / "report.html").read_text()


@pytest.mark.parametrize(
    ("argv", "words"),
    [
        (["run", "true-ad9", "--out", "{out}"], ["true-ad9"]),
        (["run", "true-ad3", "--n-replicates", "0", "--out", "{out}"], ["--n-replicates", "0"]),
        (["report", "{out}/nothing", "--out", "{out}"], ["ARD_OR_RUN_DIR"]),
    ],
)
def test_bad_input_one_line_exit_2(
    argv: list[str], words: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out"
    rc = main([a.replace("{out}", str(out)) for a in argv])
    err = capsys.readouterr().err.strip().splitlines()
    assert rc == 2
    assert len([e for e in err if e.startswith("dermsim:")]) == 1, err
    for w in words:
        assert w in err[-1], err
    assert not (out / "report.html").exists()


@pytest.mark.slow
def test_replicates_add_a_summary_over_trials(run_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "reps"
    assert main(["run", "true-ad3", *SMALL, "--n-replicates", "3", "--out", str(out)]) == 0
    # replicate 0 is the reported trial: the same seed gives the same main ARD as a single run
    assert (out / "ard.csv").read_bytes() == (run_dir / "ard.csv").read_bytes()
    reps = pd.read_csv(out / "replicates" / "ard.csv")
    assert set(reps["replicate"]) == {1, 2}
    summary = read_ard(out / "replicates" / "summary" / "ard.csv")
    n = summary[(summary["stat_name"] == "n") & (summary["variable"] == "rate_pct")]
    assert len(n) == 9 and (n["stat_value"] == 3).all()
    # the median response rate of an arm is the middle of its three trials' rates
    main_rate = read_ard(out / "ard.csv")
    own = main_rate[
        (main_rate["analysis_id"] == "iga-ts-w8")
        & (main_rate["comparator"] == "")
        & (main_rate["stat_name"] == "estimate")
    ].set_index("group_level")["stat_value"]
    r = reps[
        (reps["analysis_id"] == "iga-ts-w8") & (reps["comparator"].isna()) & (reps["stat_name"] == "estimate")
    ]
    arm = own.index[0]
    rates = sorted([100 * own[arm], *(100 * r.loc[r["group_level"] == arm, "stat_value"])])
    med = summary[
        (summary["parameter"] == "IGATS")
        & (summary["variable"] == "rate_pct")
        & (summary["group_level"] == arm)
        & (summary["stat_name"] == "median")
    ]["stat_value"]
    assert float(med.iloc[0]) == pytest.approx(rates[1], rel=1e-12)
    assert (out / "tlf" / "t14-2-8-replicates.rtf").is_file()
    assert (out / "tlf" / "l16-2-7-severe-serious-teae.rtf").is_file()


def test_study_records_exposure_with_the_run_parameters_and_skips_the_extension(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The trial keeps each treatment group's model Css as data (StudyData.exposure), from the
    vehicle-controlled call with the run's parameters; the extension calls are not recorded."""
    import numpy as np

    import dermsim.trial.conduct as conduct
    from dermsim.trial import load_design, simulate_trial

    seen: list[tuple[object, int]] = []
    real = conduct.simulate_patients

    def spy(population, regimen, days, seed, **kw):  # type: ignore[no-untyped-def]
        seen.append((kw.get("params"), days))
        return real(population, regimen, days, seed, **kw)

    monkeypatch.setattr(conduct, "simulate_patients", spy)
    design = load_design("true-ad3")
    study = simulate_trial(design, 5, n=24, params=None)
    exp = study.exposure
    assert list(exp.columns) == ["arm", "strength_pct", "adherence", "css_nM", "grams_per_application",
                                 "patient"]
    assert sorted(exp["patient"]) == list(range(study.n_subjects))  # each patient once (NONMEM dataset)
    assert len(exp) == study.n_subjects  # one row per patient: extension calls not recorded
    assert len(seen) > exp.groupby(["arm", "adherence"]).ngroups  # the extension did call the model
    labels = [a.label for a in design.arms]
    assert list(dict.fromkeys(exp["arm"])) == [a for a in labels if a in set(exp["arm"])]
    vehicle = exp["strength_pct"] == 0
    assert np.all(exp.loc[vehicle, "css_nM"] == 0) and np.all(exp.loc[~vehicle, "css_nM"] > 0)


def test_missing_posterior_falls_back_to_model_defaults_and_says_so(monkeypatch: pytest.MonkeyPatch) -> None:
    import dermsim.calibration.posterior as cp
    from dermsim.errors import InvalidInputError
    from dermsim.workflows import resolve_model

    def missing() -> None:
        raise InvalidInputError("posterior file x.json does not exist.")

    monkeypatch.setattr(cp, "default_posterior", missing)
    model = resolve_model("shipped")
    prov = model.provenance()
    assert model.posterior is None and model.parameters is None and prov["posterior_version"] is None
    assert prov["parameters"].startswith("model default parameters")
    assert "does not exist" in prov["parameters"]

