"""Skin barrier by age from non-trial physiology studies (``data/skin_age.toml``): the basis of
the optional penetration multiplier for young children, a prior centred on no difference that is
never fitted to pediatric trial outcomes. Facts keyed by name (``tewl_ratio_child_adult``)."""

from __future__ import annotations

from pathlib import Path

from dermsim.evidence._schema import DATA_DIR, Fact, Frozen, Source, load_model

SKIN_AGE_FILE = "skin_age.toml"


class SkinAge(Frozen):
    description: str
    sources: dict[str, Source]
    facts: dict[str, Fact]


def load_skin_age(data_dir: Path = DATA_DIR) -> SkinAge:
    return load_model(SkinAge, Path(data_dir) / SKIN_AGE_FILE)
