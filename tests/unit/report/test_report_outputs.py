"""RTF (rtflite), figures (matplotlib), the published comparison and the self-contained report.html."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from tiny_report_ard import HIGH, LOW, VEH

from dermsim.errors import DataValidationError
from dermsim.report import figures as F
from dermsim.report.html_report import ModelSection, ReportContext, render_report
from dermsim.report.layouts import Row, TableLayout, layout_by_name
from dermsim.report.published import compare_with_published, comparison_points
from dermsim.report.rtf import render_table_rtf, write_table_rtf
from dermsim.report.tables import build_table

STRENGTHS = {VEH: 0.0, LOW: 0.75, HIGH: 1.5}


def test_rtf_has_title_headers_footnotes_and_pages(tiny_ard: pd.DataFrame) -> None:
    t = build_table(layout_by_name("t14-2-1-primary"), tiny_ard, source="Source: ard.csv")
    text = render_table_rtf(t)
    assert text.startswith("{\\rtf1")
    for part in (
        "Table 14.2.1",
        "IGA Treatment Success",
        "Intent-to-treat population",
        f"{VEH} (N=20)",
        "Wilson score interval",
        "Source: ard.csv",
        "16/40 (40.0)",
    ):
        assert part in text, part
    # 40 lines at 30 per page paginate onto two pages, the header repeated on both
    lay = TableLayout(
        name="long",
        number="14.9.9",
        title="Long",
        analysis_id="iga-ts-w8",
        items=tuple(Row(f"line {i}", "resp_n_pct") for i in range(40)),
    )
    long_text = render_table_rtf(build_table(lay, tiny_ard), rows_per_page=30)
    assert long_text.count("\\page") >= 1
    assert long_text.count(f"{VEH} (N=20)") == 2


def test_figures_from_the_ard_are_reproducible(tiny_ard: pd.DataFrame, tmp_path: Path) -> None:
    makers = {
        "resp": lambda: F.plot_responders_over_time(tiny_ard),
        "chg": lambda: F.plot_change_by_visit(tiny_ard),
        "forest": lambda: F.plot_forest(tiny_ard),
        "consort": lambda: F.plot_consort(tiny_ard),
    }
    for name, make in makers.items():
        a = F.save_figure(make(), tmp_path / "a", name)
        b = F.save_figure(make(), tmp_path / "b", name)
        for kind in ("png", "svg"):
            assert a[kind].stat().st_size > 1000
            assert a[kind].read_bytes() == b[kind].read_bytes(), (name, kind)
    # the consort figure prints the ARD's numbers (svg keeps text as text)
    svg = (tmp_path / "a" / "consort.svg").read_text()
    assert "N = 100" in svg and "Completed: 37 (92.5)" in svg


def test_figure_errors_name_the_analysis(tiny_ard: pd.DataFrame) -> None:
    with pytest.raises(DataValidationError, match="none of the analyses"):
        F.plot_change_by_visit(tiny_ard, {"nrs-chg": "x"})
    with pytest.raises(DataValidationError, match="arm, css_nM"):
        F.plot_css_distribution(pd.DataFrame({"x": [1]}), 281.0)


def test_css_and_simulated_vs_published(tmp_path: Path) -> None:
    rng = np.random.default_rng(3)
    ex = pd.DataFrame(
        {
            "arm": [LOW] * 50 + [HIGH] * 50 + [VEH] * 20,
            "css_nM": np.r_[rng.lognormal(3, 0.8, 50), rng.lognormal(3.4, 0.8, 50), np.zeros(20)],
        }
    )
    paths = F.save_figure(F.plot_css_distribution(ex, 281.0), tmp_path, "css")
    assert "281 nM" in paths["svg"].read_text()
    pts = pd.DataFrame(
        {
            "label": ["a"],
            "kind": ["this run"],
            "published": [36.6],
            "simulated": [40.0],
            "sim_low": [31.0],
            "sim_high": [49.0],
        }
    )
    assert F.save_figure(F.plot_simulated_vs_published(pts), tmp_path, "svp")["png"].is_file()


def test_comparison_matches_arms_by_strength(tiny_ard: pd.DataFrame) -> None:
    cmp = compare_with_published(tiny_ard, "true-ad3", STRENGTHS)
    iga = cmp[cmp["endpoint"] == "IGA-TS"].set_index("arm")
    assert iga.loc[HIGH, "evidence_arm"] == "rux150"
    assert iga.loc[HIGH, "simulated_pct"] == pytest.approx(55.0, abs=1e-12)
    assert iga.loc[HIGH, "status"] == "C" and iga.loc[HIGH, "published_pct"] > 0
    nf = cmp[cmp["endpoint"] == "EASI-75"]
    assert (nf["status"] == "NF").all() and nf["published_pct"].isna().all()
    pts = comparison_points(cmp)
    assert len(pts) == len(cmp) and set(pts["kind"]) == {"this run"}
    assert compare_with_published(tiny_ard, "true-ad99", STRENGTHS).empty


def _external_refs(text: str) -> list[str]:
    return re.findall(r"""(?:src|href)=['"](https?:|//)[^'"]*""", text)


@pytest.mark.slow  # tens of seconds on a busy 2-core machine (make test --durations)
def test_report_is_self_contained_with_and_without_model(tiny_ard: pd.DataFrame, tmp_path: Path) -> None:
    cmp = compare_with_published(tiny_ard, "true-ad3", STRENGTHS)
    model = ModelSection(
        provenance=(("Model version", "0.1.0"), ("Posterior SHA-256", "abc123")),
        comparison=cmp,
        threshold_nM=281.0,
        exposure=pd.DataFrame({"arm": [LOW, HIGH], "css_nM": [20.0, 35.0]}),
    )
    sim = render_report(
        tiny_ard,
        tmp_path / "sim",
        ReportContext(title="Virtual", model=model, data_links=(("ARD", "ard.csv"),)),
    )
    real = render_report(tiny_ard, tmp_path / "real", ReportContext(title="Real data"))
    s, r = sim["report"].read_text(), real["report"].read_text()
    for text in (s, r):
        assert not _external_refs(text)
        assert "<script" not in text
        assert "Table 14.2.1" in text and "16/40 (40.0)" in text
        assert text.count("data:image/png;base64,") >= 4
    assert "Model and calibration provenance" in s and "abc123" in s
    assert "How this compares with the published trial" in s and "f-css-vs-281nM" in s
    assert "Model and calibration" not in r and "f-css-vs-281nM" not in r
    assert "virtual patient" not in r
    assert (tmp_path / "sim" / "tlf" / "t14-2-1-primary.rtf").is_file()
    assert (tmp_path / "sim" / "figures" / "f-forest-iga-ts.svg").is_file()


def test_report_needs_a_known_analysis(tmp_path: Path, tiny_ard: pd.DataFrame) -> None:
    # an analysis the specialised layouts do not know gets a generic layout by its method; one whose
    # method has no layout either is an error
    # (and without LS means, which get the LS-means layout whatever the method)
    other = tiny_ard[tiny_ard["stat_name"] != "lsmean"].assign(analysis_id="something-else",
                                                               method="no_such_method")
    with pytest.raises(DataValidationError, match="no analysis with a table layout"):
        render_report(other, tmp_path, ReportContext(title="x"))


@pytest.mark.external
def test_rtf_opens_in_libreoffice_and_converts_to_pdf(tiny_ard: pd.DataFrame, tmp_path: Path) -> None:
    """LibreOffice (Debian libreoffice-writer) opens each RTF and writes a PDF of it."""
    soffice = shutil.which("soffice") or shutil.which("libreoffice")
    if soffice is None:
        pytest.skip("LibreOffice (soffice) is not installed; run scripts/install-external.sh")
    names = ["t14-2-1-primary", "t14-3-2-teae-soc-pt", "t14-1-2-demographics"]
    files = [write_table_rtf(build_table(layout_by_name(n), tiny_ard), tmp_path / f"{n}.rtf") for n in names]
    proc = subprocess.run(
        [
            soffice,
            "--headless",
            "--norestore",
            f"-env:UserInstallation=file://{tmp_path}/lo",
            "--convert-to",
            "pdf",
            "--outdir",
            str(tmp_path / "pdf"),
            *map(str, files),
        ],
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    for n in names:
        pdf = tmp_path / "pdf" / f"{n}.pdf"
        assert pdf.is_file(), proc.stdout + proc.stderr
        assert pdf.read_bytes().startswith(b"%PDF") and pdf.stat().st_size > 2000
    if shutil.which("pdftotext"):
        text = subprocess.run(
            ["pdftotext", str(tmp_path / "pdf" / "t14-2-1-primary.pdf"), "-"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        assert "Table 14.2.1" in text and "16/40 (40.0)" in text


def test_responder_figure_marks_published_values(tiny_ard: pd.DataFrame, tmp_path: Path) -> None:
    plain = F.save_figure(F.plot_responders_over_time(tiny_ard), tmp_path / "a", "r")["svg"].read_text()
    marked = F.save_figure(
        F.plot_responders_over_time(
            tiny_ard, published={HIGH: ("Week 8", 56.5), "no such arm": ("Week 8", 1.0)}
        ),
        tmp_path / "b",
        "r",
    )["svg"].read_text()
    assert "published" in marked and "published" not in plain
