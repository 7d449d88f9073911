"""The compiled kernel: one day of the integrator's steps for every patient, in numba.

It computes exactly what the NumPy step loop of ``model.simulate._integrate`` computes, patient by
patient in compiled code instead of array by array (the NumPy loop stays as the reference and the
fallback where numba is missing): per step,

1. the absorbed input of an application enters the surface compartment (computed once a day by
   ``pk.compute_absorbed_mg``, as the NumPy path does at each application);
2. the emollient state (``dynamics.step_emollient``) and its step-mean vehicle rate;
3. the JAK occupancy at the Gauss-Legendre nodes of the exact PK, its mean and SD, and the two
   sigma-point block levels (``jak.compute_occupancy``);
4. the disease core, itch and memory by the engine's second-order exponential production-loss step
   (``engine.stepper.step_production_loss`` on ``dynamics.compute_rates_mixture``);
5. exact PK propagation by the patient's transition matrix.

The arithmetic follows the NumPy expressions term by term (same order of operations, no fastmath),
so the two paths agree to rounding; ``tests/unit/model/test_kernel.py`` holds them to the issue's
bounds. Patients are independent, so the ``prange`` over fixed blocks of patients gives the same
numbers for any thread count.

Everything the kernel calls is in this file: numba's disk cache is invalidated by a change of the
file that holds the compiled function, not of the files it calls into.
"""

from __future__ import annotations

import math

import numpy as np

from dermsim.engine.compiled import kernel_threads, njit, prange, transitions
from dermsim.engine.steady import solve_steady_state
from dermsim.model.disease import dynamics

# parameter columns of the per-patient table (order of the kernel's reads)
DISEASE_NAMES = ("k1", "k2", "b1", "b2", "b3", "b4", "b5", "d1", "d2", "d3", "d_scr", "b6", "d4", "d5",
                 "d6", "d7", "b7", "b8", "d8", "k5", "k6", "k7", "k8", "k9", "k10", "d9", "b9", "k11",
                 "k12", "d10", "k13", "k14", "d11", "k15", "k16", "d12", "k17", "k18", "d13", "k19",
                 "k20", "d14", "k21", "k22", "d15", "k23", "k24", "d16", "k25", "k26", "d17")
OPTIONAL_NAMES = ("m_mem", "tau_mem", "severity0")     # second-version memory (absent in v1 sets)
ITCH_NAMES = ("k_Q", "q0", "q31", "q2", "qT", "x50_IL31", "x50_IL413", "x50_TSLP", "qB", "psi")
VEHICLE_NAMES = ("k_v", "tau_v", "tau_v_off")
COLUMNS = DISEASE_NAMES + OPTIONAL_NAMES + ITCH_NAMES + VEHICLE_NAMES
(K1, K2, B1, B2, B3, B4, B5, D1, D2, D3, D_SCR, B6, D4, D5, D6, D7, B7, B8, D8, K5, K6, K7, K8, K9, K10,
 D9, B9, K11, K12, D10, K13, K14, D11, K15, K16, D12, K17, K18, D13, K19, K20, D14, K21, K22, D15, K23,
 K24, D16, K25, K26, D17, M_MEM, TAU_MEM, SEV0, K_Q, Q0, Q31, Q2, QT, X50_31, X50_413, X50_T, QB, PSI,
 K_V, TAU_V, TAU_V_OFF) = range(len(COLUMNS))
# patients per prange task: fixed, so a patient's arithmetic never depends on the thread count
PATIENT_BLOCK = 256


def parameter_table(dp: dict, ip: dict, vp: dict, n: int) -> tuple[np.ndarray, bool, bool]:
    """(n, len(COLUMNS)) patient-major parameter table; (table, memory scales cytokines, M moves).

    Mirrors ``dynamics.compute_rates_mixture``: without ``m_mem`` the memory factor is 1, without
    ``tau_mem``/``severity0`` the memory state stays where it is; ``tau_v_off`` defaults to
    ``tau_v`` as in ``dynamics.step_emollient``.
    """
    vp = {**vp, "tau_v_off": vp.get("tau_v_off", vp.get("tau_v", 0.0))}
    src = {**dp, **ip, **vp}
    table = np.zeros((n, len(COLUMNS)))
    for j, name in enumerate(COLUMNS):
        if name in src:
            table[:, j] = np.broadcast_to(np.asarray(src[name], float), (n,))
    use_mem = "m_mem" in dp
    mem_moves = "severity0" in dp and "tau_mem" in dp
    return table, use_mem, mem_moves


@njit(cache=True, nogil=True, error_model="numpy")
def _phi1(x):
    # engine.stepper.phi1: (1 - exp(-x)) / x with the limit 1 at 0
    x = max(x, 1e-300)
    return -math.expm1(-x) / x


@njit(cache=True, nogil=True, error_model="numpy")
def _g(x, x50):
    return x / (x + x50)


@njit(cache=True, nogil=True, error_model="numpy")
def _rates(y, c, kveh, imax, levels, weights, nb, use_mem, mem_moves, prod, loss):
    """disease.compute_rates_mixture for one patient: ``nb`` block levels (occupancy x imax)."""
    b, p, q = y[0], y[1], y[6]
    th1, th2, th17, th22 = y[2], y[3], y[4], y[5]
    memory = (1.0 - c[M_MEM]) + c[M_MEM] * y[7] if use_mem else 1.0
    il4 = memory * (c[K11] * th2 + c[K12]) / c[D10]
    il13 = memory * (c[K13] * th2 + c[K14]) / c[D11]
    il31 = memory * (c[K19] * th2 + c[K20]) / c[D14]
    il22 = memory * (c[K17] * th22 + c[K18]) / c[D13]
    il17 = memory * (c[K15] * th17 + c[K16]) / c[D12]
    ifng = memory * (c[K21] * th1 + c[K22]) / c[D15]
    tslp = memory * (c[K23] * p + c[K24]) / c[D16]
    s_rec = 0.0
    s_il31 = 0.0
    s_clear = 0.0
    s_th1 = 0.0
    s_th2 = 0.0
    s_pden = 0.0
    s_surv = 0.0
    s_drive = 0.0
    for k in range(nb):
        w = weights[k]
        lev = levels[k]
        il4e = (1.0 - imax[0] * lev) * il4
        il13e = (1.0 - imax[1] * lev) * il13
        i31 = imax[2] * lev
        il31e = (1.0 - i31) * il31
        il22e = (1.0 - imax[3] * lev) * il22
        tslpe = (1.0 - imax[4] * lev) * tslp
        ifnge = (1.0 - imax[5] * lev) * ifng
        ox40l = (c[K25] * tslpe + c[K26]) / c[D17]
        recovery = (c[K1] + c[K2] * il22e + kveh) / (
            (1.0 + c[B1] * il4e) * (1.0 + c[B2] * il13e) * (1.0 + c[B3] * il17)
            * (1.0 + c[B4] * il22e) * (1.0 + c[B5] * il31e))
        clear_p = ((1.0 + c[D4] * p) * (1.0 + c[D5] * il17) * (1.0 + c[D6] * il22e)
                   * (1.0 + c[D7] * ifnge) / ((1.0 + c[B7] * il4e) * (1.0 + c[B8] * il13e)))
        p_den = p / (4.0 + c[K9] * ifnge + c[K10] * il4e)
        survival = c[D9] / (1.0 + c[B9] * ox40l)
        drive = (c[Q0] + c[Q31] * _g(il31e, c[X50_31])
                 + c[Q2] * _g(0.5 * (il4e + il13e), c[X50_413])
                 + c[QT] * _g(tslpe, c[X50_T]))
        drive = drive * (1.0 + c[QB] * (1.0 - b)) * (1.0 - c[PSI] * i31)
        s_rec += w * recovery
        s_il31 += w * il31e
        s_clear += w * clear_p
        s_th1 += w * (p_den * (1.0 + c[K9] * ifnge))
        s_th2 += w * (p_den * (1.0 + c[K10] * il4e))
        s_pden += w * p_den
        s_surv += w * survival
        s_drive += w * drive
    prod[0] = s_rec
    loss[0] = s_rec + c[D1] * (1.0 + c[D3] * p + c[D_SCR] * q) + c[D2] * s_il31
    prod[1] = c[D8] / (1.0 + c[B6] * b)
    loss[1] = s_clear + c[D8]
    prod[2] = c[K5] * s_th1
    prod[3] = c[K6] * s_th2
    prod[4] = c[K7] * s_pden
    prod[5] = c[K8] * s_pden
    for r in range(2, 6):
        loss[r] = s_surv
    prod[6] = c[K_Q] * s_drive
    loss[6] = c[K_Q]
    if mem_moves:
        k_mem = 1.0 / c[TAU_MEM]
        prod[7] = k_mem * (p + 1.0 - b) / c[SEV0]
        loss[7] = k_mem
    else:
        prod[7] = 0.0
        loss[7] = 0.0


@njit(cache=True, nogil=True, error_model="numpy")
def _occupancy(u, hill):
    # jak.compute_occupancy: u^h / (1 + u^h) = 1 / (1 + exp(-h log u)), 0 at u <= 0
    if u <= 0.0:
        return 0.0
    if hill == 1.0:
        return u / (1.0 + u)
    return 1.0 / (1.0 + math.exp(-hill * math.log(u)))


@njit(cache=True, nogil=True, error_model="numpy")
def _emollient_factors(table, hws, out):
    """Per patient, step length k and time constant (0 rising: tau_v, 1 falling: tau_v_off) the two
    factors of dynamics.step_emollient: exp(-h/tau) and the step mean (1 - exp(-h/tau)) / (h/tau)."""
    for i in range(table.shape[0]):
        for k in range(hws.shape[0]):
            for v in range(2):
                xe = hws[k] / (table[i, TAU_V] if v == 0 else table[i, TAU_V_OFF])
                out[i, k, v, 0] = math.exp(-xe)
                out[i, k, v, 1] = -math.expm1(-xe) / xe


@njit(cache=True, parallel=True, nogil=True, error_model="numpy")
def advance_day(Y, X, E, drive, absorbed, table, emo, imax, hill, weights, phi, rows,
                step_h, step_hw, step_k, step_dose, has_drug, track_pk, use_mem, mem_moves, occ_out):
    """Advance every patient one day in place; ``occ_out`` gets sum over steps of h x mean occupancy.

    Y (n, 8) disease states, X (n, 5) PK amounts, E (n,) emollient state (patient-major);
    ``drive`` (n,) emollient drive; ``absorbed`` (n,) mg added at each dosing step; ``table``
    (n, len(COLUMNS)); ``imax`` (n, 6) and ``hill`` (n,) per patient; ``emo`` (n, n_h, 2, 2) the
    emollient step factors (:func:`_emollient_factors`);
    ``phi`` (n, n_h, 5, 5) and ``rows`` (n, n_h, nodes, 5) the transition
    matrices and exposure rows per distinct step length; per step s: hours ``step_h[s]``, weeks
    ``step_hw[s]``, index ``step_k[s]`` into the distinct lengths, ``step_dose[s]`` 1 if an
    application starts it.
    """
    n = Y.shape[0]
    n_pk = X.shape[1]
    n_nodes = weights.shape[0]
    n_blocks = (n + PATIENT_BLOCK - 1) // PATIENT_BLOCK
    for blk in prange(n_blocks):
        rows8 = np.empty((7, 8))  # per-thread scratch: states, predictor, rates, step factors
        y, y1, p0, l0, p1, l1, fac0 = rows8[0], rows8[1], rows8[2], rows8[3], rows8[4], rows8[5], rows8[6]
        xs = np.empty(n_pk)
        occs = np.empty(n_nodes)
        levels = np.empty(2)
        half = np.empty(2)
        half[0] = 0.5
        half[1] = 0.5
        one = np.ones(1)
        for i in range(blk * PATIENT_BLOCK, min(n, (blk + 1) * PATIENT_BLOCK)):
            c = table[i]
            for r in range(8):
                y[r] = Y[i, r]
            for r in range(n_pk):
                xs[r] = X[i, r]
            e = E[i]
            dr = drive[i]
            occ_sum = 0.0
            for s in range(step_h.shape[0]):
                h = step_h[s]
                hw = step_hw[s]
                k = step_k[s]
                if step_dose[s]:
                    xs[0] += absorbed[i]
                # dynamics.step_emollient (exact for a drive constant over the step); its two
                # factors depend only on the patient, the step length and the direction
                v = 0 if dr >= e else 1
                gap = e - dr
                e_mean = dr + gap * emo[i, k, v, 1]
                e = dr + gap * emo[i, k, v, 0]
                kveh = c[K_V] * e_mean
                if has_drug:
                    mean = 0.0
                    for m in range(n_nodes):
                        u = rows[i, k, m, 0] * xs[0]
                        for j in range(1, n_pk):
                            u += rows[i, k, m, j] * xs[j]
                        occs[m] = _occupancy(u, hill[i])
                        mean += weights[m] * occs[m]
                    var = 0.0
                    for m in range(n_nodes):
                        var += weights[m] * (occs[m] - mean) ** 2
                    sd = math.sqrt(var)
                    occ_sum += h * mean
                    levels[0] = min(max(mean - sd, 0.0), 1.0)
                    levels[1] = min(max(mean + sd, 0.0), 1.0)
                    nb = 2
                    w = half
                else:
                    levels[0] = 0.0
                    nb = 1
                    w = one
                # engine.stepper.step_production_loss: predictor, then trapezoidal-mean corrector
                # equal loss rates give equal factors h phi1(l h): the four T-cell pools share one
                # loss, itch and memory have constant losses; reusing the factor changes no number
                _rates(y, c, kveh, imax[i], levels, w, nb, use_mem, mem_moves, p0, l0)
                last = -1.0
                fac = 0.0
                for r in range(8):
                    if l0[r] != last:
                        last = l0[r]
                        fac = hw * _phi1(last * hw)
                    fac0[r] = fac
                    y1[r] = y[r] + (p0[r] - l0[r] * y[r]) * fac
                _rates(y1, c, kveh, imax[i], levels, w, nb, use_mem, mem_moves, p1, l1)
                last = -1.0
                for r in range(8):
                    pm = 0.5 * (p0[r] + p1[r])
                    lm = 0.5 * (l0[r] + l1[r])
                    if lm == l0[r]:
                        fac = fac0[r]
                    elif lm != last:
                        last = lm
                        fac = hw * _phi1(lm * hw)
                    y[r] = y[r] + (pm - lm * y[r]) * fac
                if track_pk:
                    for r in range(n_pk):
                        acc = phi[i, k, r, 0] * xs[0]
                        for j in range(1, n_pk):
                            acc += phi[i, k, r, j] * xs[j]
                        y1[r] = acc  # scratch
                    for r in range(n_pk):
                        xs[r] = y1[r]
            for r in range(8):
                Y[i, r] = y[r]
            for r in range(n_pk):
                X[i, r] = xs[r]
            E[i] = e
            occ_out[i] = occ_sum


class DayKernel:
    """One chunk's constants for :func:`advance_day` (parameter table, transition matrices), and
    the call that advances the chunk's patient-major state one day."""

    def __init__(self, K: np.ndarray, steps_h: list[float], nodes: np.ndarray, weights: np.ndarray,
                 exposure_per_mg: np.ndarray, eff_row: int, dp: dict, ip: dict, vp: dict,
                 imax: np.ndarray, hill: float | np.ndarray, has_drug: bool, track_pk: bool,
                 hours_per_week: float, threads: int | None = None) -> None:
        n_pk, _, n = K.shape
        self.threads = threads
        self.hours_per_week = hours_per_week
        self.table, self.use_mem, self.mem_moves = parameter_table(dp, ip, vp, n)
        self.index = {h: i for i, h in enumerate(steps_h)}  # every step length of the run's grids
        self.emo = np.empty((n, len(steps_h), 2, 2))
        _emollient_factors(self.table, np.array([h / hours_per_week for h in steps_h]), self.emo)
        if track_pk:
            with kernel_threads(threads):
                self.phi, at_nodes = transitions(np.moveaxis(K, -1, 0), np.asarray(steps_h), nodes)
            # exposure rows (pk.compute_exposure_rows): u = u_per_mg_vs x row EFF of expm(K c h)
            rows = at_nodes[:, :, :, eff_row, :] * exposure_per_mg[:, None, None, None]
            self.rows = np.ascontiguousarray(rows)
        else:  # no drug anywhere: the kernel reads neither
            self.phi = np.zeros((n, 1, n_pk, n_pk))
            self.rows = np.zeros((n, 1, weights.size, n_pk))
        # per patient: (6,) or (6, n) pathways, scalar or (n,) Hill (stacked parameter rows)
        self.imax = np.ascontiguousarray(np.broadcast_to(np.asarray(imax, float).reshape(6, -1), (6, n)).T)
        self.hill = np.ascontiguousarray(np.broadcast_to(np.asarray(hill, float), (n,)))
        self.weights = np.ascontiguousarray(weights, dtype=float)
        self.has_drug, self.track_pk = bool(has_drug), bool(track_pk)
        self._grids: dict[int, tuple[np.ndarray, ...]] = {}

    def _grid(self, grid) -> tuple[np.ndarray, ...]:
        key = id(grid)
        if key not in self._grids:
            h = np.array(grid.steps_h, dtype=float)
            self._grids[key] = (h, np.array([x / self.hours_per_week for x in grid.steps_h]),
                                np.array([self.index[x] for x in grid.steps_h], dtype=np.int64),
                                np.array(grid.event_at_start, dtype=np.int64), grid)
        return self._grids[key]

    def advance(self, grid, Y: np.ndarray, X: np.ndarray, E: np.ndarray, drive, absorbed: np.ndarray | None,
                events: np.ndarray) -> np.ndarray:
        """Advance Y (n, 8), X (n, 5), E (n,) in place over ``grid``'s steps; sum of h x mean occupancy
        (n,). ``absorbed`` (n,) is added at each step that starts with an application in ``events``
        (None: no drug applied today)."""
        h, hw, k, ev, _ = self._grid(grid)
        n = Y.shape[0]
        if absorbed is None:
            dose = np.zeros(h.size, dtype=np.uint8)
            absorbed = np.zeros(n)
        else:
            dose = np.array([e >= 0 and bool(events[e]) for e in ev], dtype=np.uint8)
            absorbed = np.ascontiguousarray(np.broadcast_to(absorbed, (n,)), dtype=float)
        drive = np.ascontiguousarray(np.broadcast_to(np.asarray(drive, float), (n,)))
        occ = np.empty(n)
        with kernel_threads(self.threads):
            advance_day(Y, X, E, drive, absorbed, self.table, self.emo, self.imax, self.hill, self.weights,
                        self.phi, self.rows, h, hw, k, dose, self.has_drug, self.track_pk, self.use_mem,
                        self.mem_moves, occ)
        return occ


@njit(cache=True, nogil=True, error_model="numpy")
def _core_rhs(Y, idx, table, out):
    """disease.compute_rhs(y, dp, ip, None, 0.0) of the seven core rows (no memory, no drug, no
    vehicle) for the patients ``idx`` (columns of Y, rows of ``table``). Serial and without the
    GIL: it is called ~100 times per solve, too briefly for a parallel launch to pay (chunk
    worker threads run solves side by side instead)."""
    rows8 = np.empty((3, 8))
    y, prod, loss = rows8[0], rows8[1], rows8[2]
    levels = np.zeros(1)
    weights = np.ones(1)
    imax = np.zeros(6)
    for a in range(Y.shape[1]):
        for r in range(7):
            y[r] = Y[r, a]
        y[7] = 1.0
        _rates(y, table[idx[a]], 0.0, imax, levels, weights, 1, False, False, prod, loss)
        for r in range(7):
            out[r, a] = prod[r] - loss[r] * y[r]


def solve_baseline(dp: dict, ip: dict) -> np.ndarray:
    """disease.solve_baseline (the same solver from the same start, its steps below) with the
    right-hand side evaluated in compiled code; (8, n) with M = 1. The NumPy path's rhs allocates
    ~60 temporaries and subsets every parameter per call, the solver's main cost."""
    n = next(iter(dp.values())).shape[0]
    table, _, _ = parameter_table(dp, ip, {}, n)

    def rhs(y: np.ndarray, idx: np.ndarray) -> np.ndarray:
        out = np.empty(y.shape)
        _core_rhs(np.ascontiguousarray(y, dtype=float), np.ascontiguousarray(idx, dtype=np.int64), table, out)
        return out

    y0 = np.repeat(dynamics.MIYANO_SEED[:, None], n, axis=1)
    core = solve_steady_state(rhs, y0, lower=dynamics.LOWER, upper=dynamics.UPPER)
    return np.vstack([core, np.ones((1, n))])
