"""The clinician's dose card: plain labels and units, label checks as sentences, tube arithmetic,
the amount actually used beside the fingertip-unit estimate, exposure with its threshold explained
and the measured study levels, a body outline, a printable page; and the JSON record's schema."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import jsonschema
import pytest

from dermsim.clinic import DosePlanInput, cite, plan_dose
from dermsim.clinic.evidence_keys import item
from dermsim.evidence import load_evidence
from dermsim.model.parameters import default_parameters
from dermsim.report.dose_card import MEASURED_KEYS, dose_plan_record, render_dose_card_html, schema
from dermsim.report.format import fmt_num

EV = load_evidence()
REGIONS = {"arms": 50.0, "legs": 30.0, "trunk": 10.0}


@pytest.fixture(scope="module")
def plan():
    return plan_dose(DosePlanInput(age_y=6.0, regions=REGIONS), seed=3, n_draws=400)


@pytest.fixture(scope="module")
def given():
    return plan_dose(DosePlanInput(age_y=6.0, regions=REGIONS, grams_per_day=3.0), seed=3, n_draws=400)


def _text(page: str) -> str:
    """Visible text: tags, the style block and SVG markup removed."""
    page = re.sub(r"<style>.*?</style>", "", page, flags=re.S)
    return re.sub(r"<[^>]+>", " ", page)


def test_no_internal_names_on_the_card(plan, given) -> None:
    for p in (plan, given):
        for lang in ("en", "es"):
            text = _text(render_dose_card_html(p, lang))
            for bad in ("max_bsa_pct", "g_per_week", ".toml", "label.toml", "pk.toml", "(NF)",
                        "grams_per_day", "FTU/appl", "%BSA", "cm2"):
                assert bad not in text, (lang, bad)


def test_label_checks_are_sentences(plan) -> None:
    text = _text(render_dose_card_html(plan))
    limit = EV.label.facts["max_bsa_pct"].number
    pct = fmt_num(plan.treated_pct, 1)
    assert f"Within the label: {pct}% of the body is under the {limit:g}% limit." in text
    over = plan_dose(DosePlanInput(age_y=6.0, area_pct=30.0), seed=3, n_draws=200)
    assert f"Over the label: 30.0% of the body is more than the {limit:g}% limit." in _text(
        render_dose_card_html(over))


def test_tube_arithmetic_is_days_per_tube(plan) -> None:
    text = _text(render_dose_card_html(plan))
    assert " x 60 g" not in text
    for size in plan.tubes_per_month:
        grams = float(size.split()[0])
        assert f"One {grams:g} g tube lasts about {fmt_num(grams / plan.grams_per_day, 0)} days." in text


def test_grams_used_are_shown_beside_the_fingertip_estimate(plan, given) -> None:
    text = _text(render_dose_card_html(given))
    ftu_g_day = plan.ftu_per_application * EV.charts.ftu.weight_g.number * 2
    assert "Amount entered: 3.0 g a day" in text
    assert f"estimate for these regions is {fmt_num(ftu_g_day, 1)} g a day" in text
    rec = dose_plan_record(given)
    assert rec["cream"]["amount_source"] == "entered"
    assert rec["cream"]["fingertip_unit_estimate_grams_per_day"] == pytest.approx(ftu_g_day)
    # the exposure follows the amount used
    less = plan_dose(DosePlanInput(age_y=6.0, regions=REGIONS, grams_per_day=1.0), seed=3, n_draws=400)
    assert less.exposure.css_median_nM < given.exposure.css_median_nM


def test_a_child_without_grams_is_planned_at_the_cream_children_really_use(plan) -> None:
    """No grams entered at age 6: the exposure uses the usual child load (pk.toml g_per_cm2_child),
    about half the fingertip-unit amount, and the card shows both."""
    usual = default_parameters().value("g_per_cm2_child")
    assert plan.grams_per_application == pytest.approx(usual * plan.treated_cm2, rel=1e-12)
    ftu_g_day = plan.ftu_per_application * EV.charts.ftu.weight_g.number * 2
    assert 0.35 < plan.grams_per_day / ftu_g_day < 0.65
    text = _text(render_dose_card_html(plan))
    assert f"uses the cream children really put on: {fmt_num(plan.grams_per_day, 1)} g a day" in text
    assert f"Fingertip-unit guide: {fmt_num(ftu_g_day, 1)} g a day" in text
    assert dose_plan_record(plan)["cream"]["amount_source"] == "usual_use_children"
    # from age 12 the fingertip-unit estimate is the amount (adults used about that much)
    teen = plan_dose(DosePlanInput(age_y=14.0, regions=REGIONS), seed=3, n_draws=400)
    assert teen.grams_source == "fingertip units"
    ftu_g = EV.charts.ftu.weight_g.number
    assert teen.grams_per_application == pytest.approx(teen.ftu_per_application * ftu_g)


def test_exposure_explains_the_threshold_and_the_measured_levels(plan) -> None:
    e = plan.exposure
    text = _text(render_dose_card_html(plan))
    thr = fmt_num(e.threshold_nM, 0)
    assert f"Typical steady-state blood level for this plan: {fmt_num(e.css_median_nM, 1)} nM" in text
    assert f"Chance of passing {thr} nM: {fmt_num(100 * e.p_above_threshold, 1)}%" in text
    assert "uncertainty interval" in text or "no uncertainty interval" in text
    assert f"{thr} nM is the level at which the drug begins to act on blood-forming cells in lab" in text
    for key in MEASURED_KEYS.values():
        assert cite(key).status == "C"
        v = float(item(key, EV).number)
        assert f"{fmt_num(v, 1)} nM" in text or f"{fmt_num(v, 0)} nM" in text, key
    # sources as plain citations, each key's citation listed once
    for key in MEASURED_KEYS.values():
        for c in cite(key).citations:
            assert c in text


def test_body_outline_marks_the_treated_regions(plan) -> None:
    page = render_dose_card_html(plan)
    svg = re.search(r'<svg class="body".*?</svg>', page, flags=re.S).group(0)
    hatched = set(re.findall(r'fill="url\(#hatch\)"[^>]*data-region="([a-z_]+)"', svg))
    assert hatched == {"upper_arms", "forearms", "thighs", "lower_legs", "anterior_trunk", "posterior_trunk"}
    assert "<title" in svg and "Arms" in svg
    # area and fingertip units per region in the table beside it
    text = _text(page)
    for r in plan.regions:
        assert f"{fmt_num(r.treated_cm2, 0)} cm²" in text and fmt_num(r.ftu_per_application, 1) in text


def test_body_outline_follows_the_lund_browder_proportions_of_the_age() -> None:
    """A toddler's outline has a bigger head and shorter legs than an adult's (the chart's region
    shares at the age, not one fixed drawing)."""
    from dermsim.report.dose_card import outline_scales

    def drawn(age: float) -> tuple[float, float]:
        p = plan_dose(DosePlanInput(age_y=age, regions={"face": 50.0}), seed=1, n_draws=100)
        svg = re.search(r'<svg class="body".*?</svg>', render_dose_card_html(p), flags=re.S).group(0)
        head = float(re.search(r'<ellipse [^>]*ry="([0-9.]+)"[^>]*data-region="head"', svg).group(1))
        thigh = float(re.search(r'<rect [^>]*height="([0-9.]+)"[^>]*data-region="thighs"', svg).group(1))
        assert f'data-age="{age:g}"' in svg
        return head, thigh

    (h2, t2), (h30, t30) = drawn(2.0), drawn(30.0)
    assert h2 > 1.3 * h30 and t2 < 0.9 * t30
    s2, s30 = outline_scales(2.0), outline_scales(30.0)
    assert s30 == pytest.approx({"head": 1.0, "thighs": 1.0, "lower_legs": 1.0})
    assert s2["head"] > 1.0 > s2["thighs"]


def test_cream_vs_pill_on_the_card_with_sources(plan) -> None:
    text = _text(render_dose_card_html(plan))
    o = plan.exposure.oral
    assert "lowest oral dose" in text and f"{o.oral_dose_mg_bid:g} mg two times a day" in text
    for key in o.keys:
        for c in cite(key).citations:
            assert c in text
    assert plan.exposure.posterior_version is None or plan.exposure.posterior_version in text


class _Blocks(HTMLParser):
    """Text blocks of the card (p, li, h1, figcaption, th, td) with: the block's text outside
    footnote marks, whether it carries a footnote (sup), whether it or an ancestor is marked as an
    input or a model result (data-src), and for table cells the column index."""

    BLOCK = frozenset({"p", "li", "h1", "figcaption", "th", "td"})

    def __init__(self) -> None:
        super().__init__()
        self.stack: list[tuple[str, dict]] = []
        self.blocks: list[dict] = []
        self.col = 0
        self.skip = 0

    def handle_starttag(self, tag: str, attrs: list) -> None:
        a = dict(attrs)
        if tag in ("svg", "head", "ol"):   # drawings (own text alternative), title and CSS, the sources
            self.skip += 1
        if tag == "tr":
            self.col = 0
        self.stack.append((tag, a))
        if tag in self.BLOCK and not self.skip:
            marked = any("data-src" in x for _, x in self.stack)
            self.blocks.append({"tag": tag, "text": "", "sup": False, "src": marked,
                                "col": self.col if tag in ("th", "td") else None})

    def handle_endtag(self, tag: str) -> None:
        while self.stack:
            t, _ = self.stack.pop()
            if t == tag:
                break
        if tag in ("th", "td"):
            self.col += 1
        if tag in ("svg", "head", "ol"):
            self.skip -= 1

    def handle_data(self, data: str) -> None:
        if self.skip or not self.blocks or not any(t in self.BLOCK for t, _ in self.stack):
            if not self.skip and re.search(r"\d", data):
                self.blocks.append({"tag": "loose", "text": data, "sup": False, "col": None,
                                    "src": any("data-src" in x for _, x in self.stack)})
            return
        if any(t == "sup" for t, _ in self.stack):
            self.blocks[-1]["sup"] = True
        else:
            self.blocks[-1]["text"] += data


@pytest.mark.parametrize("lang", ["en", "es"])
def test_every_number_on_the_card_has_a_source_or_a_model_provenance_line(plan, given, lang: str) -> None:
    """Done-means of issue 17: a number on the card is an input, carries a numbered source (a
    footnote to a citation of its evidence entry; in a table, on its column header), or is a model
    result, and then the page has the model's provenance (parameter source and posterior version)."""
    for p in (plan, given):
        page = render_dose_card_html(p, lang)
        parser = _Blocks()
        parser.feed(page)
        header = {b["col"]: b for b in parser.blocks if b["tag"] == "th"}
        untraced = []
        for b in parser.blocks:
            if not re.search(r"\d", b["text"]):
                continue
            head = header.get(b["col"]) if b["tag"] == "td" else None
            if not (b["sup"] or b["src"] or (head is not None and (head["sup"] or head["src"]))):
                untraced.append(b["text"].strip())
        assert not untraced, untraced
        assert 'data-src="model"' in page and 'id="provenance"' in page
        prov = re.search(r'<ul class="note" id="provenance".*?</ul>', page, flags=re.S).group(0)
        version = p.exposure.posterior_version
        assert (version in prov) if version else ("prior" in prov or "inicial" in prov)
    # the check can fail: a number typed into a plain paragraph is caught
    parser = _Blocks()
    parser.feed("<p>Typical level 12 nM</p>")
    assert re.search(r"\d", parser.blocks[0]["text"]) and not parser.blocks[0]["sup"]


def test_grams_entered_per_region_beside_the_fingertip_estimate() -> None:
    p = plan_dose(DosePlanInput(age_y=6.0, regions=REGIONS, region_grams_per_day={"arms": 1.0, "legs": 1.5,
                                                                                   "trunk": 0.5}),
                  seed=3, n_draws=200)
    page = render_dose_card_html(p)
    text = _text(page)
    assert "Grams a day really used (entered)" in text and "Amount entered: 3.0 g a day" in text
    rec = dose_plan_record(p)
    jsonschema.validate(rec, schema())
    assert [r["grams_per_day_entered"] for r in rec["treated_area"]["regions"]] == [1.0, 1.5, 0.5]
    assert rec["cream"]["amount_source"] == "entered"
    assert "Grams a day really used" not in _text(render_dose_card_html(plan_dose(
        DosePlanInput(age_y=6.0, regions=REGIONS), seed=3, n_draws=200)))


def test_printable_page_size(plan) -> None:
    assert "@page{size:A4" in render_dose_card_html(plan, page_size="A4")
    assert "@page{size:Letter" in render_dose_card_html(plan, page_size="Letter")


def test_json_record_validates_and_can_fail(plan, given) -> None:
    sch = schema()
    for p in (plan, given):
        rec = dose_plan_record(p)
        jsonschema.validate(rec, sch)
        assert rec["schema_version"] == "1.2" and "inp" not in rec
        refs = {s["ref"] for s in rec["sources"]}
        e = rec["exposure"]
        assert e["posterior_version"] == p.exposure.posterior_version
        assert set(e["cream_vs_oral"]["source_refs"]) <= refs and e["cream_vs_oral"]["source_refs"]
        for c in rec["label_checks"]:
            assert set(c["source_refs"]) <= refs and c["source_refs"]
    bad = dose_plan_record(plan)
    bad["inp"] = {}
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(bad, sch)
    bad = dose_plan_record(plan)
    bad["exposure"]["chance_above_threshold"] = 1.5
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(bad, sch)


def test_spanish_card_uses_the_decimal_comma(plan) -> None:
    text = _text(render_dose_card_html(plan, "es"))
    assert "crema de ruxolitinib al 1,5%" in text.lower() and "al 1.5%" not in text
    assert f"{fmt_num(plan.treated_pct, 1).replace('.', ',')}%" in text
