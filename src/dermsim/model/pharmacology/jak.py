"""JAK inhibition at the cytokine-receptor step (model.md 2.2).

Each pathway j's signalling seen by its targets is X_eff = (1 - I_j) X with
I_j(t) = Imax_j u(t)^h / (1 + u(t)^h), u the local exposure index (pk.compute_local_exposure).
Which pathways a drug reaches, and how fully, comes from the cytokine -> JAK map: a JAK1/2
inhibitor fully blocks a receptor whose JAKs are all JAK1/2 or that uses both JAK1 and JAK2, and
partly (``phi_partial``) one that pairs a single JAK1/2 with JAK3 or TYK2. ``blocked`` answers
"what if only IL-13 were blocked": only the named pathways are blocked, each fully (Imax).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from functools import lru_cache

import numpy as np

from dermsim.errors import DataValidationError, InvalidInputError
from dermsim.evidence import cytokine_jaks as evidence_cytokine_jaks

PATHWAYS = ("IL4", "IL13", "IL31", "IL22", "TSLP", "IFNg")
JAK_TARGETS = frozenset({"JAK1", "JAK2"})
PRESETS = {"jak1/2": None, "all": PATHWAYS, "none": ()}
_ALIASES = {p.lower().replace("-", ""): p for p in PATHWAYS} | {"ifngamma": "IFNg", "ifng": "IFNg"}

Blocked = str | Iterable[str] | Mapping[str, float] | None


@lru_cache(maxsize=1)
def cytokine_jaks() -> dict[str, tuple[str, ...]]:
    """Pathway -> receptor JAKs for the model's pathways, from the evidence library's map."""
    found = {_canonical(k): tuple(v) for k, v in evidence_cytokine_jaks().items() if _is_pathway(k)}
    missing = [p for p in PATHWAYS if p not in found]
    if missing:
        raise DataValidationError(
            f"evidence mechanism.toml: the cytokine-to-JAK map lacks {', '.join(missing)}; the model needs "
            f"every pathway of {', '.join(PATHWAYS)}.")
    return found


def _is_pathway(name: str) -> bool:
    return name.lower().replace("-", "").replace("_", "") in _ALIASES


def _canonical(name: str) -> str:
    key = name.lower().replace("-", "").replace("_", "")
    if key not in _ALIASES:
        raise InvalidInputError(f"blocked pathway must be one of {', '.join(PATHWAYS)}; got {name!r}.")
    return _ALIASES[key]


def compute_pathway_coverage(jaks: Mapping[str, tuple[str, ...]], phi_partial: float,
                             targets: frozenset[str] = JAK_TARGETS) -> np.ndarray:
    """Relative Imax phi_j per pathway (order PATHWAYS) for an inhibitor of ``targets``."""
    out = np.zeros(len(PATHWAYS))
    for i, name in enumerate(PATHWAYS):
        used = set(jaks[name])
        hit = used & targets
        if not hit:
            out[i] = 0.0
        elif used <= targets or len(hit) >= 2:
            out[i] = 1.0
        else:
            out[i] = phi_partial
    return out


def derive_pathway_imax(imax: float, phi_partial: float, blocked: Blocked = None) -> np.ndarray:
    """Imax_j per pathway (shape (6,), order PATHWAYS).

    ``blocked``: None or "jak1/2" (the cytokine->JAK map), "all" (every pathway fully), "none",
    an iterable of pathway names (only those, fully: a single-pathway biologic such as
    ``["IL13"]``), or a mapping name -> relative Imax in [0, 1].
    """
    if isinstance(blocked, str):
        key = blocked.strip().lower()
        if key in PRESETS:
            blocked = PRESETS[key]
        else:
            blocked = [p for p in blocked.replace("+", ",").split(",") if p.strip()]
    if blocked is None:
        return imax * compute_pathway_coverage(cytokine_jaks(), phi_partial)
    weights = np.zeros(len(PATHWAYS))
    if isinstance(blocked, Mapping):
        items = blocked.items()
    else:
        items = ((name, 1.0) for name in blocked)
    for name, w in items:
        if not 0.0 <= float(w) <= 1.0:
            raise InvalidInputError(f"blocked[{name!r}] must be within [0, 1]; got {w}.")
        weights[PATHWAYS.index(_canonical(str(name).strip()))] = float(w)
    return imax * weights


def compute_occupancy(u: np.ndarray, hill: float | np.ndarray) -> np.ndarray:
    """u^h / (1 + u^h), the fraction of maximal block at local exposure u (>= 0); ``hill`` is the
    calibrated Hill coefficient h of jak.toml (second version; the first fixed h = 1), a scalar or
    one per patient (stacked parameter rows)."""
    u = np.maximum(u, 0.0)
    if np.ndim(hill) == 0 and hill == 1.0:
        return u / (1.0 + u)
    # 1 / (1 + u^-h) via one log and one exp: NumPy vectorizes exp/log but not pow, and this is
    # the integrator's hot path (evaluated at every quadrature node of every step)
    with np.errstate(divide="ignore", over="ignore"):
        return 1.0 / (1.0 + np.exp(-hill * np.log(u)))


def compute_inhibition(u: np.ndarray, imax_j: np.ndarray, hill: float) -> np.ndarray:
    """I_j (6, n) per pathway from exposure u (n,)."""
    return np.asarray(imax_j)[:, None] * compute_occupancy(np.asarray(u, float), hill)[None, :]
