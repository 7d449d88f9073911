"""A small hand-written ARD with every analysis the report layouts read (three arms, two visits).

Numbers are typed in on purpose: the report renders ARD values and must not compute them, so the
tests check that each typed number appears, formatted, where the layout binds it.
"""

from __future__ import annotations

import pandas as pd

from dermsim.analysis.ard import ArdContext, frame_from_rows, make_rows, validate_ard

VEH, LOW, HIGH = "Vehicle cream BID", "Ruxolitinib cream 0.75% BID", "Ruxolitinib cream 1.5% BID"
ARMS = (VEH, LOW, HIGH)
N = {VEH: 20, LOW: 40, HIGH: 40}
RATE = {VEH: 0.1, LOW: 0.4, HIGH: 0.55}


def _binary(aid: str, param: str, visits: tuple[str, ...], population: str = 'ITTFL == "Y"') -> list[dict]:
    ctx = ArdContext(aid, "ADEFF", population, param, "AVAL", "TRT01P", "proportion_rd_cmh")
    rows: list[dict] = []
    for v in visits:
        for arm in ARMS:
            r = RATE[arm]
            rows += make_rows(
                ctx,
                {
                    "count": round(r * N[arm]),
                    "n": N[arm],
                    "estimate": r,
                    "ci_lower": r - 0.1,
                    "ci_upper": r + 0.1,
                    "pct": 100 * r,
                },
                visit=v,
                group_level=arm,
                method="proportion_wilson",
            )
        for arm in (LOW, HIGH):
            d = RATE[arm] - RATE[VEH]
            rows += make_rows(
                ctx,
                {"estimate": d, "se": 0.05, "ci_lower": d - 0.12, "ci_upper": d + 0.12},
                visit=v,
                group_level=arm,
                comparator=VEH,
                method="common_rd_mh_sato",
            )
            rows += make_rows(
                ctx,
                {"statistic": 9.0, "df": 1, "p_value": 0.0027},
                visit=v,
                group_level=arm,
                comparator=VEH,
                method="cmh",
            )
    return rows


def tiny_ard() -> pd.DataFrame:
    rows: list[dict] = []
    pops = ArdContext("populations", "ADSL", "", "", "", "TRT01P", "populations")
    for arm in (*ARMS, ""):
        n = N[arm] if arm else sum(N.values())
        rows += make_rows(pops, {"n": n}, group_level=arm)
        for flag in ("ITTFL", "SAFFL", "EFFFL"):
            rows += make_rows(
                pops, {"count": n, "pct": 100.0}, variable=flag, variable_level="Y", group_level=arm
            )
    demo = ArdContext("demographics", "ADSL", 'ITTFL == "Y"', "", "", "TRT01P", "demographics")
    disp = ArdContext("disposition", "ADSL", 'ITTFL == "Y"', "", "", "TRT01P", "disposition")
    for arm in (*ARMS, ""):
        n = N[arm] if arm else sum(N.values())
        rows += make_rows(
            demo,
            {"n": n, "mean": 6.25, "sd": 2.745, "median": 6.0, "q1": 4.0, "q3": 9.0, "min": 2.0, "max": 11.0},
            variable="AGE",
            group_level=arm,
        )
        rows += make_rows(demo, {"n": n}, variable="SEX", group_level=arm)
        rows += make_rows(
            demo, {"count": n // 2, "pct": 50.0}, variable="SEX", variable_level="F", group_level=arm
        )
        rows += make_rows(
            demo, {"count": n - n // 2, "pct": 50.0}, variable="SEX", variable_level="M", group_level=arm
        )
        comp = n - 3 if arm else n - 9
        rows += make_rows(disp, {"n": n}, variable="EOSSTT", group_level=arm)
        rows += make_rows(
            disp,
            {"count": comp, "pct": 100 * comp / n},
            variable="EOSSTT",
            variable_level="COMPLETED",
            group_level=arm,
        )
        rows += make_rows(
            disp,
            {"count": n - comp, "pct": 100 * (n - comp) / n},
            variable="EOSSTT",
            variable_level="DISCONTINUED",
            group_level=arm,
        )
        rows += make_rows(
            disp,
            {"count": n - comp, "pct": 100 * (n - comp) / n},
            variable="DCSREAS",
            variable_level="LOST TO FOLLOW-UP",
            group_level=arm,
        )
    rows += _binary("iga-ts-w8", "IGATS", ("Week 8",))
    rows += _binary("iga-ts-by-visit", "IGATS", ("Week 4", "Week 8"))
    rows += _binary("easi75-w8", "EASI75", ("Week 8",))
    rows += _binary("nrs4-w8", "NRS4", ("Week 8",))
    sub = []
    for pop in ('(ITTFL == "Y") and AGEGR1 == "2-6 years"', '(ITTFL == "Y") and IGABL == 3.0'):
        sub += _binary("iga-ts-w8-subgroups", "IGATS", ("Week 8",), population=pop)
    rows += sub
    anc = ArdContext("easi-pchg", "ADEFF", 'ITTFL == "Y"', "EASI", "PCHG", "TRT01P", "ancova")
    for v, shift in (("Week 4", 0.0), ("Week 8", -5.0)):
        for arm, m in ((VEH, -30.0), (LOW, -60.0), (HIGH, -65.0)):
            rows += make_rows(
                anc,
                {
                    "n": N[arm],
                    "lsmean": m + shift,
                    "lsmean_se": 3.0,
                    "ci_lower": m + shift - 6,
                    "ci_upper": m + shift + 6,
                },
                visit=v,
                group_level=arm,
            )
        for arm, d in ((LOW, -30.0), (HIGH, -35.0)):
            rows += make_rows(
                anc,
                {"estimate": d, "se": 4.0, "ci_lower": d - 8, "ci_upper": d + 8, "p_value": 1e-9},
                visit=v,
                group_level=arm,
                comparator=VEH,
            )
    ae = ArdContext("teae-soc-pt", "ADAE", 'TRTEMFL == "Y"', "", "", "TRTA", "teae_soc_pt")
    for arm in ARMS:
        rows += make_rows(ae, {"n": N[arm]}, group_level=arm)
        rows += make_rows(
            ae,
            {"count": 5, "pct": 500 / N[arm], "n_events": 7},
            variable="TRTEMFL",
            variable_level="ANY",
            group_level=arm,
        )
        rows += make_rows(
            ae,
            {"count": 3, "pct": 300 / N[arm]},
            variable="AEBODSYS",
            variable_level="Infections and infestations",
            group_level=arm,
        )
        rows += make_rows(
            ae,
            {"count": 2, "pct": 200 / N[arm]},
            variable="AEDECOD",
            variable_level="Nasopharyngitis",
            group2="AEBODSYS",
            group2_level="Infections and infestations",
            group_level=arm,
        )
    return validate_ard(frame_from_rows(rows))
