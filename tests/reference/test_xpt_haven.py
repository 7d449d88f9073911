"""XPT v5 written by dermsim, read by R: ``haven::read_xpt`` sees the same values, labels, formats.

The R side is ``Rscript tests/reference/r/read_xpt_haven.R IN.xpt VALUES.csv META.csv`` (haven 2.5
on R 4.2, Debian ``r-cran-haven``), which writes what R reads: numbers with 17 significant digits
(exact for doubles), dates and datetimes as ISO 8601 (UTC), labels and ``format.sas``. pandas'
``read_sas(format="xport")`` is checked on the same files (it leaves dates as SAS numbers and
reads an IBM zero as 16**-65, hence ``atol=1e-78`` there).
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from dermsim.io import read_xpt, write_xpt

pytestmark = pytest.mark.external
R_SCRIPT = Path(__file__).resolve().parent / "r" / "read_xpt_haven.R"


@pytest.fixture(scope="module")
def rscript() -> str:
    exe = shutil.which("Rscript")
    if exe is None:
        pytest.skip("Rscript not found (scripts/install-external.sh installs r-base-core)")
    ok = subprocess.run([exe, "-e", "quit(status = !requireNamespace('haven', quietly = TRUE))"],
                        capture_output=True, timeout=120)
    if ok.returncode != 0:
        pytest.skip("R package haven not installed (scripts/install-external.sh installs r-cran-haven)")
    return exe


def _haven(rscript: str, path: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    values, meta = path.with_suffix(".values.csv"), path.with_suffix(".meta.csv")
    run = subprocess.run([rscript, str(R_SCRIPT), str(path), str(values), str(meta)],
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    return (pd.read_csv(values, dtype=str, keep_default_na=False),
            pd.read_csv(meta, dtype=str, keep_default_na=False))


def _frame(n: int = 300, seed: int = 20240611) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    aval = rng.standard_normal(n) * 10.0 ** rng.integers(-70, 70, n)
    aval[rng.random(n) < 0.1] = np.nan
    aval[:4] = [0.0, -0.0, 1 / 3, 2.0**52 + 1]
    days = rng.integers(-21915, 51000, n)  # 1900-01-01 .. 2099
    adt = pd.Timestamp("1960-01-01") + pd.to_timedelta(days, unit="D")
    secs = rng.integers(-1_893_456_000, 4_000_000_000, n)
    adtm = pd.Timestamp("1960-01-01") + pd.to_timedelta(secs, unit="s")
    text = np.array(["01-701-1015", "a, b", 'say "hi"', "", "  lead", "x" * 200, "Ab;c"], dtype=object)
    frame = pd.DataFrame({
        "USUBJID": text[rng.integers(0, len(text), n)],
        "AVAL": aval,
        "AVISITN": rng.integers(0, 9, n),
        "ADT": pd.Series(adt).where(rng.random(n) > 0.1),
        "ADTM": pd.Series(adtm).where(rng.random(n) > 0.1),
    })
    return frame


def _compare(dermsim: pd.DataFrame, r_values: pd.DataFrame) -> None:
    assert list(r_values.columns) == list(dermsim.columns)
    for col in dermsim.columns:
        ours = dermsim[col]
        theirs = r_values[col]
        if pd.api.types.is_datetime64_any_dtype(ours):
            fmt = "%Y-%m-%d" if col.endswith("DT") else "%Y-%m-%dT%H:%M:%S"
            text = ours.dt.strftime(fmt).fillna("")
            assert text.tolist() == theirs.tolist(), col
        elif pd.api.types.is_numeric_dtype(ours):
            r = theirs.replace("", "nan").astype(float).to_numpy()
            np.testing.assert_array_equal(r, ours.to_numpy(dtype=float), err_msg=col)
        else:
            assert ours.tolist() == theirs.tolist(), col


def test_haven_reads_dermsim_xpt_with_the_same_values(rscript: str, tmp_path: Path) -> None:
    frame = _frame()
    path = write_xpt(frame, tmp_path / "adx.xpt", name="ADX", label="Haven check",
                     column_labels={"USUBJID": "Unique Subject Identifier", "AVAL": "Analysis Value"},
                     lengths={"USUBJID": 200})
    values, meta = _haven(rscript, path)
    ours = read_xpt(path)
    _compare(ours.data, values)
    expected = frame.assign(AVISITN=frame["AVISITN"].astype(float))
    pd.testing.assert_frame_equal(ours.data, expected, check_exact=True)
    by_name = meta.set_index("name")
    assert by_name.loc["_DATASET_", "label"] == "Haven check"
    assert by_name.loc["AVAL", "label"] == "Analysis Value"
    assert by_name.loc["ADT", "format"] == "DATE9" and by_name.loc["ADT", "class"] == "Date"
    assert by_name.loc["ADTM", "format"] == "DATETIME20" and by_name.loc["ADTM", "class"] == "POSIXct"
    theirs = pd.read_sas(path, format="xport", encoding="utf-8")
    np.testing.assert_allclose(theirs["AVAL"].to_numpy(), ours.data["AVAL"].to_numpy(), rtol=0, atol=1e-78)
    assert theirs["USUBJID"].fillna("").tolist() == ours.data["USUBJID"].tolist()


def test_haven_reads_the_pilot_adsl_rewritten_by_dermsim(rscript: str, tmp_path: Path,
                                                         shared_dir: Path) -> None:
    src = shared_dir / "data" / "cdisc_pilot" / "adsl.xpt"
    if not src.is_file():
        pytest.skip(f"{src} not found")
    pilot = read_xpt(src)
    path = write_xpt(pilot, tmp_path / "adsl.xpt")
    values, meta = _haven(rscript, path)
    _compare(pilot.data, values)
    original, _ = _haven(rscript, _copy(src, tmp_path))
    pd.testing.assert_frame_equal(values, original)  # R sees the rewrite exactly as the original
    labels = dict(zip(meta["name"], meta["label"], strict=True))
    assert labels["TRTSDT"] == "Date of First Exposure to Treatment"


def _copy(src: Path, folder: Path) -> Path:
    dst = folder / "orig.xpt"
    dst.write_bytes(src.read_bytes())
    return dst
