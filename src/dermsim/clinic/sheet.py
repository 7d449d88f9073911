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

from dermsim.calibration.children_pk import children_check, read_children_pk
from dermsim.clinic.benefit_risk import BenefitRisk, SheetNumber
from dermsim.clinic.dose import USUAL_SOURCE, DosePlan
from dermsim.clinic.evidence_keys import cite, item
from dermsim.clinic.scenarios import WEEK_STOP, ScenarioSet
from dermsim.clinic.words import Words
from dermsim.evidence import Evidence, load_evidence

Style = Literal["int", "per100", "1dp"]
# where the fingertip-unit weight and the cream children really use come from
FTU_WEIGHT_KEY = "charts.toml:ftu.weight_g"
USUAL_LOAD_KEY = "pharmacology.toml:topical.cream_load_children_mg_per_cm2"
PLACEHOLDER = re.compile(r"\{([a-z0-9_]+)\}")

# Sources below label or peer-reviewed quality (copies or summaries of the label).
WEAK_SOURCES = frozenset({"pillsync", "HCP-peds", "PhysiciansWeekly", "ADORING-PD", "ADORING-Roivant",
                          "ADORING-MIMS", "PEDS-topline", "INTEGUMENT-PED", "Medscape", "Skyscape"})

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
class OptionGrid:
    """The alternatives as an option grid: one row per option, the same columns (outcomes) for
    each; a cell without a published, confirmed number says so in words."""

    heading: str
    intro: Text
    columns: tuple[str, ...]                       # the first names the option
    rows: tuple[tuple[str, tuple[Text, ...]], ...]  # (option name, one cell per further column)

    def texts(self) -> list[Text]:
        return [self.intro, *(c for _, cells in self.rows for c in cells)]


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
    # the 90% interval across parameter sets of each bar (None with the prior: one set)
    stop_chart_intervals: tuple[tuple[Value, Value] | None, ...] = ()
    options: OptionGrid | None = None

    def texts(self, *, grid: bool = True) -> list[Text]:
        """Every text of the body (not the sources), for tracing; ``grid=False`` leaves out the
        option grid's cells (table fragments, not sentences: not for the readability formula)."""
        out = [self.subtitle]
        for _, arrays in (*self.arrays, *self.harms):
            out += [a.caption for a in arrays]
        for b in self.blocks:
            out += [*b.paragraphs, *b.bullets]
        if self.options is not None:
            out += self.options.texts() if grid else [self.options.intro]
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
    grid = _option_grid(br, ev, words, w)
    blocks.append(_itch_block(br, ev, words, w))
    blocks.append(_side_effect_block(br, children, week, words, w))
    blocks.append(_warning_block(plan, br, ev, words, w))
    blocks.append(_use_block(plan, ev, week, w))
    chart: tuple[tuple[str, Value], ...] = ()
    intervals: tuple[tuple[Value, Value] | None, ...] = ()
    provenance = ""
    if scenarios is not None:
        block, chart, intervals = _stop_block(scenarios, w)
        blocks.append(block)
        params = (w("sheet", "stop_params_posterior", version=scenarios.posterior_version,
                    sets=str(scenarios.parameter_sets)) if scenarios.posterior_version
                  else w("sheet", "stop_params_prior"))
        provenance = w("sheet", "stop_provenance", n=str(scenarios.n_patients), seed=str(scenarios.seed),
                       days=str(scenarios.days), params=params)
    blocks.append(Block("questions", w("sheet", "questions_heading"), bullets=tuple(
        Text(w("sheet", k), {}) for k in ("q_other", "q_amount", "q_long", "q_blood", "q_call"))))

    numbers: list[SheetNumber] = []
    seen_keys: list[str] = []
    captions = [a.caption for _, r in (*arrays, *harms) for a in r]
    for t in [*captions, *[x for b in blocks for x in (*b.paragraphs, *b.bullets)], *grid.texts()]:
        for v in t.values.values():
            numbers.append(v.number)
    numbers += [v.number for pair in intervals if pair is not None for v in pair]
    for n in numbers:
        if not n.key.startswith(("model:", "plan:")):
            seen_keys.append(n.key)
    for key in (*(k for _, _, k in br.boxed_topics), br.boxed_basis_key, *br.oral_keys):
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
        stop_chart=chart, stop_chart_title=w("sheet", "stop_chart_title"), stop_provenance=provenance,
        stop_chart_intervals=intervals, options=grid)


def _model_number(value: float, name: str, unit: str, sc: ScenarioSet) -> SheetNumber:
    return SheetNumber(float(value), unit, f"model:scenario.{name}", "model", (sc.provenance,))


StopChart = tuple[tuple[str, Value], ...]


def _stop_block(sc: ScenarioSet, w: Words) -> tuple[Block, StopChart, tuple[tuple[Value, Value] | None, ...]]:
    """What happens if we stop, and using it only when the skin flares (model, per 100 children),
    with how sure the model is (90% interval across the posterior's parameter sets)."""
    r = {x.name: x for x in sc.results}
    names = ("every_day", "stop_week_8", "as_needed")
    per100 = {k: Value(_model_number(100 * r[k].clear_at_end, f"{k}.clear_at_end", "per 100", sc), "per100")
              for k in names}
    ranges: dict[str, tuple[Value, Value] | None] = {}
    for k in names:
        iv = r[k].clear_at_end_interval
        ranges[k] = None if iv is None else (
            Value(_model_number(100 * iv[0], f"{k}.clear_at_end_p05", "per 100", sc), "per100"),
            Value(_model_number(100 * iv[1], f"{k}.clear_at_end_p95", "per 100", sc), "per100"))
    w8 = Value(_model_number(WEEK_STOP, "stop_week", "weeks", sc))
    paras = [
        Text(w("sheet", "stop_intro"), {"wk": Value(_model_number(sc.days / 7, "weeks", "weeks", sc))}),
        Text(w("sheet", "stop_every"), {"a": per100["every_day"]}),
        Text(w("sheet", "stop_stop"), {"w8": w8, "b": per100["stop_week_8"]}),
        Text(w("sheet", "stop_flare"), {"c": per100["as_needed"],
                                         "d": Value(_model_number(r["as_needed"].days_treated,
                                                                  "as_needed.days_treated", "days", sc)),
                                         "days": Value(_model_number(sc.days, "days", "days", sc))}),
    ]
    every = ranges["every_day"]
    if every is not None:
        paras.append(Text(w("sheet", "stop_unsure"), {"lo": every[0], "hi": every[1]}))
    chart = ((w("sheet", "stop_bar_every"), per100["every_day"]),
             (w("sheet", "stop_bar_stop", w=f"{WEEK_STOP}"), per100["stop_week_8"]),
             (w("sheet", "stop_bar_flare"), per100["as_needed"]))
    block = Block("stop", w("sheet", "stop_heading"), paragraphs=tuple(paras))
    return block, chart, tuple(ranges[k] for k in names)


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
    oral = "" if br.oral_ratio is not None else w("sheet", "warning_no_oral")
    paras = [
        Text(w("sheet", "warning_lists", listed=listed), {}),
        Text(w("sheet", "warning_pills"), {"a50": Value(age50)}),
        Text(w("sheet", "warning_fraction", cream=words["rux150"]),
             {"f": Value(_ev_number("pharmacology.toml:topical.bioavailability_rux150_pct", ev), "per100")}),
        Text(w("sheet", "warning_pill_fraction"),
             {"o": Value(_ev_number("pharmacology.toml:oral.bioavailability_pct", ev), "per100")}),
        # The threshold is named in words, not in nanomolar: families read "the safety line".
        Text(w("sheet", "warning_line") + oral, {}),
    ]
    if br.oral_ratio is not None and br.oral_ratio_p05 is not None and br.oral_ratio_p95 is not None:
        # The exposure from the cream against the pill's, in the same child (model for the cream, the
        # pill's dose and uptake from the evidence; linear elimination, so amounts compare levels).
        paras.append(Text(w("sheet", "warning_pill_compare"),
                          {"r": Value(br.oral_ratio, "per100"), "rlo": Value(br.oral_ratio_p05, "per100"),
                           "rhi": Value(br.oral_ratio_p95, "per100")}))
    if br.trial_pk_statement_key:
        paras.append(Text(w("sheet", "warning_trial_pk"), {}))
    paras.append(Text(w("sheet", "warning_model"), {"p": Value(br.p_above, "per100")}))
    if br.p_above_p05 is not None and br.p_above_p95 is not None:
        paras.append(Text(w("sheet", "warning_model_range"),
                          {"plo": Value(br.p_above_p05, "per100"), "phi": Value(br.p_above_p95, "per100")}))
    check = children_check(read_children_pk()) if br.parameters != "prior" else None
    if check is not None and (check.over_predicts_above or check.all_consistent):
        # the model beside the children's studies (post hoc): too many above the line, or close
        key = "warning_model_checked_high" if check.over_predicts_above else "warning_model_checked_ok"
        paras.append(Text(w("sheet", key), {}))
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
    paras = [Text(w("sheet", "use_area", times=times) + (w("sheet", "use_over") if over_label else ""),
                  {"area": area, "max": max_bsa})]
    if plan.grams_source == "fingertip units":
        paras.append(Text(w("sheet", "use_amount"), {"g": grams, "f": ftu}))
    else:
        # the fingertip-unit guide, then the amount the blood numbers use (what children really
        # apply, or what the family said), so the two are never mixed in one sentence
        guide = Value(_plan_number(plan.ftu_grams_per_application, "g", "ftu_grams_per_application",
                                   (*keys, FTU_WEIGHT_KEY), ev), "1dp")
        if plan.grams_source == USUAL_SOURCE:
            used = Value(_plan_number(plan.grams_per_application, "g", "grams_per_application",
                                      (USUAL_LOAD_KEY,), ev), "1dp")
            paras.append(Text(w("sheet", "use_amount_guide") + " " + w("sheet", "use_amount_usual"),
                              {"g": guide, "f": ftu, "u": used}))
        else:
            paras.append(Text(w("sheet", "use_amount_guide") + " " + w("sheet", "use_amount_entered"),
                              {"g": guide, "f": ftu, "u": grams}))
    bullets = (Text(w("sheet", "use_no_wrap"), {}), Text(w("sheet", "use_stop"), {"w": week}),
               Text(w("sheet", "use_call"), {}))
    return Block("use", w("sheet", "use_heading"), paragraphs=tuple(paras), bullets=bullets)


# Comparator rows of the option grid: (comparator id, result endpoint, outcome word key, name key).
# Numbers only from a label or a journal paper (Paller 2016 JAAD for crisaborole); roflumilast's and
# tapinarof's study numbers come from news or press pages and tacrolimus's are unconfirmed, so their
# cells say so. Delgocitinib (Japan) is left out: its result is a mean change, not a chance.
OPTION_ROWS = (("crisaborole", "ISGA clear or almost clear", "opt_clear", "opt_crisaborole"),
               ("roflumilast-0.15", "vIGA-AD success", "opt_clear", "opt_roflumilast"),
               ("tapinarof", "vIGA-AD success", "opt_clear", "opt_tapinarof"),
               ("tacrolimus", ">= 90% improvement", "opt_much", "opt_tacrolimus"))
# Times a day in a comparator's regimen text ("BID ...", "QD ..."): words, not numbers.
_TIMES = (("BID", "times_2"), ("QD", "times_1"))


def _how_often(regimen: str, w: Words) -> Text:
    for code, key in _TIMES:
        if re.match(rf"{code}\b", regimen):
            return Text(w("sheet", "grid_per_day", times=w("sheet", key)), {})
    return Text(w("sheet", "grid_none"), {})


def _option_grid(br: BenefitRisk, ev: Evidence, words: dict[str, str], w: Words) -> OptionGrid:
    """The alternatives in an option grid, the same outcomes in every row (IPDAS): how often it
    is used, clear or almost clear skin per 100 with it and with the plain base of its own study,
    and when that was measured. The ruxolitinib row is the child's own study (the numbers of the
    pictures above); moisturisers and steroid creams have no numbers in the library."""
    none = Text(w("sheet", "grid_none"), {})
    unchecked = Text(w("sheet", "grid_unchecked"), {})
    rows: list[tuple[str, tuple[Text, ...]]] = []
    study = br.efficacy[0]
    arms = {a.arm: a for a in study.arms}
    active, plain = arms.get(br.active_arm), arms.get("vehicle")
    label_times = int(ev.label.facts["dose_frequency_per_day"].number or 2)
    if active is not None and active.clear is not None and plain is not None and plain.clear is not None:
        wk_key = active.clear.key
        wk = SheetNumber(float(item(wk_key, ev).visit_week), "weeks", wk_key, active.clear.status,
                         active.clear.citations)
        rows.append((w("sheet", "opt_rux", cream=words[br.active_arm]), (
            Text(w("sheet", "grid_per_day", times=w("sheet", f"times_{label_times}")), {}),
            Text(w("sheet", "grid_in100"), {"n": Value(active.clear, "per100")}),
            Text(w("sheet", "grid_in100"), {"n": Value(plain.clear, "per100")}),
            Text(w("sheet", "grid_weeks"), {"n": Value(wk)}))))
    rows.append((w("sheet", "opt_moist"), (Text(w("sheet", "grid_as_told"), {}), none, none, none)))
    comps = {c.id: (i, c) for i, c in enumerate(ev.comparators.comparators)}
    for cid, endpoint, outcome_key, name_key in OPTION_ROWS:
        if cid not in comps:
            continue
        i, comp = comps[cid]
        j, res = next(((j, r) for j, r in enumerate(comp.results) if r.endpoint == endpoint
                       and r.active_value is not None and r.control_value is not None), (None, None))
        name = w("sheet", name_key)
        how = _how_often(comp.regimen, w)
        key = f"comparators.toml:comparators.{i}.results.{j}"
        c = cite(key, ev) if res is not None else None
        if (res is None or c is None or res.status not in ("C", "D") or res.visit_week is None
                or set(c.source_keys) & WEAK_SOURCES):
            rows.append((name, (how, unchecked, unchecked, unchecked)))
            continue
        a = SheetNumber(float(res.active_value), "%", key, c.status, c.citations)
        v = SheetNumber(float(res.control_value), "%", key, c.status, c.citations)
        wk = SheetNumber(float(res.visit_week), "weeks", key, c.status, c.citations)
        cell = "grid_in100" if outcome_key == "opt_clear" else "grid_in100_much"
        rows.append((name, (how, Text(w("sheet", cell), {"n": Value(a, "per100")}),
                            Text(w("sheet", cell), {"n": Value(v, "per100")}),
                            Text(w("sheet", "grid_weeks"), {"n": Value(wk)}))))
    columns = tuple(w("sheet", k) for k in ("grid_col_option", "grid_col_often", "grid_col_with",
                                            "grid_col_plain", "grid_col_when"))
    return OptionGrid(w("sheet", "options_heading"), Text(w("sheet", "options_intro"), {}), columns,
                      tuple(rows))
