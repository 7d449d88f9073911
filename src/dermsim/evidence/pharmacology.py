"""Ruxolitinib pharmacology: topical PK (phase 3 and maximum-use trial), oral (Jakafi) PK for
comparison, and JAK potency (biochemical, cellular and whole-blood IC50s).

Data in ``data/pharmacology.toml`` (clinical_facts.md sections 2e, 1f and 4). Facts are keyed
by name with the unit in the name (``css_rux150_nM``); the keys other layers rely on are
required, so a renamed key fails on load rather than at the point of use.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import model_validator

from dermsim.evidence._schema import DATA_DIR, Fact, Frozen, Source, load_model

PHARMACOLOGY_FILE = "pharmacology.toml"
_REQUIRED = {
    "topical": ("css_rux075_nM", "css_rux150_nM", "bioavailability_rux150_pct",
                "myelosuppression_threshold_nM", "t_half_h", "cmax_cmin_ratio", "tmax_h"),
    "oral": ("bioavailability_pct", "protein_binding_pct", "t_half_parent_h", "dose_max_mg_bid"),
    "potency": ("ic50_jak1_nM", "ic50_jak2_nM", "ic50_wb_tpo_pstat3_nM"),
}


class Pharmacology(Frozen):
    sources: dict[str, Source]
    topical: dict[str, Fact]
    oral: dict[str, Fact]
    potency: dict[str, Fact]

    @model_validator(mode="after")
    def _required(self) -> Pharmacology:
        for section, keys in _REQUIRED.items():
            missing = [k for k in keys if k not in getattr(self, section)]
            if missing:
                raise ValueError(f"{section} must include {', '.join(missing)}")
        return self


def load_pharmacology(data_dir: Path = DATA_DIR) -> Pharmacology:
    return load_model(Pharmacology, Path(data_dir) / PHARMACOLOGY_FILE)
