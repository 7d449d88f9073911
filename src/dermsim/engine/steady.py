"""Vectorised steady states of batched ODE systems: pseudo-transient continuation, then Newton.

Pseudo-transient continuation (Kelley & Keyes 1998) takes implicit-Euler steps whose length grows
as the residual falls (switched evolution relaxation), so it follows the trajectory from the
start towards the same attractor that long integration would reach, and ends in Newton's
quadratic convergence. Jacobians are by forward differences, batched over patients: a system of
k states costs k + 1 right-hand-side evaluations and one stacked k x k solve per iteration, on
the patients that have not converged yet.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from dermsim.errors import SolverError

# The solver's settings (the defaults of solve_steady_state), shared with the compiled solver of the
# untreated baseline (model.kernel.solve_baseline) so the two take the same iterates.
RTOL, DT0, DT_MAX, MAX_ITER, GROWTH, RETRIES = 1e-10, 0.05, 1e12, 200, 4.0, 2
NOT_FINITE = "steady state: the right-hand side is not finite for some patients."


def not_converged(n_left: int, n: int, retries: int) -> SolverError:
    """The error for ``n_left`` of ``n`` patients left unconverged after ``retries`` retries."""
    return SolverError(f"steady state did not converge for {n_left} of {n} patients after {retries + 1} "
                       "attempts.")


def _jacobian(rhs: Callable[[np.ndarray, np.ndarray], np.ndarray], y: np.ndarray, idx: np.ndarray,
              f0: np.ndarray) -> np.ndarray:
    k, n = y.shape
    jac = np.empty((n, k, k))
    for j in range(k):
        dy = 1e-7 * np.maximum(np.abs(y[j]), 1e-6)
        yp = y.copy()
        yp[j] += dy
        jac[:, :, j] = ((rhs(yp, idx) - f0) / dy).T
    return jac


def solve_steady_state(rhs: Callable[[np.ndarray, np.ndarray], np.ndarray], y0: np.ndarray, *,
                       lower: np.ndarray | None = None, upper: np.ndarray | None = None,
                       rtol: float = RTOL, dt0: float = DT0, dt_max: float = DT_MAX,
                       max_iter: int = MAX_ITER, growth: float = GROWTH,
                       retries: int = RETRIES) -> np.ndarray:
    """Steady state y with rhs(y, idx) = 0, batched over patients (columns of ``y0``).

    ``rhs(y, idx)`` gets the states of the patients ``idx`` (a subset once some have converged).
    Convergence: |rhs_i| <= rtol * (|y_i| + 1e-8) * rate scale for every state, measured as the
    relative change an implicit step of length 1 would make. Patients left unconverged after
    ``max_iter`` iterations start again from ``y0`` with a 10x smaller first step and slower
    growth (``retries`` times), closer to the integration path; SolverError if any remain.
    """
    y, left = _ptc(rhs, y0, np.arange(y0.shape[1]), lower, upper, rtol, dt0, dt_max, max_iter, growth)
    for _ in range(retries):
        if left.size == 0:
            break
        dt0, growth = dt0 / 10.0, max(1.5, growth / 2.0)
        def rhs_left(v: np.ndarray, i: np.ndarray, left: np.ndarray = left) -> np.ndarray:
            return rhs(v, left[i])
        y_left, left_sub = _ptc(rhs_left, y0[:, left], np.arange(left.size), lower, upper, rtol, dt0,
                                dt_max, 2 * max_iter, growth)
        y[:, left] = y_left
        left = left[left_sub]
    if left.size:
        raise not_converged(int(left.size), y0.shape[1], retries)
    return y


def _ptc(rhs, y0, active, lower, upper, rtol, dt0, dt_max, max_iter, growth) -> tuple[np.ndarray, np.ndarray]:
    """One pseudo-transient continuation run; returns (states, indices still unconverged)."""
    y = np.array(y0, dtype=float, copy=True)
    k, n = y.shape
    lo = np.full((k, 1), -np.inf) if lower is None else np.asarray(lower, float).reshape(k, 1)
    hi = np.full((k, 1), np.inf) if upper is None else np.asarray(upper, float).reshape(k, 1)
    dt = np.full(n, dt0)
    scale = np.abs(y) + 1e-8
    fprev = None
    eye = np.eye(k)
    for _ in range(max_iter):
        ya = y[:, active]
        f = rhs(ya, active)
        if not np.all(np.isfinite(f)):
            raise SolverError(NOT_FINITE)
        jac = _jacobian(rhs, ya, active, f)
        dta = dt[active]
        a = eye[None, :, :] / dta[:, None, None] - jac
        try:
            step = np.linalg.solve(a, f.T[:, :, None])[:, :, 0].T
        except np.linalg.LinAlgError as exc:  # pragma: no cover - singular only on broken input
            raise SolverError(f"steady state: singular pseudo-transient system ({exc}).") from None
        ynew = np.clip(ya + step, lo, hi)
        # bounded states that hit a bound keep half the distance instead (stay interior)
        hit = (ya + step < lo) | (ya + step > hi)
        ynew = np.where(hit, 0.5 * (ya + np.clip(ya + step, lo, hi)), ynew)
        rel = np.max(np.abs(ynew - ya) / (np.abs(ya) + 1e-8), axis=0)
        y[:, active] = ynew
        # residual on a FIXED scale (the start): a relative residual f/y can fall while the state
        # leaves an unstable equilibrium, and growing dt then would jump back to it
        fnorm = np.sqrt(np.sum((f / scale[:, active]) ** 2, axis=0))
        if fprev is not None:
            ratio = fprev / np.maximum(fnorm, 1e-300)
            # switched evolution relaxation, at least doubling while the residual falls
            # (a residual that grows by less than 2x, as in a growth transient, keeps dt)
            factor = np.where(ratio >= 1.0, np.clip(ratio, growth, 1e3), np.where(ratio >= 0.5, 1.0, 0.5))
            dt[active] = np.clip(dta * factor, 1e-6, dt_max)
        done = (rel < rtol) & (dta > 1e3)
        keep = ~done
        fprev = fnorm[keep]
        active = active[keep]
        if active.size == 0:
            break
    return y, active
