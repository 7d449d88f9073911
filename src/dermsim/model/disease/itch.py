"""Itch state Q and the itch-scratch loop (model.md 2.5; time in weeks).

dQ/dt = k_Q [S - Q],
S = (q0 + q31 g(IL31_eff) + q2 g((IL4_eff + IL13_eff)/2) + qT g(TSLP_eff)) (1 + qB (1 - B)) (1 - psi I_IL31),
g(x) = x / (x + x50). Scratching is proportional to Q and feeds barrier loss (disease.d_scr), which
closes the itch-scratch cycle. ``psi I_IL31`` is the direct neuronal JAK1 block (hours).
"""

from __future__ import annotations

import numpy as np


def _g(x: np.ndarray, x50: np.ndarray) -> np.ndarray:
    return x / (x + x50)


def compute_itch_drive(barrier: np.ndarray, il31_eff: np.ndarray, il4_eff: np.ndarray,
                       il13_eff: np.ndarray, tslp_eff: np.ndarray, i_il31: np.ndarray | float,
                       ip: dict[str, np.ndarray]) -> np.ndarray:
    """Itch drive S, the value Q relaxes to (itch units)."""
    drive = (ip["q0"] + ip["q31"] * _g(il31_eff, ip["x50_IL31"])
             + ip["q2"] * _g(0.5 * (il4_eff + il13_eff), ip["x50_IL413"])
             + ip["qT"] * _g(tslp_eff, ip["x50_TSLP"]))
    return drive * (1.0 + ip["qB"] * (1.0 - barrier)) * (1.0 - ip["psi"] * i_il31)


def compute_itch_placebo(t_week: np.ndarray | float, vp: dict[str, np.ndarray]) -> np.ndarray:
    """Expectation/emollient reduction of reported itch, E_pbo(t) = Pmax (1 - exp(-k_pi t)), all arms."""
    t = np.maximum(np.asarray(t_week, float), 0.0)
    return vp["Pmax_itch"] * -np.expm1(-vp["k_pi"] * t)
