"""The trajectory Parquet is written a table (row group) of patients at a time: the tables, in order,
must be the whole run's table, whatever the number of patients per table."""

from __future__ import annotations

import pyarrow as pa

from dermsim.model.pharmacology.regimen import Regimen
from dermsim.workflows.model import simulate_regimen, trajectory_tables


def test_tables_of_a_few_patients_make_up_the_whole_run() -> None:
    traj, _, pop = simulate_regimen(Regimen(strength_pct=1.5), 3, seed=4, n=7,  # type: ignore[misc]
                                    record=("easi", "cp_nM", "params"), with_population=True)
    whole = list(trajectory_tables(traj, pop, patients_per_table=100))
    parts = list(trajectory_tables(traj, pop, patients_per_table=3))
    assert len(whole) == 1 and [p.num_rows for p in parts] == [12, 12, 4]  # 4 days a patient
    assert pa.concat_tables(parts).equals(whole[0])
    assert whole[0].column("patient").to_pylist()[::4] == list(range(7))
    assert any(name.startswith("param_") for name in whole[0].column_names)
