"""Family benefit-risk sheet: numbers trace to evidence (C/D only) or to the model, no digit reaches
the page except through a traced placeholder, plain language (Flesch-Kincaid grade <= 8 with
textstat), accessible icon arrays."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest

from dermsim.clinic import DosePlanInput, build_family_sheet, cite, compute_benefit_risk, plan_dose
from dermsim.clinic.benefit_risk import trials_for_age, typical_area_pct
from dermsim.clinic.dose import EXPOSURE_MODEL_KEYS
from dermsim.clinic.sheet import PLACEHOLDER, Text
from dermsim.errors import InvalidInputError
from dermsim.evidence import load_evidence
from dermsim.report.family_sheet import (
    body_text,
    fill,
    format_value,
    icon_array_svg,
    render_family_sheet_html,
)

EV = load_evidence()
MODEL_KEYS = EXPOSURE_MODEL_KEYS | {"model:interval_90"}
DENOMINATOR = re.compile(r"\b(in|every) 100?\b|\b100 (?=children|people)")


def _sheet(age: float, **kw):
    if "regions" not in kw:
        kw.setdefault("area_pct", typical_area_pct(age)[0])
    plan = plan_dose(DosePlanInput(age_y=age, **kw), seed=5, n_draws=500)
    br = compute_benefit_risk(plan)
    return plan, br, build_family_sheet(plan, br)


@pytest.fixture(scope="module", params=[6.0, 14.0])
def made(request: pytest.FixtureRequest):
    return _sheet(request.param)


def _option_names(ev=EV) -> set[str]:
    """Strengths appear in option names ("1.5% cream"): they are the trial arms' strengths."""
    strengths = {a.strength_pct for t in ev.trials.values() for a in t.arms if a.strength_pct > 0}
    return {f"{s:g}% cream" for s in strengths}


def test_every_number_traces_to_an_entry_with_a_source(made) -> None:
    _, br, sheet = made
    for n in sheet.numbers:
        if n.key.startswith("model:"):
            assert (n.key in MODEL_KEYS or n.key.startswith("model:scenario.")) and n.citations
        elif n.key.startswith("plan:"):
            assert n.citations, n.key  # the FTU table / label entries the plan used
        elif n.key.startswith("input:"):
            assert n.key == "input:age_y"
        else:
            c = cite(n.key)
            assert c.shareable and c.citations, n.key
    # the benefit-risk numbers behind the sheet, too
    for n in br.numbers():
        if not n.key.startswith("model:"):
            assert cite(n.key).shareable


def test_no_digit_reaches_the_page_outside_a_traced_placeholder(made) -> None:
    _, _, sheet = made
    allowed = _option_names()
    trial_names = {t.name for t in EV.trials.values()}
    texts = [*sheet.texts(), *[Text(b.heading) for b in sheet.blocks], Text(sheet.title), Text(sheet.footer),
             *[Text(caption) for caption, _ in sheet.arrays],
             *[Text(a.title) for _, r in sheet.arrays for a in r]]
    for t in texts:
        # Denominators of natural frequencies ("in 100", "100 children") are the format, not data.
        bare = DENOMINATOR.sub("", PLACEHOLDER.sub("", t.template))
        for name in (*allowed, *(f"{n} study" for n in trial_names)):
            bare = bare.replace(name, "")
        assert not re.search(r"\d", bare), f"untraced number in: {t.template!r}"
    # and the options named are real strengths: the label's and the trials'
    label = EV.label.facts["strength_pct"].number
    assert f"{label:g}% cream" in allowed


def test_efficacy_is_the_published_iga_ts_for_the_age_group() -> None:
    _, br, sheet = _sheet(6.0)
    assert [s.trial_id for s in br.efficacy] == ["true-ad3"]
    trial = EV.trials["true-ad3"]
    for arm in br.efficacy[0].arms:
        published = trial.results("IGA-TS", arm=arm.arm, visit_week=8)[0].value_pct
        assert arm.clear is not None and arm.clear.value == published
    words = " ".join(fill(a.caption) for _, r in sheet.arrays for a in r)
    assert "About 57 in 100" in words and "About 11 in 100" in words  # 56.5 and 10.8 rounded half away


def test_adolescents_use_ad1_and_ad2_per_trial() -> None:
    _, br, _ = _sheet(14.0)
    assert [s.trial_id for s in br.efficacy] == ["true-ad1", "true-ad2"]
    assert "per trial (not pooled)" in br.efficacy_basis
    assert br.itch_from_own_age_group


def test_children_itch_numbers_come_from_older_patients_and_say_so() -> None:
    _, br, sheet = _sheet(6.0)
    assert not br.itch_from_own_age_group
    itch = next(b for b in sheet.blocks if b.id == "itch")
    text = " ".join(fill(t) for t in itch.paragraphs)
    assert "people aged 12 and older" in text and "not available to us" in text


def test_unconfirmed_numbers_are_refused() -> None:
    """An EASI-75 result of TRuE-AD1 is U in the evidence: it can never become a sheet number."""
    from dermsim.clinic.benefit_risk import _evidence_number

    key = next(k for k in sorted(_keys()) if k.startswith("trial_true_ad1_ad2.toml:trials.true-ad1.endpoint")
               and cite(k).status == "U")
    with pytest.raises(InvalidInputError, match="only C or D numbers"):
        _evidence_number(1.0, "%", key, EV)
    for _, _, sheet in (_sheet(6.0), _sheet(14.0)):
        assert all(n.status in ("C", "D", "model", "input") for n in sheet.numbers)


def _keys():
    from dermsim.clinic import evidence_keys

    return evidence_keys()


def test_no_label_gram_limit_is_invented_for_children() -> None:
    _, _, sheet = _sheet(6.0)
    page = render_family_sheet_html(sheet)
    adult = EV.label.max_amount_for_age(30).g_per_week.number
    assert f"{adult:g} g" not in page and f"{adult:g} grams" not in page


def test_readability_grade_6_or_lower(made, fk_grade: Callable[[str], float]) -> None:
    _, _, sheet = made
    grade = fk_grade(body_text(sheet))
    assert grade <= 6.0, grade


def test_readability_check_can_fail(fk_grade: Callable[[str], float]) -> None:
    hard = ("Pharmacokinetic characterisation demonstrated dose-proportional systemic bioavailability "
            "notwithstanding considerable interindividual variability attributable to heterogeneous "
            "epidermal barrier dysfunction.")
    assert fk_grade(hard) > 6.0


def test_icon_array_is_accessible_and_counts() -> None:
    svg = icon_array_svg(57, "1.5% cream: About 57 in 100", "x1")
    assert 'role="img"' in svg and '<title id="x1-t">' in svg and "<desc" in svg
    assert svg.count("<path") == 100
    assert svg.count('fill="#0072B2"') == 57 and svg.count('fill="#ffffff"') == 43
    with pytest.raises(InvalidInputError):
        icon_array_svg(101, "x", "x2")


def test_html_page_has_arrays_sources_and_no_unconfirmed_values(made) -> None:
    _, _, sheet = made
    page = render_family_sheet_html(sheet)
    assert page.count('role="img"') >= 3 and 'name="viewport"' in page
    for _, citation in sheet.sources:
        assert citation.split(".")[0][:20] in page
    assert "TODO" not in page and "nan" not in page.lower().split("<style>")[0]


@pytest.mark.parametrize(("value", "style", "expect"), [
    (0.8, "per100", "1"), (0.4, "per100", "fewer than one"), (56.5, "per100", "57"), (2.345, "1dp", "2.3")])
def test_format_value(value: float, style: str, expect: str) -> None:
    from dermsim.clinic.benefit_risk import SheetNumber
    from dermsim.clinic.sheet import Value

    assert format_value(Value(SheetNumber(value, "%", "k", "C", ()), style)) == expect  # type: ignore[arg-type]


def test_trials_for_age_reads_eligibility() -> None:
    assert [t.id for t in trials_for_age(2.0)] == ["true-ad3"]
    assert [t.id for t in trials_for_age(11.99)] == ["true-ad3"]
    assert [t.id for t in trials_for_age(12.0)] == ["true-ad1", "true-ad2"]
