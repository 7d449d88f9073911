"""Mixed model for repeated measures (MMRM) as SAS PROC MIXED ``REPEATED / TYPE= SUBJECT=`` fits it.

``y = X b + e`` with ``e`` independent between subjects and, within a subject, a covariance
``Sigma(theta)`` over the visits: unstructured (``us``, SAS ``TYPE=UN``), compound symmetry
(``cs``), first-order autoregressive over the visit order (``ar1``, ``TYPE=AR(1)``) or Toeplitz
(``toep``). Restricted maximum likelihood (REML) with ``b`` profiled out; LS means of every group
at every visit over a reference grid (as :mod:`dermsim.analysis.ancova`: sum-to-zero coding,
equal or observed-margin weights, numeric covariates at their mean over the analysed records),
differences against a reference group at each visit, with Kenward-Roger (adjusted covariance of
``b`` and df), Satterthwaite or residual degrees of freedom; and the Type III F test of every
fixed-effect term (KR scaled F, as SAS "Type 3 Tests of Fixed Effects" with ``DDFM=KR``).

Why written here: no well-kept Python library fits this model. statsmodels ``MixedLM`` has random
effects plus an i.i.d. residual only (no unstructured, AR(1) or Toeplitz residual covariance) and
neither Kenward-Roger nor Satterthwaite degrees of freedom; the reference implementations are R
(``mmrm``, ``nlme::gls`` + ``emmeans`` + ``pbkrtest``) and SAS.

How it is computed (vectorized over subjects): subjects are grouped by their pattern of observed
visits; per pattern one Cholesky of the visit block of ``Sigma`` and stacked products give
``X' Sigma^-1 X``, the REML log-likelihood, its analytic gradient and its observed and expected
information in the *natural* covariance parameters ``theta`` (SAS's: the ``sigma_ij`` of UN; CS
covariance and residual; AR(1) variance and rho; the Toeplitz band covariances). The optimiser
(L-BFGS) works on an unconstrained parameterisation that keeps ``Sigma`` positive definite
(log-Cholesky for UN, partial autocorrelations for Toeplitz), then Newton steps in ``theta``
polish the optimum.

Kenward-Roger follows Kenward & Roger (1997) with ``W`` the inverse information of ``theta``:
``information="observed"`` (the default, SAS PROC MIXED and R ``mmrm`` "Kenward-Roger-Linear"
for UN/CS/Toeplitz, whose natural parameterisation is linear) or ``"expected"`` (R ``pbkrtest``).
For AR(1) the second-derivative term ``R_ij`` of ``Sigma`` enters the adjusted covariance, as in
SAS's default ``DDFM=KR``. For a single contrast the KR df equals the Satterthwaite df with the
same ``W`` (both are ``2 (l Phi l')^2 / g' W g``); KR adds the bias-adjusted SE.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal, Self

import numpy as np
import pandas as pd
from scipy import optimize, stats

from dermsim.analysis.ancova import _Design, _t_inference
from dermsim.analysis.results import StatPairs, _Result, ard_pairs
from dermsim.errors import DataValidationError, InvalidInputError, NotEstimableError

__all__ = [
    "COVARIANCES",
    "DF_METHODS",
    "MmrmDifference",
    "MmrmLSMean",
    "MmrmResult",
    "MmrmType3",
    "estimate_mmrm",
]

COVARIANCES = ("us", "cs", "ar1", "toep")
DF_METHODS = ("kenward_roger", "satterthwaite", "residual")
OVERALL = "Overall"  # visit label of LS means averaged over the visits (equal weights)

Information = Literal["observed", "expected"]


# --------------------------------------------------------------------------------------------
# results

@dataclass(frozen=True)
class MmrmLSMean(_Result):
    """LS mean of one group at one visit (``visit == "Overall"``: averaged over the visits)."""

    visit: str
    level: str
    n: int
    estimate: float
    se: float
    df: float
    ci_lower: float
    ci_upper: float
    conf_level: float = 0.95

    def to_ard_rows(self) -> StatPairs:
        return [("n", float(self.n)), ("lsmean", self.estimate), ("lsmean_se", self.se), ("df", self.df),
                ("ci_lower", self.ci_lower), ("ci_upper", self.ci_upper)]


@dataclass(frozen=True)
class MmrmDifference(_Result):
    """LS mean of ``level`` minus that of ``reference`` at ``visit``: SE, df, t, p, CI."""

    visit: str
    level: str
    reference: str
    estimate: float
    se: float
    df: float
    statistic: float
    p_value: float
    ci_lower: float
    ci_upper: float
    conf_level: float = 0.95

    def to_ard_rows(self) -> StatPairs:
        return ard_pairs(self, "estimate", "se", "df", "statistic", "p_value", "ci_lower", "ci_upper")


@dataclass(frozen=True)
class MmrmType3(_Result):
    """The Type III F test of one fixed-effect term (SAS "Type 3 Tests of Fixed Effects"):
    Kenward-Roger scaled F with its df, Satterthwaite, or residual df."""

    term: str
    num_df: int
    den_df: float
    statistic: float
    p_value: float

    def to_ard_rows(self) -> StatPairs:
        return [("statistic", self.statistic), ("df", float(self.num_df)), ("p_value", self.p_value)]


@dataclass(frozen=True)
class MmrmResult(_Result):
    """A fitted MMRM: covariance estimates, REML fit, LS means by visit and differences.

    ``theta`` are the covariance parameters in SAS's parameterisation (names in ``theta_names``,
    e.g. ``UN(2,1)``); ``covariance_matrix`` the estimated ``Sigma`` over ``visits``.
    """

    response: str
    group: str
    visit_var: str
    levels: tuple[str, ...]
    visits: tuple[str, ...]
    covariance: str
    df_method: str
    information: str
    weights: str
    n_subjects: int
    n_obs: int
    n_params: int
    neg2_reml_loglik: float
    theta_names: tuple[str, ...]
    theta: tuple[float, ...]
    covariance_matrix: tuple[tuple[float, ...], ...]
    lsmeans: tuple[MmrmLSMean, ...]
    differences: tuple[MmrmDifference, ...]
    iterations: int
    gradient_norm: float
    type3: tuple[MmrmType3, ...] = ()
    conf_level: float = 0.95
    method: str = "mmrm"

    def lsmean(self, level: str, visit: str) -> MmrmLSMean:
        for m in self.lsmeans:
            if (m.level, m.visit) == (level, visit):
                return m
        raise InvalidInputError(f"(level, visit) must be among the LS means; got ({level!r}, {visit!r}).")

    def difference(self, level: str, reference: str, visit: str) -> MmrmDifference:
        for d in self.differences:
            if (d.level, d.reference, d.visit) == (level, reference, visit):
                return d
        raise InvalidInputError(f"no difference {level!r} - {reference!r} at visit {visit!r}; differences "
                                "are computed against the reference level.")

    def to_ard_rows(self) -> StatPairs:
        """The model: subjects analysed."""
        return [("n", float(self.n_subjects))]

    def type3_test(self, term: str) -> MmrmType3:
        for t in self.type3:
            if t.term == term:
                return t
        raise InvalidInputError(f"term must be one of {', '.join(t.term for t in self.type3)}; got {term!r}.")

    def ard_blocks(self, *, type3: bool = False) -> list[tuple[dict[str, str], StatPairs]]:
        """LS means and differences as ``(columns, pairs)`` with ``visit``, ``group_level``,
        ``comparator`` and ``method`` for :func:`~dermsim.analysis.ard.make_rows`; with ``type3``
        also the Type III tests (``variable_level`` = the term, e.g. ``TRTP*AVISIT``; the
        denominator df stays in the result, the ARD has no name for it)."""
        out: list[tuple[dict[str, str], StatPairs]] = []
        if type3:
            out += [({"variable_level": t.term, "method": self.method}, t.to_ard_rows()) for t in self.type3]
        out += [({"visit": m.visit, "group_level": m.level, "method": self.method}, m.to_ard_rows())
                for m in self.lsmeans]
        out += [({"visit": d.visit, "group_level": d.level, "comparator": d.reference, "method": self.method},
                 d.to_ard_rows()) for d in self.differences]
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Self:
        d = dict(data)
        for k in ("levels", "visits", "theta_names", "theta"):
            d[k] = tuple(d[k])
        d["covariance_matrix"] = tuple(tuple(float(v) for v in row) for row in d["covariance_matrix"])
        d["lsmeans"] = tuple(MmrmLSMean.from_dict(x) for x in d["lsmeans"])
        d["differences"] = tuple(MmrmDifference.from_dict(x) for x in d["differences"])
        d["type3"] = tuple(MmrmType3.from_dict(x) for x in d.get("type3", ()))
        return cls(**d)


# --------------------------------------------------------------------------------------------
# covariance structures: theta (natural, SAS) <-> phi (unconstrained, for the optimiser)

class _Structure:
    """Sigma(theta) over ``t`` visits with first (and, if not linear, second) derivatives."""

    linear = True

    def __init__(self, t: int) -> None:
        self.t = t

    names: tuple[str, ...]

    def sigma(self, theta: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def d_sigma(self, theta: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def d2_sigma(self, theta: np.ndarray) -> np.ndarray:
        q = len(theta)
        return np.zeros((q, q, self.t, self.t))

    def theta(self, phi: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def phi_start(self, cov: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def jacobian(self, phi: np.ndarray) -> np.ndarray:
        """d theta / d phi by central differences (the maps are smooth and cheap)."""
        h = 1e-6
        cols = []
        for i in range(phi.size):
            e = np.zeros_like(phi)
            e[i] = h
            cols.append((self.theta(phi + e) - self.theta(phi - e)) / (2 * h))
        return np.column_stack(cols)


class _Unstructured(_Structure):
    def __init__(self, t: int) -> None:
        super().__init__(t)
        self.rows, self.cols = np.tril_indices(t)   # (0,0), (1,0), (1,1), (2,0), ... as SAS lists UN(i,j)
        self.names = tuple(f"UN({i + 1},{j + 1})" for i, j in zip(self.rows, self.cols, strict=True))
        basis = np.zeros((len(self.rows), t, t))
        for k, (i, j) in enumerate(zip(self.rows, self.cols, strict=True)):
            basis[k, i, j] = basis[k, j, i] = 1.0
        self.basis = basis

    def sigma(self, theta):
        return np.einsum("k,kij->ij", theta, self.basis)

    def d_sigma(self, theta):
        return self.basis

    def theta(self, phi):
        low = np.zeros((self.t, self.t))
        low[self.rows, self.cols] = phi
        d = np.diag_indices(self.t)
        low[d] = np.exp(low[d])
        s = low @ low.T
        return s[self.rows, self.cols]

    def phi_start(self, cov):
        low = np.linalg.cholesky(cov)
        d = np.diag_indices(self.t)
        low[d] = np.log(low[d])
        return low[self.rows, self.cols]


class _CompoundSymmetry(_Structure):
    names = ("CS", "Residual")

    def sigma(self, theta):
        return theta[0] * np.ones((self.t, self.t)) + theta[1] * np.eye(self.t)

    def d_sigma(self, theta):
        return np.stack([np.ones((self.t, self.t)), np.eye(self.t)])

    def _rho(self, b):
        low = -1.0 / max(self.t - 1, 1)
        return low + (1 - low) / (1 + np.exp(-b))

    def theta(self, phi):
        v, rho = np.exp(phi[0]), self._rho(phi[1])
        return np.array([v * rho, v * (1 - rho)])

    def phi_start(self, cov):
        v = float(np.mean(np.diag(cov)))
        off = cov[~np.eye(self.t, dtype=bool)]
        low = -1.0 / max(self.t - 1, 1)
        rho = float(np.clip(off.mean() / v if off.size else 0.0, low + 0.05, 0.95))
        u = (rho - low) / (1 - low)
        return np.array([np.log(v), np.log(u / (1 - u))])


class _AR1(_Structure):
    names = ("AR(1)", "Residual")   # SAS order: rho, then the variance
    linear = False

    def __init__(self, t: int) -> None:
        super().__init__(t)
        idx = np.arange(t)
        self.lag = np.abs(idx[:, None] - idx[None, :]).astype(float)

    def _pow(self, rho, k):
        # rho ** (lag - k), zero where the exponent's coefficient vanishes (lag < k)
        e = self.lag - k
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(e >= 0, np.power(rho, np.maximum(e, 0)), 0.0)

    def sigma(self, theta):
        rho, s2 = theta
        return s2 * self._pow(rho, 0)

    def d_sigma(self, theta):
        rho, s2 = theta
        return np.stack([s2 * self.lag * self._pow(rho, 1), self._pow(rho, 0)])

    def d2_sigma(self, theta):
        rho, s2 = theta
        out = np.zeros((2, 2, self.t, self.t))
        out[0, 0] = s2 * self.lag * (self.lag - 1) * self._pow(rho, 2)
        out[0, 1] = out[1, 0] = self.lag * self._pow(rho, 1)
        return out

    def theta(self, phi):
        return np.array([np.tanh(phi[0]), np.exp(phi[1])])

    def phi_start(self, cov):
        v = float(np.mean(np.diag(cov)))
        lag1 = np.diag(cov, 1)
        rho = float(np.clip(lag1.mean() / v if lag1.size else 0.0, -0.9, 0.9))
        return np.array([np.arctanh(rho), np.log(v)])


class _Toeplitz(_Structure):
    def __init__(self, t: int) -> None:
        super().__init__(t)
        idx = np.arange(t)
        lag = np.abs(idx[:, None] - idx[None, :])
        self.basis = np.stack([(lag == k).astype(float) for k in range(t)])
        self.names = ("Residual", *(f"TOEP({k + 1})" for k in range(1, t)))

    def sigma(self, theta):
        return np.einsum("k,kij->ij", theta, self.basis)

    def d_sigma(self, theta):
        return self.basis

    def theta(self, phi):
        # partial autocorrelations in (-1, 1) -> autocorrelations (Durbin-Levinson): always PD
        v = np.exp(phi[0])
        pac = np.tanh(phi[1:])
        rho = np.ones(self.t)
        coef = np.zeros(0)
        for k, p in enumerate(pac, start=1):
            coef = np.append(coef - p * coef[::-1], p)
            rho[k] = coef @ rho[k - 1::-1]
        return v * rho

    def phi_start(self, cov):
        v = float(np.mean(np.diag(cov)))
        acf = np.array([1.0, *(np.mean(np.diag(cov, k)) / v for k in range(1, self.t))])
        pac = []
        for k in range(1, self.t):
            toe = acf[np.abs(np.subtract.outer(np.arange(k), np.arange(k)))]
            coef = np.linalg.solve(toe, acf[1:k + 1])
            pac.append(float(np.clip(coef[-1], -0.9, 0.9)))
        return np.array([np.log(v), *np.arctanh(pac)])


_STRUCTURES = {"us": _Unstructured, "cs": _CompoundSymmetry, "ar1": _AR1, "toep": _Toeplitz}


# --------------------------------------------------------------------------------------------
# REML pieces, vectorized over the subjects of each visit pattern

@dataclass(frozen=True)
class _Pattern:
    idx: np.ndarray      # visits observed (indices into 0..t-1)
    x: np.ndarray        # (subjects, visits, p)
    y: np.ndarray        # (subjects, visits)


def _patterns(x: np.ndarray, y: np.ndarray, subj: np.ndarray, vis: np.ndarray, t: int) -> list[_Pattern]:
    n_subj = int(subj.max()) + 1
    p = x.shape[1]
    xw = np.zeros((n_subj, t, p))
    yw = np.zeros((n_subj, t))
    seen = np.zeros((n_subj, t), dtype=bool)
    xw[subj, vis] = x
    yw[subj, vis] = y
    seen[subj, vis] = True
    keys, inverse = np.unique(seen, axis=0, return_inverse=True)
    out = []
    for k, mask in enumerate(keys):
        rows = np.flatnonzero(inverse.reshape(-1) == k)
        idx = np.flatnonzero(mask)
        out.append(_Pattern(idx, xw[np.ix_(rows, idx)], yw[np.ix_(rows, idx)]))
    return out


class _Reml:
    """REML objective and its derivatives in theta for one data set and structure."""

    def __init__(self, patterns: list[_Pattern], struct: _Structure, n_obs: int, p: int) -> None:
        self.patterns = patterns
        self.struct = struct
        self.n_obs = n_obs
        self.p = p

    def _blocks(self, theta):
        sig = self.struct.sigma(theta)
        out = []
        for pat in self.patterns:
            s = sig[np.ix_(pat.idx, pat.idx)]
            try:
                chol = np.linalg.cholesky(s)
            except np.linalg.LinAlgError:
                return None
            sinv = np.linalg.inv(s)
            out.append((pat, sinv, 2.0 * np.sum(np.log(np.diag(chol)))))
        return out

    def neg2ll(self, theta) -> tuple[float, np.ndarray | None, np.ndarray | None]:
        """-2 REML log-likelihood, beta and Phi = (X' Sigma^-1 X)^-1 (inf when Sigma is not PD)."""
        blocks = self._blocks(theta)
        if blocks is None:
            return np.inf, None, None
        a = np.zeros((self.p, self.p))
        b = np.zeros(self.p)
        logdet = 0.0
        for pat, sinv, ld in blocks:
            sx = np.einsum("ij,njp->nip", sinv, pat.x)
            a += np.einsum("nip,niq->pq", pat.x, sx)
            b += np.einsum("nip,ni->p", sx, pat.y)
            logdet += pat.y.shape[0] * ld
        sign, ld_a = np.linalg.slogdet(a)
        if sign <= 0:
            return np.inf, None, None
        phi = np.linalg.inv(a)
        beta = phi @ b
        quad = 0.0
        for pat, sinv, _ in blocks:
            r = pat.y - pat.x @ beta
            quad += float(np.einsum("ni,ij,nj->", r, sinv, r))
        return logdet + ld_a + quad + (self.n_obs - self.p) * np.log(2 * np.pi), beta, phi

    def pieces(self, theta, *, full: bool = True) -> dict[str, Any]:
        """Gradient of -2 l_R (alone when ``full`` is False), expected and observed information of
        l_R, and the Kenward-Roger matrices P_k = -X'S^-1 S_k S^-1 X,
        Q_kl = X'S^-1 S_k S^-1 S_l S^-1 X and R_kl = X'S^-1 S_kl S^-1 X."""
        f, beta, phi = self.neg2ll(theta)
        if beta is None or phi is None:
            raise NotEstimableError("the MMRM covariance matrix is not positive definite at the estimate.")
        blocks = self._blocks(theta)
        assert blocks is not None
        ds = self.struct.d_sigma(theta)
        d2 = self.struct.d2_sigma(theta)
        q, p = ds.shape[0], self.p
        pk = np.zeros((q, p, p))
        qkl = np.zeros((q, q, p, p))
        rkl = np.zeros((q, q, p, p))
        tr_k = np.zeros(q)
        ktr = np.zeros((q, q))
        rq = np.zeros(q)
        xsu = np.zeros((q, p))
        uu = np.zeros((q, q))
        tr2 = np.zeros((q, q))
        rq2 = np.zeros((q, q))
        for pat, sinv, _ in blocks:
            n, mv = pat.y.shape
            ix = np.ix_(pat.idx, pat.idx)
            dk = ds[:, ix[0], ix[1]]                                  # (q, m, m)
            sx = np.matmul(sinv, pat.x)                               # S^-1 X, (n, m, p)
            r = pat.y - pat.x @ beta
            sr = r @ sinv                                             # S^-1 r
            if not full:
                # gradient only: tr(S_k (n S^-1 - sum S^-1 X Phi X' S^-1 - sum S^-1 r r' S^-1))
                zx = sx.reshape(-1, p) @ phi
                h = np.tensordot(zx.reshape(n, mv, p), sx, axes=([0, 2], [0, 2]))
                core = n * sinv - h - sr.T @ sr
                tr_k += np.einsum("kij,ji->k", dk, core)
                continue
            d2k = d2[:, :, ix[0], ix[1]]                              # (q, q, m, m)
            m_k = np.einsum("ij,kjl,lm->kim", sinv, dk, sinv)         # S^-1 S_k S^-1
            dsx = np.matmul(dk[:, None], sx[None])                    # S_k S^-1 X, (q, n, m, p)
            flat_sx = sx.reshape(-1, p)
            flat_dsx = dsx.reshape(q, -1, p)
            pk -= np.tensordot(flat_dsx, flat_sx, axes=([1], [0])).transpose(0, 2, 1)
            tr_k += n * np.einsum("ij,kji->k", sinv, dk)
            rq += np.einsum("kij,ij->k", dk, sr.T @ sr)
            xsu += np.tensordot(flat_dsx, sr.reshape(-1), axes=([1], [0]))
            msx = np.matmul(m_k[:, None], pat.x[None]).reshape(q, -1, p)   # S^-1 S_l S^-1 X
            qkl += np.tensordot(flat_dsx, msx, axes=([1], [1])).transpose(0, 2, 1, 3)
            sd = np.einsum("ij,kjl->kil", sinv, dk)
            ktr += n * np.einsum("kij,lji->kl", sd, sd)
            uu += np.einsum("kij,lji->kl", dk, m_k @ (r.T @ sr))
            if not self.struct.linear:
                rkl += np.einsum("nip,klij,njq->klpq", sx, d2k, sx, optimize=True)
                tr2 += n * np.einsum("ij,klji->kl", sinv, d2k)
                rq2 += np.einsum("ni,klij,nj->kl", sr, d2k, sr, optimize=True)
        if not full:
            return {"neg2ll": f, "beta": beta, "phi": phi, "grad": tr_k}
        tr_pk = tr_k + np.einsum("pq,kqp->k", phi, pk)               # tr(P S_k)
        grad = tr_pk - rq
        phipk = np.einsum("pq,kqr->kpr", phi, pk)                     # Phi P_k
        tr_psps = ktr - 2 * np.einsum("pq,klqp->kl", phi, qkl) + np.einsum("kpq,lqp->kl", phipk, phipk)
        expected = 0.5 * tr_psps
        upu = uu - xsu @ phi @ xsu.T                                  # y'P S_k P S_l P y
        tr_ps2 = tr2 - np.einsum("pq,klqp->kl", phi, rkl)             # tr(P S_kl)
        observed = -0.5 * tr_psps + 0.5 * tr_ps2 + upu - 0.5 * rq2
        return {"neg2ll": f, "beta": beta, "phi": phi, "grad": grad, "expected": expected,
                "observed": observed, "P": pk, "Q": qkl, "R": rkl}


def _newton(reml: _Reml, theta: np.ndarray, max_iter: int = 60) -> tuple[np.ndarray, int, bool]:
    """Fisher scoring, then Newton-Raphson, on theta with step halving (SAS's default path):
    the expected information while the observed one is not positive definite or far from the
    optimum, the observed one near it."""
    f0 = reml.neg2ll(theta)[0]
    if not np.isfinite(f0):
        return theta, 0, False
    for it in range(max_iter):
        pc = reml.pieces(theta)
        g = pc["grad"]
        obs, exp = 2 * pc["observed"], 2 * pc["expected"]
        h = obs if it >= 2 and np.all(np.linalg.eigvalsh(obs) > 0) else exp
        try:
            step = np.linalg.solve(h, g)
        except np.linalg.LinAlgError:
            return theta, it, False
        t = 1.0
        while t > 1e-8:
            cand = theta - t * step
            fc = reml.neg2ll(cand)[0]
            if fc <= f0 + 1e-10 * (1 + abs(f0)):
                break
            t /= 2
        else:
            return theta, it, bool(np.max(np.abs(g)) < 1e-6 * (1 + abs(f0)))
        theta, f0 = cand, fc
        if np.max(np.abs(t * step)) < 1e-10 * (1 + np.max(np.abs(theta))):
            return theta, it + 1, True
    return theta, max_iter, False


def _fit_theta(reml: _Reml, start: np.ndarray) -> tuple[np.ndarray, int]:
    """REML estimate of theta: scoring/Newton from the start; if that stalls, L-BFGS on the
    unconstrained phi (which keeps Sigma positive definite), then Newton again to polish."""
    struct = reml.struct
    theta, iters, ok = _newton(reml, struct.theta(start))
    if ok:
        return theta, iters

    def fun(phi):
        th = struct.theta(phi)
        f = reml.neg2ll(th)[0]
        if not np.isfinite(f):
            return 1e300, np.zeros_like(phi)
        g = reml.pieces(th, full=False)["grad"]
        return f, struct.jacobian(phi).T @ g

    res = optimize.minimize(fun, start, jac=True, method="L-BFGS-B",
                            options={"maxiter": 1000, "gtol": 1e-9, "ftol": 1e-15})
    theta, more, _ = _newton(reml, struct.theta(res.x))
    return theta, iters + int(res.nit) + more


# --------------------------------------------------------------------------------------------
# inference

def _df_satterthwaite(lv: np.ndarray, phi: np.ndarray, pk: np.ndarray, w: np.ndarray) -> float:
    v = float(lv @ phi @ lv)
    u = phi @ lv
    g = -(pk @ u) @ u                                           # d(l Phi l')/d theta_k
    den = float(g @ w @ g)
    return 2 * v * v / den if den > 0 else float("inf")


def _kr_adjusted(phi, pk, qkl, rkl, w) -> np.ndarray:
    """Kenward-Roger bias-adjusted covariance of beta: Phi + 2 Phi U Phi,
    U = sum_kl W_kl (Q_kl - P_k Phi P_l - R_kl / 4)."""
    pphi = pk @ phi                                                            # (q, p, p)
    ppp = np.einsum("kpq,lqs->klps", pphi, pk, optimize=True)                  # P_k Phi P_l
    u = np.einsum("kl,klpq->pq", w, qkl - ppp - 0.25 * rkl, optimize=True)
    return phi + 2 * phi @ u @ phi


def _f_test(lmat, beta, phi, phi_a, pk, w, df_method, df_resid) -> tuple[int, float, float, float]:
    """F test of L b = 0: (numerator df, denominator df, F, p).

    Kenward-Roger (KR 1997, as SAS DDFM=KR and pbkrtest): F = lambda (Lb)'(L Phi_A L')^-1 (Lb) / q
    with lambda and the df matched to the first two moments. Satterthwaite (SAS, lmerTest, mmrm):
    unadjusted Wald F, df from the eigen-decomposition of L Phi L' (one Satterthwaite df per
    eigen-contrast, combined by E = sum nu/(nu - 2), df = 2E/(E - q)). Residual: N - p.
    """
    q = int(np.linalg.matrix_rank(lmat))
    lb = lmat @ beta
    if df_method == "kenward_roger":
        wald = float(lb @ np.linalg.solve(lmat @ phi_a @ lmat.T, lb))
        theta_phi = lmat.T @ np.linalg.solve(lmat @ phi @ lmat.T, lmat) @ phi
        u = theta_phi[None] @ pk @ phi[None]                                   # (k, p, p)
        tr = np.trace(u, axis1=1, axis2=2)
        a1 = float(tr @ w @ tr)
        a2 = float(np.einsum("kl,kij,lji->", w, u, u))
        b = (a1 + 6 * a2) / (2 * q)
        g = ((q + 1) * a1 - (q + 4) * a2) / ((q + 2) * a2)
        den = 3 * q + 2 * (1 - g)
        c1, c2, c3 = g / den, (q - g) / den, (q + 2 - g) / den
        rho = (1 / q) * ((1 - a2 / q) / (1 - c2 * b)) ** 2 * (1 + c1 * b) / (1 - c3 * b)
        m = 4 + (q + 2) / (q * rho - 1)
        lam = 1.0 if abs(m - 2) < 0.01 else m * (1 - a2 / q) / (m - 2)
        f = lam * wald / q
    else:
        vmat = lmat @ phi @ lmat.T
        f = float(lb @ np.linalg.solve(vmat, lb)) / q
        if df_method == "residual":
            m = float(df_resid)
        else:
            vals, vecs = np.linalg.eigh(vmat)
            nus = np.array([_df_satterthwaite(vecs[:, i] @ lmat, phi, pk, w) for i in range(vals.size)])
            e = float(np.sum(nus[nus > 2] / (nus[nus > 2] - 2)))
            m = 2 * e / (e - q) if e > q else float("nan")
    p = float(stats.f.sf(f, q, m)) if np.isfinite(m) else float("nan")
    return q, float(m), float(f), p


def _visit_key(v: str) -> tuple:
    return tuple(int(s) if s.isdigit() else s for s in re.split(r"(\d+)", str(v)))


def _text_levels(s: pd.Series) -> pd.Series:
    if pd.api.types.is_numeric_dtype(s):
        return s.map(lambda v: str(int(v)) if float(v).is_integer() else repr(float(v)))
    return s.astype(str)


def estimate_mmrm(data: pd.DataFrame, response: str, group: str, visit: str, subject: str = "USUBJID", *,
                  covariates: Sequence[str] = (), class_covariates: Sequence[str] = (),
                  visit_interactions: Sequence[str] = (), levels: Sequence[str] | None = None,
                  visits: Sequence[str] | None = None, reference: str | None = None,
                  covariance: str = "us", df_method: str = "kenward_roger",
                  information: Information = "observed", weights: str = "equal",
                  overall: bool = False, conf_level: float = 0.95, dataset: str = "data") -> MmrmResult:
    """Fit ``response ~ group * visit + class_covariates + covariates + visit:visit_interactions``
    with ``covariance`` over the visits within ``subject`` (REML) and return LS means of every
    group at every visit and each group minus ``reference`` (default: the first level) there.

    SAS: ``PROC MIXED; CLASS group visit class_covariates subject; MODEL response = group visit
    group*visit class_covariates covariates covariates*visit / DDFM=KR; REPEATED visit /
    SUBJECT=subject TYPE=UN; LSMEANS group*visit / DIFF CL;``. ``visit_interactions`` names
    covariates (numeric or class) that also enter crossed with the visit (the pilot's
    ``BASE*AVISIT``). ``visits`` orders the visits (AR(1) and Toeplitz follow that order; default:
    natural sort of the labels); only records at those visits are used. ``overall`` adds LS means
    and differences averaged over the visits (visit ``"Overall"``, SAS ``LSMEANS group``).
    Records with a missing value in any model variable are left out; each subject may have at
    most one record per visit.
    """
    if covariance not in COVARIANCES:
        raise InvalidInputError(f"covariance must be one of {', '.join(COVARIANCES)}; got {covariance!r}.")
    if df_method not in DF_METHODS:
        raise InvalidInputError(f"df_method must be one of {', '.join(DF_METHODS)}; got {df_method!r}.")
    if information not in ("observed", "expected"):
        raise InvalidInputError(f"information must be one of observed, expected; got {information!r}.")
    if weights not in ("equal", "observed"):
        raise InvalidInputError(f"weights must be one of equal, observed; got {weights!r}.")
    if not 0 < conf_level < 1:
        raise InvalidInputError(f"conf_level must be within (0, 1); got {conf_level!r}.")
    if not isinstance(data, pd.DataFrame):
        raise InvalidInputError(f"data must be a pandas DataFrame; got {type(data).__name__}.")
    numeric = [c for c in covariates if c not in class_covariates]
    classes = [group, visit, *(c for c in class_covariates if c not in (group, visit))]
    used = list(dict.fromkeys([subject, response, *classes, *numeric, *visit_interactions]))
    for v in used:
        if v not in data.columns:
            raise DataValidationError(f"{dataset}: variable {v} is missing; the MMRM uses {', '.join(used)}.")
    for v in visit_interactions:
        if v not in classes and v not in numeric:
            raise InvalidInputError(f"visit_interactions must name covariates of the model; {v!r} is not "
                                    "one.")
    df = data[used].copy()
    for c in [*classes, subject]:
        df[c] = _text_levels(df[c]).where(df[c].notna())
    for c in [response, *numeric]:
        df[c] = pd.to_numeric(df[c], errors="coerce")
    df = df.dropna()
    df = df[(df[classes].apply(lambda s: s.str.strip() != "")).all(axis=1)]
    vis_levels = tuple(str(v) for v in visits) if visits is not None else tuple(
        sorted(df[visit].unique(), key=_visit_key))
    df = df[df[visit].isin(vis_levels)]
    if df.empty:
        raise NotEstimableError(f"{dataset}: no complete records for the MMRM of {response} by {group} and "
                                f"{visit}.")
    vis_levels = tuple(v for v in vis_levels if v in set(df[visit]))
    dup = df.duplicated([subject, visit])
    if dup.any():
        row = df.loc[dup].iloc[0]
        raise DataValidationError(f"{dataset}: USUBJID {row[subject]} has more than one record at {visit} "
                                  f"{row[visit]!r}; the MMRM needs one record per subject and visit.")
    present = sorted(df[group].unique())
    glevels = tuple(str(x) for x in levels if str(x) in present) if levels is not None else tuple(present)
    missing = [g for g in present if g not in glevels]
    if missing:
        raise InvalidInputError(f"levels of {group} must include every value in the data; {missing[0]!r} is "
                                f"not among {', '.join(glevels)}.")
    if len(glevels) < 2:
        raise NotEstimableError(f"{dataset}: {group} must have at least 2 levels with records; got "
                                f"{', '.join(glevels) or 'none'}.")
    ref = glevels[0] if reference is None else str(reference)
    if ref not in glevels:
        # a reference without records (an empty arm of a small trial; a plan's comparator is checked
        # to be a level of the group before any statistic): nothing to compare with
        raise NotEstimableError(f"reference must be one of {', '.join(glevels)} (the levels with records); "
                                f"got {reference!r}.")
    cells = df.groupby([group, visit]).size()
    for g, v in itertools.product(glevels, vis_levels):
        if cells.get((g, v), 0) == 0:
            raise NotEstimableError(f"{dataset}: no {response} record for {group} {g!r} at {visit} {v!r}; "
                                      "every group needs records at every visit of the MMRM.")

    class_levels = {c: (glevels if c == group else vis_levels if c == visit
                        else tuple(sorted(df[c].unique()))) for c in classes}
    inter = ((group, visit), *((c, visit) for c in visit_interactions if c != group))
    design = _Design(class_levels, tuple(numeric), tuple(inter), {v: float(df[v].mean()) for v in numeric})
    frame = {c: df[c].to_numpy() for c in df.columns}
    x, slices = design.matrix(frame, len(df))
    p = x.shape[1]
    if np.linalg.matrix_rank(x) < p:
        raise NotEstimableError(f"{dataset}: the MMRM fixed effects are not of full rank on the {len(df)} "
                                  "records (an interaction cell is empty or a covariate is collinear).")
    y = df[response].to_numpy(float)
    subj_codes, subj_uniq = pd.factorize(df[subject])
    vis_codes = pd.Index(vis_levels).get_indexer(df[visit])
    t = len(vis_levels)
    struct = _STRUCTURES[covariance](t)
    pats = _patterns(x, y, subj_codes, vis_codes, t)
    reml = _Reml(pats, struct, len(df), p)
    if len(df) - p < len(struct.names):
        raise NotEstimableError(f"{dataset}: {len(df)} records cannot support {p} fixed effects and the "
                                f"{len(struct.names)} covariance parameters of {covariance}.")

    start = _start_covariance(x, y, subj_codes, vis_codes, t)
    theta, iters = _fit_theta(reml, struct.phi_start(start))
    pc = reml.pieces(theta)
    beta, phi = pc["beta"], pc["phi"]
    info = pc[information]
    w = np.linalg.pinv(info)
    phi_a = _kr_adjusted(phi, pc["P"], pc["Q"], pc["R"], w) if df_method == "kenward_roger" else phi

    # reference grid: every (visit, group) row averaged over the other class variables
    lrows = _lsmean_rows(df, design, group, visit, glevels, vis_levels, weights)
    counts = df.groupby([visit, group]).size()

    def infer(l_vec):
        """Estimate, SE (KR-adjusted for kenward_roger), df, t, p, CI of l b."""
        est = float(l_vec @ beta)
        se = float(np.sqrt(max(float(l_vec @ phi_a @ l_vec), 0.0)))
        dof = float(len(df) - p) if df_method == "residual" else _df_satterthwaite(l_vec, phi, pc["P"], w)
        return (est, se, dof, *_t_inference(est, se, dof, conf_level))

    lsmeans: list[MmrmLSMean] = []
    diffs: list[MmrmDifference] = []
    vis_all = [*vis_levels, *([OVERALL] if overall else [])]
    for v in vis_all:
        rows = {g: (lrows[(v, g)] if v != OVERALL else np.mean([lrows[(u, g)] for u in vis_levels], axis=0))
                for g in glevels}
        for g in glevels:
            est, se, dof, _, _, lo, hi = infer(rows[g])
            n = int(counts.get((v, g), 0)) if v != OVERALL else int(df.loc[df[group] == g, subject].nunique())
            lsmeans.append(MmrmLSMean(v, g, n, est, se, dof, lo, hi, conf_level))
        for g in glevels:
            if g == ref:
                continue
            est, se, dof, tval, pval, lo, hi = infer(rows[g] - rows[ref])
            diffs.append(MmrmDifference(v, g, ref, est, se, dof, tval, pval, lo, hi, conf_level))
    type3 = []
    for term, sl in zip(design.terms, slices, strict=True):
        lmat = np.eye(p)[sl]
        if lmat.shape[0] == 0:
            continue
        num, den, f, pval = _f_test(lmat, beta, phi, phi_a, pc["P"], w, df_method, len(df) - p)
        type3.append(MmrmType3("*".join(term), num, den, f, pval))
    sig = struct.sigma(theta)
    return MmrmResult(
        response=response, group=group, visit_var=visit, levels=glevels, visits=vis_levels,
        covariance=covariance, df_method=df_method, information=information, weights=weights,
        n_subjects=len(subj_uniq), n_obs=len(df), n_params=int(p),
        neg2_reml_loglik=float(pc["neg2ll"]), theta_names=tuple(struct.names),
        theta=tuple(float(v) for v in theta),
        covariance_matrix=tuple(tuple(float(v) for v in r) for r in sig),
        lsmeans=tuple(lsmeans), differences=tuple(diffs), iterations=iters,
        gradient_norm=float(np.max(np.abs(pc["grad"]))), type3=tuple(type3), conf_level=conf_level)


def _start_covariance(x, y, subj, vis, t) -> np.ndarray:
    """Pairwise-complete covariance of OLS residuals over the visits, made positive definite."""
    beta, *_ = np.linalg.lstsq(x, y, rcond=None)
    r = y - x @ beta
    n_subj = int(subj.max()) + 1
    wide = np.full((n_subj, t), np.nan)
    wide[subj, vis] = r
    ok = np.isfinite(wide)
    z = np.where(ok, wide, 0.0)
    cnt = ok.T.astype(float) @ ok.astype(float)
    cov = (z.T @ z) / np.maximum(cnt, 1.0)
    vals, vecs = np.linalg.eigh(cov)
    floor = max(float(np.mean(np.diag(cov))), 1e-8) * 1e-3
    return (vecs * np.maximum(vals, floor)) @ vecs.T


def _lsmean_rows(df: pd.DataFrame, design: _Design, group: str, visit: str, glevels: Sequence[str],
                 vlevels: Sequence[str], weights: str) -> dict[tuple[str, str], np.ndarray]:
    """Design rows L with LS mean = L b for each (visit, group): averaged over the grid of the
    other class variables (equal weights, or observed margins), numeric covariates at their mean."""
    others = [c for c in design.classes if c not in (group, visit)]
    combos: list[tuple[str, ...]] = (list(itertools.product(*(design.classes[c] for c in others)))
                                     if others else [()])
    if weights == "observed" and others:
        freq = df.groupby(others).size()
        w = np.array([float(freq.get(c[0] if len(c) == 1 else c, 0)) for c in combos])
    else:
        w = np.ones(len(combos))
    w = w / w.sum()
    ng = len(combos)
    out = {}
    for v, g in itertools.product(vlevels, glevels):
        frame: dict[str, np.ndarray] = {group: np.array([g] * ng, dtype=object),
                                        visit: np.array([v] * ng, dtype=object)}
        for j, c in enumerate(others):
            frame[c] = np.array([combo[j] for combo in combos], dtype=object)
        for cov, mean in design.numeric_means.items():
            frame[cov] = np.full(ng, mean)
        xg, _ = design.matrix(frame, ng)
        out[(v, g)] = w @ xg
    return out
