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
from dermsim.clinic.dose import INTERVAL, DosePlan
from dermsim.clinic.evidence_keys import cite, item
from dermsim.evidence import Evidence, load_evidence

Style = Literal["int", "per100", "1dp"]
PLACEHOLDER = re.compile(r"\{([a-z0-9_]+)\}")

# Plain names for label AE terms (the evidence keeps the MedDRA-like term; families read these).
PLAIN_TERMS: dict[str, str] = {
    "Upper respiratory tract infection": "colds, sore throat or stuffy nose",
    "COVID-19": "COVID",
    "Application-site reaction": "stinging, pain or itch where the cream went on",
    "Pyrexia": "fever",
    "White blood cell decreased or leukopenia": "a low white blood cell count on a blood test",
    "Nasopharyngitis": "colds",
    "Bronchitis": "chest infection (bronchitis)",
    "Ear infection": "ear infection",
    "Eosinophil count increased": "a high count of one kind of white blood cell",
    "Urticaria": "hives",
    "Diarrhoea": "loose stools",
    "Folliculitis": "small bumps around hair roots",
    "Tonsillitis": "sore tonsils",
    "Rhinorrhoea": "runny nose",
    "Application-site burning": "burning where the cream went on",
    "Application-site pruritus": "itch where the cream went on",
    "Neutropenia": "a low count of one kind of white blood cell",
}
PLAIN_BOXED: dict[str, str] = {
    "serious-infections": "serious infections, such as shingles or lung infections",
    "mortality": "a higher chance of death from any cause",
    "malignancy": "cancer, such as lymphoma",
    "mace": "heart attack and stroke",
    "thrombosis": "blood clots",
}
PLAIN_CREAM = "plain cream (no medicine)"


def arm_words(ev: Evidence) -> dict[str, str]:
    """Option names from the trials' arms: "1.5% cream", "0.75% cream", plain cream for vehicle."""
    out: dict[str, str] = {}
    for t in ev.trials.values():
        for a in t.arms:
            out.setdefault(a.id, PLAIN_CREAM if a.strength_pct == 0 else f"{a.strength_pct:g}% cream")
    return out


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
    numbers: tuple[SheetNumber, ...] = ()

    def texts(self) -> list[Text]:
        """Every text of the body (not the sources), for readability and tracing."""
        out = [self.subtitle]
        for _, arrays in self.arrays:
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


def build_family_sheet(plan: DosePlan, br: BenefitRisk, ev: Evidence | None = None) -> FamilySheet:
    """The sheet for the child of ``plan`` (see the module docstring)."""
    ev = ev or load_evidence()
    eligibility = next(t for t in ev.trials.values() if t.id == br.efficacy[0].trial_id).eligibility
    age_lo = Value(_ev_number(f"{_trial_file(br.efficacy[0].trial_id, ev)}:trials.{br.efficacy[0].trial_id}"
                              ".eligibility.age_min_y", ev))
    age_hi = None
    if eligibility.age_max_exclusive_y is not None:
        n = _ev_number(f"{_trial_file(br.efficacy[0].trial_id, ev)}:trials.{br.efficacy[0].trial_id}"
                       ".eligibility.age_max_exclusive_y", ev)
        age_hi = Value(SheetNumber(n.value - 1, "y", n.key, "D", n.citations))
    who = "children" if age_hi else "people"
    week = Value(_ev_number("label.toml:facts.reassess_weeks", ev))

    words = arm_words(ev)
    label_strength = f"{ev.label.facts['strength_pct'].number:g}% cream"
    others = sorted({w for a, w in words.items() if w not in (label_strength, PLAIN_CREAM)})
    # Chances of clear skin (icon arrays), same denominator of 100 for every option.
    arrays = []
    for study in br.efficacy:
        row = []
        for arm in study.arms:
            if arm.clear is None:
                continue
            v = Value(arm.clear, "per100")
            row.append(IconArray(words[arm.arm].capitalize(), Text(
                "About {n} in 100 had clear or almost clear skin.",
                {"n": v}), v))
        arrays.append((f"{study.trial_name} study", tuple(row)))

    blocks: list[Block] = []
    blocks.append(Block("choices", "Your choices", paragraphs=(
        Text("You can use the cream with medicine, a plain cream with no medicine, or another treatment. "
             "You can also wait. The cream with medicine is called ruxolitinib (Opzelura). It comes as "
             + label_strength + "." + "".join(f" The studies also tested a weaker {o}." for o in others), {}),
        _group_text(who, week),
    )))
    blocks.append(_itch_block(br, ev, words))
    blocks.append(_side_effect_block(br, who, week, words))
    blocks.append(_warning_block(plan, br, ev, words))
    blocks.append(_use_block(plan, br, ev, week))
    blocks.append(Block("questions", "Questions to ask", bullets=(
        Text("What other treatments could we try, and how do they compare?", {}),
        Text("How much cream should we use, and on which parts of the body?", {}),
        Text("How long should we use it, and what do we do when the skin is clear?", {}),
        Text("Does my child need any blood tests?", {}),
        Text("What should make us call you?", {}),
    )))

    numbers: list[SheetNumber] = []
    seen_keys: list[str] = []
    for t in [*[a.caption for _, r in arrays for a in r], *[x for b in blocks for x in (*b.paragraphs,
                                                                                        *b.bullets)]]:
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
        for sk, citation in zip(c.source_keys, c.citations, strict=False):
            sources.setdefault(sk, citation)
    for k in plan.ftu_keys:
        c = cite(k, ev)
        for sk, citation in zip(c.source_keys, c.citations, strict=False):
            sources.setdefault(sk, citation)
    subtitle = Text("For a child aged {age}. Numbers come from studies in " + who + " aged "
                    + ("{g_lo} to {g_hi}" if age_hi else "{g_lo} and older") + ".",
                    {"age": Value(SheetNumber(plan.inp.age_y, "y", "input:age_y", "input", ())),
                     "g_lo": age_lo} | ({"g_hi": age_hi} if age_hi else {}))
    return FamilySheet(
        title="Ruxolitinib cream for eczema: what to expect",
        subtitle=subtitle,
        arrays_heading="Chance of clear or almost clear skin",
        arrays=tuple(arrays), blocks=tuple(blocks),
        sources=tuple(sources.items()),
        footer=("Made with dermsim from its evidence library. This sheet helps you talk with your doctor. "
                "It does not replace medical advice."),
        plan=plan, numbers=tuple(numbers))


def _trial_file(trial_id: str, ev: Evidence) -> str:
    for name, f in ev.trial_files.items():
        if trial_id in f.trials:
            return name
    raise ValueError(f"trial {trial_id} not in the evidence")


def _group_text(who: str, week: Value) -> Text:
    return Text("The pictures below show 100 " + who + " in each group after {w} weeks. "
                "Some got better with plain cream too.",
                {"w": week})


def _itch_block(br: BenefitRisk, ev: Evidence, words: dict[str, str]) -> Block:
    paras: list[Text] = []
    pooled_who = "people aged 12 and older"
    if br.itch_early_key:
        hours = _num_in_text(br.itch_early_key, r"within (\d+) h", ev)
        paras.append(Text("In studies of " + pooled_who.replace("12", "{age12}") + ", itch got better within "
                          "{h} hours of the first use of " + words["rux150"] + ".",
                          {"h": Value(hours), "age12": Value(_age12(ev))}))
    if br.itch:
        parts = []
        values: dict[str, Value] = {}
        for i, it in enumerate(br.itch):
            parts.append(f"day {{d{i}}} with {words[it.arm]}")
            values[f"d{i}"] = Value(it.median_days)
        paras.append(Text("Half of them had little or no itch by " + ", by ".join(parts[:-1])
                          + " and by " + parts[-1] + ".", values))
    if not br.itch_from_own_age_group:
        paras.append(Text("The study in young children also checked itch, but its numbers are not "
                          "available to us.", {}))
    return Block("itch", "How soon itch gets better", paragraphs=tuple(paras))


def _age12(ev: Evidence) -> SheetNumber:
    t = ev.trials["true-ad1"]
    return _ev_number(f"{_trial_file(t.id, ev)}:trials.{t.id}.eligibility.age_min_y", ev)


def _side_effect_block(br: BenefitRisk, who: str, week: Value, words: dict[str, str]) -> Block:
    active = words[br.active_arm]
    missing = [w for a, w in words.items() if a not in (br.active_arm, "vehicle")]
    bullets: list[Text] = []
    for i, se in enumerate(br.side_effects):
        name = PLAIN_TERMS.get(se.term, se.term.lower())
        values = {"a": Value(se.active, "per100")}
        text = "{a} in 100 with " + active
        if se.vehicle is not None:
            values["v"] = Value(se.vehicle, "per100")
            text += " and {v} in 100 with plain cream"
        bullets.append(Text(name[0].upper() + name[1:] + ": " + text + ".", values))
        del i
    paras = [Text("These were the most common problems in the first {w} weeks. Some happen with plain "
                  "cream too." + "".join(f" Numbers for the {m} are not available to us." for m in missing),
                  {"w": week})]
    for se in br.stopped:
        values = {"a": Value(se.active, "per100")}
        text = "Children who stopped because of a side effect: {a} in 100 with " + active
        if who != "children":
            text = text.replace("Children", "People")
        if se.vehicle is not None:
            values["v"] = Value(se.vehicle, "per100")
            text += " and {v} in 100 with plain cream"
        paras.append(Text(text + ".", values))
    return Block("side_effects", "Side effects", paragraphs=tuple(paras), bullets=tuple(bullets))


def _warning_block(plan: DosePlan, br: BenefitRisk, ev: Evidence, words: dict[str, str]) -> Block:
    # Typical blood levels from JAK pills are shown only when the evidence confirms them.
    oral = ("" if plan.exposure.oral_available else
            " We do not have confirmed numbers for blood levels from JAK pills, so we cannot compare "
            "them here.")
    topics = [PLAIN_BOXED.get(tid, title.lower()) for tid, title, _ in br.boxed_topics]
    listed = "; ".join(topics[:-1]) + "; and " + topics[-1] if len(topics) > 1 else topics[0]
    age50 = _num_in_text(br.boxed_basis_key, r">= (\d+) y", ev)
    paras = [
        Text("The label has a boxed warning. This is the strongest kind of warning. It lists: "
             + listed + ".", {}),
        Text("These risks were seen with JAK medicines taken as pills, not with the cream. Much of the data "
             "came from a large study of adults aged {a50} or older with heart risk factors. They took a "
             "JAK pill for arthritis.", {"a50": Value(age50)}),
        Text("Only a small part of the medicine in the cream gets into the blood: about {f} in 100 parts "
             "with " + words["rux150"] + ", in teens and adults.",
             {"f": Value(_ev_number("pharmacology.toml:topical.bioavailability_rux150_pct", ev), "per100")}),
        Text("Experts use a blood level of {thr} (in units called nM) as a safety line linked to effects on "
             "blood cells." + oral, {"thr": Value(br.threshold)}),
        Text("For your child's plan, a computer model gives a usual level of about {med}. For {nine} in 10 "
             "children like yours it would be between {lo} and {hi}. About {p} in 100 might go above the "
             "line.", {"med": Value(br.css_median), "lo": Value(br.css_p05), "hi": Value(br.css_p95),
                       "p": Value(br.p_above, "per100"),
                       "nine": Value(SheetNumber(round(10 * (INTERVAL[1] - INTERVAL[0])), "in 10",
                                                 "model:interval_90", "model",
                                                 ("90% interval of the model's between-patient spread",)))}),
    ]
    if br.p_above_p05 is not None and br.p_above_p95 is not None:
        paras.append(Text("The model is not sure of that number: from what is known it could be anywhere "
                          "from {plo} to {phi} in 100.",
                          {"plo": Value(br.p_above_p05, "per100"), "phi": Value(br.p_above_p95, "per100")}))
    if br.parameters == "prior":
        paras.append(Text("This model is not yet checked against blood tests, so treat it as a rough guide.",
                          {}))
    elif not br.itch_from_own_age_group:
        # The calibration fits adult and adolescent blood levels only (no paediatric PK targets).
        paras.append(Text("This model was fitted to blood tests in teens and adults, not in young children, "
                          "so treat it as a rough guide.", {}))
    if br.trial_pk_statement_key:
        paras.append(Text("In the study of children, blood levels stayed below the safety line.", {}))
    return Block("warning", "The boxed warning and blood levels", paragraphs=tuple(paras))


def _use_block(plan: DosePlan, br: BenefitRisk, ev: Evidence, week: Value) -> Block:
    keys = plan.ftu_keys
    grams = Value(_plan_number(plan.grams_per_application, "g", "grams_per_application", keys, ev), "1dp")
    ftu = Value(_plan_number(plan.ftu_per_application, "FTU", "ftu_per_application", keys, ev), "1dp")
    area = Value(_plan_number(plan.treated_pct, "%", "treated_pct", ("label.toml:facts.max_bsa_pct",), ev))
    max_bsa = Value(_ev_number("label.toml:facts.max_bsa_pct", ev))
    times = {2: "two times", 1: "once"}.get(plan.inp.applications_per_day, "")
    over_label = any(c.name == "max_bsa_pct" and c.within is False for c in plan.label_checks)
    over = " Your plan is more than the label allows, so talk with your doctor." if over_label else ""
    paras = [
        Text("Put a thin layer on the eczema patches " + times + " a day. Your plan covers about {area}% of "
             "the body. Do not use it on more than {max}% of the body." + over,
             {"area": area, "max": max_bsa}),
        Text("Each time, use about {g} grams. That is about {f} fingertip units. One fingertip unit is a "
             "line of cream from the tip of an adult finger to the first crease.", {"g": grams, "f": ftu}),
    ]
    bullets = (
        Text("Do not cover the cream with tight wraps or bandages.", {}),
        Text("Stop when the skin is clear. See your doctor if it is not better after {w} weeks.",
             {"w": week}),
        Text("Call your doctor if your child has a fever, seems unwell, or has a painful rash with blisters.",
             {}),
    )
    del br
    return Block("use", "Using the cream", paragraphs=tuple(paras), bullets=bullets)
