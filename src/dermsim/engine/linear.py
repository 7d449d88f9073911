"""Exact propagation of batched linear systems dx/dt = K x between events.

Between dose events a linear compartment model has the exact solution x(t+h) = expm(K h) x(t).
The transition matrices are computed once per patient and per distinct step length, so a time
step costs k*k multiply-adds per patient and no error is made whatever the stiffness.
"""

from __future__ import annotations

import numpy as np

from dermsim.errors import SolverError

_TAYLOR_DEGREE = 13


def expm_batched(a: np.ndarray) -> np.ndarray:
    """Matrix exponential of a stack (n, k, k) by scaling and squaring with a Taylor polynomial.

    scipy.linalg.expm handles stacks one matrix at a time in Python (and takes a slow path for
    triangular compartment matrices); here every operation is one batched matmul. Each matrix i
    is scaled by 2^-s_i so that its 1-norm is <= 1/2, where the degree-13 Taylor remainder is below
    0.5^14/14! ~ 7e-16 relative, then squared s_i times.
    """
    n, k, _ = a.shape
    if n == 0:
        return np.empty_like(a)
    # the scaling is chosen per matrix, not for the stack, so a patient's result does not depend on
    # which other patients share its chunk (chunk-invariance of simulate_patients)
    norm = np.max(np.sum(np.abs(a), axis=1), axis=1)
    s = np.where(norm > 0.5, np.ceil(np.log2(np.maximum(norm, 0.5) / 0.5)), 0.0).astype(int)
    x = a / (2.0 ** s)[:, None, None]
    eye = np.broadcast_to(np.eye(k), a.shape)
    e = eye + x / _TAYLOR_DEGREE
    for m in range(_TAYLOR_DEGREE - 1, 0, -1):
        e = eye + np.matmul(x, e) / m
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
