"""DuckDB store of per-replicate results, kill-safe and resumable.

Tables: ``run`` (one row: seed, replicate block, scenario, parameters, package version),
``designs`` (design id -> spec JSON) and ``results`` keyed by (design_id, replicate, hypothesis)
with the seed entropy and spawn key of the replicate's block. Each chunk is inserted in one
transaction, and a chunk holds every hypothesis of its replicates, so a replicate is either
wholly present or absent: a SIGKILL at any moment loses at most the chunk being written (DuckDB's
write-ahead log drops an uncommitted transaction on reopen), and a resumed run asks the store
which replicates it lacks and computes exactly those. The primary key refuses a replicate twice.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from dermsim import __version__
from dermsim._atomic import atomic_path
from dermsim.design.columns import RESULT_COLUMNS
from dermsim.design.spec import AnyDesign, design_from_dict, design_to_json
from dermsim.errors import DataValidationError, InvalidInputError

_DDL = (
    "CREATE TABLE IF NOT EXISTS run (seed_entropy VARCHAR, seed_spawn_key VARCHAR, replicate_block INTEGER,"
    " n_replicates BIGINT, scenario VARCHAR, parameters VARCHAR, version VARCHAR)",
    "CREATE TABLE IF NOT EXISTS designs (design_id VARCHAR PRIMARY KEY, position INTEGER, spec VARCHAR)",
    "CREATE TABLE IF NOT EXISTS results ("
    + ", ".join(f"{k} {v}" for k, v in RESULT_COLUMNS.items())
    + ", PRIMARY KEY (design_id, replicate, hypothesis))",
)


class ResultStore:
    """A DuckDB file of operating-characteristics results (see the module docstring)."""

    def __init__(self, path: str | Path) -> None:
        import duckdb

        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._con = duckdb.connect(str(self.path))
        for sql in _DDL:
            self._con.execute(sql)

    # -- lifecycle ---------------------------------------------------------------------------------
    def close(self) -> None:
        self._con.close()

    def __enter__(self) -> ResultStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def begin_run(
        self,
        *,
        designs: Sequence[AnyDesign],
        n_replicates: int,
        seed: np.random.SeedSequence,
        replicate_block: int,
        scenario: str | None,
        parameters: str,
        resume: bool,
    ) -> None:
        """Record the run; on an existing store require ``resume`` and the same set-up."""
        row = self._con.execute(
            "SELECT seed_entropy, seed_spawn_key, replicate_block, n_replicates, scenario,"
            " parameters FROM run"
        ).fetchone()
        want = (
            str(seed.entropy),
            ",".join(map(str, seed.spawn_key)),
            int(replicate_block),
            int(n_replicates),
            scenario or "",
            parameters,
        )
        if row is not None:
            if not resume:
                raise InvalidInputError(
                    f"store {self.path} already holds a run; pass resume (--resume) to "
                    "continue it or choose a new output directory."
                )
            names = ("seed", "seed spawn key", "replicate_block", "replicates", "scenario", "parameters")
            for name, have, new in zip(names, row, want, strict=True):
                if name == "replicates" and new > have:
                    continue  # more replicates extend the run: their streams are new blocks
                if have != new:
                    raise InvalidInputError(f"resume: {name} must match the stored run ({have}); got {new}.")
            stored = {d: s for d, s in self._con.execute("SELECT design_id, spec FROM designs").fetchall()}
            new_specs = {d.id: design_to_json(d) for d in designs}
            if stored != new_specs:
                raise InvalidInputError(
                    f"resume: designs must match the stored run ({', '.join(stored)}); "
                    f"got {', '.join(new_specs)} or changed specs."
                )
            if want[3] > row[3]:
                self._con.execute("UPDATE run SET n_replicates = ?", [want[3]])
            return
        self._con.begin()
        self._con.execute("INSERT INTO run VALUES (?, ?, ?, ?, ?, ?, ?)", [*want, __version__])
        self._con.executemany(
            "INSERT INTO designs VALUES (?, ?, ?)",
            [[d.id, i, design_to_json(d)] for i, d in enumerate(designs)],
        )
        self._con.commit()

    # -- writing -----------------------------------------------------------------------------------
    def insert_chunk(self, frame: pd.DataFrame) -> None:
        """Insert one chunk's rows in one transaction (all or nothing)."""
        missing = [c for c in RESULT_COLUMNS if c not in frame.columns]
        if missing:
            raise DataValidationError(f"chunk frame lacks columns {missing}.")
        chunk = frame[list(RESULT_COLUMNS)]
        self._con.begin()
        try:
            self._con.register("_chunk", chunk)
            self._con.execute(f"INSERT INTO results SELECT {', '.join(RESULT_COLUMNS)} FROM _chunk")
            self._con.unregister("_chunk")
            self._con.commit()
        except Exception:
            self._con.rollback()
            raise

    # -- reading -----------------------------------------------------------------------------------
    def replicates(self, design_id: str) -> np.ndarray:
        """Replicate indices already stored for ``design_id`` (sorted)."""
        rows = self._con.execute(
            "SELECT DISTINCT replicate FROM results WHERE design_id = ? ORDER BY 1", [design_id]
        ).fetchnumpy()
        return np.asarray(rows["replicate"], dtype=np.int64)

    def n_results(self) -> int:
        """Rows committed so far."""
        return int(self._con.execute("SELECT count(*) FROM results").fetchone()[0])

    def results(self) -> pd.DataFrame:
        return self._con.execute("SELECT * FROM results ORDER BY design_id, replicate, hypothesis").df()

    def designs(self) -> list[AnyDesign]:
        rows = self._con.execute("SELECT spec FROM designs ORDER BY position").fetchall()
        return [design_from_dict(json.loads(s)) for (s,) in rows]

    def run_info(self) -> dict[str, Any]:
        cur = self._con.execute("SELECT * FROM run")
        row = cur.fetchone()
        if row is None:
            return {}
        return dict(zip([c[0] for c in cur.description], row, strict=True))

    def export_parquet(self, path: str | Path) -> Path:
        """Write the results table to Parquet (atomically)."""
        target = Path(path)
        with atomic_path(target) as tmp:
            # the path goes to DuckDB as a value, never pasted into SQL (a quote in it broke the
            # statement; a crafted one could have run SQL)
            self._con.sql("SELECT * FROM results ORDER BY design_id, replicate, hypothesis").write_parquet(
                str(tmp)
            )
        return target
