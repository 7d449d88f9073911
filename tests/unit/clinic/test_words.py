"""Words of the clinic pages live in one translation file per language; the pages come from
jinja2 templates (autoescaped); the Spanish sheet keeps a low reading level."""

from __future__ import annotations

import re
import tomllib
from collections.abc import Callable
from importlib import resources

import pytest

from dermsim.clinic import DosePlanInput, build_family_sheet, compute_benefit_risk, plan_dose
from dermsim.clinic.benefit_risk import typical_area_pct
from dermsim.clinic.words import LANGS, Words, words
from dermsim.errors import InvalidInputError
from dermsim.report.family_sheet import body_text, render_family_sheet_html


def _file(lang: str) -> dict:
    return tomllib.loads(resources.files("dermsim.clinic").joinpath("i18n", f"{lang}.toml")
                         .read_text(encoding="utf-8"))


def _flat(d: dict, prefix: str = "") -> dict[str, str]:
    out: dict[str, str] = {}
    for k, v in d.items():
        if isinstance(v, dict):
            out |= _flat(v, f"{prefix}{k}.")
        else:
            out[f"{prefix}{k}"] = v
    return out


@pytest.fixture(scope="module")
def sheets():
    plan = plan_dose(DosePlanInput(age_y=6.0, area_pct=typical_area_pct(6.0)[0]), seed=5, n_draws=500)
    br = compute_benefit_risk(plan)
    return {lang: build_family_sheet(plan, br, lang=lang) for lang in LANGS}


def test_every_language_has_the_same_phrases_and_slots() -> None:
    en = _flat(_file("en"))
    for lang in LANGS:
        other = _flat(_file(lang))
        assert set(other) == set(en), lang
        for k, v in other.items():
            if k == "lang":
                continue
            slots = lambda s: (set(re.findall(r"\{[a-z0-9_]+\}", s)), set(re.findall(r"\[\[\w+\]\]", s)))  # noqa: E731
            assert slots(v) == slots(en[k]), (lang, k)


def test_no_digit_is_typed_into_a_translation() -> None:
    """Numbers reach the page only through traced placeholders, in every language (the natural-frequency
    denominator "in 100" / "de cada 100" / "every 100" (and the card's "9 in 10" for a 90% range) is the
    format, not data; "phase 3" is a study name)."""
    denominator = re.compile(r"\b(in|de cada|out of|every|por cada|Por cada) 100\b"
                             r"|\b100 (?=\[\[who\]\]|children|niños)"
                             r"|\b9 (in|de cada) 10\b|\b(phase|fase) 3\b")
    for lang in LANGS:
        for k, v in _flat(_file(lang)).items():
            bare = re.sub(r"\{[a-z0-9_]+\}|\[\[[a-z0-9_]+\]\]", "", denominator.sub("", v))
            assert not re.search(r"\d", bare), (lang, k, v)


def test_unknown_language_is_refused_in_one_line() -> None:
    with pytest.raises(InvalidInputError, match="--lang must be one of en, es"):
        words("fr")


def test_sheet_words_come_from_the_language_file(sheets) -> None:
    for lang, sheet in sheets.items():
        w = Words(lang)
        page = render_family_sheet_html(sheet)
        assert f'<html lang="{lang}">' in page
        for key in ("title", "arrays_heading", "warning_heading", "use_heading", "sources"):
            assert w("sheet", key).replace("'", "&#39;") in page, (lang, key)
    es = render_family_sheet_html(sheets["es"])
    for english in ("Side effects", "Questions to ask", "plain cream", "in 100"):
        assert english not in es


def test_template_escapes_text(sheets) -> None:
    """Autoescape: a word with markup in it is shown, not run."""
    from dataclasses import replace

    page = render_family_sheet_html(replace(sheets["en"], title="<script>x</script>"))
    assert "<script>x</script>" not in page and "&lt;script&gt;" in page


def test_spanish_sheet_reads_easily(sheets, es_readability: Callable[[str], tuple[float, float]]) -> None:
    """Fernandez-Huerta >= 80 ("easy", about 6th grade) and Szigriszt-Pazos (INFLESZ) >= 80."""
    fh, sp = es_readability(body_text(sheets["es"]))
    assert fh >= 80 and sp >= 80, (fh, sp)


def test_spanish_readability_check_can_fail(es_readability: Callable[[str], tuple[float, float]]) -> None:
    hard = ("La caracterización farmacocinética demostró biodisponibilidad sistémica proporcional a la "
            "dosis, no obstante la considerable variabilidad interindividual atribuible a la heterogénea "
            "disfunción "
            "epidérmica.")
    assert min(es_readability(hard)) < 80
