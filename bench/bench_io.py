"""Dataset I/O: write and read a TRuE-AD3-sized ADEFF (330 subjects x 9 parameters x 10 visits =
29,700 records, 18 variables) in each format with dermsim (checks, metadata, atomic rename) against
the bare library call in the same process (pyreadstat, json, pyarrow via pandas, pandas CSV).

``python bench/run.py io``; the ratio column is dermsim time / baseline time (median of 3).
"""

from __future__ import annotations

import json
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pyreadstat

from dermsim.io import (
    read_csv,
    read_dataset_json,
    read_parquet,
    read_xpt,
    write_csv,
    write_dataset_json,
    write_parquet,
    write_xpt,
)


def adeff(n_subjects: int = 330, seed: int = 1) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    params = ["IGA", "EASI", "BSA", "NRS", "IGATS", "EASI50", "EASI75", "EASI90", "NRS4"]
    visits = [0, 1, 2, 4, 8, 12, 16, 24, 36, 52]
    ids = [f"TRUE-AD3-{i:04d}" for i in range(n_subjects)]
    df = pd.MultiIndex.from_product([ids, params, visits], names=["USUBJID", "PARAMCD", "AVISITN"]) \
        .to_frame(index=False)
    m = len(df)
    df["STUDYID"] = "TRUE-AD3"
    df["PARAM"] = df["PARAMCD"] + " (analysis value)"
    df["AVISIT"] = "Week " + df["AVISITN"].astype(str)
    df["AVAL"] = rng.random(m) * 20
    df["BASE"] = rng.random(m) * 20
    df["CHG"] = df["AVAL"] - df["BASE"]
    df["PCHG"] = 100 * df["CHG"] / df["BASE"]
    df["ABLFL"] = np.where(df["AVISITN"] == 0, "Y", "")
    df["ANL01FL"] = "Y"
    df["CRIT1FL"] = rng.choice(["Y", "N"], m)
    df["DTYPE"] = ""
    df["TRTP"] = rng.choice(["Ruxolitinib cream 0.75%", "Ruxolitinib cream 1.5%", "Vehicle"], m)
    df["ADT"] = pd.Timestamp("2025-01-06") + pd.to_timedelta(df["AVISITN"] * 7, unit="D")
    df["ADY"] = df["AVISITN"] * 7 + 1
    return df


def _median_s(fn, repeat: int = 3) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return float(np.median(times))


def main() -> pd.DataFrame:
    df = adeff()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        d = Path(tmp)
        plain = df.assign(ADT=(df["ADT"] - pd.Timestamp("1960-01-01")).dt.days.astype(float))
        doc_rows = json.loads(plain.to_json(orient="values"))
        cases = {
            "xpt": (lambda: write_xpt(df, d / "a.xpt", name="ADEFF"), lambda: read_xpt(d / "a.xpt"),
                    lambda: pyreadstat.write_xport(plain, str(d / "b.xpt"), table_name="ADEFF",
                                                   file_format_version=5),
                    lambda: pyreadstat.read_xport(str(d / "b.xpt")), "pyreadstat"),
            "json": (lambda: write_dataset_json(df, d / "a.json", name="ADEFF"),
                     lambda: read_dataset_json(d / "a.json"),
                     lambda: (d / "b.json").write_text(json.dumps({"rows": doc_rows})),
                     lambda: json.loads((d / "b.json").read_text()), "json (no schema)"),
            "parquet": (lambda: write_parquet(df, d / "a.parquet", name="ADEFF"),
                        lambda: read_parquet(d / "a.parquet"),
                        lambda: df.to_parquet(d / "b.parquet"), lambda: pd.read_parquet(d / "b.parquet"),
                        "pandas/pyarrow"),
            "csv.gz": (lambda: write_csv(df, d / "a.csv.gz", name="ADEFF"), lambda: read_csv(d / "a.csv.gz"),
                       lambda: df.to_csv(d / "b.csv.gz", index=False),
                       lambda: pd.read_csv(d / "b.csv.gz"), "pandas"),
        }
        for fmt, (w, r, bw, br, base) in cases.items():
            ws, rs, bws, brs = _median_s(w), _median_s(r), _median_s(bw), _median_s(br)
            size = (d / f"a.{fmt}").stat().st_size
            rows += [{"format": fmt, "op": "write", "records": len(df), "dermsim_s": round(ws, 3),
                      "baseline": base, "baseline_s": round(bws, 3), "ratio": round(ws / bws, 2),
                      "size_MB": round(size / 2**20, 2)},
                     {"format": fmt, "op": "read", "records": len(df), "dermsim_s": round(rs, 3),
                      "baseline": base, "baseline_s": round(brs, 3), "ratio": round(rs / brs, 2),
                      "size_MB": round(size / 2**20, 2)}]
    return pd.DataFrame(rows)


if __name__ == "__main__":
    print(main().to_string(index=False))
