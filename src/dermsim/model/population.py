"""The virtual population: columns of baseline covariates (arrays, never per-patient objects).

:class:`Population` is the contract between population sampling and the patient model: every
column is a NumPy array of length ``n`` (``region_pct`` and ``easi_region_pct`` are n x R and
n x 4). ``sample_population`` (below) draws one for a :class:`PopulationSpec`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, fields
from typing import Any

import numpy as np

from dermsim.errors import InvalidInputError

EASI_REGIONS: tuple[str, ...] = ("head_neck", "trunk", "upper_limbs", "lower_limbs")

_FLOAT_COLUMNS = ("age_y", "weight_kg", "height_cm", "bsa_m2", "affected_pct", "easi0", "nrs0")


@dataclass(frozen=True)
class Population:
    """Baseline covariates of ``n`` virtual patients, one array per column.

    ``region_pct[i, r]`` is the percent of patient i's TOTAL body surface that is affected in
    Lund-Browder region ``regions[r]``; it sums over regions to ``affected_pct[i]``.
    ``easi_region_pct[i, k]`` is the percent of EASI region ``EASI_REGIONS[k]`` that is affected
    (0-100). ``nrs0`` is the true baseline weekly-mean itch NRS (0-10).
    """

    name: str
    seed: dict[str, Any]
    age_y: np.ndarray
    sex: np.ndarray
    weight_kg: np.ndarray
    height_cm: np.ndarray
    bsa_m2: np.ndarray
    regions: tuple[str, ...]
    region_pct: np.ndarray
    affected_pct: np.ndarray
    easi_region_pct: np.ndarray
    iga0: np.ndarray
    easi0: np.ndarray
    nrs0: np.ndarray
    extra: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        conv = {c: np.asarray(getattr(self, c), dtype=np.float64) for c in _FLOAT_COLUMNS}
        conv["sex"] = np.asarray(self.sex, dtype="<U1")
        conv["iga0"] = np.asarray(self.iga0, dtype=np.int8)
        conv["region_pct"] = np.asarray(self.region_pct, dtype=np.float64)
        conv["easi_region_pct"] = np.asarray(self.easi_region_pct, dtype=np.float64)
        n = conv["age_y"].shape[0] if conv["age_y"].ndim == 1 else -1
        if n < 0:
            raise InvalidInputError(f"age_y must be a 1-D array; got shape {conv['age_y'].shape}.")
        for name in (*_FLOAT_COLUMNS, "sex", "iga0"):
            if conv[name].shape != (n,):
                raise InvalidInputError(f"{name} must have shape ({n},); got {conv[name].shape}.")
        regions = tuple(str(r) for r in self.regions)
        if conv["region_pct"].shape != (n, len(regions)):
            raise InvalidInputError(f"region_pct must have shape ({n}, {len(regions)}); "
                                    f"got {conv['region_pct'].shape}.")
        if conv["easi_region_pct"].shape != (n, len(EASI_REGIONS)):
            raise InvalidInputError(f"easi_region_pct must have shape ({n}, {len(EASI_REGIONS)}); "
                                    f"got {conv['easi_region_pct'].shape}.")
        for name, arr in conv.items():
            if name != "sex":
                arr.setflags(write=False)
            object.__setattr__(self, name, arr)
        object.__setattr__(self, "regions", regions)

    @property
    def n(self) -> int:
        return int(self.age_y.shape[0])

    def _columns(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in fields(self)}

    def take(self, idx: Any) -> Population:
        """The patients at ``idx`` (integer indices, a slice or a boolean mask), as a new Population."""
        cols = self._columns()
        for name in (*_FLOAT_COLUMNS, "sex", "iga0", "region_pct", "easi_region_pct"):
            cols[name] = np.asarray(cols[name])[idx]
        return Population(**cols)

    def to_frame(self):
        """pandas DataFrame, one row per patient; regions as ``region_pct_<name>`` and
        ``easi_region_pct_<name>`` columns."""
        import pandas as pd

        data: dict[str, Any] = {"patient": np.arange(self.n)}
        for name in ("age_y", "sex", "weight_kg", "height_cm", "bsa_m2", "affected_pct",
                     "iga0", "easi0", "nrs0"):
            data[name] = getattr(self, name)
        for r, region in enumerate(self.regions):
            data[f"region_pct_{region}"] = self.region_pct[:, r]
        for k, region in enumerate(EASI_REGIONS):
            data[f"easi_region_pct_{region}"] = self.easi_region_pct[:, k]
        return pd.DataFrame(data)

    @staticmethod
    def concat(pops: Sequence[Population]) -> Population:
        """Patients of ``pops`` one after another (same name and regions required)."""
        pops = list(pops)
        if not pops:
            raise InvalidInputError("pops must hold at least 1 Population; got 0.")
        first = pops[0]
        for p in pops[1:]:
            if p.regions != first.regions:
                raise InvalidInputError(f"regions must be the same in every Population; got "
                                        f"{first.regions} and {p.regions}.")
        cols = first._columns()
        for name in (*_FLOAT_COLUMNS, "sex", "iga0", "region_pct", "easi_region_pct"):
            cols[name] = np.concatenate([getattr(p, name) for p in pops], axis=0)
        return Population(**cols)


def concat(pops: Sequence[Population]) -> Population:
    """Module-level alias of :meth:`Population.concat`."""
    return Population.concat(pops)
