"""The family benefit-risk sheet as plain-English text blocks (IPDAS: options, outcomes as
"about N in 100" with one denominator, balanced, no persuasion).

Text here holds no digits: every number is a placeholder ``{name}`` bound to a
:class:`~dermsim.clinic.benefit_risk.SheetNumber` (value, key, status, citations) and a display
style. The report layer fills placeholders with the house rounding (``report.format``) and lays
the sheet out; the tests check that no digit reaches the page except through a placeholder, so
every number on the sheet traces to an evidence entry (or to the model, for the blood level).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Literal

from dermsim.clinic.benefit_risk import BenefitRisk, SheetNumber
from dermsim.clinic.dose import DosePlan
from dermsim.clinic.evidence_keys import cite, item
from dermsim.clinic.scenarios import WEEK_STOP, ScenarioSet
from dermsim.clinic.words import Words
from dermsim.evidence import Evidence, load_evidence

Style = Literal["int", "per100", "1dp"]
PLACEHOLDER = re.compile(r"\{([a-z0-9_]+)\}")

# Sources below label or peer-reviewed quality (copies or summaries of the label).
WEAK_SOURCES = frozenset({"pillsync", "HCP-peds", "PhysiciansWeekly", "ADORING-PD", "ADORING-Roivant",
                          "ADORING-MIMS", "PEDS-topline", "INTEGUMENT-PED"})

# Plain names of label terms and option names now live in the translation files (clinic/i18n).


def arm_words(ev: Evidence, w: Words | None = None) -> dict[str, str]:
    """Option names from the trials' arms: "1.5% cream", "0.75% cream", plain cream for vehicle."""
    w = w or Words()
    out: dict[str, str] = {}
    for t in ev.trials.values():
        for a in t.arms:
            name = w("sheet", "plain_cream") if a.strength_pct == 0 else _strength(a.strength_pct, w)
            out.setdefault(a.id, name)
    return out


def _strength(pct: float, w: Words) -> str:
    s = f"{pct:g}"
    return w("sheet", "strength_cream", s=s.replace(".", ",") if w.lang == "es" else s)


@dataclass(frozen=True)
class Value:
    """A placeholder's number and how to show it."""

    number: SheetNumber
    style: Style = "int"


@dataclass(frozen=True)
class Text:
    """A sentence or paragraph template with ``{name}`` placeholders."""

    template: str
    values: dict[str, Value] = field(default_factory=dict)

    def __post_init__(self) -> None:
        names = set(PLACEHOLDER.findall(self.template))
        if names != set(self.values):
            raise ValueError(f"Text placeholders {sorted(names)} must match values {sorted(self.values)}")


@dataclass(frozen=True)
class Block:
    id: str
    heading: str
    paragraphs: tuple[Text, ...] = ()
    bullets: tuple[Text, ...] = ()


@dataclass(frozen=True)
class IconArray:
    """100 figures, ``count`` of them marked: one study arm's chance of clear skin."""

    title: str
    caption: Text
    count: Value


@dataclass(frozen=True)
class FamilySheet:
    title: str
    subtitle: Text
    arrays_heading: str
    arrays: tuple[tuple[str, tuple[IconArray, ...]], ...]     # (study caption, arrays)
    blocks: tuple[Block, ...]
    sources: tuple[tuple[str, str], ...]                      # (source key, citation)
    footer: str
    plan: DosePlan = field(repr=False)
    words: Words = field(default_factory=Words, repr=False)
    numbers: tuple[SheetNumber, ...] = ()
    # harms as icon arrays over the same 100 (active vs plain cream), like the benefits
    harms_heading: str = ""
    harms: tuple[tuple[str, tuple[IconArray, ...]], ...] = ()
    # "if we stop / only when it flares": (bar label, Value per 100) and the model's provenance line
    stop_chart: tuple[tuple[str, Value], ...] = ()
    stop_chart_title: str = ""
    stop_provenance: str = ""

    def texts(self) -> list[Text]:
        """Every text of the body (not the sources), for readability and tracing."""
        out = [self.subtitle]
        for _, arrays in (*self.arrays, *self.harms):
            out += [a.caption for a in arrays]
        for b in self.blocks:
            out += [*b.paragraphs, *b.bullets]
        return out

    def to_dict(self) -> dict[str, Any]:
        return {"title": self.title, "numbers": [n.to_dict() for n in self.numbers],
                "sources": [list(s) for s in self.sources]}


def _ev_number(key: str, ev: Evidence, unit: str = "") -> SheetNumber:
    """A number of the evidence at ``key`` (a Fact's value), refused unless C or D."""
    c = cite(key, ev)
    if not c.shareable:
        raise ValueError(f"evidence {key} has status {c.status}; it may not be shown to families")
    it = item(key, ev)
    return SheetNumber(float(it.number), unit or it.unit, key, c.status, c.citations)


def _plan_number(value: float, unit: str, name: str, keys: tuple[str, ...], ev: Evidence) -> SheetNumber:
    cites = tuple(c for k in keys for c in cite(k, ev).citations)
    return SheetNumber(float(value), unit, f"plan:{name}", "D", tuple(dict.fromkeys(cites)))


def _num_in_text(key: str, pattern: str, ev: Evidence) -> SheetNumber:
    """A number written inside a confirmed text fact (e.g. '>= 50 y' in the boxed-warning basis)."""
    c = cite(key, ev)
    m = re.search(pattern, str(item(key, ev).value))
    if not c.shareable or m is None:
        raise ValueError(f"evidence {key}: no confirmed number matching {pattern!r}")
    return SheetNumber(float(m.group(1)), "", key, c.status, c.citations)


def build_family_sheet(plan: DosePlan, br: BenefitRisk, ev: Evidence | None = None,
                       lang: str = "en", scenarios: ScenarioSet | None = None) -> FamilySheet:
    """The sheet for the child of ``plan`` in ``lang`` (words from ``clinic/i18n/<lang>.toml``);
    ``scenarios`` (:func:`dermsim.clinic.scenarios.run_scenarios`) adds "if you stop / only when it
    flares" with its picture."""
    ev = ev or load_evidence()
    w = Words(lang)
    eligibility = next(t for t in ev.trials.values() if t.id == br.efficacy[0].trial_id).eligibility
    age_lo = Value(_ev_number(f"{_trial_file(br.efficacy[0].trial_id, ev)}:trials.{br.efficacy[0].trial_id}"
                              ".eligibility.age_min_y", ev))
    age_hi = None
    if eligibility.age_max_exclusive_y is not None:
        n = _ev_number(f"{_trial_file(br.efficacy[0].trial_id, ev)}:trials.{br.efficacy[0].trial_id}"
                       ".eligibility.age_max_exclusive_y", ev)
        age_hi = Value(SheetNumber(n.value - 1, "y", n.key, "D", n.citations))
    children = age_hi is not None
    who = w("sheet", "children" if children else "people")
    week = Value(_ev_number("label.toml:facts.reassess_weeks", ev))

    words = arm_words(ev, w)
    label_strength = _strength(float(ev.label.facts["strength_pct"].number), w)
    plain = w("sheet", "plain_cream")
    others = sorted({x for x in words.values() if x not in (label_strength, plain)})
    # Chances of clear skin (icon arrays), same denominator of 100 for every option.
    arrays = []
    for study in br.efficacy:
        row = []
        for arm in study.arms:
            if arm.clear is None:
                continue
            v = Value(arm.clear, "per100")
            name = words[arm.arm]
            row.append(IconArray(name[0].upper() + name[1:], Text(w("sheet", "array_caption"), {"n": v}), v))
        arrays.append((w("sheet", "study", name=study.trial_name), tuple(row)))

    # Harms over the same 100: the most common side effect with a plain-cream number, and stopping.
    terms = w.table("terms")
    harm_rows: list[IconArray] = []
    common = next((se for se in br.side_effects if se.vehicle is not None), None)
    if common is not None:
        term = terms.get(common.term, common.term.lower())
        for arm, num in ((br.active_arm, common.active), ("vehicle", common.vehicle)):
            v = Value(num, "per100")
            name = words[arm]
            harm_rows.append(IconArray(name[0].upper() + name[1:],
                                       Text(w("sheet", "harm_caption", term=term), {"n": v}), v))
    harms = ((w("sheet", "study", name=br.efficacy[0].trial_name), tuple(harm_rows)),) if harm_rows else ()

    blocks: list[Block] = []
    blocks.append(Block("choices", w("sheet", "choices_heading"), paragraphs=(
        Text(w("sheet", "choices", label=label_strength)
             + "".join(w("sheet", "choices_weaker", other=o) for o in others), {}),
        Text(w("sheet", "groups", who=who), {"w": week}),
    )))
    options = _options_block(ev, w)
    if options is not None:
        blocks.append(options)
    blocks.append(_itch_block(br, ev, words, w))
    blocks.append(_side_effect_block(br, children, week, words, w))
    blocks.append(_warning_block(plan, br, ev, words, w))
    blocks.append(_use_block(plan, ev, week, w))
    chart: tuple[tuple[str, Value], ...] = ()
    provenance = ""
    if scenarios is not None:
        block, chart = _stop_block(scenarios, w)
        blocks.append(block)
        provenance = w("sheet", "stop_provenance", n=str(scenarios.n_patients), seed=str(scenarios.seed),
                       days=str(scenarios.days))
    blocks.append(Block("questions", w("sheet", "questions_heading"), bullets=tuple(
        Text(w("sheet", k), {}) for k in ("q_other", "q_amount", "q_long", "q_blood", "q_call"))))

    numbers: list[SheetNumber] = []
    seen_keys: list[str] = []
    captions = [a.caption for _, r in (*arrays, *harms) for a in r]
    for t in [*captions, *[x for b in blocks for x in (*b.paragraphs, *b.bullets)]]:
        for v in t.values.values():
            numbers.append(v.number)
    for n in numbers:
        if not n.key.startswith(("model:", "plan:")):
            seen_keys.append(n.key)
    for key in (*(k for _, _, k in br.boxed_topics), br.boxed_basis_key):
        seen_keys.append(key)
    sources: dict[str, str] = {}
    for key in seen_keys:
        c = cite(key, ev)
        pairs = list(zip(c.source_keys, c.citations, strict=False))
        # Families get label or peer-reviewed sources: a pill-information site or the maker's HCP page
        # is listed only when it is the entry's only source.
        strong = [(sk, ct) for sk, ct in pairs if sk not in WEAK_SOURCES]
        for sk, citation in strong or pairs:
            sources.setdefault(sk, citation)
    for k in plan.ftu_keys:
        c = cite(k, ev)
        for sk, citation in zip(c.source_keys, c.citations, strict=False):
            sources.setdefault(sk, citation)
    subtitle = Text(w("sheet", "subtitle_range" if age_hi else "subtitle_open", who=who),
                    {"age": Value(SheetNumber(plan.inp.age_y, "y", "input:age_y", "input", ())),
                     "g_lo": age_lo} | ({"g_hi": age_hi} if age_hi else {}))
    return FamilySheet(
        title=w("sheet", "title"),
        subtitle=subtitle,
        arrays_heading=w("sheet", "arrays_heading"),
        arrays=tuple(arrays), blocks=tuple(blocks),
        sources=tuple(sources.items()),
        footer=w("sheet", "footer"),
        plan=plan, words=w, numbers=tuple(numbers), harms_heading=w("sheet", "harms_heading"), harms=harms,
        stop_chart=chart, stop_chart_title=w("sheet", "stop_chart_title"), stop_provenance=provenance)


def _model_number(value: float, name: str, unit: str, sc: ScenarioSet) -> SheetNumber:
    return SheetNumber(float(value), unit, f"model:scenario.{name}", "model", (sc.provenance,))


def _stop_block(sc: ScenarioSet, w: Words) -> tuple[Block, tuple[tuple[str, Value], ...]]:
    """What happens if we stop, and using it only when the skin flares (model, per 100 children)."""
    r = {x.name: x for x in sc.results}
    per100 = {k: Value(_model_number(100 * r[k].clear_at_end, f"{k}.clear_at_end", "per 100", sc), "per100")
              for k in ("every_day", "stop_week_8", "as_needed")}
    w8 = Value(_model_number(WEEK_STOP, "stop_week", "weeks", sc))
    paras = (
        Text(w("sheet", "stop_intro"), {"wk": Value(_model_number(sc.days / 7, "weeks", "weeks", sc))}),
        Text(w("sheet", "stop_every"), {"a": per100["every_day"]}),
        Text(w("sheet", "stop_stop"), {"w8": w8, "b": per100["stop_week_8"]}),
        Text(w("sheet", "stop_flare"), {"c": per100["as_needed"],
                                         "d": Value(_model_number(r["as_needed"].days_treated,
                                                                  "as_needed.days_treated", "days", sc)),
                                         "days": Value(_model_number(sc.days, "days", "days", sc))}),
    )
    chart = ((w("sheet", "stop_bar_every"), per100["every_day"]),
             (w("sheet", "stop_bar_stop", w=f"{WEEK_STOP}"), per100["stop_week_8"]),
             (w("sheet", "stop_bar_flare"), per100["as_needed"]))
    return Block("stop", w("sheet", "stop_heading"), paragraphs=paras), chart


def _trial_file(trial_id: str, ev: Evidence) -> str:
    for name, f in ev.trial_files.items():
        if trial_id in f.trials:
            return name
    raise ValueError(f"trial {trial_id} not in the evidence")


def _itch_block(br: BenefitRisk, ev: Evidence, words: dict[str, str], w: Words) -> Block:
    paras: list[Text] = []
    if br.itch_early_key:
        hours = _num_in_text(br.itch_early_key, r"within (\d+) h", ev)
        paras.append(Text(w("sheet", "itch_early", cream=words["rux150"]),
                          {"h": Value(hours), "age12": Value(_age12(ev))}))
    if br.itch:
        parts = []
        values: dict[str, Value] = {}
        for i, it in enumerate(br.itch):
            parts.append(w("sheet", "itch_day", cream=words[it.arm]).replace("{d}", f"{{d{i}}}"))
            values[f"d{i}"] = Value(it.median_days)
        joined = (w("sheet", "itch_by").join(parts[:-1]) + w("sheet", "itch_and_by") + parts[-1]
                  if len(parts) > 1 else parts[0])
        paras.append(Text(w("sheet", "itch_half", parts=joined), values))
    if not br.itch_from_own_age_group:
        paras.append(Text(w("sheet", "itch_missing"), {}))
    return Block("itch", w("sheet", "itch_heading"), paragraphs=tuple(paras))


def _age12(ev: Evidence) -> SheetNumber:
    t = ev.trials["true-ad1"]
    return _ev_number(f"{_trial_file(t.id, ev)}:trials.{t.id}.eligibility.age_min_y", ev)


def _side_effect_block(br: BenefitRisk, children: bool, week: Value, words: dict[str, str],
                       w: Words) -> Block:
    active = words[br.active_arm]
    missing = [x for a, x in words.items() if a not in (br.active_arm, "vehicle")]
    terms = w.table("terms")
    bullets: list[Text] = []
    # The three most common fit the one-page sheet; the label lists the rest.
    for se in br.side_effects[:3]:
        name = terms.get(se.term, se.term.lower())
        values = {"a": Value(se.active, "per100")}
        text = w("sheet", "se_active", cream=active)
        if se.vehicle is not None:
            values["v"] = Value(se.vehicle, "per100")
            text += w("sheet", "se_vehicle")
        bullets.append(Text(name[0].upper() + name[1:] + ": " + text + ".", values))
    paras = [Text(w("sheet", "se_intro") + "".join(w("sheet", "se_missing", arm=m) for m in missing),
                  {"w": week})]
    for se in br.stopped:
        values = {"a": Value(se.active, "per100")}
        text = w("sheet", "stopped_children" if children else "stopped_people", cream=active)
        if se.vehicle is not None:
            values["v"] = Value(se.vehicle, "per100")
            text += w("sheet", "se_vehicle")
        paras.append(Text(text + ".", values))
    return Block("side_effects", w("sheet", "se_heading"), paragraphs=tuple(paras), bullets=tuple(bullets))


def _warning_block(plan: DosePlan, br: BenefitRisk, ev: Evidence, words: dict[str, str], w: Words) -> Block:
    boxed = w.table("boxed")
    topics = [boxed.get(tid, title.lower()) for tid, title, _ in br.boxed_topics]
    listed = (w("sheet", "list_sep").join(topics[:-1]) + w("sheet", "list_and") + topics[-1]
              if len(topics) > 1 else topics[0])
    age50 = _num_in_text(br.boxed_basis_key, r">= (\d+) y", ev)
    # Typical blood levels from JAK pills are shown only when the evidence confirms them.
    oral = "" if plan.exposure.oral_available else w("sheet", "warning_no_oral")
    paras = [
        Text(w("sheet", "warning_lists", listed=listed), {}),
        Text(w("sheet", "warning_pills"), {"a50": Value(age50)}),
        Text(w("sheet", "warning_fraction", cream=words["rux150"]),
             {"f": Value(_ev_number("pharmacology.toml:topical.bioavailability_rux150_pct", ev), "per100")}),
        # Cream vs pills as the share of each dose that reaches the blood (both confirmed evidence).
        Text(w("sheet", "warning_pill_fraction"),
             {"o": Value(_ev_number("pharmacology.toml:oral.bioavailability_pct", ev), "per100")}),
        # The threshold is named in words, not in nanomolar: families read "the safety line".
        Text(w("sheet", "warning_line") + oral, {}),
    ]
    if br.trial_pk_statement_key:
        paras.append(Text(w("sheet", "warning_trial_pk"), {}))
    paras.append(Text(w("sheet", "warning_model"), {"p": Value(br.p_above, "per100")}))
    if br.p_above_p05 is not None and br.p_above_p95 is not None:
        paras.append(Text(w("sheet", "warning_model_range"),
                          {"plo": Value(br.p_above_p05, "per100"), "phi": Value(br.p_above_p95, "per100")}))
    if br.parameters == "prior":
        paras.append(Text(w("sheet", "warning_prior"), {}))
    elif not br.itch_from_own_age_group:
        # The calibration fits adult and adolescent blood levels only (no paediatric PK targets).
        paras.append(Text(w("sheet", "warning_adult_fit"), {}))
    return Block("warning", w("sheet", "warning_heading"), paragraphs=tuple(paras))


def _use_block(plan: DosePlan, ev: Evidence, week: Value, w: Words) -> Block:
    keys = plan.ftu_keys
    grams = Value(_plan_number(plan.grams_per_application, "g", "grams_per_application", keys, ev), "1dp")
    ftu = Value(_plan_number(plan.ftu_per_application, "FTU", "ftu_per_application", keys, ev), "1dp")
    area = Value(_plan_number(plan.treated_pct, "%", "treated_pct", ("label.toml:facts.max_bsa_pct",), ev))
    max_bsa = Value(_ev_number("label.toml:facts.max_bsa_pct", ev))
    per_day = plan.inp.applications_per_day
    times = w("sheet", f"times_{per_day}") if per_day in (1, 2) else ""
    over_label = any(c.name == "max_bsa_pct" and c.within is False for c in plan.label_checks)
    paras = [
        Text(w("sheet", "use_area", times=times) + (w("sheet", "use_over") if over_label else ""),
             {"area": area, "max": max_bsa}),
        Text(w("sheet", "use_amount"), {"g": grams, "f": ftu}),
    ]
    bullets = (Text(w("sheet", "use_no_wrap"), {}), Text(w("sheet", "use_stop"), {"w": week}),
               Text(w("sheet", "use_call"), {}))
    return Block("use", w("sheet", "use_heading"), paragraphs=tuple(paras), bullets=bullets)


# Comparator rows shown to families: (comparator id, result index, phrase, name key). Only entries
# with a peer-reviewed source (Paller 2016 JAAD, Simpson 2024 JAMA Dermatol, Paller 2001 JAAD);
# tapinarof's numbers come from press pages, delgocitinib's are a mean change (not a chance).
OPTION_ROWS = (("crisaborole", "ISGA clear or almost clear", "opt_clear", "opt_crisaborole"),
               ("roflumilast-0.15", "vIGA-AD success", "opt_clear", "opt_roflumilast"),
               ("tacrolimus", ">= 90% improvement", "opt_much", "opt_tacrolimus"))


def _options_block(ev: Evidence, w: Words) -> Block | None:
    """Alternatives as an option list with the same kind of outcome where published (per 100,
    against the plain base of each study); moisturisers and steroid creams named without numbers."""
    comps = {c.id: (i, c) for i, c in enumerate(ev.comparators.comparators)}
    bullets = [Text(w("sheet", "opt_moist"), {})]
    for cid, endpoint, phrase, name_key in OPTION_ROWS:
        if cid not in comps:
            continue
        i, comp = comps[cid]
        j, res = next(((j, r) for j, r in enumerate(comp.results) if r.endpoint == endpoint
                       and r.active_value is not None and r.control_value is not None), (None, None))
        age = re.search(r">= (\d+) y", comp.population or "")
        name = w("sheet", name_key, age=age.group(1) if age else "")
        key = f"comparators.toml:comparators.{i}.results.{j}"
        c = cite(key, ev) if res is not None else None
        if (res is None or c is None or res.status not in ("C", "D") or res.visit_week is None
                or set(c.source_keys) & WEAK_SOURCES):
            # named, but no number unless confirmed by a label or a journal paper
            bullets.append(Text(w("sheet", "opt_none", name=name), {}))
            continue
        a = SheetNumber(float(res.active_value), "%", key, c.status, c.citations)
        v = SheetNumber(float(res.control_value), "%", key, c.status, c.citations)
        wk = SheetNumber(float(res.visit_week), "weeks", key, c.status, c.citations)
        values = {"a": Value(a, "per100"), "v": Value(v, "per100"), "wk": Value(wk)}
        bullets.append(Text(w("sheet", phrase, name=name), values))
    intro = (Text(w("sheet", "options_intro"), {}),)
    return Block("options", w("sheet", "options_heading"), paragraphs=intro, bullets=tuple(bullets))
