"""The model's equations as symbolic expressions: one source for the SBML/Antimony export.

The export must not be a second transcription of the model (issue 19), so the ODE system is
*traced*: the engine's own functions (:func:`pk.compute_rate_matrix`, :func:`pk.compute_plasma_nM`,
:func:`pk.compute_local_exposure`, :func:`jak.compute_occupancy`, :func:`dynamics.compute_rhs` with the
itch drive and the disease memory inside it, :func:`dynamics.compute_severity`) are called on arrays of
sympy symbols instead of numbers, and what they return is the right-hand side the SBML carries. A
change to any of those functions changes the export with it.

A few pieces cannot be traced because the engine computes them in a form a trace cannot follow; they
are written once here and each is checked against the engine's function on random inputs by
``tests/unit/model/test_equations.py``:

* the emollient state E: the engine advances it by its exact step (:func:`dynamics.step_emollient`);
  here it is the ODE that step solves, dE/dt = (drive - E)/tau, tau = tau_v while E rises and
  tau_v_off while it falls;
* the signalling left free per pathway F_j = 1 - I_j = 1 - Imax_j occ and the vehicle rate
  k_veh = k_v E (one product each);
* the observation models without their residual noise (scores.py clips and compares, which a trace
  cannot follow): EASI = clip(EASI0 (D/D0)^p, 0, 72); the latent IGA
  z = log max(EASI, 0.001) + lambda log(D/D0) + u_i and the grade #{k: z > log c_k}; the itch
  NRS = clip(NRS0 Q/Q0 (1 - E_pbo(t)), 0, 10) with E_pbo = Pmax (1 - exp(-k_pi t)).

Time is in hours (the disease's weekly rates are divided by ``HOURS_PER_WEEK``). sympy is imported
lazily: only the export needs it (extra ``sbml``).
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, fields
from functools import lru_cache
from typing import Any

import numpy as np

from dermsim.errors import SolverError
from dermsim.model.disease import dynamics
from dermsim.model.pharmacology import pk
from dermsim.model.pharmacology.jak import PATHWAYS, compute_occupancy
from dermsim.model.simulate import HOURS_PER_WEEK

PK_STATES = ("A_surf", "A_sc", "A_vs", "A_p", "A_e")  # order pk.SURF, SC, VS, PLASMA, EFF
EMOLLIENT = "E_emol"  # "E" alone reads as Euler's number in some SBML tools
OBSERVABLES = ("cp_nM", "u", "occ", "D", "EASI", "IGA_z", "IGA", "NRS", EMOLLIENT)


class _Sym:
    """A sympy expression that numpy object arrays can carry through the engine's functions.

    sympy does the algebra; this wrapper only adds what numpy's object loops call by name (``exp``,
    ``log``) and comparisons that answer True/False when sympy can decide them from the symbols'
    signs (``np.maximum(u, 0)`` with u >= 0), and fail loudly otherwise (the trace must never guess
    a branch).
    """

    __slots__ = ("e",)

    def __init__(self, e: Any) -> None:
        import sympy

        self.e = sympy.sympify(e)

    def exp(self) -> _Sym:
        import sympy

        return _Sym(sympy.exp(self.e))

    def log(self) -> _Sym:
        import sympy

        return _Sym(sympy.log(self.e))

    def __neg__(self) -> _Sym:
        return _Sym(-self.e)

    def __eq__(self, other: object) -> bool:  # structural (``hill == 1.0`` is False for a symbol)
        return isinstance(other, _Sym) and bool(self.e == other.e)

    def __hash__(self) -> int:
        return hash(self.e)


def _unwrap(v: Any) -> Any:
    return v.e if isinstance(v, _Sym) else v


def _binary(op: Callable[[Any, Any], Any], reflected: bool) -> Callable[[_Sym, Any], Any]:
    def method(self: _Sym, other: Any) -> Any:
        if isinstance(other, np.ndarray):
            return NotImplemented  # numpy then applies the operator element by element
        a, b = (_unwrap(other), self.e) if reflected else (self.e, _unwrap(other))
        return _Sym(op(a, b))
    return method


def _compare(op: Callable[[Any, Any], Any]) -> Callable[[_Sym, Any], bool]:
    def method(self: _Sym, other: Any) -> bool:
        import sympy

        verdict = op(self.e, _unwrap(other))
        if verdict in (sympy.true, sympy.false):
            return bool(verdict)
        raise SolverError(f"tracing the model's equations met a comparison it cannot decide: {verdict}.")
    return method


for _name, _op in (("add", operator.add), ("sub", operator.sub), ("mul", operator.mul),
                   ("truediv", operator.truediv), ("pow", operator.pow)):
    setattr(_Sym, f"__{_name}__", _binary(_op, reflected=False))
    setattr(_Sym, f"__r{_name}__", _binary(_op, reflected=True))
for _name, _op in (("ge", operator.ge), ("gt", operator.gt), ("le", operator.le), ("lt", operator.lt)):
    setattr(_Sym, f"__{_name}__", _compare(_op))


def _symbols(names: Iterable[str], **assumptions: bool) -> dict[str, np.ndarray]:
    """name -> one-patient object array (1,) holding the symbol ``name``."""
    import sympy

    return {n: np.array([_Sym(sympy.Symbol(n, **assumptions))], dtype=object) for n in names}


def _expr(a: Any) -> Any:
    """The sympy expression of a traced one-patient result, with integral floats (the engine's
    1.0, 4.0) as integers so they print as written."""
    import sympy

    e = _unwrap(np.asarray(a, dtype=object).reshape(-1)[0])
    e = sympy.sympify(e)
    return e.xreplace({f: sympy.Integer(int(f)) for f in e.atoms(sympy.Float) if float(f).is_integer()})


@dataclass(frozen=True)
class Equations:
    """The model as symbolic equations (hours): ``rates`` d/dt of every state; ``rules`` named
    assignment rules in dependence order (``w*``: common subexpressions of the traced rates);
    ``parameters`` the names of every free symbol the patient must give a number to."""

    states: tuple[str, ...]
    rates: dict[str, Any]
    rules: tuple[tuple[str, Any], ...]
    parameters: tuple[str, ...]
    traced: frozenset[str]        # states and rules generated from the engine's functions


@lru_cache(maxsize=8)
def model_equations(disease_names: tuple[str, ...], itch_names: tuple[str, ...],
                    vehicle_names: tuple[str, ...]) -> Equations:
    """The equations for parameter dicts with these keys (``PreparedPatients.disease``, ``.itch``,
    ``.vehicle``): the keys decide which terms the engine's functions take (e.g. the memory)."""
    import sympy

    t0 = sympy.Symbol("time", nonnegative=True)
    # --- PK: traced -----------------------------------------------------------------------------
    pk_fields = {f.name for f in fields(pk.PatientPK)}
    pp = pk.PatientPK(**{k: v for k, v in _symbols(pk_fields, positive=True).items()})
    amounts = np.stack([v for v in _symbols(PK_STATES, nonnegative=True).values()])  # (5, 1)
    K = pk.compute_rate_matrix(pp)
    pk_rates = np.einsum("ijn,jn->in", K, amounts)
    rules: list[tuple[str, Any]] = [
        ("cp_nM", _expr(pk.compute_plasma_nM(amounts, pp))),
        ("u", _expr(pk.compute_local_exposure(amounts, pp))),
    ]
    u = _symbols(["u"], nonnegative=True)["u"]
    hill = _Sym(sympy.Symbol("hill", positive=True))
    rules.append(("occ", _expr(compute_occupancy(u, hill))))
    # --- written here (module docstring), checked against the engine by tests ------------------
    occ = sympy.Symbol("occ", nonnegative=True)
    rules += [(f"F_{name}", 1 - sympy.Symbol(f"Imax_{name}", positive=True) * occ) for name in PATHWAYS]
    e, drive = sympy.Symbol(EMOLLIENT, nonnegative=True), sympy.Symbol("drive", nonnegative=True)
    tau_v = sympy.Symbol("tau_v", positive=True)
    tau_off = sympy.Symbol("tau_v_off", positive=True) if "tau_v_off" in vehicle_names else tau_v
    rules.append(("tau_E", sympy.Piecewise((tau_v, drive >= e), (tau_off, True))))
    rules.append(("k_veh", sympy.Symbol("k_v", positive=True) * e))
    # --- disease core, itch and memory: traced ---------------------------------------------------
    y = np.stack(list(_symbols(dynamics.STATES, nonnegative=True).values()))  # (8, 1)
    dp = _symbols(disease_names, positive=True)
    ip = _symbols(itch_names, positive=True)
    # traced with the free fraction F_j = 1 - I_j of each pathway, so that the rates read as the
    # engine writes them ((1 - I_j) X = F_j X) instead of sympy's -(I_j - 1) X
    free = _symbols([f"F_{p}" for p in PATHWAYS], nonnegative=True)
    inhib = np.stack([1 - free[f"F_{p}"] for p in PATHWAYS])
    kveh = _symbols(["k_veh"], nonnegative=True)["k_veh"]
    dy = dynamics.compute_rhs(y, dp, ip, inhib, kveh)
    rules.append(("D", _expr(dynamics.compute_severity(y))))
    raw = [_expr(dy[k]) / sympy.Integer(int(HOURS_PER_WEEK)) for k in range(dynamics.N_STATES)]
    # the traced rates repeat the cytokine terms many times; name each common part once
    shared, reduced = sympy.cse(raw, symbols=sympy.numbered_symbols("w"), optimizations="basic")
    rules += [(str(name), value) for name, value in shared]
    rates = {name: _expr(pk_rates[k]) for k, name in enumerate(PK_STATES)}
    rates.update({name: reduced[k] for k, name in enumerate(dynamics.STATES)})
    rates[EMOLLIENT] = (drive - e) / sympy.Symbol("tau_E") / sympy.Integer(int(HOURS_PER_WEEK))
    # --- observation models without residual noise (written here, checked by tests) ------------
    sym = sympy.Symbol
    ratio = sym("D", positive=True) / sym("severity0", positive=True)
    easi = sympy.Min(sympy.Max(sym("EASI0", positive=True) * ratio ** sym("p_easi", positive=True), 0), 72)
    rules.append(("EASI", easi))
    z = (sympy.log(sympy.Max(sym("EASI", nonnegative=True), sympy.Float(1e-3)))
         + sym("iga_lambda", real=True) * sympy.log(ratio) + sym("iga_u", real=True))
    rules.append(("IGA_z", z))
    latent = sym("IGA_z", real=True)
    grade = sympy.Add(*[sympy.Piecewise((1, latent > sympy.log(sym(f"iga_c{k}", positive=True))), (0, True))
                        for k in range(1, 5)], evaluate=False)
    rules.append(("IGA", grade))
    weeks = t0 / sympy.Integer(int(HOURS_PER_WEEK))
    pbo = sym("Pmax_itch", positive=True) * (1 - sympy.exp(-sym("k_pi", positive=True) * weeks))
    rules.append(("E_pbo", pbo))
    nrs = (sym("NRS0", nonnegative=True) * sym("Q", nonnegative=True) / sym("Q0", positive=True)
           * (1 - sym("E_pbo")))
    rules.append(("NRS_raw", nrs))
    rules.append(("NRS", sympy.Min(sympy.Max(sym("NRS_raw", real=True), 0), 10)))
    states = (*PK_STATES, *dynamics.STATES, EMOLLIENT)
    defined = set(states) | {name for name, _ in rules} | {"time"}
    free = set()
    for expr in [*rates.values(), *(v for _, v in rules)]:
        free |= {s.name for s in expr.free_symbols}
    traced = frozenset({*PK_STATES, *dynamics.STATES, "cp_nM", "u", "occ", "D",
                        *(str(name) for name, _ in shared)})
    return Equations(states=states, rates=rates, rules=tuple(rules),
                     parameters=tuple(sorted(free - defined)), traced=traced)


def antimony_expr(expr: Any) -> str:
    """Antimony infix text of a sympy expression (``^`` powers, ``ln``, ``piecewise``)."""
    return _printer().doprint(expr)


@lru_cache(maxsize=1)
def _printer() -> Any:
    from sympy.printing.str import StrPrinter

    class AntimonyPrinter(StrPrinter):
        def _print_Pow(self, expr: Any, rational: bool = False) -> str:
            return super()._print_Pow(expr, rational).replace("**", "^")

        def _print_Float(self, expr: Any) -> str:
            return repr(float(expr))

        def _print_Rational(self, expr: Any) -> str:
            return repr(float(expr))

        def _print_log(self, expr: Any) -> str:
            return f"ln({self._print(expr.args[0])})"

        def _print_Piecewise(self, expr: Any) -> str:
            parts: list[str] = []
            for value, cond in expr.args:
                parts.append(self._print(value))
                if cond is not True and str(cond) != "True":
                    parts.append(self._print(cond))
            return f"piecewise({', '.join(parts)})"

        def _minmax(self, args: Sequence[Any], op: str) -> str:
            first, rest = self._print(args[0]), args[1:]
            if not rest:
                return first
            other = self._minmax(rest, op)
            return f"piecewise({first}, {first} {op} {other}, {other})"

        def _print_Max(self, expr: Any) -> str:
            return self._minmax(expr.args, ">")

        def _print_Min(self, expr: Any) -> str:
            return self._minmax(expr.args, "<")

    return AntimonyPrinter()
