"""Exact propagation of batched linear systems dx/dt = K x between events.

Between dose events a linear compartment model has the exact solution x(t+h) = expm(K h) x(t).
The transition matrices are computed once per patient and per distinct step length, so a time
step costs k*k multiply-adds per patient and no error is made whatever the stiffness.
"""

from __future__ import annotations

import math

import numpy as np

from dermsim.errors import SolverError

# 1/j!, j = 0..13: the degree-13 Taylor polynomial of exp
TAYLOR_COEFFICIENTS = tuple(1.0 / math.factorial(j) for j in range(14))


def expm_batched(a: np.ndarray) -> np.ndarray:
    """Matrix exponential of a stack (n, k, k) by scaling and squaring with a Taylor polynomial.

    scipy.linalg.expm handles stacks one matrix at a time in Python (and takes a slow path for
    triangular compartment matrices); here every operation is one batched matmul. Each matrix i
    is scaled by 2^-s_i so that its 1-norm is <= 1/2, where the degree-13 Taylor remainder is below
    0.5^14/14! ~ 7e-16 relative, then squared s_i times. The polynomial is evaluated by
    Paterson-Stockmeyer, p(X) = B0 + X^3 (B1 + X^3 (B2 + X^3 (B3 + X^3 B4))) with B_b =
    c_3b I + c_3b+1 X + c_3b+2 X^2 and B4 = c_12 I + c_13 X: 6 matrix products instead of
    Horner's 12, with the same accuracy (Higham, Functions of Matrices, 2008, sec. 4.2).
    """
    n, k, _ = a.shape
    if n == 0:
        return np.empty_like(a)
    # the scaling is chosen per matrix, not for the stack, so a patient's result does not depend on
    # which other patients share its chunk (chunk-invariance of simulate_patients)
    norm = np.max(np.sum(np.abs(a), axis=1), axis=1)
    s = np.where(norm > 0.5, np.ceil(np.log2(np.maximum(norm, 0.5) / 0.5)), 0.0).astype(int)
    x = a / (2.0 ** s)[:, None, None]
    x2 = np.matmul(x, x)
    x3 = np.matmul(x2, x)
    c = TAYLOR_COEFFICIENTS
    eye = np.eye(k)
    e = c[12] * eye + c[13] * x
    for b in range(3, -1, -1):
        e = np.matmul(x3, e) + (c[3 * b] * eye + c[3 * b + 1] * x + c[3 * b + 2] * x2)
    for j in range(int(s.max())):
        e = np.where((j < s)[:, None, None], np.matmul(e, e), e)
    return e


def compute_transition(K: np.ndarray, h: float) -> np.ndarray:
    """expm(K h) for a stack of rate matrices.

    ``K`` has shape ``(k, k, n)`` (state layout of the engine: row, column, patient); the result
    has the same layout.
    """
    K = np.asarray(K, dtype=float)
    if K.ndim != 3 or K.shape[0] != K.shape[1]:
        raise SolverError(f"K must have shape (k, k, n); got {K.shape}.")
    stacked = np.ascontiguousarray(np.moveaxis(K * float(h), -1, 0))  # (n, k, k)
    phi = expm_batched(stacked)
    if not np.all(np.isfinite(phi)):
        raise SolverError("transition matrix is not finite; check the rate constants.")
    return np.ascontiguousarray(np.moveaxis(phi, 0, -1))


def feeding_states(K: np.ndarray, row: int) -> np.ndarray:
    """The states whose amounts reach state ``row`` of dx/dt = K x (K (k, k, n), any patient's
    nonzero counts), ``row`` itself included, sorted. Row ``row`` of expm(K t) is zero outside
    them and, on them, the same row of the exponential of K restricted to them: K maps them onto
    themselves."""
    flows = np.any(K != 0.0, axis=2)
    keep = {row}
    grown = True
    while grown:
        feeders = {int(j) for i in keep for j in np.flatnonzero(flows[i])}
        grown = not feeders <= keep
        keep |= feeders
    return np.array(sorted(keep), dtype=np.int64)


def propagate(phi: np.ndarray, x: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """x_new[i] = sum_j phi[i, j] * x[j], batched over the last axis (patients)."""
    k = phi.shape[0]
    if out is None:
        out = np.empty_like(x)
    for i in range(k):
        row = phi[i]
        acc = row[0] * x[0]
        for j in range(1, k):
            acc += row[j] * x[j]
        out[i] = acc
    return out
