"""Disease core: reduced Miyano-Irvine-Tanaka model with quasi-steady cytokines (time in weeks).

Slow states (rows): 0 B barrier integrity (0-1), 1 P pathogen load, 2-5 Th1, Th2, Th17, Th22
pools; row 6 is the itch state Q (itch.py), integrated with them because it feeds barrier loss;
row 7 is the disease memory M (below). Cytokines (t1/2 minutes to hours) are quasi-steady
functions of the pools (model.md 2.3). JAK inhibition acts on the signalling seen by targets:
X_eff = (1 - I_X) X.

Disease memory (model.md 2.11, "state carries over"). Remission after topical treatment lasts weeks
to months, longer after longer or proactive treatment (evidence maintenance.toml), yet the core's
pools and cytokines answer a change in JAK block within days. The slow process that sets the pace
is taken to be the lesional inflammatory memory (tissue-resident memory T cells, primed dendritic
cells and keratinocytes) that amplifies cytokine output at the same sites. M relaxes towards the
patient's disease activity relative to the untreated state with time constant ``tau_mem``,

    dM/dt = (D/D0 - M) / tau_mem,

and every quasi-steady cytokine is multiplied by (1 - m_mem) + m_mem M. At the untreated baseline
M = D/D0 = 1, so the baseline steady state is the first model's (solved without M) and ``m_mem = 0``
is the first model exactly. Under control M falls slowly; after stopping, cytokine output stays low
until M has re-grown, so relapse follows ``tau_mem`` (weeks) rather than the pools (days). More or
longer control gives a lower M, never a higher one (the loop is monotone: tests check that stopping
never leaves the skin better than continuing). Why not memory on Th2/Th22 activation only: tried
first; the drug acts on signalling, which returns within days of stopping whatever the pool sizes,
so a memory on the pools alone gave relapse in about a week.

Every right-hand side is written as production - loss * y with production, loss >= 0: the
engine's exponential production-loss step uses that split, and the reference (solve_ivp) uses
the same functions with dy/dt = production - loss * y.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from dermsim.model.disease.itch import compute_itch_drive

STATES = ("B", "P", "Th1", "Th2", "Th17", "Th22", "Q", "M")
N_STATES = len(STATES)
B, P, TH1, TH2, TH17, TH22, Q, M = range(N_STATES)
N_CORE = M  # rows solved for the untreated steady state (M = 1 there by construction)
# Miyano's initial conditions (AD_QSP_model.py), the start of the path to each patient's steady state
MIYANO_SEED = np.array([0.5931, 0.4069, 3.1, 8.7, 2.0, 21.0, 3.0])
LOWER = np.array([1e-12, 1e-12, 1e-12, 1e-12, 1e-12, 1e-12, 1e-12])
UPPER = np.array([1.0 - 1e-12, np.inf, np.inf, np.inf, np.inf, np.inf, np.inf])
# per-patient reference of the memory state (added by add_memory_reference)
MEMORY_REF = ("severity0",)
# inhibition rows (order jak.PATHWAYS)
I_IL4, I_IL13, I_IL31, I_IL22, I_TSLP, I_IFNG = range(6)


def compute_cytokines(y: np.ndarray, dp: dict[str, np.ndarray],
                      inhib: np.ndarray | None) -> dict[str, np.ndarray]:
    """Quasi-steady cytokines (fold-change); ``*_eff`` is the signalling seen by targets."""
    th1, th2, th17, th22, p = y[TH1], y[TH2], y[TH17], y[TH22], y[P]
    il4 = (dp["k11"] * th2 + dp["k12"]) / dp["d10"]
    il13 = (dp["k13"] * th2 + dp["k14"]) / dp["d11"]
    il31 = (dp["k19"] * th2 + dp["k20"]) / dp["d14"]
    il22 = (dp["k17"] * th22 + dp["k18"]) / dp["d13"]
    il17 = (dp["k15"] * th17 + dp["k16"]) / dp["d12"]
    ifng = (dp["k21"] * th1 + dp["k22"]) / dp["d15"]
    tslp = (dp["k23"] * p + dp["k24"]) / dp["d16"]
    if inhib is None:
        eff = {"IL4_eff": il4, "IL13_eff": il13, "IL31_eff": il31, "IL22_eff": il22,
               "TSLP_eff": tslp, "IFNg_eff": ifng}
    else:
        eff = {"IL4_eff": (1.0 - inhib[I_IL4]) * il4, "IL13_eff": (1.0 - inhib[I_IL13]) * il13,
               "IL31_eff": (1.0 - inhib[I_IL31]) * il31, "IL22_eff": (1.0 - inhib[I_IL22]) * il22,
               "TSLP_eff": (1.0 - inhib[I_TSLP]) * tslp, "IFNg_eff": (1.0 - inhib[I_IFNG]) * ifng}
    ox40l = (dp["k25"] * eff["TSLP_eff"] + dp["k26"]) / dp["d17"]
    return {"IL4": il4, "IL13": il13, "IL31": il31, "IL22": il22, "IL17": il17, "IFNg": ifng,
            "TSLP": tslp, "OX40L": ox40l, **eff}


def compute_rates(y: np.ndarray, dp: dict[str, np.ndarray], ip: dict[str, np.ndarray],
                  inhib: np.ndarray | None, k_veh: np.ndarray | float) -> tuple[np.ndarray, np.ndarray]:
    """(production, loss), each (7, n), per week: dy/dt = production - loss * y."""
    return compute_rates_mixture(y, dp, ip, ((1.0, inhib),), k_veh)


def compute_rates_mixture(y: np.ndarray, dp: dict[str, np.ndarray], ip: dict[str, np.ndarray],
                          blocks: Sequence[tuple[float, np.ndarray | None]],
                          k_veh: np.ndarray | float) -> tuple[np.ndarray, np.ndarray]:
    """Weighted mean of (production, loss) over several JAK-block levels ``(weight, inhib (6, n))``.

    The engine uses it for the step-mean rates under a block that swings within the step; the
    parts that do not depend on the block are computed once. ``y`` has the 7 core rows (M taken
    as 1: the untreated steady-state solve) or all 8.
    """
    b, p, q = y[B], y[P], y[Q]
    has_mem = y.shape[0] > M
    m_mem = dp.get("m_mem")
    th1, th2, th17, th22 = y[TH1], y[TH2], y[TH17], y[TH22]
    # memory-dependent share of the lesional cytokine output (1 at the untreated baseline)
    memory = (1.0 - m_mem) + m_mem * y[M] if (has_mem and m_mem is not None) else 1.0
    il4 = memory * (dp["k11"] * th2 + dp["k12"]) / dp["d10"]
    il13 = memory * (dp["k13"] * th2 + dp["k14"]) / dp["d11"]
    il31 = memory * (dp["k19"] * th2 + dp["k20"]) / dp["d14"]
    il22 = memory * (dp["k17"] * th22 + dp["k18"]) / dp["d13"]
    il17 = memory * (dp["k15"] * th17 + dp["k16"]) / dp["d12"]
    ifng = memory * (dp["k21"] * th1 + dp["k22"]) / dp["d15"]
    tslp = memory * (dp["k23"] * p + dp["k24"]) / dp["d16"]
    # all block levels at once, as rows of (m, n) arrays: one NumPy call per term, not per level
    w = np.array([wt for wt, _ in blocks])[:, None]
    if all(inhib is None for _, inhib in blocks):
        il4e, il13e, il31e, il22e, tslpe, ifnge = (v[None, :] for v in (il4, il13, il31, il22, tslp, ifng))
        i31: np.ndarray | float = 0.0
    else:
        inh = np.stack([np.zeros_like(y[:6]) if inhib is None else inhib for _, inhib in blocks], axis=1)
        free = 1.0 - inh                                               # (6, m, n)
        il4e, il13e, il31e = free[I_IL4] * il4, free[I_IL13] * il13, free[I_IL31] * il31
        il22e, tslpe, ifnge = free[I_IL22] * il22, free[I_TSLP] * tslp, free[I_IFNG] * ifng
        i31 = inh[I_IL31]
    ox40l = (dp["k25"] * tslpe + dp["k26"]) / dp["d17"]
    recovery = (dp["k1"] + dp["k2"] * il22e + k_veh) / (
        (1.0 + dp["b1"] * il4e) * (1.0 + dp["b2"] * il13e) * (1.0 + dp["b3"] * il17)
        * (1.0 + dp["b4"] * il22e) * (1.0 + dp["b5"] * il31e))
    clear_p = ((1.0 + dp["d4"] * p) * (1.0 + dp["d5"] * il17) * (1.0 + dp["d6"] * il22e)
               * (1.0 + dp["d7"] * ifnge) / ((1.0 + dp["b7"] * il4e) * (1.0 + dp["b8"] * il13e)))
    p_den = p / (4.0 + dp["k9"] * ifnge + dp["k10"] * il4e)
    survival = dp["d9"] / (1.0 + dp["b9"] * ox40l)
    drive = compute_itch_drive(b, il31e, il4e, il13e, tslpe, i31, ip)
    prod = np.empty_like(y)
    loss = np.empty_like(y)
    mean_b_rec = np.sum(w * recovery, axis=0)
    prod[B] = mean_b_rec
    loss[B] = (mean_b_rec + dp["d1"] * (1.0 + dp["d3"] * p + dp["d_scr"] * q)
               + dp["d2"] * np.sum(w * il31e, axis=0))
    prod[P] = dp["d8"] / (1.0 + dp["b6"] * b)
    loss[P] = np.sum(w * clear_p, axis=0) + dp["d8"]
    prod[TH1] = dp["k5"] * np.sum(w * (p_den * (1.0 + dp["k9"] * ifnge)), axis=0)
    prod[TH2] = dp["k6"] * np.sum(w * (p_den * (1.0 + dp["k10"] * il4e)), axis=0)
    mean_p_den = np.sum(w * p_den, axis=0)
    prod[TH17] = dp["k7"] * mean_p_den
    prod[TH22] = dp["k8"] * mean_p_den
    loss[TH1] = np.sum(w * survival, axis=0)
    loss[TH2] = loss[TH1]
    loss[TH17] = loss[TH1]
    loss[TH22] = loss[TH1]
    prod[Q] = ip["k_Q"] * np.sum(w * drive, axis=0)
    loss[Q] = ip["k_Q"]
    if has_mem:
        if "severity0" in dp and "tau_mem" in dp:
            k_mem = 1.0 / dp["tau_mem"]
            prod[M] = k_mem * (p + 1.0 - b) / dp["severity0"]
            loss[M] = k_mem
        else:  # no memory parameters (a first-version parameter set): M stays where it is
            prod[M] = 0.0
            loss[M] = 0.0
    return prod, loss


def compute_rhs(y: np.ndarray, dp: dict[str, np.ndarray], ip: dict[str, np.ndarray],
                inhib: np.ndarray | None, k_veh: np.ndarray | float) -> np.ndarray:
    """dy/dt (7, n) per week."""
    prod, loss = compute_rates(y, dp, ip, inhib, k_veh)
    return prod - loss * y


def compute_vehicle_rate(t_week: float, vp: dict[str, np.ndarray],
                         drive: float | np.ndarray = 1.0) -> np.ndarray:
    """k_veh(t) = k_v drive (1 - exp(-t/tau_v)): the emollient state's closed form under the same
    daily applications from t = 0 (weeks; ``drive`` from :func:`compute_emollient_drive`), used by
    the reference solver and the SBML export."""
    return vp["k_v"] * drive * -np.expm1(-max(t_week, 0.0) / vp["tau_v"])


def compute_vehicle_rate_mean(t0_week: float, t1_week: float, vp: dict[str, np.ndarray]) -> np.ndarray:
    """Exact mean of :func:`compute_vehicle_rate` over [t0, t1] (weeks)."""
    tau = vp["tau_v"]
    h = t1_week - t0_week
    return vp["k_v"] * (1.0 - tau / h * (np.exp(-t0_week / tau) - np.exp(-t1_week / tau)))


def compute_emollient_drive(applications: np.ndarray | float, adherence: float,
                            vp: dict[str, np.ndarray]) -> np.ndarray:
    """Target of the emollient state on a day with ``applications`` (of any cream, drug or
    base): min(1, applications x adherence / n_app_full); 0 on days without cream."""
    full = vp.get("n_app_full", 2.0)
    return np.minimum(1.0, np.asarray(applications, float) * adherence / full)


def step_emollient(e: np.ndarray, drive: np.ndarray | float, h_week: float,
                   vp: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Advance the emollient state E (0-1) by ``h_week`` towards ``drive``; (E at the end, mean of
    E over the step), both exact for a drive constant over the step.

    dE/dt = (drive - E)/tau, tau = tau_v while E rises (onset) and tau_v_off while it falls
    (offset after the last application). The vehicle rate is k_veh = k_v E. Under daily full
    applications from E = 0 this is k_v (1 - exp(-t/tau_v)), the first model's time course, now
    driven by applications instead of trial time.
    """
    tau = np.where(drive >= e, vp["tau_v"], vp.get("tau_v_off", vp["tau_v"]))
    x = h_week / tau
    decay = np.exp(-x)
    gap = e - drive
    mean = drive + gap * (-np.expm1(-x) / x)
    return drive + gap * decay, mean


def compute_severity(y: np.ndarray) -> np.ndarray:
    """Miyano severity index D = P + 1 - B (EASI_Miyano = 36 D)."""
    return y[P] + 1.0 - y[B]


def _take(d: dict[str, np.ndarray], idx: np.ndarray, n: int) -> dict[str, np.ndarray]:
    if idx.size == n:
        return d
    return {k: v[idx] for k, v in d.items()}


def add_memory_reference(dp: dict[str, np.ndarray], y0: np.ndarray) -> dict[str, np.ndarray]:
    """``dp`` with each patient's untreated severity D0 (the reference of the memory state)."""
    return {**dp, "severity0": compute_severity(y0)}


def solve_baseline(dp: dict[str, np.ndarray], ip: dict[str, np.ndarray]) -> np.ndarray:
    """Each patient's untreated steady state (k_veh = 0, no drug), solved directly (8, n).

    Pseudo-transient continuation from Miyano's initial conditions follows the path long
    integration would take (Miyano integrate 1000 weeks) and ends in Newton; vectorised. The
    seven core rows are solved with M = 1 (memory at its untreated level); row M is 1.
    """
    from dermsim.engine import solve_steady_state

    n = next(iter(dp.values())).shape[0]
    y0 = np.repeat(MIYANO_SEED[:, None], n, axis=1)

    def rhs(y: np.ndarray, idx: np.ndarray) -> np.ndarray:
        return compute_rhs(y, _take(dp, idx, n), _take(ip, idx, n), None, 0.0)

    core = solve_steady_state(rhs, y0, lower=LOWER, upper=UPPER)
    return np.vstack([core, np.ones((1, n))])
