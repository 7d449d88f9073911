"""Reference charts: Lund-Browder region sizes by age, EASI region weights by age, BSA formulas,
fingertip-unit (FTU) facts and tables, the handprint rule (``data/charts.toml``).

Only data and its checks live here (L0 computes nothing); the vectorized use of these numbers
(BSA from height and weight, region sizes interpolated by age) is in :mod:`dermsim.model.population.body`.
Validators: every Lund-Browder age column sums to 100% of body surface, each EASI weight set sums
to 1 over the four EASI regions, every Lund-Browder region maps to one EASI region, every source
key is in ``[sources]``.
"""

from __future__ import annotations

import functools
import itertools
from pathlib import Path
from typing import Annotated, Any

from pydantic import Field, model_validator

from dermsim.errors import DataValidationError
from dermsim.evidence._schema import DATA_DIR, Fact, Frozen, Source, Status, load_model

CHARTS_FILE = "charts.toml"
EASI_REGIONS: tuple[str, ...] = ("head_neck", "trunk", "upper_limbs", "lower_limbs")
FTU_AREAS: tuple[str, ...] = ("face_neck", "arm_hand", "leg_foot", "trunk_front", "back_buttocks")
# A column of the chart is exact to the quarter percent; 1e-9 only absorbs float addition.
_SUM_ATOL = 1e-9


def _num(fact: Fact) -> float:
    if not isinstance(fact.value, int | float) or isinstance(fact.value, bool):
        raise ValueError(f"expected a number; got {fact.value!r}")
    return float(fact.value)


class ChartRow(Frozen):
    """A row of numbers (one per chart column, or one for every column) with unit, source, status."""

    values: Annotated[list[float], Field(min_length=1)]
    unit: str
    source: Annotated[str, Field(min_length=1)]
    status: Status
    note: str | None = None

    @model_validator(mode="after")
    def _pct(self) -> ChartRow:
        if self.unit == "%":
            for v in self.values:
                if not 0 <= v <= 100:
                    raise ValueError(f"values must be percentages within [0, 100]; got {v:g}")
        return self


def _column(values: list[float], j: int) -> float:
    return values[j] if len(values) > 1 else values[0]


class LundBrowderRegion(Frozen):
    """``count`` units of ``per_unit`` % each (e.g. 4 half-thighs); one value or one per age column."""

    per_unit: ChartRow
    count: Annotated[int, Field(ge=1)]


class LundBrowderChart(Frozen):
    age_columns: Annotated[list[str], Field(min_length=2)]
    ages_y: ChartRow
    regions: dict[str, LundBrowderRegion]

    @model_validator(mode="after")
    def _columns_sum_to_100(self) -> LundBrowderChart:
        k = len(self.age_columns)
        ages = self.ages_y.values
        if len(ages) != k:
            raise ValueError(f"ages_y must have {k} values (one per age column); got {len(ages)}")
        if any(b <= a for a, b in itertools.pairwise(ages)):
            raise ValueError(f"ages_y must increase strictly; got {ages}")
        for name, region in self.regions.items():
            n = len(region.per_unit.values)
            if n not in (1, k):
                raise ValueError(f"regions.{name}.per_unit must have 1 or {k} values; got {n}")
        for j, label in enumerate(self.age_columns):
            total = sum(r.count * _column(r.per_unit.values, j) for r in self.regions.values())
            if abs(total - 100.0) > _SUM_ATOL:
                raise ValueError(f"region sizes in age column {label!r} must sum to 100%; got {total:g}")
        return self

    @property
    def region_names(self) -> tuple[str, ...]:
        return tuple(self.regions)

    def size_table(self) -> list[list[float]]:
        """Whole-region sizes (% of total BSA), one row per region, one column per age column."""
        return [[r.count * _column(r.per_unit.values, j) for j in range(len(self.age_columns))]
                for r in self.regions.values()]


class EasiChart(Frozen):
    age_cut_y: Fact
    area_score_max: Fact
    severity_max: Fact
    total_max: Fact
    area_score_lower_pct: ChartRow
    weights_8_plus: dict[str, Fact]
    weights_young: dict[str, Fact]
    region_map: dict[str, Fact]

    @model_validator(mode="after")
    def _weights(self) -> EasiChart:
        for name in ("weights_8_plus", "weights_young"):
            weights = getattr(self, name)
            if tuple(weights) != EASI_REGIONS:
                raise ValueError(f"{name} must list the EASI regions {', '.join(EASI_REGIONS)} in that "
                                 f"order; got {', '.join(weights)}")
            total = sum(_num(f) for f in weights.values())
            if abs(total - 1.0) > _SUM_ATOL:
                raise ValueError(f"{name} must sum to 1; got {total:g}")
        bounds = self.area_score_lower_pct.values
        if len(bounds) != 5 or any(b <= a for a, b in itertools.pairwise(bounds)) or bounds[0] <= 0:
            raise ValueError(f"area_score_lower_pct must hold 5 increasing percentages above 0 (scores 2-6); "
                             f"got {bounds}")
        for region, fact in self.region_map.items():
            if fact.value not in EASI_REGIONS:
                raise ValueError(f"region_map.{region} must be one of {', '.join(EASI_REGIONS)}; "
                                 f"got {fact.value!r}")
        return self

    def weights(self, young: bool) -> tuple[float, ...]:
        """Weights in :data:`EASI_REGIONS` order (``young``: age below ``age_cut_y``)."""
        src = self.weights_young if young else self.weights_8_plus
        return tuple(_num(src[r]) for r in EASI_REGIONS)


class BsaFormula(Frozen):
    """BSA (m2) = coefficient * height_cm ** height_exponent * weight_kg ** weight_exponent."""

    label: str
    coefficient: Fact
    height_exponent: Fact
    weight_exponent: Fact

    def coefficients(self) -> tuple[float, float, float]:
        return _num(self.coefficient), _num(self.height_exponent), _num(self.weight_exponent)


class BsaCharts(Frozen):
    default: Fact
    formulas: dict[str, BsaFormula]
    worked_example: dict[str, Fact]

    @model_validator(mode="after")
    def _default_known(self) -> BsaCharts:
        if self.default.value not in self.formulas:
            raise ValueError(f"default must be one of {', '.join(self.formulas)}; got {self.default.value!r}")
        return self


class FtuBand(Frozen):
    """FTUs per application for one age band; ``age_max_y`` exclusive, absent for adults."""

    label: str
    age_min_y: Annotated[float, Field(ge=0)]
    age_max_y: float | None = None
    face_neck: Fact
    arm_hand: Fact
    leg_foot: Fact
    trunk_front: Fact
    back_buttocks: Fact

    def ftu(self) -> dict[str, float]:
        return {area: _num(getattr(self, area)) for area in FTU_AREAS}


class FtuCharts(Frozen):
    area_cm2: Fact
    area_men_cm2: Fact
    area_women_cm2: Fact
    weight_g: Fact
    weight_men_g: Fact
    weight_women_g: Fact
    handprints_per_ftu: Fact
    bsa_per_ftu_pct: Fact
    adult_by_region: dict[str, Fact]
    by_age: Annotated[list[FtuBand], Field(min_length=1)]

    @model_validator(mode="after")
    def _bands_ordered(self) -> FtuCharts:
        for a, b in itertools.pairwise(self.by_age):
            if a.age_max_y is None or a.age_max_y > b.age_min_y:
                raise ValueError(f"by_age bands must be ordered and not overlap; {a.label!r} ends after "
                                 f"{b.label!r} starts")
        return self

    def band_for_age(self, age_y: float) -> FtuBand | None:
        """The published band holding ``age_y``, or None where the table has a gap (e.g. 11-17 y)."""
        for band in self.by_age:
            if age_y >= band.age_min_y and (band.age_max_y is None or age_y < band.age_max_y):
                return band
        return None


class Charts(Frozen):
    """Everything in ``charts.toml``."""

    sources: dict[str, Source]
    lund_browder: LundBrowderChart
    easi: EasiChart
    bsa: BsaCharts
    ftu: FtuCharts
    handprint: dict[str, Fact]

    @model_validator(mode="after")
    def _map_covers_regions(self) -> Charts:
        lb, mapped = set(self.lund_browder.regions), set(self.easi.region_map)
        if lb != mapped:
            raise ValueError(f"easi.region_map must map exactly the Lund-Browder regions; missing "
                             f"{sorted(lb - mapped)}, unknown {sorted(mapped - lb)}")
        return self

    def to_dict(self) -> dict[str, Any]:
        return self.model_dump(mode="json", exclude_none=True)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Charts:
        return cls.model_validate(data)


def _check_row_sources(file: str, charts: Charts) -> None:
    # ChartRow is not a Fact, so the generic source check of _schema does not see it.
    rows = {"lund_browder.ages_y": charts.lund_browder.ages_y,
            "easi.area_score_lower_pct": charts.easi.area_score_lower_pct}
    rows.update({f"lund_browder.regions.{k}.per_unit": r.per_unit
                 for k, r in charts.lund_browder.regions.items()})
    for key, row in rows.items():
        for src in (s.strip() for s in row.source.split(";")):
            if src not in charts.sources:
                raise DataValidationError(
                    f"evidence file {file}: key {key}: source {src!r} is not in [sources].")


def _load(path: Path) -> Charts:
    charts = load_model(Charts, path)
    _check_row_sources(path.name, charts)
    return charts


@functools.cache
def _load_default() -> Charts:
    return _load(DATA_DIR / CHARTS_FILE)


def load_charts(data_dir: str | Path | None = None) -> Charts:
    """The reference charts from ``data_dir/charts.toml`` (default: the package's; cached)."""
    if data_dir is None:
        return _load_default()
    return _load(Path(data_dir) / CHARTS_FILE)
