"""The trajectory Parquet is written a table (row group) of patients at a time: the tables, in order,
must be the whole run's table, whatever the number of patients per table."""

from __future__ import annotations

import pyarrow as pa
import pytest

from dermsim.model.pharmacology.regimen import Regimen
from dermsim.workflows.model import _built_ahead, simulate_regimen, trajectory_tables


def test_tables_of_a_few_patients_make_up_the_whole_run() -> None:
    traj, _, pop = simulate_regimen(Regimen(strength_pct=1.5), 3, seed=4, n=7,  # type: ignore[misc]
                                    record=("easi", "cp_nM", "params"), with_population=True)
    whole = list(trajectory_tables(traj, pop, patients_per_table=100))
    parts = list(trajectory_tables(traj, pop, patients_per_table=3))
    assert len(whole) == 1 and [p.num_rows for p in parts] == [12, 12, 4]  # 4 days a patient
    assert pa.concat_tables(parts).equals(whole[0])
    assert whole[0].column("patient").to_pylist()[::4] == list(range(7))
    assert any(name.startswith("param_") for name in whole[0].column_names)


def test_tables_built_ahead_come_in_order_and_a_failure_reaches_the_writer() -> None:
    """The writer builds the next table in a thread while it writes one (_built_ahead): every item,
    in order, then the end; an error raised while building reaches the caller, not the thread."""
    assert list(_built_ahead(iter([None, 0, "a", None]))) == [None, 0, "a", None]

    def failing():
        yield 1
        raise ValueError("table build failed")

    got = []
    with pytest.raises(ValueError, match="table build failed"):
        for item in _built_ahead(failing()):
            got.append(item)
    assert got == [1]
