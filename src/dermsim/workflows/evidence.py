"""The evidence library as the command line and the app show it: the typed loader and its result
types, re-exported (reading published facts needs no orchestration)."""

from __future__ import annotations

from dermsim.evidence import (
    AERow,
    EndpointResult,
    Evidence,
    Fact,
    PooledData,
    Source,
    Trial,
    count_by_status,
    get_trial,
    iter_cited,
    load_evidence,
)

__all__ = ["AERow", "EndpointResult", "Evidence", "Fact", "PooledData", "Source", "Trial", "count_by_status",
           "get_trial", "iter_cited", "load_evidence"]
