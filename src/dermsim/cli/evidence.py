"""``dermsim evidence list`` and ``dermsim evidence show TRIAL``: the evidence library as tables.

Every value is printed with its status (C confirmed, D derived, U unconfirmed, NF not found) and
source key; ``show`` ends with the citations of the keys it used.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from dermsim.cli import app
from dermsim.workflows import check_choice
from dermsim.workflows.evidence import (
    AERow,
    EndpointResult,
    Evidence,
    Fact,
    PooledData,
    Source,
    Trial,
    count_by_status,
    get_trial,
    iter_cited,
    load_evidence,
)

DATA_HELP = "directory of evidence TOML files (default: the package's own)"
_STATUS_STYLE = {"C": "green", "D": "cyan", "U": "yellow", "NF": "red"}

evidence_app = typer.Typer(help="The evidence library: published trial results, label, PK, mechanism.",
                           no_args_is_help=True)
app.add_typer(evidence_app, name="evidence")


def _console() -> Console:
    # Wide enough that source keys and short notes stay on one line when output is piped.
    return Console(width=160, highlight=False)


def _num(v: float | int) -> str:
    return f"{v:g}" if isinstance(v, float) else str(v)


def fmt_fact(fact: Fact | None) -> str:
    """A fact as one cell: '6.5 (SD 2.9) y', '2021-07-19', or 'NF'."""
    if fact is None:
        return "-"
    if fact.value is None:
        return "NF"
    if isinstance(fact.value, str):
        return fact.value
    if isinstance(fact.value, list):
        text = ", ".join(_num(v) for v in fact.value)
    else:
        text = _num(fact.value)
    text = f"{text}%" if fact.unit == "%" else f"{text} {fact.unit}"
    return text + (f" (SD {fact.sd:g})" if fact.sd is not None else "")


def _status(status: str) -> str:
    return f"[{_STATUS_STYLE[status]}]{status}[/]"


def _facts_table(title: str, rows: Iterable[tuple[str, Fact | None]]) -> Table:
    table = Table(title=title, title_justify="left", show_lines=False)
    for col, kw in (("item", {}), ("value", {"overflow": "fold"}), ("status", {}), ("source", {}),
                    ("note", {"overflow": "fold"})):
        table.add_column(col, **kw)
    for name, fact in rows:
        if fact is None:
            continue
        table.add_row(*map(escape, (name, fmt_fact(fact))), _status(fact.status),
                      *map(escape, (fact.source, fact.note or "")))
    return table


def _results_table(title: str, results: list[EndpointResult]) -> Table:
    table = Table(title=title, title_justify="left")
    for col in ("endpoint", "visit", "population", "arm", "value", "p", "status", "source", "note"):
        table.add_column(col, overflow="fold")
    for r in results:
        value = "NF" if r.value_pct is None else f"{r.value_pct:g}%"
        if r.n_responders is not None:
            value += f" ({r.n_responders}/{r.n_arm})" if r.n_arm else f" (n={r.n_responders})"
        table.add_row(*map(escape, (r.endpoint, r.visit, r.population, r.arm, value, r.p_value or "")),
                      _status(r.status), *map(escape, (r.source, r.note or "")))
    return table


def _ae_cell(row: AERow) -> str:
    parts = []
    if row.n is not None:
        parts.append(str(row.n) if row.denominator is None else f"{row.n}/{row.denominator}")
    if row.pct is not None:
        pct = f"{row.pct:g}%"
        parts.append(f"({pct})" if parts else pct + (f" of {row.denominator}" if row.denominator else ""))
    return " ".join(parts) or "NF"


def _ae_table(title: str, rows: list[AERow]) -> Table:
    table = Table(title=title, title_justify="left")
    for col in ("period", "term", "arm", "n/N (%)", "status", "source", "note"):
        table.add_column(col, overflow="fold")
    for row in rows:
        term = escape(row.term) + (f" [dim]({escape(', '.join(row.grouped_terms))})[/]"
                                   if row.grouped_terms else "")
        table.add_row(escape(row.period), term, escape(row.arm), escape(_ae_cell(row)),
                      _status(row.status), *map(escape, (row.source, row.note or "")))
    return table


def _source_keys(*objs: Any) -> list[str]:
    keys: list[str] = []
    for obj in objs:
        for _, item in iter_cited(obj):
            for key in (k.strip() for k in item.source.split(";")):
                if key not in keys:
                    keys.append(key)
    return keys


def _print_sources(console: Console, keys: list[str], sources: dict[str, Source]) -> None:
    console.print("[bold]Sources[/]")
    for key in keys:
        src = sources[key]
        text = f"  [{key}] {src.citation}" + (f" {src.url}" if src.url else "")
        console.print(escape(text), soft_wrap=True)


def _counts_text(counts: dict[str, int]) -> str:
    return "  ".join(f"{k} {v}" for k, v in counts.items())


def render_trial(console: Console, ev: Evidence, trial: Trial) -> None:
    ids = ", ".join([trial.registry_id, *trial.other_ids])
    console.print(f"[bold]{escape(trial.name)}[/] ({escape(ids)}) - phase {escape(trial.phase)}: "
                  f"{escape(trial.population)}")
    console.print(f"Values by status: {_counts_text(count_by_status(trial))}   "
                  "(C confirmed, D derived, U unconfirmed/provisional, NF not found)")
    design_rows: list[tuple[str, Fact | None]] = [
        ("design", trial.design), ("randomization", trial.randomization),
        ("stratification", trial.stratification),
        *((f"stratum: {s.name}", s.levels) for s in trial.strata),
        ("N randomized (total)", trial.n_total), ("vehicle-controlled period", trial.vc_weeks),
        ("LTS period", trial.lts.weeks), ("LTS design", trial.lts.design),
        ("LTS vehicle re-randomization", trial.lts.vehicle_rerandomization),
        *trial.facts.items(),
    ]
    console.print(_facts_table("Design", design_rows))
    el = trial.eligibility
    console.print(_facts_table("Eligibility", [
        ("age min", el.age_min_y), ("age max (exclusive)", el.age_max_exclusive_y), ("IGA min", el.iga_min),
        ("IGA max", el.iga_max), ("BSA min", el.bsa_min_pct), ("BSA max", el.bsa_max_pct),
        ("AD duration min", el.ad_duration_min_months), *el.other.items()]))

    arms = Table(title="Arms", title_justify="left")
    for col in ("arm", "label", "strength", "regimen", "ratio", "N randomized", "status", "N safety",
                "source"):
        arms.add_column(col, overflow="fold")
    for a in trial.arms:
        arms.add_row(*map(escape, (a.id, a.label, f"{a.strength_pct:g}%", a.regimen, str(a.ratio),
                                   fmt_fact(a.n_randomized))), _status(a.n_randomized.status),
                     escape(fmt_fact(a.n_safety) if a.n_safety else "-"),
                     escape(a.n_randomized.source + (f"; {a.n_safety.source}" if a.n_safety else "")))
    console.print(arms)
    console.print(_facts_table("Baseline characteristics", trial.baseline.items()))
    console.print(_results_table("Endpoint results", trial.endpoint_results))
    if trial.ae:
        console.print(_ae_table("Adverse events", trial.ae))
    pooled = ev.pooled_for(trial.id)
    for p in pooled:
        _render_pooled(console, p)
    keys = _source_keys(trial, *pooled)
    _print_sources(console, keys, ev.trial_sources(trial.id))


def _render_pooled(console: Console, p: PooledData) -> None:
    console.print(f"\n[bold]{escape(p.name)}[/] (reported pooled over {escape(', '.join(p.trials))})")
    console.print(_facts_table("Pooled N by arm", p.arms.items()))
    if p.baseline:
        console.print(_facts_table("Pooled baseline", p.baseline.items()))
    if p.endpoint_results:
        console.print(_results_table("Pooled endpoint results", p.endpoint_results))
    if p.ae:
        console.print(_ae_table("Pooled adverse events", p.ae))
    if p.facts:
        console.print(_facts_table("Other pooled facts", p.facts.items()))


@evidence_app.command("list")
def list_cmd(data_dir: Path | None = typer.Option(None, "--data-dir", help=DATA_HELP)) -> None:
    """List the evidence files with the number of values by status (C, D, U, NF)."""
    ev = load_evidence(data_dir)
    table = Table(title="dermsim evidence library", title_justify="left")
    for col in ("file", "holds", "sources", "C", "D", "U", "NF"):
        table.add_column(col, overflow="fold")
    holds = {"label.toml": "Opzelura US label: strengths, dose limits by age, warnings",
             "pharmacology.toml": "topical and oral ruxolitinib PK, JAK potency",
             "mechanism.toml": f"{len(ev.mechanism.cytokines)} cytokines: receptor, JAKs, STATs, blocked",
             "comparators.toml": f"{len(ev.comparators.comparators)} comparator treatments",
             "natural_history.toml": "vehicle response, baseline by age group, EASI scoring"}
    families = ev.families()
    try:
        families["charts.toml"] = ev.charts
        holds["charts.toml"] = "Lund-Browder, EASI region weights, BSA formulas, fingertip units"
    except AttributeError:
        pass
    for name, model in families.items():
        desc = holds.get(name) or getattr(model, "description", None) \
            or "trials " + ", ".join(t.name for t in model.trials.values())
        counts = count_by_status(model)
        table.add_row(escape(name), escape(desc), str(len(getattr(model, "sources", {}))),
                      *(str(counts[s]) for s in ("C", "D", "U", "NF")))
    console = _console()
    console.print(table)
    trials = Table(title="Trials (dermsim evidence show TRIAL)", title_justify="left")
    for col in ("trial", "name", "registry", "population", "N", "arms"):
        trials.add_column(col, overflow="fold")
    for key, t in sorted(ev.trials.items()):
        arms = ", ".join(f"{a.id} {fmt_fact(a.n_randomized)} ({a.n_randomized.status})" for a in t.arms)
        trials.add_row(*map(escape, (key, t.name, t.registry_id, t.population, fmt_fact(t.n_total), arms)))
    console.print(trials)


@evidence_app.command("show")
def show_cmd(
    trial: str = typer.Argument(..., help="trial id: true-ad1, true-ad2 or true-ad3"),
    data_dir: Path | None = typer.Option(None, "--data-dir", help=DATA_HELP),
    fmt: str = typer.Option("table", "--format", help="table or json (the trial, its pooled data "
                            "and the sources it cites, as stored)"),
) -> None:
    """Print one trial: design, eligibility, arms with N, baseline, endpoints, AEs and sources."""
    check_choice("--format", fmt, ("table", "json"))
    ev = load_evidence(data_dir)
    found = get_trial(trial, data_dir)
    if fmt == "json":
        pooled = ev.pooled_for(found.id)
        sources = ev.trial_sources(found.id)
        doc = {"trial": found.to_dict(), "pooled": [p.to_dict() for p in pooled],
               "sources": {k: sources[k].to_dict() for k in _source_keys(found, *pooled)}}
        typer.echo(json.dumps(doc, indent=2, ensure_ascii=False))
        return
    render_trial(_console(), ev, found)
