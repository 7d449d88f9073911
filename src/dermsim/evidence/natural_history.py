"""Natural-history and vehicle facts the disease model is calibrated against.

Data in ``data/natural_history.toml`` (clinical_facts.md section 8): vehicle response in the
ruxolitinib programme and elsewhere, baseline severity by age group, flare frequency, the EASI
scoring ranges. Values repeated from the trial files must agree with them (tested).
"""

from __future__ import annotations

from pathlib import Path

from dermsim.evidence._schema import DATA_DIR, Fact, Frozen, Source, load_model

NATURAL_HISTORY_FILE = "natural_history.toml"


class NaturalHistory(Frozen):
    sources: dict[str, Source]
    vehicle: dict[str, Fact]
    baseline: dict[str, Fact]
    disease: dict[str, Fact]
    scoring: dict[str, Fact]


def load_natural_history(data_dir: Path = DATA_DIR) -> NaturalHistory:
    return load_model(NaturalHistory, Path(data_dir) / NATURAL_HISTORY_FILE)
