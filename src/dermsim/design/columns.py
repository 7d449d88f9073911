"""The columns of a design run's per-replicate results (one row per design, replicate and
hypothesis) with their DuckDB types: what :mod:`~dermsim.design.replicate` produces and
:mod:`~dermsim.design.storage` stores. Its own module so that neither of those imports the other
for it (the simulation opens a store; the store never needs the simulation).
"""

from __future__ import annotations

__all__ = ["RESULT_COLUMNS"]

RESULT_COLUMNS: dict[str, str] = {
    "design_id": "VARCHAR",
    "replicate": "BIGINT",
    "hypothesis": "INTEGER",
    "endpoint": "VARCHAR",
    "treatment": "VARCHAR",
    "control": "VARCHAR",
    "estimate": "DOUBLE",
    "se": "DOUBLE",
    "ci_lower": "DOUBLE",
    "ci_upper": "DOUBLE",
    "p_value": "DOUBLE",
    "rate_treatment": "DOUBLE",
    "rate_control": "DOUBLE",
    "n_treatment": "INTEGER",
    "n_control": "INTEGER",
    "reject": "BOOLEAN",
    "success": "BOOLEAN",
    "truth": "DOUBLE",
    "param_draw": "INTEGER",
    "seed_entropy": "VARCHAR",
    "seed_spawn_key": "VARCHAR",
}
