"""Stacked parameter rows (model.parameter_rows) equal one simulate_patients call per row."""

from __future__ import annotations

import numpy as np
import pytest

from dermsim.errors import InvalidInputError
from dermsim.model.parameter_rows import endpoints_by_row
from dermsim.model.parameters import default_parameters
from dermsim.model.pharmacology.regimen import Regimen
from dermsim.model.population.sampling import sample_population
from dermsim.model.simulate import simulate_patients


def _rows() -> list:
    base = default_parameters()
    # PK, exposure-response, vehicle and observation parameters all differ between the rows
    changes = [{}, {"Jmax": 3.0, "hill": 0.6, "Imax": 0.7}, {"IC50_skin": 0.2, "k_v": 2.0, "p_easi": 1.1},
               {"iga_c1": 1.5, "iga_sigma_u": 0.5, "psi": 0.9}]
    out = []
    for ch in changes:
        ps = base
        for name, factor in ch.items():
            ps = ps.replace_values(**{name: ps.value(name) * factor if name != "Imax" else factor})
        out.append(ps)
    return out


@pytest.mark.parametrize("engine", ["numpy", "numba"])
def test_each_row_equals_its_own_simulation(engine: str) -> None:
    if engine == "numba":
        pytest.importorskip("numba")
    pop = sample_population("true-ad1", 30, 3)
    reg = Regimen.bid(1.5)
    rows = _rows()
    got = endpoints_by_row(pop, reg, 28, 5, rows, day=28, engine=engine)
    assert got["iga_ts"].shape == (len(rows), 30)
    differ = 0
    for r, ps in enumerate(rows):
        want = simulate_patients(pop, reg, 28, 5, params=ps, record=("easi", "iga", "nrs_weekly"),
                                 engine=engine).endpoints(28)
        for name, v in want.items():
            np.testing.assert_allclose(got[name][r], v, rtol=1e-9, atol=1e-9, equal_nan=True, err_msg=name)
        differ += not np.allclose(got["easi_pct_change"][r], got["easi_pct_change"][0])
    assert differ == len(rows) - 1  # the rows are not one row repeated


def test_rows_that_change_the_as_needed_rule_reading_are_refused() -> None:
    pop = sample_population("true-ad1", 5, 1)
    reg = Regimen.bid(1.5).replace(periods=(
        {"days": 7}, {"days": None, "as_needed": {"metric": "iga", "start_at": 2.0, "stop_at": 0.0}}))
    a = default_parameters()
    b = a.replace_values(iga_c1=1.5 * a.value("iga_c1"))
    with pytest.raises(InvalidInputError, match="as-needed rule on IGA"):
        endpoints_by_row(pop, reg, 14, 1, [a, b], day=14)
