"""The web app's tasks end to end in Chromium, each checked against the command line on the same
input: a small trial runs and its report downloads; the CDISC pilot datasets give the same ARD as
``dermsim analyze``; a design run fills the power curve and is cancelled; the dose planner equals
``dermsim dose --json``; a bad upload gives one clear message and the app keeps working. Screenshots
of every page with results go to out/test-artifacts/app/ (the README's pictures)."""

from __future__ import annotations

import json
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pandas as pd
import pytest

from e2e.app.app_browser import PILOT, ROOT, assert_accessible, click_run, fill, open_page, wait_status

pytestmark = [pytest.mark.external, pytest.mark.slow]

PILOT_FILES = ("adsl.xpt", "adadas.csv.gz", "adae.xpt", "adcibc.xpt", "adtte.xpt")
PILOT_PLAN = ROOT / "examples" / "cdisc_pilot" / "plan.toml"


def _cli(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "dermsim", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=240,
        check=True,
    )


def _upload(pg: object, input_id: str, paths: list[Path]) -> None:
    pg.set_input_files(f"#{input_id}", [str(p) for p in paths])  # type: ignore[attr-defined]
    pg.wait_for_selector(f"#{input_id}_progress .progress-bar:has-text('Upload complete')")  # type: ignore[attr-defined]


def test_small_trial_runs_and_report_downloads(page: object, artifacts: Path, tmp_path: Path) -> None:
    """A 40-subject trial runs; its report, ADaM, RTF tables and ARD download and equal `dermsim run`'s
    files for the same scenario, N and seed, byte for byte."""
    open_page(page, "Trial")
    fill(page, "trial-n", "40")
    page.click("#trial-run")  # type: ignore[attr-defined]
    page.wait_for_selector("#trial-status .progress")  # type: ignore[attr-defined]
    assert wait_status(page, "trial", ("done", "error"), timeout_s=150) == "done"
    page.get_by_role("heading", name="Figures").wait_for()  # type: ignore[attr-defined]
    table = page.locator("#trial-results table").first  # type: ignore[attr-defined]
    assert "Published, %" in table.inner_text()
    page.screenshot(path=str(artifacts / "trial.png"))  # type: ignore[attr-defined]
    assert_accessible(page, "trial")
    with page.expect_download() as dl:  # type: ignore[attr-defined]
        page.click("#trial-dl_report")  # type: ignore[attr-defined]
    report = tmp_path / "report.html"
    dl.value.save_as(report)
    text = report.read_text(encoding="utf-8")
    assert text.lstrip().lower().startswith("<!doctype html") and "data:image/png;base64" in text
    with page.expect_download() as dl:  # type: ignore[attr-defined]
        page.click("#trial-dl_adam")  # type: ignore[attr-defined]
    dl.value.save_as(tmp_path / "adam.zip")
    with page.expect_download() as dl:  # type: ignore[attr-defined]
        page.click("#trial-dl_rtf")  # type: ignore[attr-defined]
    dl.value.save_as(tmp_path / "rtf.zip")
    with page.expect_download() as dl:  # type: ignore[attr-defined]
        page.click("#trial-dl_ard")  # type: ignore[attr-defined]
    dl.value.save_as(tmp_path / "ard.csv")
    # the same trial from the command line: the same files, byte for byte
    _cli("run", "true-ad3", "--n", "40", "--seed", "1", "--out", str(tmp_path / "cli"))
    cli = tmp_path / "cli"
    assert (tmp_path / "ard.csv").read_bytes() == (cli / "ard.csv").read_bytes()
    assert report.read_bytes() == (cli / "report.html").read_bytes()
    for name, folder in (("adam.zip", "adam"), ("rtf.zip", "tlf")):
        with zipfile.ZipFile(tmp_path / name) as z:
            members = sorted(m for m in z.namelist() if not m.endswith("/"))
            assert members == sorted(p.name for p in (cli / folder).iterdir())
            for m in members:
                data = z.read(m)
                assert data == (cli / folder / m).read_bytes(), m
                if m.endswith(".rtf"):  # RTF is 7-bit text: anything else is a \uN? escape
                    assert max(data) < 128, m
    assert "adsl.xpt" in zipfile.ZipFile(tmp_path / "adam.zip").namelist()


def test_pilot_upload_gives_the_cli_ard(page: object, artifacts: Path, tmp_path: Path) -> None:
    if not all((PILOT / f).is_file() for f in PILOT_FILES):
        pytest.skip(f"CDISC pilot data not found in {PILOT}")
    files = [PILOT / f for f in PILOT_FILES]
    # the command line on the same files (a folder holding exactly them)
    src = tmp_path / "pilot"
    src.mkdir()
    for f in files:
        (src / f.name).write_bytes(f.read_bytes())
    _cli("analyze", str(src), "--plan", str(PILOT_PLAN), "--out", str(tmp_path / "cli"))
    open_page(page, "Analysis")
    _upload(page, "analysis-data", files)
    page.check("#analysis-plan_choice input[value='upload']")  # type: ignore[attr-defined]
    _upload(page, "analysis-plan_file", [PILOT_PLAN])
    before = click_run(page, "analysis")
    assert wait_status(page, "analysis", ("done", "error"), timeout_s=120, after=before) == "done"
    with page.expect_download() as dl:  # type: ignore[attr-defined]
        page.click("#analysis-dl_ard")  # type: ignore[attr-defined]
    dl.value.save_as(tmp_path / "app-ard.csv")
    assert (tmp_path / "app-ard.csv").read_bytes() == (tmp_path / "cli" / "ard.csv").read_bytes()
    page.select_option("#analysis-table_id", "t14-3-01")  # type: ignore[attr-defined]
    page.wait_for_selector("#analysis-table h3:has-text('ADAS-Cog')")  # type: ignore[attr-defined]
    page.screenshot(path=str(artifacts / "analysis.png"))  # type: ignore[attr-defined]
    assert_accessible(page, "analysis")


def test_design_curve_fills_in_and_cancels(page: object, artifacts: Path, tmp_path: Path) -> None:
    open_page(page, "Design")
    # the page's maximum of 12 sizes, growing: the 10 after the first two points hold about 25 times
    # their work, so the cancel lands mid-run however fast the engine is (8 sizes up to N=180
    # finished before it once the kernel got faster)
    fill(page, "design-sizes", "100:1200:100")
    fill(page, "design-replicates", "40")
    page.click("#design-run")  # type: ignore[attr-defined]
    page.wait_for_selector("#design-status .progress")  # type: ignore[attr-defined]
    # at least two points (Shiny may render 1 -> 3 when N's finish quickly: never wait for exactly 2)
    page.wait_for_function(  # type: ignore[attr-defined]
        "() => { const c = document.querySelector('.power-curve');"
        " return c && Number(c.getAttribute('data-points')) >= 2 && c.querySelector('.js-plotly-plot'); }",
        timeout=120_000)
    first = page.locator("#design-table tbody tr").count()  # type: ignore[attr-defined]
    assert first >= 2  # probability of success and at least one endpoint at the first N
    page.evaluate("() => window.scrollTo(0, 0)")  # type: ignore[attr-defined]
    page.screenshot(path=str(artifacts / "design.png"))  # type: ignore[attr-defined]
    page.click("#design-cancel")  # type: ignore[attr-defined]
    assert wait_status(page, "design", ("cancelled", "done", "error"), timeout_s=120) == "cancelled"
    # the finished points stay; the rest were not run
    points = int(page.locator(".power-curve").get_attribute("data-points"))  # type: ignore[attr-defined]
    assert 2 <= points < 8
    assert_accessible(page, "design")
    assert page.evaluate("() => Shiny.shinyapp.isConnected()")  # type: ignore[attr-defined]
    with page.expect_download() as dl:  # type: ignore[attr-defined]
        page.click("#design-dl_summary")  # type: ignore[attr-defined]
    dl.value.save_as(tmp_path / "summary.csv")
    summary = pd.read_csv(tmp_path / "summary.csv")
    assert {"n_total", "curve", "power", "mcse"} <= set(summary.columns) and summary["n_total"].nunique() >= 2


def test_design_options_are_the_design_layers_and_equal_the_cli(page: object, tmp_path: Path) -> None:
    """Strata offered are the scenario's factors and their subsets; a design with one stratum factor,
    a primary day and a level gives the numbers of dermsim design power with the same options."""
    open_page(page, "Design")
    page.select_option("#design-scenario", "true-ad1")  # type: ignore[attr-defined]
    page.wait_for_function(  # type: ignore[attr-defined]
        "() => document.querySelectorAll('#design-strata option').length === 3")
    page.select_option("#design-scenario", "true-ad3")  # type: ignore[attr-defined]
    page.wait_for_function(  # type: ignore[attr-defined]
        "() => document.querySelectorAll('#design-strata option').length === 5")
    values = page.eval_on_selector_all("#design-strata option", "els => els.map(e => e.value)")  # type: ignore[attr-defined]
    assert values == ["", "none", "IGASTR", "AGESTR", "IGASTR+AGESTR"]
    page.select_option("#design-strata", "AGESTR")  # type: ignore[attr-defined]
    fill(page, "design-sizes", "40")
    fill(page, "design-replicates", "10")
    fill(page, "design-primary_day", "29")
    fill(page, "design-alpha", "0.1")
    before = click_run(page, "design")
    assert wait_status(page, "design", ("done", "error"), timeout_s=120, after=before) == "done"
    with page.expect_download() as dl:  # type: ignore[attr-defined]
        page.click("#design-dl_summary")  # type: ignore[attr-defined]
    dl.value.save_as(tmp_path / "app.csv")
    app = pd.read_csv(tmp_path / "app.csv")
    _cli("design", "power", "true-ad3", "--n", "40", "--replicates", "10", "--seed", "1",
         "--strata", "AGESTR", "--primary-day", "29", "--alpha", "0.1", "--quiet",
         "--out", str(tmp_path / "cli"))
    cli = pd.read_csv(tmp_path / "cli" / "summary.csv")
    cli = cli[~cli["null"]]
    assert app["design_id"].unique().tolist() == cli["design_id"].unique().tolist()
    rows = app.set_index("curve")
    for _, r in cli.iterrows():  # the mean risk difference pins the design (strata, day) down
        row = rows.loc[f"{r['endpoint']} {r['treatment']} vs {r['control']}"]
        expected = (r["rejection_rate"], r["mean_estimate"])
        assert (row["power"], row["mean_estimate"]) == pytest.approx(expected)


def test_dose_planner_equals_cli(page: object, artifacts: Path, tmp_path: Path) -> None:
    open_page(page, "Clinic")
    fill(page, "clinic-age", "6")
    page.click("svg.body-map [data-region='thighs'] rect >> nth=0")  # type: ignore[attr-defined]
    page.focus("svg.body-map [data-region='anterior_trunk']")  # type: ignore[attr-defined]
    page.keyboard.press("Enter")  # type: ignore[attr-defined]
    page.wait_for_selector("#clinic-chosen_text:has-text('anterior trunk, thighs')")  # type: ignore[attr-defined]
    before = click_run(page, "clinic", "plan")
    assert wait_status(page, "clinic", ("done", "error"), timeout_s=90, after=before) == "done"
    with page.expect_download() as dl:  # type: ignore[attr-defined]
        page.click("#clinic-dl_json")  # type: ignore[attr-defined]
    dl.value.save_as(tmp_path / "plan.json")
    app_plan = json.loads((tmp_path / "plan.json").read_text())
    cli_plan = json.loads(
        _cli("dose", "--age", "6", "--regions", "anterior_trunk:50,thighs:50", "--json").stdout
    )
    assert app_plan == cli_plan
    shown = page.inner_text("[data-value='css_median_nM']")  # type: ignore[attr-defined]
    assert shown.startswith(f"{cli_plan['exposure']['typical_nM']:.1f}"[:3])
    page.screenshot(path=str(artifacts / "clinic.png"), full_page=True)  # type: ignore[attr-defined]
    assert_accessible(page, "clinic")
    before = click_run(page, "clinic", "sheet")
    assert wait_status(page, "clinic", ("done", "error"), timeout_s=120, after=before) == "done"
    with page.expect_download() as dl:  # type: ignore[attr-defined]
        page.click("#clinic-dl_sheet")  # type: ignore[attr-defined]
    dl.value.save_as(tmp_path / "sheet.pdf")
    page.screenshot(path=str(artifacts / "clinic-family-sheet.png"))  # type: ignore[attr-defined]
    assert_accessible(page, "clinic")
    assert (tmp_path / "sheet.pdf").read_bytes()[:5] == b"%PDF-"


def test_explorer_draws_bands(page: object, artifacts: Path) -> None:
    open_page(page, "Model explorer")
    fill(page, "explorer-n", "60")
    fill(page, "explorer-weeks", "4")
    before = click_run(page, "explorer")
    assert wait_status(page, "explorer", ("done", "error"), timeout_s=120, after=before) == "done"
    page.wait_for_selector(".explorer-plot .js-plotly-plot")  # type: ignore[attr-defined]
    assert "281 nM" in page.inner_text("#explorer-summary")  # type: ignore[attr-defined]
    assert "cream applied on 100.0% of patient-days" in page.inner_text("#explorer-summary")  # type: ignore[attr-defined]


def _explorer_run(page: object) -> str:
    before = click_run(page, "explorer")
    assert wait_status(page, "explorer", ("done", "error"), timeout_s=120, after=before) == "done"
    page.wait_for_selector(".explorer-plot .js-plotly-plot")  # type: ignore[attr-defined]
    return str(page.inner_text("#explorer-summary"))  # type: ignore[attr-defined]


def test_explorer_calendar_periods_and_regimen_files(page: object, artifacts: Path) -> None:
    """The calendar built on the page (8 weeks twice daily, then as needed on the patient's IGA) and
    a regimen file of examples/regimens/ run on the model's schedules; the page's numbers equal the
    workflow's on the same schedule; a calendar that cannot be run is one clear message."""
    from dermsim.workflows.app_support import explore_course, read_regimen_file

    open_page(page, "Model explorer")
    fill(page, "explorer-n", "40")
    fill(page, "explorer-weeks", "12")
    page.select_option("#explorer-plan", "periods")  # type: ignore[attr-defined]
    page.select_option("#explorer-p2_use", "asneeded")  # type: ignore[attr-defined]
    summary = _explorer_run(page)
    calendar = page.inner_text("#explorer-course")  # type: ignore[attr-defined]
    assert "days 56-83" in calendar and "as needed: start at IGA >= 2, stop at <= 0" in calendar
    run = explore_course(n=40, weeks=12, seed=1, schedule={"start_weekday": "mon", "periods": [
        {"days": 56}, {"days": None, "as_needed": {"metric": "iga", "start_at": 2.0, "stop_at": 0.0}}]})
    f = run.trajectories.to_frame("wide")
    applied = 100 * float((f.loc[f["day"] >= 1, "applications"] > 0).mean())
    assert applied < 100 and f"cream applied on {applied:.1f}% of patient-days" in summary
    page.screenshot(path=str(artifacts / "explorer.png"), full_page=True)  # type: ignore[attr-defined]
    assert_accessible(page, "explorer")

    # weekend maintenance, from the page: Saturday and Sunday only in period 2
    page.select_option("#explorer-p2_use", "weekdays")  # type: ignore[attr-defined]
    _explorer_run(page)
    assert "on Sat, Sun" in page.inner_text("#explorer-course")  # type: ignore[attr-defined]

    # days on / days off: 2 weeks once daily, 1 week off, repeated over 6 weeks
    fill(page, "explorer-p1_days", "14")
    page.select_option("#explorer-p1_per_day", "1")  # type: ignore[attr-defined]
    fill(page, "explorer-p2_days", "7")
    page.select_option("#explorer-p2_use", "holiday")  # type: ignore[attr-defined]
    page.check("#explorer-repeat")  # type: ignore[attr-defined]
    fill(page, "explorer-weeks", "6")
    summary = _explorer_run(page)
    course = page.inner_text("#explorer-course")  # type: ignore[attr-defined]
    assert "days 21-34: 1.5% cream once daily (0 h)" in course and "days 35-41: holiday, no cream" in course
    assert "cream applied on 66.7% of patient-days" in summary  # days 0-13 and 21-34: 28 of 42
    page.uncheck("#explorer-repeat")  # type: ignore[attr-defined]

    # a regimen file of the examples, run for its own length (weeks empty)
    example = ROOT / "examples" / "regimens" / "holiday_1wk.toml"
    page.select_option("#explorer-plan", "file")  # type: ignore[attr-defined]
    _upload(page, "explorer-regimen_file", [example])
    fill(page, "explorer-weeks", "")
    summary = _explorer_run(page)
    assert "days 28-34: holiday, no cream" in page.inner_text("#explorer-course")  # type: ignore[attr-defined]
    run = explore_course(n=40, weeks=None, seed=1, schedule=read_regimen_file(example))
    f = run.trajectories.to_frame("wide")
    above = 100 * float((f.groupby("patient")["cp_nM"].max() > 281).mean())
    applied = 100 * float((f.loc[f["day"] >= 1, "applications"] > 0).mean())
    assert f"{run.trajectories.n} patients, {run.days} days" in summary
    assert f"(daily): {above:.1f}%" in summary and f"applied on {applied:.1f}%" in summary

    # a calendar the model refuses: one clear message, the session keeps working
    page.select_option("#explorer-plan", "periods")  # type: ignore[attr-defined]
    page.select_option("#explorer-p2_use", "asneeded")  # type: ignore[attr-defined]
    fill(page, "explorer-p2_stop", "3")
    page.click("#explorer-run")  # type: ignore[attr-defined]
    alert = page.locator("#explorer-status .alert-danger")  # type: ignore[attr-defined]
    alert.wait_for()
    assert alert.count() == 1 and "stop_at must be below start_at" in alert.inner_text()
    assert "\n" not in alert.inner_text().strip()
    assert page.evaluate("() => Shiny.shinyapp.isConnected()")  # type: ignore[attr-defined]


def test_bad_upload_one_message_nothing_breaks(page: object, artifacts: Path, tmp_path: Path) -> None:
    open_page(page, "Analysis")
    wrong = tmp_path / "notes.txt"
    wrong.write_text("not a dataset")
    _upload(page, "analysis-data", [wrong])
    page.click("#analysis-run")  # type: ignore[attr-defined]
    alert = page.locator("#analysis-status .alert-danger")  # type: ignore[attr-defined]
    alert.wait_for()
    assert alert.count() == 1 and "expected a file ending in" in alert.inner_text()
    broken = tmp_path / "adsl.xpt"
    broken.write_bytes(b"HEADER RECORD*******LIBRARY HEADER RECORD!!!!!!!" + b"\0" * 100)
    _upload(page, "analysis-data", [broken])
    before = click_run(page, "analysis")
    assert wait_status(page, "analysis", ("error", "done"), timeout_s=60, after=before) == "error"
    alert = page.locator("#analysis-status .alert-danger")  # type: ignore[attr-defined]
    assert alert.count() == 1
    text = alert.inner_text()
    assert "adsl" in text.lower() and "internal error" not in text and "\n" not in text.strip()
    assert "dermsim-app-" not in text and "/tmp" not in text  # the server's private folders stay private
    page.screenshot(path=str(artifacts / "analysis-bad-upload.png"))  # type: ignore[attr-defined]
    assert_accessible(page, "analysis")
    # the session still works: another page runs
    open_page(page, "Clinic")
    page.click("svg.body-map [data-region='hands'] rect >> nth=0")  # type: ignore[attr-defined]
    before = click_run(page, "clinic", "plan")
    assert wait_status(page, "clinic", ("done", "error"), timeout_s=90, after=before) == "done"
    assert pd.notna(page.inner_text("[data-value='css_median_nM']"))  # type: ignore[attr-defined]


def test_sessions_are_private_and_cleaned_up(browser: object, app_url: str, app_tmp: Path) -> None:
    """Two browser sessions get two private folders; each is removed when its session ends. A bad
    design upload on the Trial page is one message naming the file."""

    def open_session() -> tuple[object, object]:
        ctx = browser.new_context()  # type: ignore[attr-defined]
        pg = ctx.new_page()
        pg.goto(app_url)
        pg.wait_for_function("() => window.Shiny && Shiny.shinyapp && Shiny.shinyapp.isConnected()")
        return ctx, pg

    before = {p.name for p in app_tmp.glob("dermsim-app-*")}
    (ctx_a, pg_a), (ctx_b, _) = open_session(), open_session()
    mine: set[str] = set()
    for _ in range(100):  # a session's folder is made when its server function runs (just after connect)
        mine = {p.name for p in app_tmp.glob("dermsim-app-*")} - before
        if len(mine) >= 2:
            break
        time.sleep(0.1)
    assert len(mine) == 2
    for p in mine:
        assert (app_tmp / p).stat().st_mode & 0o777 == 0o700
    bad = app_tmp.parent / "design.toml"
    bad.write_text("[design\nid = 'x'\n")
    open_page(pg_a, "Trial")
    pg_a.select_option("#trial-scenario", "upload")  # type: ignore[attr-defined]
    _upload(pg_a, "trial-design_file", [bad])
    before = click_run(pg_a, "trial")
    assert wait_status(pg_a, "trial", ("error", "done"), timeout_s=60, after=before) == "error"
    alert = pg_a.locator("#trial-status .alert-danger")  # type: ignore[attr-defined]
    assert (
        alert.count() == 1
        and "design.toml" in alert.inner_text()
        and "dermsim-app-" not in alert.inner_text()
    )
    ctx_a.close()  # type: ignore[attr-defined]
    ctx_b.close()  # type: ignore[attr-defined]
    for _ in range(100):
        if not any((app_tmp / p).exists() for p in mine):
            break
        time.sleep(0.1)
    assert not any((app_tmp / p).exists() for p in mine)
