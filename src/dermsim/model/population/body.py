"""Body surface: BSA formulas, Lund-Browder region sizes by age, lesion maps and EASI regions.

Everything here is vectorized over patients (arrays of length n, or n x R for regions); the
numbers come from :func:`dermsim.evidence.charts.load_charts`.

* BSA (m2) = c * height_cm**a * weight_kg**b with the coefficients of the chart. Default:
  Mosteller. Haycock is the formula validated across infancy and childhood; over 2-18 y the two
  differ by about 2%, well inside between-patient variability of the cream dose, and Mosteller is
  what paediatric dosing references and the model engineer's ``make_patient`` use.
* Region sizes (% of total BSA) are interpolated linearly in age between the chart's columns
  (birth, 1, 5, 10, 15 y, adult placed at 18 y) and held constant outside them. A linear mix of
  columns that each sum to 100 sums to 100, so every age gets a complete body.
* A lesion map puts a patient's affected %BSA on the regions: proportions are drawn elsewhere
  (see :mod:`dermsim.model.population.sampling`); :func:`compute_lesion_map` turns them into areas with
  water-filling, so that no region is more than fully affected and the areas sum exactly to the
  affected %BSA.
"""

from __future__ import annotations

import numpy as np

from dermsim._validate import check_choice
from dermsim.errors import InvalidInputError
from dermsim.evidence.charts import EASI_REGIONS, Charts, load_charts

# Atopic dermatitis does not strike regions in proportion to their size. These multipliers of
# region size (a modelling prior, not a published number) encode the textbook distribution:
# children 2-11 favour the flexures (antecubital -> forearms, popliteal -> lower legs), neck,
# hands and, the younger the more, the face; adolescents and adults keep the flexures and add
# head-neck and hands. They set the mean of the Dirichlet draw only; its concentration sets the
# spread. Ages 12-18 blend the two profiles linearly.
SITE_PREFERENCE_CHILD: dict[str, float] = {
    "head": 1.5, "neck": 2.5, "anterior_trunk": 0.6, "posterior_trunk": 0.6, "buttocks": 0.7,
    "genitalia": 0.3, "upper_arms": 1.0, "forearms": 1.6, "hands": 1.5, "thighs": 0.8,
    "lower_legs": 1.4, "feet": 1.0,
}
SITE_PREFERENCE_ADULT: dict[str, float] = {
    "head": 1.3, "neck": 2.5, "anterior_trunk": 0.7, "posterior_trunk": 0.7, "buttocks": 0.5,
    "genitalia": 0.3, "upper_arms": 1.0, "forearms": 1.4, "hands": 1.8, "thighs": 0.7,
    "lower_legs": 1.2, "feet": 0.9,
}
CHILD_PROFILE_MAX_Y = 12.0
ADULT_PROFILE_MIN_Y = 18.0


def _charts(charts: Charts | None) -> Charts:
    return load_charts() if charts is None else charts


def _as_1d(name: str, values: np.ndarray | float) -> np.ndarray:
    arr = np.atleast_1d(np.asarray(values, dtype=np.float64))
    if arr.ndim != 1:
        raise InvalidInputError(f"{name} must be a number or a 1-D array; got shape {arr.shape}.")
    if not np.all(np.isfinite(arr)):
        raise InvalidInputError(f"{name} must hold finite numbers only; got NaN or infinity.")
    return arr


def region_names(charts: Charts | None = None) -> tuple[str, ...]:
    """Lund-Browder region names in chart order (the columns of ``region_pct``)."""
    return _charts(charts).lund_browder.region_names


def bsa_formulas(charts: Charts | None = None) -> tuple[str, ...]:
    return tuple(_charts(charts).bsa.formulas)


def default_bsa_formula(charts: Charts | None = None) -> str:
    return str(_charts(charts).bsa.default.value)


def compute_bsa_m2(height_cm: np.ndarray | float, weight_kg: np.ndarray | float,
                   formula: str | None = None, *, charts: Charts | None = None) -> np.ndarray:
    """Body surface area (m2) from height (cm) and weight (kg); ``formula`` one of the chart's
    (mosteller, haycock, dubois, gehan_george; default the chart's default, Mosteller)."""
    ch = _charts(charts)
    name = default_bsa_formula(ch) if formula is None else check_choice("formula", formula, ch.bsa.formulas)
    h, w = _as_1d("height_cm", height_cm), _as_1d("weight_kg", weight_kg)
    if h.shape != w.shape:
        raise InvalidInputError(
            f"height_cm and weight_kg must have the same length; got {h.size} and {w.size}.")
    if np.any(h <= 0) or np.any(w <= 0):
        bad = "height_cm" if np.any(h <= 0) else "weight_kg"
        raise InvalidInputError(f"{bad} must be > 0; got {float(np.min(h if bad == 'height_cm' else w)):g}.")
    c, a, b = ch.bsa.formulas[name].coefficients()
    return c * h**a * w**b


def _size_table(charts: Charts) -> tuple[np.ndarray, np.ndarray]:
    lb = charts.lund_browder
    return np.asarray(lb.ages_y.values, dtype=np.float64), np.asarray(lb.size_table(), dtype=np.float64)


def compute_region_sizes_pct(age_y: np.ndarray | float, *, charts: Charts | None = None) -> np.ndarray:
    """Lund-Browder region sizes (% of total BSA), shape (n, R), interpolated linearly in age."""
    ages = _as_1d("age_y", age_y)
    if np.any(ages < 0):
        raise InvalidInputError(f"age_y must be >= 0; got {float(ages.min()):g}.")
    grid, table = _size_table(_charts(charts))
    # Clamping frac holds sizes at the birth and adult columns outside the chart's ages.
    idx = np.clip(np.searchsorted(grid, ages, side="right") - 1, 0, grid.size - 2)
    frac = np.clip((ages - grid[idx]) / (grid[idx + 1] - grid[idx]), 0.0, 1.0)
    return table[:, idx].T * (1.0 - frac[:, None]) + table[:, idx + 1].T * frac[:, None]


def _easi_membership(charts: Charts) -> np.ndarray:
    regions = charts.lund_browder.region_names
    member = np.zeros((len(regions), len(EASI_REGIONS)))
    for r, name in enumerate(regions):
        member[r, EASI_REGIONS.index(str(charts.easi.region_map[name].value))] = 1.0
    return member


def easi_membership(charts: Charts | None = None) -> np.ndarray:
    """(R, 4) 0/1 matrix: Lund-Browder region r belongs to EASI region k."""
    return _easi_membership(_charts(charts)).copy()


def compute_easi_weights(age_y: np.ndarray | float, *, charts: Charts | None = None) -> np.ndarray:
    """EASI region weights (n, 4) in :data:`EASI_REGIONS` order: the under-8 set below the cut."""
    ch = _charts(charts)
    ages = _as_1d("age_y", age_y)
    cut = float(ch.easi.age_cut_y.value)
    young, old = np.asarray(ch.easi.weights(True)), np.asarray(ch.easi.weights(False))
    return np.where((ages < cut)[:, None], young[None, :], old[None, :])


def compute_easi_region_sizes_pct(age_y: np.ndarray | float, *, charts: Charts | None = None) -> np.ndarray:
    """Size of each EASI region (% of total BSA), shape (n, 4), from the Lund-Browder sizes."""
    ch = _charts(charts)
    return _to_easi(compute_region_sizes_pct(age_y, charts=ch), _easi_membership(ch))


def _to_easi(per_region: np.ndarray, member: np.ndarray) -> np.ndarray:
    # Summed region by region rather than with a matrix product: BLAS may order the additions
    # differently for different row counts, and a patient's numbers must not depend on the chunk.
    out = np.zeros((per_region.shape[0], member.shape[1]))
    for r, k in zip(*np.nonzero(member), strict=True):
        out[:, k] += per_region[:, r]
    return out


def compute_easi_region_pct(region_pct: np.ndarray, age_y: np.ndarray | float, *,
                            charts: Charts | None = None) -> np.ndarray:
    """Percent of each EASI region that is affected (n, 4), from a lesion map ``region_pct``
    (n x R, % of TOTAL BSA per Lund-Browder region)."""
    ch = _charts(charts)
    lesions = np.asarray(region_pct, dtype=np.float64)
    member = _easi_membership(ch)
    if lesions.ndim != 2 or lesions.shape[1] != member.shape[0]:
        raise InvalidInputError(f"region_pct must have shape (n, {member.shape[0]}); got {lesions.shape}.")
    sizes = compute_easi_region_sizes_pct(age_y, charts=ch)
    if sizes.shape[0] != lesions.shape[0]:
        raise InvalidInputError(f"age_y must have {lesions.shape[0]} values (one per patient); "
                                f"got {sizes.shape[0]}.")
    return np.clip(100.0 * _to_easi(lesions, member) / sizes, 0.0, 100.0)


def compute_easi_area_score(easi_region_pct: np.ndarray, *, charts: Charts | None = None) -> np.ndarray:
    """EASI area score (0-6) of each EASI region from the percent of it affected (any shape)."""
    pct = np.asarray(easi_region_pct, dtype=np.float64)
    bounds = np.asarray(_charts(charts).easi.area_score_lower_pct.values)
    return np.where(pct > 0, 1 + np.searchsorted(bounds, pct, side="right"), 0).astype(np.int8)


def compute_easi_area_term(easi_region_pct: np.ndarray, age_y: np.ndarray | float, *,
                           charts: Charts | None = None) -> np.ndarray:
    """Sum over EASI regions of weight x area score (n,): EASI = this x the mean severity sum
    (0-12, four signs 0-3) when every region has the same severity, so 0 <= EASI <= 12 x this."""
    ch = _charts(charts)
    scores = compute_easi_area_score(easi_region_pct, charts=ch)
    weights = compute_easi_weights(age_y, charts=ch)
    if scores.shape != weights.shape:
        raise InvalidInputError(
            f"easi_region_pct must have shape ({weights.shape[0]}, 4); got {scores.shape}.")
    out = np.zeros(scores.shape[0])
    for k in range(scores.shape[1]):  # fixed order: a patient's sum never depends on the chunk
        out += weights[:, k] * scores[:, k]
    return out


def drop_specks(region_pct: np.ndarray, region_size_pct: np.ndarray, min_pct: float) -> np.ndarray:
    """Lesion map without regions affected below ``min_pct`` (% of total BSA): their area goes to
    the regions that stay involved (water-filled), so totals are kept. The largest regions are kept
    whatever their size until they can hold the whole area (so a patient always keeps one)."""
    lesions = np.asarray(region_pct, dtype=np.float64)
    sizes = np.asarray(region_size_pct, dtype=np.float64)
    # Also keep, largest first, as many regions as it takes to hold the whole area, so that the
    # water-filling never has to spill into a dropped region.
    order = np.argsort(-lesions, axis=1, kind="stable")
    rows = np.arange(lesions.shape[0])[:, None]
    room_before = np.cumsum(sizes[rows, order], axis=1) - sizes[rows, order]
    needed = np.zeros_like(lesions, dtype=bool)
    needed[rows, order] = room_before < lesions.sum(axis=1, keepdims=True)
    keep = (lesions >= min_pct) | needed
    kept = np.where(keep, lesions, 0.0)
    props = kept / kept.sum(axis=1, keepdims=True)
    return compute_lesion_map(lesions.sum(axis=1), props, sizes)


def compute_site_preference(age_y: np.ndarray | float, *, charts: Charts | None = None,
                            child: dict[str, float] | None = None,
                            adult: dict[str, float] | None = None) -> np.ndarray:
    """Site-preference multipliers (n, R) by age: the child profile to 12 y, the adult profile
    from 18 y, linear between (see the module constants for the rationale)."""
    names = region_names(charts)
    ages = _as_1d("age_y", age_y)
    ch_prof, ad_prof = child or SITE_PREFERENCE_CHILD, adult or SITE_PREFERENCE_ADULT
    for label, prof in (("child", ch_prof), ("adult", ad_prof)):
        missing = [r for r in names if r not in prof]
        if missing:
            raise InvalidInputError(f"site preference ({label}) must give every region; missing {missing}.")
        if any(prof[r] <= 0 for r in names):
            raise InvalidInputError(f"site preference ({label}) must be > 0 for every region.")
    c = np.array([ch_prof[r] for r in names])
    a = np.array([ad_prof[r] for r in names])
    t = np.clip((ages - CHILD_PROFILE_MAX_Y) / (ADULT_PROFILE_MIN_Y - CHILD_PROFILE_MAX_Y), 0.0, 1.0)
    return c[None, :] * (1.0 - t[:, None]) + a[None, :] * t[:, None]


def _water_fill(alloc: np.ndarray, p: np.ndarray, cap: np.ndarray) -> np.ndarray:
    for _ in range(p.shape[1]):
        excess = np.where(alloc >= cap, alloc - cap, 0.0).sum(axis=1)
        if not np.any(excess > 0):
            break
        alloc = np.minimum(alloc, cap)
        room = np.where(alloc < cap, cap - alloc, 0.0)
        # Share the overflow by proportion among regions with room; where those regions all have
        # proportion 0, by their room instead (regions asked for nothing stay empty otherwise).
        share = np.where(room > 0, p, 0.0)
        share = np.where(share.sum(axis=1, keepdims=True) > 0, share, room)
        denom = share.sum(axis=1, keepdims=True)
        # No room left anywhere only when affected equals the whole body (excess is rounding).
        alloc += np.where(denom > 0, excess[:, None] * share / np.where(denom > 0, denom, 1.0), 0.0)
    return alloc


def compute_lesion_map(affected_pct: np.ndarray, proportions: np.ndarray,
                       region_size_pct: np.ndarray) -> np.ndarray:
    """Spread ``affected_pct`` (n,) over regions in ``proportions`` (n x R, rows sum to 1),
    never beyond a region's size (n x R): water-filling moves what overflows a full region to the
    regions with room, in proportion to their share. Rows of the result sum to ``affected_pct``.
    """
    area = np.asarray(affected_pct, dtype=np.float64)
    p = np.asarray(proportions, dtype=np.float64)
    cap = np.asarray(region_size_pct, dtype=np.float64)
    if p.shape != cap.shape or p.ndim != 2 or p.shape[0] != area.shape[0]:
        raise InvalidInputError(f"proportions and region_size_pct must have shape ({area.shape[0]}, R); "
                                f"got {p.shape} and {cap.shape}.")
    if np.any(area < 0) or np.any(area > cap.sum(axis=1) + 1e-9):
        raise InvalidInputError("affected_pct must be within [0, total of region sizes]; got values outside.")
    alloc = area[:, None] * p
    # Only rows that overflow somewhere need the passes (a row never depends on another row).
    rows = np.nonzero(np.any(alloc > cap, axis=1))[0]
    if rows.size:
        alloc[rows] = _water_fill(alloc[rows], p[rows], cap[rows])
    alloc = np.minimum(alloc, cap)
    # Rounding of the last pass: put the tiny remainder on the regions already involved.
    gap = area - alloc.sum(axis=1)
    room = np.where(alloc > 0, cap - alloc, 0.0)
    room = np.where(room.sum(axis=1, keepdims=True) > 0, room, cap - alloc)
    alloc += gap[:, None] * room / np.maximum(room.sum(axis=1, keepdims=True), 1e-300)
    return np.clip(alloc, 0.0, cap)
