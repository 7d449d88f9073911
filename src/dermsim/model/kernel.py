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

The arithmetic follows the NumPy expressions term by term (same order of operations, no fastmath);
only exp, log and phi1 are the kernel's own vectorizable versions (within 1-2 ulp of NumPy), so the
two paths agree to rounding; ``tests/unit/model/test_kernel.py`` holds them to the issue's bounds.
Loops run over the patients of a block innermost, so LLVM vectorizes them (SIMD lanes = patients;
see :func:`advance_day` for what that takes). Patients are independent and a lane computes what
the scalar remainder loop computes, so the ``prange`` over fixed blocks of patients gives the same
numbers for any thread count and chunk size.

Everything the kernel calls is in this file: numba's disk cache is invalidated by a change of the
file that holds the compiled function, not of the files it calls into.
"""

from __future__ import annotations

import math

import numpy as np

from dermsim.engine import steady
from dermsim.engine.compiled import f64_bits, f64_from_bits, kernel_threads, njit, prange, transitions
from dermsim.engine.linear import TAYLOR_COEFFICIENTS
from dermsim.errors import SolverError
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
    """(len(COLUMNS), n) parameter table, one row per parameter (patients along the last axis, the
    kernel's vectorized loops); (table, memory scales cytokines, M moves).

    Mirrors ``dynamics.compute_rates_mixture``: without ``m_mem`` the memory factor is 1, without
    ``tau_mem``/``severity0`` the memory state stays where it is; ``tau_v_off`` defaults to
    ``tau_v`` as in ``dynamics.step_emollient``.
    """
    vp = {**vp, "tau_v_off": vp.get("tau_v_off", vp.get("tau_v", 0.0))}
    src = {**dp, **ip, **vp}
    table = np.zeros((len(COLUMNS), n))
    for j, name in enumerate(COLUMNS):
        if name in src:
            table[j] = src[name]  # a scalar or (n,): assignment broadcasts
    use_mem = "m_mem" in dp
    mem_moves = "severity0" in dp and "tau_mem" in dp
    return table, use_mem, mem_moves


# ---- exp and log the loop vectorizer can use --------------------------------------------------
# The kernel's patient loop is vectorized by LLVM (SIMD lanes = patients). LLVM turns exp/log into
# scalar libm calls unless a vector maths library is linked, and the llvmlite wheels on PyPI are
# built without Intel SVML (numba -s: "SVML State: False"); glibc's libmvec is not wired into
# numba either. So exp and log are written here in plain arithmetic (range reduction on the IEEE
# exponent bits + polynomial), which vectorizes; both are within 1-2 ulp of libm (tests compare
# the compiled path with NumPy to 1e-12 relative), so no fastmath is needed anywhere.

_LOG2E = 1.4426950408889634
_LN2_HI = 0.693147180369123816490   # ln 2 split in two so k ln 2 is exact for |k| < 2^11
_LN2_LO = 1.90821492927058770002e-10
_LN2 = 0.6931471805599453
_SQRT2 = 1.4142135623730951
_ROUND_SHIFT = 6755399441055744.0     # 1.5 2^52: t + it rounds t to an integer held in the low bits
_ROUND_SHIFT_BITS = 0x4338000000000000  # its IEEE bits
_EXP_FIELD_BITS = 0x4330000000000000    # 2^52: OR-ing an 11-bit exponent field into its mantissa
_EXP_FIELD_OFFSET = 4503599627370496.0 + 1023.0  # 2^52 + the exponent bias
# Taylor coefficients, lowest degree first: exp r = sum r^k / k! (k <= 13, the expm's own
# engine.linear.TAYLOR_COEFFICIENTS, numbers by definition, which numba freezes into the machine
# code) and log m = 2 s sum s^(2k) / (2k + 1) (k <= 11): one Estrin evaluator of 12 coefficients
# serves both
_LOG_COEFS = tuple(1.0 / (2 * k + 1) for k in range(12))


# The polynomials are evaluated by Estrin's scheme, not Horner's rule: Horner's is one chain of
# 2 x degree dependent operations (about 80 cycles of latency at degree 13), and the vectorized
# loops, whose bodies are too long for the core to overlap many iterations, waited on it; Estrin's
# pairs and powers x^2, x^4, x^8 evaluate independently, a chain of about 10. The terms are the
# same and |x| is small wherever they are used; exp adds its leading 1 + r last, so the rounding
# stays within the tests' 2 ulp.
@njit(cache=True, nogil=True, error_model="numpy", forceinline=True)
def _estrin12(c, x):
    """sum c[k] x^k for the 12 coefficients ``c`` (lowest degree first)."""
    x2 = x * x
    x4 = x2 * x2
    x8 = x4 * x4
    q0 = (c[0] + c[1] * x) + (c[2] + c[3] * x) * x2
    q1 = (c[4] + c[5] * x) + (c[6] + c[7] * x) * x2
    q2 = (c[8] + c[9] * x) + (c[10] + c[11] * x) * x2
    return (q0 + q1 * x4) + q2 * x8


@njit(cache=True, nogil=True, error_model="numpy", forceinline=True)
def _exp_reduced(x: float) -> tuple[float, float]:
    """(2^k, expm1(r)) with x = k ln2 + r, |r| <= ln2 / 2, for x clamped to [-708, 709]: the Taylor
    polynomial of degree 13 in r (truncation < 1e-17), and 2^k built from its exponent bits.
    k = round(x log2 e) is taken from the low mantissa bits of x log2 e + 1.5 2^52 instead of by a
    float-to-int conversion: AVX2 has no packed double <-> int64 conversion, so a conversion is
    done lane by lane (measured: a tenth of the day kernel's time)."""
    x = min(max(x, -708.0), 709.0)
    t = x * _LOG2E + _ROUND_SHIFT
    k = t - _ROUND_SHIFT
    r = (x - k * _LN2_HI) - k * _LN2_LO
    scale = f64_from_bits((f64_bits(t) - _ROUND_SHIFT_BITS + 1023) << 52)
    return scale, r + (r * r) * _estrin12(TAYLOR_COEFFICIENTS[2:], r)


@njit(cache=True, nogil=True, error_model="numpy", forceinline=True)
def _exp(x):
    """exp(x) for x in [-708, 709] (clamped outside): 2^k (1 + expm1 r), 1 + r added last, as
    Horner's rule does."""
    scale, em1 = _exp_reduced(x)
    return (1.0 + em1) * scale


@njit(cache=True, nogil=True, error_model="numpy", forceinline=True)
def _log(x):
    """log(x) for normal x > 0: x = m 2^e with m in [1/sqrt2, sqrt2), log m = 2 atanh(s),
    s = (m - 1) / (m + 1), |s| <= 0.172, odd series to s^23 (truncation < 1e-18)."""
    b = f64_bits(x)
    # the exponent as a float from its bits (2^52 + e_biased, minus 2^52 + 1023): no int-to-float
    # conversion, which AVX2 lacks for packed int64 (see _exp)
    e = f64_from_bits((b >> 52) | _EXP_FIELD_BITS) - _EXP_FIELD_OFFSET
    m = f64_from_bits((b & 0x000FFFFFFFFFFFFF) | 0x3FF0000000000000)
    big = m > _SQRT2
    m = m * 0.5 if big else m
    e = e + 1.0 if big else e
    s = (m - 1.0) / (m + 1.0)
    z = s * s
    p = _estrin12(_LOG_COEFS, z)
    return e * _LN2 + 2.0 * s * p


@njit(cache=True, nogil=True, error_model="numpy", forceinline=True)
def _phi1(x):
    """engine.stepper.phi1, -expm1(-x) / x for x >= 0 with the limit 1 at 0 (x floored at 1e-300),
    as NumPy computes it. expm1(-x) = 2^k expm1(r) + (2^k - 1) from exp's reduction: k <= 0 here, so
    2^k - 1 is exact (k >= -53) and the sum is the only rounding; no cancellation near 0, within
    2 ulp of NumPy. One polynomial a call: the Taylor series below 1/8 and (1 - exp(-x)) / x above
    that this replaced were two (a vectorized loop computes both sides of a choice), and the day
    kernel calls phi1 six times a step."""
    xs = max(x, 1e-300)
    scale, em1 = _exp_reduced(-xs)
    return -(scale * em1 + (scale - 1.0)) / xs


@njit(cache=True, nogil=True, error_model="numpy", forceinline=True)
def _occupancy(u, hill):
    """jak.compute_occupancy: u^h / (1 + u^h) = 1 / (1 + exp(-h log u)), 0 at u <= 0."""
    pos = u > 0.0
    us = u if pos else 1.0
    general = 1.0 / (1.0 + _exp(-hill * _log(us)))
    o = us / (1.0 + us) if hill == 1.0 else general
    return o if pos else 0.0


@njit(cache=True, nogil=True, error_model="numpy", forceinline=True)
def _g(x, x50):
    return x / (x + x50)


@njit(cache=True, nogil=True, error_model="numpy", forceinline=True, _nrt=False)
def _block_terms(c, i, imax, lev, b, p, il4, il13, il31, il22, il17, ifng, tslp, kveh):
    """The terms of dynamics.compute_rates_mixture at one block level ``lev`` (occupancy) of patient
    ``i``: (recovery, IL-31, P clearance, Th1 and Th2 recruitment, P density, survival, itch drive)."""
    il4e = (1.0 - imax[0, i] * lev) * il4
    il13e = (1.0 - imax[1, i] * lev) * il13
    i31 = imax[2, i] * lev
    il31e = (1.0 - i31) * il31
    il22e = (1.0 - imax[3, i] * lev) * il22
    tslpe = (1.0 - imax[4, i] * lev) * tslp
    ifnge = (1.0 - imax[5, i] * lev) * ifng
    ox40l = (c[K25, i] * tslpe + c[K26, i]) / c[D17, i]
    recovery = (c[K1, i] + c[K2, i] * il22e + kveh) / (
        (1.0 + c[B1, i] * il4e) * (1.0 + c[B2, i] * il13e) * (1.0 + c[B3, i] * il17)
        * (1.0 + c[B4, i] * il22e) * (1.0 + c[B5, i] * il31e))
    clear_p = ((1.0 + c[D4, i] * p) * (1.0 + c[D5, i] * il17) * (1.0 + c[D6, i] * il22e)
               * (1.0 + c[D7, i] * ifnge) / ((1.0 + c[B7, i] * il4e) * (1.0 + c[B8, i] * il13e)))
    p_den = p / (4.0 + c[K9, i] * ifnge + c[K10, i] * il4e)
    survival = c[D9, i] / (1.0 + c[B9, i] * ox40l)
    drive = (c[Q0, i] + c[Q31, i] * _g(il31e, c[X50_31, i])
             + c[Q2, i] * _g(0.5 * (il4e + il13e), c[X50_413, i])
             + c[QT, i] * _g(tslpe, c[X50_T, i]))
    drive = drive * (1.0 + c[QB, i] * (1.0 - b)) * (1.0 - c[PSI, i] * i31)
    return (recovery, il31e, clear_p, p_den * (1.0 + c[K9, i] * ifnge), p_den * (1.0 + c[K10, i] * il4e),
            p_den, survival, drive)


@njit(cache=True, nogil=True, error_model="numpy", forceinline=True, _nrt=False)
def _rates(c, i, imax, y0, y1, y2, y3, y4, y5, y6, y7, kveh, lev_lo, lev_hi, two, use_mem, mem_moves):
    """dynamics.compute_rates_mixture for patient ``i`` (column of the (column, patient) table
    ``c``) at states y0..y7: the mixture of two block levels with weights 1/2 (``two``) or of the
    single level ``lev_lo`` with weight 1; (production 0..7, loss 0..7). Weighted sums start from
    0 in the NumPy order, so 0 + 1 x and (0 + x/2) + z/2 round as the NumPy path does."""
    b, p, q = y0, y1, y6
    th1, th2, th17, th22 = y2, y3, y4, y5
    memory = (1.0 - c[M_MEM, i]) + c[M_MEM, i] * y7 if use_mem else 1.0
    il4 = memory * (c[K11, i] * th2 + c[K12, i]) / c[D10, i]
    il13 = memory * (c[K13, i] * th2 + c[K14, i]) / c[D11, i]
    il31 = memory * (c[K19, i] * th2 + c[K20, i]) / c[D14, i]
    il22 = memory * (c[K17, i] * th22 + c[K18, i]) / c[D13, i]
    il17 = memory * (c[K15, i] * th17 + c[K16, i]) / c[D12, i]
    ifng = memory * (c[K21, i] * th1 + c[K22, i]) / c[D15, i]
    tslp = memory * (c[K23, i] * p + c[K24, i]) / c[D16, i]
    w = 0.5 if two else 1.0
    a = _block_terms(c, i, imax, lev_lo, b, p, il4, il13, il31, il22, il17, ifng, tslp, kveh)
    s_rec, s_il31, s_clear = 0.0 + w * a[0], 0.0 + w * a[1], 0.0 + w * a[2]
    s_th1, s_th2, s_pden = 0.0 + w * a[3], 0.0 + w * a[4], 0.0 + w * a[5]
    s_surv, s_drive = 0.0 + w * a[6], 0.0 + w * a[7]
    if two:
        z = _block_terms(c, i, imax, lev_hi, b, p, il4, il13, il31, il22, il17, ifng, tslp, kveh)
        s_rec, s_il31, s_clear = s_rec + w * z[0], s_il31 + w * z[1], s_clear + w * z[2]
        s_th1, s_th2, s_pden = s_th1 + w * z[3], s_th2 + w * z[4], s_pden + w * z[5]
        s_surv, s_drive = s_surv + w * z[6], s_drive + w * z[7]
    k_mem = 1.0 / c[TAU_MEM, i] if mem_moves else 0.0
    prod7 = k_mem * (p + 1.0 - b) / c[SEV0, i] if mem_moves else 0.0
    return (s_rec, c[D8, i] / (1.0 + c[B6, i] * b), c[K5, i] * s_th1, c[K6, i] * s_th2,
            c[K7, i] * s_pden, c[K8, i] * s_pden, c[K_Q, i] * s_drive, prod7,
            s_rec + c[D1, i] * (1.0 + c[D3, i] * p + c[D_SCR, i] * q) + c[D2, i] * s_il31,
            s_clear + c[D8, i], s_surv, c[K_Q, i], k_mem)


@njit(cache=True, nogil=True, error_model="numpy")
def _step_constants(c, hws, mem_moves, emo, fac):
    """Per step length k (weeks ``hws[k]``) and patient i: ``emo[k, v, :, i]`` the two factors of
    dynamics.step_emollient for v = 0 rising (tau_v) and 1 falling (tau_v_off), exp(-h/tau) and
    the step mean (1 - exp(-h/tau)) / (h/tau); ``fac[k, j, i]`` the step factors h phi1(l h) of
    the two constant losses, j = 0 itch (k_Q) and 1 memory (1/tau_mem, 0 when M stays put)."""
    for k in range(hws.shape[0]):
        hw = hws[k]
        for i in range(c.shape[1]):
            for v in range(2):
                xe = hw / (c[TAU_V, i] if v == 0 else c[TAU_V_OFF, i])
                emo[k, v, 0, i] = math.exp(-xe)
                emo[k, v, 1, i] = -math.expm1(-xe) / xe
            k_mem = 1.0 / c[TAU_MEM, i] if mem_moves else 0.0
            fac[k, 0, i] = hw * _phi1(c[K_Q, i] * hw)
            fac[k, 1, i] = hw * _phi1(k_mem * hw)


# Rows of a block's work array (:func:`advance_day`): the block's states while it goes through the
# day's steps, then the step's block levels, the PK amounts being propagated (W_T..) and the
# occupancy at each quadrature node from NODE0.
W_Y, W_X, W_E, W_OCC, W_MEAN, W_VAR, W_LO, W_HI, W_KVEH = 0, 8, 13, 14, 15, 16, 17, 18, 19
W_T, W_NODE0 = 20, 25


@njit(cache=True, nogil=True, error_model="numpy", forceinline=True, _nrt=False)
def _occupancy_block(w, m, lo, k, h, rows, hill, weights):
    """Occupancy at the quadrature nodes of the exact PK over the step, its mean and SD, and the two
    sigma-point block levels (jak.compute_occupancy; simulate._integrate says why two)."""
    for j in range(m):
        w[W_MEAN, j] = 0.0
        w[W_VAR, j] = 0.0
    for q in range(weights.shape[0]):
        wq = weights[q]
        for j in range(m):
            i = lo + j
            u = rows[k, q, 0, i] * w[W_X, j]
            u += rows[k, q, 1, i] * w[W_X + 1, j]
            u += rows[k, q, 2, i] * w[W_X + 2, j]
            u += rows[k, q, 3, i] * w[W_X + 3, j]
            u += rows[k, q, 4, i] * w[W_X + 4, j]
            o = _occupancy(u, hill[i])
            w[W_NODE0 + q, j] = o
            w[W_MEAN, j] += wq * o
    for q in range(weights.shape[0]):
        wq = weights[q]
        for j in range(m):
            d = w[W_NODE0 + q, j] - w[W_MEAN, j]
            w[W_VAR, j] += wq * (d * d)
    for j in range(m):
        mean = w[W_MEAN, j]
        sd = math.sqrt(w[W_VAR, j])
        w[W_OCC, j] += h * mean
        w[W_LO, j] = min(max(mean - sd, 0.0), 1.0)
        w[W_HI, j] = min(max(mean + sd, 0.0), 1.0)


@njit(cache=True, nogil=True, error_model="numpy", forceinline=True, _nrt=False)
def _step_block(w, m, lo, k, hw, drive, c, emo, fac_const, imax, two, use_mem, mem_moves):
    """One step of the emollient and the disease for the block's patients (see advance_day)."""
    for j in range(m):
        # dynamics.step_emollient (exact for a drive constant over the step). A loop of its own:
        # its per-patient choice of factor is a select of addresses, which the vectorizer cannot
        # bound, and it would keep the main loop below from vectorizing
        i = lo + j
        e = w[W_E, j]
        dr = drive[i]
        rising = dr >= e
        gap = e - dr
        e_mean = dr + gap * (emo[k, 0, 1, i] if rising else emo[k, 1, 1, i])
        w[W_E, j] = dr + gap * (emo[k, 0, 0, i] if rising else emo[k, 1, 0, i])
        w[W_KVEH, j] = c[K_V, i] * e_mean
    for j in range(m):
        i = lo + j
        kveh = w[W_KVEH, j]
        ll = w[W_LO, j]
        lh = w[W_HI, j]
        # engine.stepper.step_production_loss: predictor, then trapezoidal-mean corrector;
        # rows 2-5 share one loss (T-cell survival), itch and memory have constant losses whose
        # step factors are precomputed (the same expression, so the same numbers)
        y0, y1, y2, y3 = w[W_Y, j], w[W_Y + 1, j], w[W_Y + 2, j], w[W_Y + 3, j]
        y4, y5, y6, y7 = w[W_Y + 4, j], w[W_Y + 5, j], w[W_Y + 6, j], w[W_Y + 7, j]
        r0 = _rates(c, i, imax, y0, y1, y2, y3, y4, y5, y6, y7, kveh, ll, lh, two, use_mem, mem_moves)
        f0 = hw * _phi1(r0[8] * hw)
        f1 = hw * _phi1(r0[9] * hw)
        f2 = hw * _phi1(r0[10] * hw)
        f6 = fac_const[k, 0, i]
        f7 = fac_const[k, 1, i]
        z0 = y0 + (r0[0] - r0[8] * y0) * f0
        z1 = y1 + (r0[1] - r0[9] * y1) * f1
        z2 = y2 + (r0[2] - r0[10] * y2) * f2
        z3 = y3 + (r0[3] - r0[10] * y3) * f2
        z4 = y4 + (r0[4] - r0[10] * y4) * f2
        z5 = y5 + (r0[5] - r0[10] * y5) * f2
        z6 = y6 + (r0[6] - r0[11] * y6) * f6
        z7 = y7 + (r0[7] - r0[12] * y7) * f7
        r1 = _rates(c, i, imax, z0, z1, z2, z3, z4, z5, z6, z7, kveh, ll, lh, two, use_mem, mem_moves)
        m0 = 0.5 * (r0[8] + r1[8])
        m1 = 0.5 * (r0[9] + r1[9])
        m2 = 0.5 * (r0[10] + r1[10])
        g0 = hw * _phi1(m0 * hw)
        g1 = hw * _phi1(m1 * hw)
        g2 = hw * _phi1(m2 * hw)
        # itch and memory: 0.5 (l + l) = l exactly, so the predictor's factor is the mean's
        w[W_Y + 0, j] = y0 + (0.5 * (r0[0] + r1[0]) - m0 * y0) * g0
        w[W_Y + 1, j] = y1 + (0.5 * (r0[1] + r1[1]) - m1 * y1) * g1
        w[W_Y + 2, j] = y2 + (0.5 * (r0[2] + r1[2]) - m2 * y2) * g2
        w[W_Y + 3, j] = y3 + (0.5 * (r0[3] + r1[3]) - m2 * y3) * g2
        w[W_Y + 4, j] = y4 + (0.5 * (r0[4] + r1[4]) - m2 * y4) * g2
        w[W_Y + 5, j] = y5 + (0.5 * (r0[5] + r1[5]) - m2 * y5) * g2
        w[W_Y + 6, j] = y6 + (0.5 * (r0[6] + r1[6]) - r0[11] * y6) * f6
        w[W_Y + 7, j] = y7 + (0.5 * (r0[7] + r1[7]) - r0[12] * y7) * f7


def propagation_terms(phi: np.ndarray) -> np.ndarray:
    """The terms (r, c, first) of x_r <- sum_c phi[r, c] x_c that :func:`_propagate_block` computes:
    every (r, c) where some patient's transition matrix ``phi`` (n_h, 5, 5, n) is not zero, and the
    diagonal, row by row in column order; ``first`` marks a row's first term. The PK chain's
    matrices are lower triangular and the plasma does not feed the effect site, so 14 of the 25
    terms remain; the skipped ones are exact zeros (0 x finite = 0, a + 0 = a), so the numbers do
    not change (measured: 3-5 % of the day kernel)."""
    live = np.any(phi != 0.0, axis=(0, 3)) | np.eye(phi.shape[1], dtype=bool)
    rows, cols = np.nonzero(live)  # row-major: each row's columns ascending
    first = np.r_[True, rows[1:] != rows[:-1]]
    return np.ascontiguousarray(np.column_stack([rows, cols, first]), dtype=np.int64)


@njit(cache=True, nogil=True, error_model="numpy", forceinline=True, _nrt=False)
def _propagate_block(w, m, lo, k, phi, terms):
    """Exact PK propagation over the step by each patient's transition matrix, term by term of
    ``terms`` (:func:`propagation_terms`) into the rows W_T.. first, as the old amounts are read
    until the last term; a term is one loop over the block's patients, so it vectorizes whatever
    the terms are."""
    for t in range(terms.shape[0]):
        r = terms[t, 0]
        c = terms[t, 1]
        if terms[t, 2]:
            for j in range(m):
                w[W_T + r, j] = phi[k, r, c, lo + j] * w[W_X + c, j]
        else:
            for j in range(m):
                w[W_T + r, j] += phi[k, r, c, lo + j] * w[W_X + c, j]
    for r in range(5):
        for j in range(m):
            w[W_X + r, j] = w[W_T + r, j]


@njit(cache=True, parallel=True, nogil=True, error_model="numpy")
def advance_day(Y, X, E, drive, absorbed, c, emo, fac_const, imax, hill, weights, phi, rows, pk_terms,
                step_h, step_hw, step_k, step_dose, has_drug, track_pk, use_mem, mem_moves, occ_out):
    """Advance every patient one day in place; ``occ_out`` gets sum over steps of h x mean occupancy.

    Everything is patient-minor (last axis = patient) so that the loops over the patients of a
    block are the innermost loops and vectorize (SIMD lanes = patients): Y (8, n) disease states,
    X (5, n) PK amounts, E (n,) emollient state, ``drive`` (n,) emollient drive, ``absorbed`` (n,)
    mg added at each dosing step, ``c`` (len(COLUMNS), n) parameters, ``imax`` (6, n), ``hill``
    (n,), ``emo`` and ``fac_const`` from :func:`_step_constants`, ``phi`` (n_h, 5, 5, n) and
    ``rows`` (n_h, nodes, 5, n) the transition matrices and exposure rows per distinct step
    length, ``pk_terms`` the terms of phi that propagation computes (:func:`propagation_terms`).
    Per step s: hours ``step_h[s]``, weeks ``step_hw[s]``, index ``step_k[s]`` into the distinct
    lengths, ``step_dose[s]`` 1 if an application starts it.

    A block's patients go through all the day's steps in a work array of PATIENT_BLOCK columns
    before the next block: its constants stay in cache, and the work array's rows lie a constant
    distance apart, which is what lets LLVM prove the loops' reads and writes independent (the
    propagation picks its rows at run time from ``pk_terms``; its loops still compile to packed
    multiplies and adds). Indices are unsigned: numba then emits no negative-index wraparound, a
    select per access that makes addresses non-affine.
    """
    n = Y.shape[1]
    n_nodes = weights.shape[0]
    n_blocks = (n + PATIENT_BLOCK - 1) // PATIENT_BLOCK
    for blk in prange(n_blocks):
        lo = np.uint64(blk * PATIENT_BLOCK)
        m = np.uint64(min(n, blk * PATIENT_BLOCK + PATIENT_BLOCK) - blk * PATIENT_BLOCK)
        w = np.zeros((W_NODE0 + n_nodes, PATIENT_BLOCK))
        for r in range(8):
            for j in range(m):
                w[W_Y + r, j] = Y[r, lo + j]
        for r in range(5):
            for j in range(m):
                w[W_X + r, j] = X[r, lo + j]
        for j in range(m):
            w[W_E, j] = E[lo + j]
        for s in range(step_h.shape[0]):
            k = step_k[s]
            if step_dose[s]:
                for j in range(m):
                    w[W_X, j] += absorbed[lo + j]
            if has_drug:
                _occupancy_block(w, m, lo, k, step_h[s], rows, hill, weights)
            _step_block(w, m, lo, k, step_hw[s], drive, c, emo, fac_const, imax, has_drug, use_mem, mem_moves)
            if track_pk:
                _propagate_block(w, m, lo, k, phi, pk_terms)
        for r in range(8):
            for j in range(m):
                Y[r, lo + j] = w[W_Y + r, j]
        for r in range(5):
            for j in range(m):
                X[r, lo + j] = w[W_X + r, j]
        for j in range(m):
            E[lo + j] = w[W_E, j]
            occ_out[lo + j] = w[W_OCC, j]


class DayKernel:
    """One chunk's constants for :func:`advance_day` (parameter table, transition matrices, step
    factors), all patient-minor, and the call that advances the chunk's state one day."""

    def __init__(self, K: np.ndarray, steps_h: list[float], nodes: np.ndarray, weights: np.ndarray,
                 exposure_per_mg: np.ndarray, eff_row: int, dp: dict, ip: dict, vp: dict,
                 imax: np.ndarray, hill: float | np.ndarray, has_drug: bool, track_pk: bool,
                 hours_per_week: float, threads: int | None = None) -> None:
        n_pk, _, n = K.shape
        self.threads = threads
        self.hours_per_week = hours_per_week
        self.table, self.use_mem, self.mem_moves = parameter_table(dp, ip, vp, n)
        self.index = {h: i for i, h in enumerate(steps_h)}  # every step length of the run's grids
        hws = np.array([h / hours_per_week for h in steps_h])
        self.emo = np.empty((hws.size, 2, 2, n))
        self.fac = np.empty((hws.size, 2, n))
        _step_constants(self.table, hws, self.mem_moves, self.emo, self.fac)
        if track_pk:
            # phi (n_h, 5, 5, n); exposure rows (n_h, nodes, 5, n) (pk.compute_exposure_rows:
            # u = u_per_mg_vs x row EFF of expm(K c h))
            with kernel_threads(threads):
                self.phi, self.rows = transitions(K, np.asarray(steps_h), nodes, eff_row, exposure_per_mg)
        else:  # no drug anywhere: the kernel reads neither
            self.phi = np.zeros((1, n_pk, n_pk, n))
            self.rows = np.zeros((1, weights.size, n_pk, n))
        # per patient: (6,) or (6, n) pathways, scalar or (n,) Hill (stacked parameter rows); always
        # fresh writable copies (a broadcast of a (6, n) array is a readonly view, which numba
        # compiles as another signature of advance_day)
        self.imax = np.array(np.broadcast_to(np.asarray(imax, float).reshape(6, -1), (6, n)), order="C")
        self.hill = np.array(np.broadcast_to(np.asarray(hill, float), (n,)), order="C")
        self.weights = np.ascontiguousarray(weights, dtype=float)
        self.has_drug, self.track_pk = bool(has_drug), bool(track_pk)
        self.pk_terms = propagation_terms(self.phi)
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
        """Advance Y (8, n), X (5, n), E (n,) (C-contiguous) in place over ``grid``'s steps; sum of
        h x mean occupancy (n,). ``absorbed`` (n,) is added at each step that starts with an
        application in ``events`` (None: no drug applied today)."""
        h, hw, k, ev, _ = self._grid(grid)
        n = Y.shape[1]
        # fresh writable copies: numba compiles a readonly (broadcast) array as another signature,
        # and advance_day is the slowest function to compile
        if absorbed is None:
            dose = np.zeros(h.size, dtype=np.uint8)
            absorbed = np.zeros(n)
        else:
            dose = np.array([e >= 0 and bool(events[e]) for e in ev], dtype=np.uint8)
            absorbed = np.array(np.broadcast_to(absorbed, (n,)), dtype=float)
        drive = np.array(np.broadcast_to(np.asarray(drive, float), (n,)), dtype=float)
        occ = np.empty(n)
        with kernel_threads(self.threads):
            advance_day(Y, X, E, drive, absorbed, self.table, self.emo, self.fac, self.imax, self.hill,
                        self.weights, self.phi, self.rows, self.pk_terms, h, hw, k, dose, self.has_drug,
                        self.track_pk, self.use_mem, self.mem_moves, occ)
        return occ


@njit(cache=True, nogil=True, error_model="numpy", _nrt=False)  # called, not inlined: one copy of _rates
def _core_rhs(c, i, imax, y, out):
    """disease.compute_rhs(y, dp, ip, None, 0.0) of the seven core rows (no memory, no drug, no
    vehicle) of patient ``i`` (column of ``c``; ``imax`` zeros) at ``y`` (7,) into ``out`` (7,)."""
    r = _rates(c, i, imax, y[0], y[1], y[2], y[3], y[4], y[5], y[6], 1.0, 0.0, 0.0, 0.0, False, False, False)
    out[0] = r[0] - r[8] * y[0]
    out[1] = r[1] - r[9] * y[1]
    out[2] = r[2] - r[10] * y[2]
    out[3] = r[3] - r[10] * y[3]
    out[4] = r[4] - r[10] * y[4]
    out[5] = r[5] - r[10] * y[5]
    out[6] = r[6] - r[11] * y[6]


@njit(cache=True, nogil=True, error_model="numpy", _nrt=False)
def _lu_solve(a, b):
    """Solve a x = b in place (x into ``b``; ``a`` overwritten by its LU factors) by Gaussian
    elimination with partial pivoting, LAPACK dgesv's method for one small system: the steady-state
    solver needs one 7 x 7 solve per patient and iteration, too small for a LAPACK call to pay."""
    k = a.shape[0]
    for col in range(k):
        best = col
        for r in range(col + 1, k):
            if abs(a[r, col]) > abs(a[best, col]):
                best = r
        if best != col:
            for j in range(k):
                a[col, j], a[best, j] = a[best, j], a[col, j]
            b[col], b[best] = b[best], b[col]
        inv = 1.0 / a[col, col]
        for r in range(col + 1, k):
            f = a[r, col] * inv
            a[r, col] = f
            for j in range(col + 1, k):
                a[r, j] -= f * a[col, j]
            b[r] -= f * b[col]
    for r in range(k - 1, -1, -1):
        acc = b[r]
        for j in range(r + 1, k):
            acc -= a[r, j] * b[j]
        b[r] = acc / a[r, r]


@njit(cache=True, nogil=True, error_model="numpy")
def _ptc_patient(c, i, imax, y0, lower, upper, rtol, dt0, dt_max, max_iter, growth, y):
    """engine.steady's pseudo-transient continuation for patient ``i`` alone (the batched version's
    iterates, patient by patient): implicit-Euler steps whose length grows as the residual falls,
    ending in Newton. ``y`` (7,) gets the state; returns 1 converged, 0 not, -1 non-finite rhs.
    :func:`_ptc_block` is the same for a block of patients in lanes; this one runs the retries."""
    k = y0.shape[0]
    f = np.empty(k)
    fp = np.empty(k)
    yp = np.empty(k)
    ynew = np.empty(k)
    a = np.empty((k, k))
    step = np.empty(k)
    scale = np.empty(k)
    for r in range(k):
        y[r] = y0[r]
        scale[r] = abs(y0[r]) + 1e-8
    dt = dt0
    fprev = -1.0
    for _ in range(max_iter):
        _core_rhs(c, i, imax, y, f)
        for r in range(k):
            if not np.isfinite(f[r]):
                return -1
        for j in range(k):  # forward-difference Jacobian, column j into a[:, j] as -J
            dy = 1e-7 * max(abs(y[j]), 1e-6)
            for r in range(k):
                yp[r] = y[r]
            yp[j] += dy
            _core_rhs(c, i, imax, yp, fp)
            for r in range(k):
                a[r, j] = -((fp[r] - f[r]) / dy)
        for r in range(k):
            a[r, r] += 1.0 / dt
            step[r] = f[r]
        _lu_solve(a, step)
        rel = 0.0
        fnorm = 0.0
        for r in range(k):
            trial = y[r] + step[r]
            clipped = min(max(trial, lower[r]), upper[r])
            # bounded states that hit a bound keep half the distance instead (stay interior)
            ynew[r] = 0.5 * (y[r] + clipped) if (trial < lower[r] or trial > upper[r]) else clipped
            rel = max(rel, abs(ynew[r] - y[r]) / (abs(y[r]) + 1e-8))
            fnorm += (f[r] / scale[r]) ** 2
        fnorm = math.sqrt(fnorm)
        for r in range(k):
            y[r] = ynew[r]
        dt_old = dt
        if fprev >= 0.0:
            ratio = fprev / max(fnorm, 1e-300)
            if ratio >= 1.0:
                factor = min(max(ratio, growth), 1e3)
            else:
                factor = 1.0 if ratio >= 0.5 else 0.5
            dt = min(max(dt_old * factor, 1e-6), dt_max)
        if rel < rtol and dt_old > 1e3:
            return 1
        fprev = fnorm
    return 0


# Rows of a block's work array in the baseline solver (:func:`_ptc_block`), K = 7 core states: the
# iterate and its update, the rhs at the iterate and at a perturbed state, that state, the step, the
# implicit-Euler matrix (row-major, K x K), then one row per lane scalar.
_K = dynamics.N_CORE
S_Y, S_YN, S_F, S_FP, S_YP, S_STEP, S_A = (q * _K for q in range(7))
_S0 = S_A + _K * _K
S_DY, S_DT, S_FPREV, S_REL, S_FNORM, S_ACTIVE, S_STATUS, S_PIV, S_TMP = range(_S0, _S0 + 9)
S_ROWS = S_TMP + 1


@njit(cache=True, nogil=True, error_model="numpy", forceinline=True, _nrt=False)
def _core_rhs_lanes(w, m, lo, c, imax, src, dst):
    """:func:`_core_rhs` of the block's patients at the states in rows ``src`` into rows ``dst``."""
    for j in range(m):
        i = lo + j
        r = _rates(c, i, imax, w[src, j], w[src + 1, j], w[src + 2, j], w[src + 3, j], w[src + 4, j],
                   w[src + 5, j], w[src + 6, j], 1.0, 0.0, 0.0, 0.0, False, False, False)
        w[dst, j] = r[0] - r[8] * w[src, j]
        w[dst + 1, j] = r[1] - r[9] * w[src + 1, j]
        w[dst + 2, j] = r[2] - r[10] * w[src + 2, j]
        w[dst + 3, j] = r[3] - r[10] * w[src + 3, j]
        w[dst + 4, j] = r[4] - r[10] * w[src + 4, j]
        w[dst + 5, j] = r[5] - r[10] * w[src + 5, j]
        w[dst + 6, j] = r[6] - r[11] * w[src + 6, j]


@njit(cache=True, nogil=True, error_model="numpy", forceinline=True, _nrt=False)
def _lu_solve_lanes(w, m, k):
    """:func:`_lu_solve` of every lane's matrix (rows S_A) and right-hand side (rows S_STEP), the
    same operations in the same order; the pivot rows are swapped by selects, as lanes pivot on
    different rows."""
    for col in range(k):
        for j in range(m):
            best = col
            best_val = abs(w[S_A + col * k + col, j])
            for r in range(col + 1, k):
                v = abs(w[S_A + r * k + col, j])
                better = v > best_val
                best = r if better else best
                best_val = v if better else best_val
            w[S_PIV, j] = best
        for r in range(col + 1, k):
            for q in range(k + 1):  # the k columns of the matrix, then the right-hand side
                top = S_A + col * k + q if q < k else S_STEP + col
                row = S_A + r * k + q if q < k else S_STEP + r
                for j in range(m):
                    swap = w[S_PIV, j] == r
                    a_top, a_row = w[top, j], w[row, j]
                    w[top, j] = a_row if swap else a_top
                    w[row, j] = a_top if swap else a_row
        for j in range(m):
            w[S_TMP, j] = 1.0 / w[S_A + col * k + col, j]
        for r in range(col + 1, k):
            for j in range(m):
                w[S_A + r * k + col, j] = w[S_A + r * k + col, j] * w[S_TMP, j]
            for q in range(col + 1, k):
                for j in range(m):
                    w[S_A + r * k + q, j] -= w[S_A + r * k + col, j] * w[S_A + col * k + q, j]
            for j in range(m):
                w[S_STEP + r, j] -= w[S_A + r * k + col, j] * w[S_STEP + col, j]
    for r in range(k - 1, -1, -1):
        for j in range(m):
            w[S_TMP, j] = w[S_STEP + r, j]
        for q in range(r + 1, k):
            for j in range(m):
                w[S_TMP, j] -= w[S_A + r * k + q, j] * w[S_STEP + q, j]
        for j in range(m):
            w[S_STEP + r, j] = w[S_TMP, j] / w[S_A + r * k + r, j]


@njit(cache=True, nogil=True, error_model="numpy", forceinline=True, _nrt=False)
def _ptc_block(c, imax, lo, m, y0, lower, upper, rtol, dt0, dt_max, max_iter, growth, w):
    """:func:`_ptc_patient`'s run for the block's patients side by side (SIMD lanes = patients): the
    same iterates lane by lane, a lane frozen once it converged or met a non-finite rhs. Leaves the
    states in rows S_Y and the status in S_STATUS (1 converged, 0 not, -1 non-finite rhs).
    Inlined where the work array is allocated: LLVM then knows it aliases no argument, which the
    rhs loop's vectorization needs (1.7x on the whole solve)."""
    k = y0.shape[0]
    for r in range(k):
        for j in range(m):
            w[S_Y + r, j] = y0[r]
    for j in range(m):
        w[S_DT, j] = dt0
        w[S_FPREV, j] = -1.0
        w[S_ACTIVE, j] = 1.0
        w[S_STATUS, j] = 0.0
    for _ in range(max_iter):
        active = 0.0
        for j in range(m):
            active += w[S_ACTIVE, j]
        if active == 0.0:
            return
        # q = 0: the rhs at the iterate; q > 0: at the iterate with state q - 1 moved by dy, the
        # forward-difference Jacobian's column q - 1 (into the matrix as -J)
        for q in range(k + 1):
            for r in range(k):
                for j in range(m):
                    w[S_YP + r, j] = w[S_Y + r, j]
            if q > 0:
                for j in range(m):
                    dy = 1e-7 * max(abs(w[S_Y + q - 1, j]), 1e-6)
                    w[S_DY, j] = dy
                    w[S_YP + q - 1, j] += dy
            _core_rhs_lanes(w, m, lo, c, imax, S_YP, S_FP)
            if q == 0:
                for r in range(k):
                    for j in range(m):
                        w[S_F + r, j] = w[S_FP + r, j]
                for r in range(k):
                    for j in range(m):
                        bad = not np.isfinite(w[S_F + r, j])
                        w[S_STATUS, j] = -1.0 if (bad and w[S_ACTIVE, j] > 0.0) else w[S_STATUS, j]
                        w[S_ACTIVE, j] = 0.0 if bad else w[S_ACTIVE, j]
            else:
                for r in range(k):
                    for j in range(m):
                        w[S_A + r * k + q - 1, j] = -((w[S_FP + r, j] - w[S_F + r, j]) / w[S_DY, j])
        for r in range(k):
            for j in range(m):
                w[S_A + r * k + r, j] += 1.0 / w[S_DT, j]
                w[S_STEP + r, j] = w[S_F + r, j]
        _lu_solve_lanes(w, m, k)
        for j in range(m):
            w[S_REL, j] = 0.0
            w[S_FNORM, j] = 0.0
        for r in range(k):
            low, high, scale = lower[r], upper[r], abs(y0[r]) + 1e-8
            for j in range(m):
                y = w[S_Y + r, j]
                trial = y + w[S_STEP + r, j]
                clipped = min(max(trial, low), high)
                # bounded states that hit a bound keep half the distance instead (stay interior)
                ynew = 0.5 * (y + clipped) if (trial < low or trial > high) else clipped
                w[S_YN + r, j] = ynew
                w[S_REL, j] = max(w[S_REL, j], abs(ynew - y) / (abs(y) + 1e-8))
                w[S_FNORM, j] += (w[S_F + r, j] / scale) ** 2
        for r in range(k):
            for j in range(m):
                w[S_Y + r, j] = w[S_YN + r, j] if w[S_ACTIVE, j] > 0.0 else w[S_Y + r, j]
        for j in range(m):
            live = w[S_ACTIVE, j] > 0.0
            fnorm = math.sqrt(w[S_FNORM, j])
            dt_old = w[S_DT, j]
            fprev = w[S_FPREV, j]
            ratio = fprev / max(fnorm, 1e-300)
            if ratio >= 1.0:
                factor = min(max(ratio, growth), 1e3)
            else:
                factor = 1.0 if ratio >= 0.5 else 0.5
            dt = min(max(dt_old * factor, 1e-6), dt_max) if fprev >= 0.0 else dt_old
            done = live and w[S_REL, j] < rtol and dt_old > 1e3
            w[S_DT, j] = dt if live else dt_old
            w[S_FPREV, j] = fnorm if live else fprev
            w[S_STATUS, j] = 1.0 if done else w[S_STATUS, j]
            w[S_ACTIVE, j] = 0.0 if done else w[S_ACTIVE, j]


@njit(cache=True, parallel=True, nogil=True, error_model="numpy")
def _solve_baseline(c, imax, y0, lower, upper, rtol, dt0, dt_max, max_iter, growth, retries, out, status):
    n = c.shape[1]
    k = y0.shape[0]
    n_blocks = (n + PATIENT_BLOCK - 1) // PATIENT_BLOCK
    for blk in prange(n_blocks):
        lo = np.uint64(blk * PATIENT_BLOCK)
        m = np.uint64(min(n, blk * PATIENT_BLOCK + PATIENT_BLOCK) - blk * PATIENT_BLOCK)
        w = np.zeros((S_ROWS, PATIENT_BLOCK))
        _ptc_block(c, imax, lo, m, y0, lower, upper, rtol, dt0, dt_max, max_iter, growth, w)
        y = np.empty(k)
        for j in range(m):
            i = lo + j
            st = int(w[S_STATUS, j])
            for r in range(k):
                y[r] = w[S_Y + r, j]
            d0, g = dt0, growth
            for _ in range(retries):  # engine.steady.solve_steady_state's retries, from the start again
                if st != 0:
                    break
                d0, g = d0 / 10.0, max(1.5, g / 2.0)
                st = _ptc_patient(c, i, imax, y0, lower, upper, rtol, d0, dt_max, 2 * max_iter, g, y)
            for r in range(k):
                out[r, i] = y[r]
            status[i] = st


def solve_baseline(dp: dict, ip: dict, threads: int | None = None) -> np.ndarray:
    """disease.solve_baseline in compiled code: the same pseudo-transient continuation from the same
    start with the same settings (engine.steady's): each patient's own iterates, blocks of patients
    side by side in SIMD lanes (:func:`_ptc_block`) on the kernel's threads, the rare retries patient
    by patient (:func:`_ptc_patient`); (8, n) with M = 1."""
    n = next(iter(dp.values())).shape[0]
    table, _, _ = parameter_table(dp, ip, {}, n)
    out = np.empty((dynamics.N_CORE, n))
    status = np.empty(n, dtype=np.int64)
    with kernel_threads(threads):
        _solve_baseline(table, np.zeros((6, n)), dynamics.MIYANO_SEED.astype(float),
                        dynamics.LOWER.astype(float), dynamics.UPPER.astype(float), steady.RTOL, steady.DT0,
                        steady.DT_MAX, steady.MAX_ITER, steady.GROWTH, steady.RETRIES, out, status)
    if np.any(status < 0):
        raise SolverError(steady.NOT_FINITE)
    if np.any(status == 0):
        raise steady.not_converged(int(np.sum(status == 0)), n, steady.RETRIES)
    return np.vstack([out, np.ones((1, n))])
