"""The symbolic equations the SBML export writes (dermsim.model.equations) against the engine.

The traced part (PK, occupancy, disease core, itch, memory) is evaluated at random states and
parameters and must equal the engine's functions; the pieces written by hand (emollient ODE,
observation models) must equal the engine's functions they stand for.
"""

from __future__ import annotations

import numpy as np
import pytest

sympy = pytest.importorskip("sympy", reason="sympy (extra 'sbml') is not installed")

from dermsim.model.disease import dynamics  # noqa: E402
from dermsim.model.disease.itch import compute_itch_placebo  # noqa: E402
from dermsim.model.disease.scores import compute_easi_trajectory, compute_iga_grade, compute_nrs_daily  # noqa: E402
from dermsim.model.equations import EMOLLIENT, PK_STATES, antimony_expr, model_equations  # noqa: E402
from dermsim.model.parameters import default_parameters  # noqa: E402
from dermsim.model.pharmacology import pk  # noqa: E402
from dermsim.model.pharmacology.jak import PATHWAYS, compute_occupancy  # noqa: E402
from dermsim.model.simulate import HOURS_PER_WEEK  # noqa: E402


def _equations():
    ps = default_parameters()
    return model_equations((*ps.group("disease"), "severity0"), tuple(ps.group("itch")),
                           tuple(ps.group("vehicle")))


def _evaluate(eq, env: dict[str, float]) -> dict[str, float]:
    """Every rule and rate of ``eq`` at the numbers in ``env`` (rules in their order)."""
    env = dict(env)
    for name, expr in eq.rules:
        env[name] = float(expr.subs({s: env[s.name] for s in expr.free_symbols}))
    rates = {name: float(expr.subs({s: env[s.name] for s in expr.free_symbols}))
             for name, expr in eq.rates.items()}
    return {**env, **{f"d_{k}": v for k, v in rates.items()}}


def _random_env(rng: np.random.Generator, eq) -> dict[str, float]:
    env = {name: float(rng.uniform(0.2, 2.0)) for name in eq.parameters}
    env.update({f"Imax_{p}": float(rng.uniform(0, 1)) for p in PATHWAYS})
    env.update(m_mem=float(rng.uniform(0, 1)), psi=float(rng.uniform(0, 1)), f_fast=float(rng.uniform(0, 1)))
    env.update({name: float(rng.uniform(0.01, 3.0)) for name in (*PK_STATES, *dynamics.STATES)})
    env["B"] = float(rng.uniform(0.05, 0.95))
    env[EMOLLIENT] = float(rng.uniform(0, 1))
    env["time"] = float(rng.uniform(0, 2000))
    return env


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_traced_rates_equal_the_engines_functions(seed):
    eq = _equations()
    rng = np.random.default_rng(seed)
    env = _random_env(rng, eq)
    got = _evaluate(eq, env)
    a = lambda name: np.array([env[name]])  # noqa: E731
    p = pk.PatientPK(**{f.name: a(f.name) if f.name in env else np.array([1.0])
                        for f in pk.PatientPK.__dataclass_fields__.values()})
    x = np.array([[env[n]] for n in PK_STATES])
    np.testing.assert_allclose([got[f"d_{n}"] for n in PK_STATES], pk.compute_pk_rhs(x, p)[:, 0], rtol=1e-12)
    assert got["cp_nM"] == pytest.approx(pk.compute_plasma_nM(x, p)[0], rel=1e-12)
    u = pk.compute_local_exposure(x, p)
    occ = compute_occupancy(u, env["hill"])
    assert got["occ"] == pytest.approx(occ[0], rel=1e-12)
    imax = np.array([env[f"Imax_{q}"] for q in PATHWAYS])
    y = np.array([[env[n]] for n in dynamics.STATES])
    dp = {k: a(k) for k in (*default_parameters().group("disease"), "severity0")}
    ip = {k: a(k) for k in default_parameters().group("itch")}
    kveh = env["k_v"] * env[EMOLLIENT]
    want = dynamics.compute_rhs(y, dp, ip, imax[:, None] * occ[None, :], kveh)[:, 0] / HOURS_PER_WEEK
    np.testing.assert_allclose([got[f"d_{n}"] for n in dynamics.STATES], want, rtol=1e-10, atol=1e-14)


def test_emollient_ode_is_what_the_engines_exact_step_solves():
    from scipy.integrate import solve_ivp

    eq = _equations()
    rate, tau_rule = eq.rates[EMOLLIENT], dict(eq.rules)["tau_E"]
    vp = {"tau_v": np.array([0.7]), "tau_v_off": np.array([2.5])}
    args = sympy.symbols(f"{EMOLLIENT} drive tau_v tau_v_off")
    by_name = {a.name: a for a in args}
    # same names, assumption-free symbols: lambdify matches by name
    tau_f = sympy.lambdify(args, tau_rule.xreplace({x: by_name[x.name] for x in tau_rule.free_symbols}))
    plain = {x: by_name.get(x.name, sympy.Symbol(x.name)) for x in rate.free_symbols}
    rate_f = sympy.lambdify([*args, sympy.Symbol("tau_E")], rate.xreplace(plain))
    for e0, drive in [(0.0, 1.0), (0.9, 0.0), (0.3, 0.5), (0.8, 0.5)]:
        def f(t, e, drive=drive):
            tau = tau_f(e[0], drive, 0.7, 2.5)
            return [float(rate_f(e[0], drive, 0.7, 2.5, tau))]
        h_hours = 30.0
        sol = solve_ivp(f, (0, h_hours), [e0], rtol=1e-10, atol=1e-12)
        end, _ = dynamics.step_emollient(np.array([e0]), drive, h_hours / HOURS_PER_WEEK, vp)
        assert sol.y[0, -1] == pytest.approx(end[0], abs=1e-8)


def test_observation_rules_equal_the_score_functions():
    eq = _equations()
    rules = dict(eq.rules)
    rng = np.random.default_rng(7)
    obs = {"p_easi": 1.4, "iga_lambda": 0.6, "iga_c1": 1.0, "iga_c2": 3.0, "iga_c3": 8.0, "iga_c4": 25.0}
    for _ in range(8):
        easi0, d0, d = rng.uniform(2, 70), rng.uniform(0.5, 1.5), rng.uniform(0.01, 2.5)
        nrs0, q0, q, t_h = rng.uniform(0, 10), rng.uniform(0.5, 5), rng.uniform(0, 8), rng.uniform(0, 3000)
        offset = rng.normal(0, 0.5)
        env = {**obs, "EASI0": easi0, "severity0": d0, "D": d, "iga_u": offset, "NRS0": nrs0, "Q0": q0,
               "Q": q, "time": t_h, "Pmax_itch": 0.3, "k_pi": 0.8}
        for name in ("EASI", "IGA_z", "IGA", "E_pbo", "NRS_raw", "NRS"):
            env[name] = float(rules[name].subs({s: env[s.name] for s in rules[name].free_symbols}))
        easi = compute_easi_trajectory(np.array([easi0]), np.array([[d]]), obs["p_easi"],
                                       severity0=np.array([d0]))
        assert env["EASI"] == pytest.approx(easi[0, 0], rel=1e-12)
        grade = compute_iga_grade(easi[:, 0], np.array([d / d0]), np.array([offset]), obs)
        assert env["IGA"] == grade[0]
        pbo = compute_itch_placebo(t_h / HOURS_PER_WEEK, {"Pmax_itch": 0.3, "k_pi": 0.8})
        nrs = compute_nrs_daily(np.array([nrs0]), np.array([[q / q0]]), pbo, np.zeros((1, 1)))
        assert env["NRS"] == pytest.approx(nrs[0, 0], rel=1e-12)


def test_antimony_text_uses_sbml_functions_only():
    eq = _equations()
    text = "\n".join([*(antimony_expr(v) for _, v in eq.rules), *map(antimony_expr, eq.rates.values())])
    assert "**" not in text and "Max(" not in text and "Min(" not in text
    assert "log(" not in text.replace("ln(", "")
    assert "piecewise(" in text and "^" in text


def test_export_writes_an_as_needed_rule_as_a_daily_decision():
    from pathlib import Path

    from _vp import make_population

    from dermsim.model.pharmacology.regimen import Regimen
    from dermsim.model.sbml import build_patients_antimony

    reg = Regimen.from_toml(Path(__file__).parents[3] / "examples" / "regimens" / "as_needed_52wk.toml")
    text = build_patients_antimony(make_population(1, seed=1), reg, 1)[0]
    # one decision per day (not one event per day): start at IGA >= 2, stop at 0, gating the doses
    assert text.count("day_tick:") == 1 and "IGA >= 2.0" in text and "IGA > 0.0" in text
    assert text.count("*treating") == 2 and "next_p2_1 < 8736.0" in text
    assert len([ln for ln in text.splitlines() if ": at (" in ln]) == 1 + 2 + 2 + 1  # tick, doses, guard


def test_the_export_follows_the_engines_code(monkeypatch):
    """The equations are generated from the engine's functions, not a copy: change the engine's
    right-hand side and the traced rate changes with it."""
    ps = default_parameters()
    keys = ((*ps.group("disease"), "severity0"), tuple(ps.group("itch")), tuple(ps.group("vehicle")))
    before = model_equations.__wrapped__(*keys).rates["B"]
    engine_rhs = dynamics.compute_rhs

    def changed(y, dp, ip, inhib, kveh):
        out = engine_rhs(y, dp, ip, inhib, kveh)
        out[dynamics.B] = out[dynamics.B] * 2
        return out

    monkeypatch.setattr(dynamics, "compute_rhs", changed)
    after = model_equations.__wrapped__(*keys).rates["B"]
    assert sympy.simplify(after - 2 * before) == 0
