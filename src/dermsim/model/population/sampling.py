"""The virtual population: columns of baseline covariates (arrays, never per-patient objects).

:class:`Population` is the contract between population sampling and the patient model: every
column is a NumPy array of length ``n`` (``region_pct`` and ``easi_region_pct`` are n x R and
n x 4). ``sample_population`` (below) draws one for a :class:`PopulationSpec`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

import numpy as np
from scipy import special

from dermsim import _disk_cache
from dermsim._rng import SeedLike, child_generator, child_sequence, seed_record
from dermsim._validate import LIMITS, check_int
from dermsim.engine.cores import default_workers
from dermsim.engine.streams import BLOCK_SIZE, block_normals, block_uniforms
from dermsim.errors import InvalidInputError, SolverError
from dermsim.model.population import body, growth
from dermsim.model.population.beta_quantile import beta_quantile
from dermsim.model.population.laws import (
    MarginalLaws,
    PopulationCalibration,
    SeverityLaw,
    fit_severity_law,
    solve_marginal_laws,
    spec_key,
)
from dermsim.model.population.spec import PopulationSpec, load_population_spec

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
            if arr is getattr(self, name):
                arr = arr.copy()  # never freeze the caller's own array
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
    def from_frame(frame: Any, name: str = "user", seed: dict[str, Any] | None = None) -> Population:
        """A complete population from a table with every column :meth:`to_frame` writes (a frame,
        or a CSV/Parquet path), checked as a user covariate table
        (:mod:`dermsim.model.population.covariates`).
        A table with some columns only: ``sample_population(spec, None, seed, covariates=table)``
        draws the rest."""
        from dermsim.model.population.covariates import read_covariate_table

        cols = read_covariate_table(frame)
        need = (*_FLOAT_COLUMNS, "sex", "iga0", "region_pct", "easi_region_pct")
        missing = [c for c in need if c not in cols]
        if missing:
            raise InvalidInputError(f"population table must have every column of Population.to_frame(); "
                                    f"missing {', '.join(missing)} (or use sample_population(..., "
                                    "covariates=table) to draw them).")
        return Population(name=name, seed=seed or {}, regions=body.region_names(),
                          **{c: cols[c] for c in need}, extra={"source": "table"})

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


# Sampling: how the marginals are matched is told in dermsim.model.population.laws.

# Population draws live below this key of the caller's seed, so that the same seed given to the
# sampler and to any other consumer (simulate_patients draws below its own key) never shares a
# stream with them, nor with the top-level streams.
POPULATION_STREAM_KEY = 0x504F50  # "POP"
_S_DEMOG, _S_LATENT, _S_LESION = 0, 1, 2
# The severity law is solved on this many patients drawn from a seed of its own.
N_CALIBRATION = 2**17
_CALIBRATION_SEED = 0x45415349  # "EASI"
# A region counts as involved from 0.1% of total BSA (a tenth of a handprint): smaller shares of
# the Dirichlet draw are specks that would give every EASI region an area score of 1.
MIN_LESION_PCT = 0.1


def _scaled_beta(u: np.ndarray, a: float, b: float, lo: float, hi: float) -> np.ndarray:
    return lo + (hi - lo) * beta_quantile(a, b, u)


def _ages(laws: MarginalLaws, u: np.ndarray) -> np.ndarray:
    """Age of each patient from its two demographic uniforms: pick a band, then the band's Beta."""
    cum = np.cumsum([b.weight for b in laws.age_bands])
    band_idx = np.minimum(np.searchsorted(cum / cum[-1], u[:, 0], side="right"), len(laws.age_bands) - 1)
    age = np.empty(u.shape[0])
    for i, law in enumerate(laws.age_bands):
        m = band_idx == i
        age[m] = _scaled_beta(u[m, 1], law.a, law.b, law.lo, law.hi)
    return np.clip(age, laws.age_bands[0].lo, np.nextafter(laws.age_bands[-1].hi, -np.inf))


def _lesion_prior(age: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    sizes = body.compute_region_sizes_pct(age)
    prior = sizes * body.compute_site_preference(age)
    return sizes, prior / prior.sum(axis=1, keepdims=True)


def _lesion_gammas(laws: MarginalLaws, seq: np.random.SeedSequence, start: int, stop: int,
                   age: np.ndarray, prior: np.ndarray) -> np.ndarray:
    """Gamma(concentration * prior share) draws of patients [start, stop), one row per patient.

    The shapes depend on each patient's age, so a block's generator is fed the shapes of the
    whole block (ages of patients outside [start, stop) are recomputed from their own uniforms):
    patient i's draws then depend on the seed and the absolute block only, as with
    engine.streams, and Generator.standard_gamma is exact and fast (an inverse-CDF Dirichlet
    was 3x slower). ``prior``: the prior shares of patients [start, stop) at ``age``, which the
    blocks inside [start, stop) reuse.
    """
    bs = BLOCK_SIZE
    out = np.empty((stop - start, len(body.region_names())))
    for b in range(start // bs, (stop - 1) // bs + 1):
        lo, hi = b * bs, (b + 1) * bs
        if start <= lo and hi <= stop:
            shares = prior[lo - start:hi - start]
        else:
            ages = _ages(laws, block_uniforms(seq, _S_DEMOG, lo, hi, 3))
            # the patients inside [start, stop) at their own (possibly user-given) ages
            a, z = max(start, lo), min(stop, hi)
            ages[a - lo:z - lo] = age[a - start:z - start]
            shares = _lesion_prior(ages)[1]
        shape = laws.concentration * shares
        block = child_generator(seq, _S_LESION, b).standard_gamma(shape)
        a, z = max(start, lo), min(stop, hi)
        out[a - start:z - start] = block[a - lo:z - lo]
    return out


def _draw_base(spec: PopulationSpec, laws: MarginalLaws, seq: np.random.SeedSequence,
               start: int, stop: int, given: Mapping[str, np.ndarray] | None = None) -> dict[str, np.ndarray]:
    """Everything of patients [start, stop) but EASI and itch, plus the latent normals they need.

    ``given``: user covariates of these patients (model.population.covariates); each given column replaces the
    drawn one before anything that depends on it is computed, so the rest follows the given values."""
    g_in = {} if given is None else given

    def pick(name: str, drawn: np.ndarray) -> np.ndarray:
        return np.asarray(g_in[name]) if name in g_in else drawn

    u = block_uniforms(seq, _S_DEMOG, start, stop, 3)
    z = block_normals(seq, _S_LATENT, start, stop, 6)
    age = pick("age_y", _ages(laws, u))
    sex = pick("sex", np.where(u[:, 2] < laws.female_p, "F", "M"))

    # Height and weight: correlated SDS through the CDC LMS curves.
    z_w = laws.rho_hw * z[:, 0] + math.sqrt(1 - laws.rho_hw**2) * z[:, 1]
    height, weight = growth.compute_height_weight(age, sex, z[:, 0], z_w)
    height, weight = pick("height_cm", height), pick("weight_kg", weight)
    bsa = pick("bsa_m2", body.compute_bsa_m2(height, weight, spec.bsa_formula))

    # IGA and %BSA: the first links of the chained Gaussian copula.
    r1, r2, _ = laws.rho
    z_aff = r1 * z[:, 2] + math.sqrt(1 - r1**2) * z[:, 3]
    iga0 = pick("iga0", np.where(special.ndtr(z[:, 2]) > 1.0 - laws.iga3_p, 3, 2).astype(np.int8))
    lo, hi = laws.affected_lo, laws.affected_hi
    affected = np.clip(_scaled_beta(special.ndtr(z_aff), *laws.affected_ab, lo, hi), lo, hi)
    if "region_pct" in g_in:
        affected = np.asarray(g_in["region_pct"]).sum(axis=1)
    affected = pick("affected_pct", affected)

    # Lesion map: Dirichlet(concentration * prior share) as normalised gammas, water-filled into
    # the regions, specks below MIN_LESION_PCT handed to the involved regions.
    sizes, prior = _lesion_prior(age)
    g = _lesion_gammas(laws, seq, start, stop, age, prior)
    total = g.sum(axis=1, keepdims=True)
    props = np.where(total > 0, g / np.where(total > 0, total, 1.0), prior)
    region_pct = pick("region_pct", body.drop_specks(body.compute_lesion_map(affected, props, sizes), sizes,
                                                     MIN_LESION_PCT))
    easi_region_pct = pick("easi_region_pct", body.compute_easi_region_pct(region_pct, age))
    return {"age_y": age, "sex": sex, "weight_kg": weight, "height_cm": height, "bsa_m2": bsa,
            "region_pct": region_pct, "affected_pct": affected, "easi_region_pct": easi_region_pct,
            "iga0": np.asarray(iga0, dtype=np.int8),
            "area_term": body.compute_easi_area_term(easi_region_pct, age),
            "z_severity": r2 * z_aff + math.sqrt(1 - r2**2) * z[:, 4], "z_itch": z[:, 5]}


def _finish(laws: MarginalLaws, severity: SeverityLaw, base: dict[str, np.ndarray],
            given: Mapping[str, np.ndarray] | None = None) -> dict[str, np.ndarray]:
    """EASI from sign severity and the lesion map's area term; itch from its copula link (each
    replaced by the user's value where ``given`` holds it)."""
    g_in = {} if given is None else given
    cols = dict(base)
    z_sev, z_itch, area = cols.pop("z_severity"), cols.pop("z_itch"), cols.pop("area_term")
    cols["easi0"] = severity.compute_severity(z_sev, cols["iga0"] >= 3) * area
    r3 = laws.rho[2]
    z_nrs = r3 * z_sev + math.sqrt(1 - r3**2) * z_itch
    cols["nrs0"] = np.clip(_scaled_beta(special.ndtr(z_nrs), *laws.nrs_ab, 0.0, 10.0), 0.0, 10.0)
    for name in ("easi0", "nrs0"):
        if name in g_in:
            cols[name] = np.asarray(g_in[name], dtype=np.float64)
    return cols


_CALIBRATIONS: dict[str, PopulationCalibration] = {}
# The code the severity law's draw and fit run (package-relative; a folder is every file below it):
# the disk cache's key covers its content, and a test checks it covers every dermsim module this
# one imports.
SEVERITY_FIT_CODE = ("__init__.py", "_atomic.py", "_disk_cache.py", "_rng.py", "_spec.py", "_validate.py",
                     "errors.py", "engine", "evidence", "model/__init__.py", "model/population")


def _severity_fit_key(spec: PopulationSpec) -> str:
    """The disk-cache key of ``spec``'s severity law: the spec, the draw's size and seed, the code,
    and the numeric platform (:func:`dermsim._disk_cache.numeric_platform`)."""
    inputs = {"spec": spec_key(spec), "n": N_CALIBRATION, "seed": _CALIBRATION_SEED,
              **_disk_cache.numeric_platform()}
    return _disk_cache.entry_key("severity-law", inputs, SEVERITY_FIT_CODE)


def _fit_severity(spec: PopulationSpec, laws: MarginalLaws) -> SeverityLaw:
    def fit() -> SeverityLaw:
        base = _draw_base(spec, laws, np.random.SeedSequence(_CALIBRATION_SEED), 0, N_CALIBRATION)
        sev = spec.severity
        return fit_severity_law(base["area_term"], base["iga0"] == 3, base["z_severity"], mean=sev.easi.mean,
                                sd=sev.easi.sd, ratio=sev.easi_ratio_iga3_to_iga2.value)

    return _disk_cache.cached("severity-law", _severity_fit_key(spec), fit, asdict,
                              lambda e: SeverityLaw(float(e["mu"]), float(e["delta"]), float(e["sigma"])))


def calibrate_population(spec: PopulationSpec) -> PopulationCalibration:
    """All sampling laws of ``spec``; the severity law is fitted on N_CALIBRATION patients drawn
    with a fixed seed of its own (about 1.5 s), cached per spec content in the process and on disk
    (:mod:`dermsim._disk_cache`), since every simulating process needs it."""
    key = spec_key(spec)
    if key not in _CALIBRATIONS:
        laws = solve_marginal_laws(spec)
        _CALIBRATIONS[key] = PopulationCalibration(laws, _fit_severity(spec, laws), N_CALIBRATION)
    return _CALIBRATIONS[key]


def check_enrollment(pop: Population, spec: PopulationSpec) -> np.ndarray:
    """Boolean per patient: meets the spec's entry criteria (age, IGA, affected %BSA)."""
    el = spec.eligibility
    return ((pop.age_y >= spec.age.min_y) & (pop.age_y < spec.age.max_y)
            & np.isin(pop.iga0, el.iga)
            & (pop.affected_pct >= el.affected_min_pct) & (pop.affected_pct <= el.affected_max_pct))


def sample_population(spec: PopulationSpec | str | Path, n: int | None, seed: SeedLike, *,
                      chunk_size: int | None = None, covariates: Any = None) -> Population:
    """Sample ``n`` enrolled virtual patients of ``spec`` (a PopulationSpec, a built-in name such
    as ``"true-ad3"``, or a TOML path).

    Patient i's draws depend only on ``seed`` and i (streams keyed by absolute patient block), so
    any ``chunk_size`` gives the same patients as one call; chunks bound memory. Chunks (without
    ``chunk_size``, one per core) are drawn in threads, one per core this process may use
    (:func:`dermsim.engine.cores.default_workers`).

    ``covariates``: a user covariate table (CSV/Parquet path or DataFrame; columns and checks in
    :mod:`dermsim.model.population.covariates`), one patient per row: every given value is kept
    exactly and the rest is drawn as for a patient of ``spec`` at the given values; ``n`` is then
    the table's row count (None, or equal to it), and the spec's entry criteria are not applied.
    """
    if not isinstance(spec, PopulationSpec):
        spec = load_population_spec(spec)
    if covariates is not None:
        return _population_from_table(spec, n, seed, covariates)
    n = check_int("n", n, minimum=1, maximum=LIMITS["patients"])
    workers = default_workers()
    if chunk_size is None:
        # a part per core, cut on stream blocks (a cut inside a block draws that block twice)
        step = max(BLOCK_SIZE, -(-n // (workers * BLOCK_SIZE)) * BLOCK_SIZE)
    else:
        step = check_int("chunk_size", chunk_size, minimum=1, maximum=LIMITS["chunk"])
    cal = calibrate_population(spec)
    seq = child_sequence(seed, POPULATION_STREAM_KEY)

    def part(start: int) -> dict[str, np.ndarray]:
        base = _draw_base(spec, cal.marginals, seq, start, min(start + step, n))
        return _finish(cal.marginals, cal.severity, base)

    starts = range(0, n, step)
    if workers > 1 and len(starts) > 1:
        # parts side by side in threads: the generators, SciPy's special functions and most NumPy
        # array work release the GIL (100,000 patients: 0.8-1.3 s -> 0.5-0.6 s on 2 cores)
        with ThreadPoolExecutor(min(workers, len(starts)), thread_name_prefix="dermsim-population") as pool:
            parts = list(pool.map(part, starts))
    else:
        parts = [part(s) for s in starts]
    cols = parts[0] if len(parts) == 1 else {
        k: np.concatenate([p[k] for p in parts], axis=0) for k in parts[0]}
    pop = Population(name=spec.name, seed=seed_record(seed), regions=body.region_names(), **cols,
                     extra={"bsa_formula": spec.bsa_formula, "growth_reference": spec.growth_reference})
    ok = check_enrollment(pop, spec)
    if not np.all(ok):  # pragma: no cover - the laws live inside the window; this guards regressions
        raise SolverError(f"{int((~ok).sum())} sampled patients break the entry criteria of {spec.name}.")
    return pop


def _population_from_table(spec: PopulationSpec, n: int | None, seed: SeedLike,
                           covariates: Any) -> Population:
    from dermsim.model.population.covariates import read_covariate_table

    given = read_covariate_table(covariates)
    rows = int(given["age_y"].shape[0])
    if n is not None and check_int("n", n, minimum=1) != rows:
        raise InvalidInputError(f"n must equal the covariate table's {rows} rows (or be omitted); got {n}.")
    check_int("covariate table rows", rows, minimum=1, maximum=LIMITS["patients"])
    cal = calibrate_population(spec)
    seq = child_sequence(seed, POPULATION_STREAM_KEY)
    # one chunk: the lesion draws of a patient block take the block's ages, here the table's
    cols = _finish(cal.marginals, cal.severity, _draw_base(spec, cal.marginals, seq, 0, rows, given), given)
    source = "(data frame)" if not isinstance(covariates, (str, Path)) else str(covariates)
    named = sorted(k for k in given if k not in ("region_pct", "easi_region_pct"))
    named += [k for k in ("region_pct", "easi_region_pct") if k in given]
    return Population(name=spec.name, seed=seed_record(seed), regions=body.region_names(), **cols,
                      extra={"bsa_formula": spec.bsa_formula, "growth_reference": spec.growth_reference,
                             "covariate_table": source, "covariates_given": named})


def compute_population_summary(pop: Population) -> dict[str, float]:
    """Baseline marginals as trials report them: mean and SD of age in completed years, EASI,
    affected %BSA and itch NRS; % female and % IGA 3."""
    age_int = np.floor(pop.age_y)
    out: dict[str, float] = {}
    for name, col in (("age_y", age_int), ("easi0", pop.easi0), ("affected_pct", pop.affected_pct),
                      ("nrs0", pop.nrs0), ("weight_kg", pop.weight_kg), ("height_cm", pop.height_cm),
                      ("bsa_m2", pop.bsa_m2)):
        out[f"{name}_mean"] = float(np.mean(col))
        out[f"{name}_sd"] = float(np.std(col, ddof=1)) if pop.n > 1 else 0.0
    out["female_pct"] = 100.0 * float(np.mean(pop.sex == "F"))
    out["iga3_pct"] = 100.0 * float(np.mean(pop.iga0 == 3))
    head = pop.region_pct[:, pop.regions.index("head")] if "head" in pop.regions else np.zeros(pop.n)
    out["head_involved_pct"] = 100.0 * float(np.mean(head >= HEAD_INVOLVED_MIN_PCT))
    return out


# A head region counts as involved from a quarter of a (child's) handprint, about 0.2% BSA.
HEAD_INVOLVED_MIN_PCT = 0.2
