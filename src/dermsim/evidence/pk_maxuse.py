"""The adult/adolescent maximum-use trial of 1.5% ruxolitinib cream (Bissonnette 2022, Table 3).

Data in ``data/pk_maxuse_adult.toml``: ``[design]`` (entry criteria, regimen, N) and one
``[groups.<id>]`` table per Table 3 column (overall, by age, by baseline %BSA), each with the same
fields (``css_nM``, ``bioavailability_pct``, ``cmax_cmin_ratio``, ``t_half_h`` ...; mean in
``value``, SD in ``sd``). The validators check that every group holds every Table 3 row and
that the age groups and the %BSA groups each add up to the overall N at every time point, so a
mistyped N fails on load. Evidence keys: ``pk_maxuse_adult.toml:groups.overall.css_nM``.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import model_validator

from dermsim.evidence._schema import DATA_DIR, Fact, Frozen, Source, at, load_model

PK_MAXUSE_ADULT_FILE = "pk_maxuse_adult.toml"
# The N rows of Table 3, checked against the overall column.
N_FACTS = ("n_baseline", "n_day1", "n_ss", "n_day28", "t_half_n")
PARTITIONS = {"age": ("age_12_15", "age_16_17", "age_18plus"), "bsa": ("bsa_25_40", "bsa_ge40")}


class MaxUseGroup(Frozen):
    """One Table 3 column (mean in ``value``, SD in ``sd``; tmax is a median)."""

    label: str
    n_baseline: Fact
    bsa_pct: Fact
    area_cm2: Fact
    n_day1: Fact
    day1_cmax_nM: Fact
    day1_tmax_h: Fact
    day1_auc12_h_nM: Fact
    day1_c12_nM: Fact
    n_ss: Fact
    css_nM: Fact
    api_mg_per_application: Fact
    bioavailability_pct: Fact
    n_day28: Fact
    day28_cmax_nM: Fact
    cmax_cmin_ratio: Fact
    day28_tmax_h: Fact
    day28_auc12_h_nM: Fact
    day28_c12_nM: Fact
    t_half_h: Fact
    t_half_n: Fact
    # Derived (status D) from the rows above and the cream strength; absent where not computed.
    cream_g_per_application: Fact | None = None
    cream_g_per_day: Fact | None = None
    load_mg_per_cm2: Fact | None = None

    def n(self, name: str) -> int:
        value = getattr(self, name).number
        return 0 if value is None else int(value)


class MaxUseTrial(Frozen):
    description: str
    sources: dict[str, Source]
    design: dict[str, Fact]
    groups: dict[str, MaxUseGroup]

    @model_validator(mode="after")
    def _partitions_add_up(self) -> MaxUseTrial:
        needed = {"overall", *(g for part in PARTITIONS.values() for g in part)}
        missing = sorted(needed - set(self.groups))
        if missing:
            raise ValueError(at("groups", f"groups must include {', '.join(missing)}"))
        overall = self.groups["overall"]
        for part, ids in PARTITIONS.items():
            for name in N_FACTS:
                total = sum(self.groups[g].n(name) for g in ids)
                if total != overall.n(name):
                    parts = " + ".join(str(self.groups[g].n(name)) for g in ids)
                    raise ValueError(at(f"groups.overall.{name}",
                                        f"{name} of the {part} groups ({parts} = {total}) must equal "
                                        f"the overall {name} ({overall.n(name)})"))
        return self

    def group(self, group_id: str) -> MaxUseGroup:
        return self.groups[group_id]


def load_pk_maxuse_adult(data_dir: Path = DATA_DIR) -> MaxUseTrial:
    return load_model(MaxUseTrial, Path(data_dir) / PK_MAXUSE_ADULT_FILE)
