"""Evidence keys for the clinic: every number a clinic output shows names the cited entry it came
from as ``"<file>:<dotted key>"`` (e.g. ``"label.toml:facts.max_bsa_pct"``), resolvable here.

Model outputs (predicted blood levels) are not evidence; they carry keys ``"model:<name>"`` and
name the parameter set that produced them instead of a citation.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from dermsim.errors import InvalidInputError
from dermsim.evidence import Evidence, iter_cited, load_evidence

MODEL_PREFIX = "model:"
INPUT_PREFIX = "input:"


@dataclass(frozen=True)
class Cite:
    """Where a number comes from: its key, status and the full citation text(s)."""

    key: str
    status: str
    source_keys: tuple[str, ...]
    citations: tuple[str, ...]

    @property
    def shareable(self) -> bool:
        """C (confirmed) and D (derived from confirmed) numbers may be shown to families."""
        return self.status in ("C", "D")

    def to_dict(self) -> dict[str, Any]:
        return {"key": self.key, "status": self.status, "source_keys": list(self.source_keys),
                "citations": list(self.citations)}


def _families(ev: Evidence) -> dict[str, Any]:
    fams = dict(ev.families())
    fams["charts.toml"] = ev.charts
    return fams


_CACHE: dict[int, tuple[Evidence, dict[str, tuple[Any, dict[str, Any]]]]] = {}


def _index(ev: Evidence) -> dict[str, tuple[Any, dict[str, Any]]]:
    # Evidence holds dicts (unhashable): cache by identity, keeping the object alive with it.
    hit = _CACHE.get(id(ev))
    if hit is not None and hit[0] is ev:
        return hit[1]
    out: dict[str, tuple[Any, dict[str, Any]]] = {}
    for fname, model in _families(ev).items():
        sources = getattr(model, "sources", {})
        for dotted, item in iter_cited(model):
            out[f"{fname}:{dotted}"] = (item, sources)
    _CACHE[id(ev)] = (ev, out)
    return out


def evidence_keys(ev: Evidence | None = None) -> frozenset[str]:
    """Every resolvable evidence key."""
    return frozenset(_index(ev or load_evidence()))


def cite(key: str, ev: Evidence | None = None) -> Cite:
    """The status and citations of evidence key ``key``; unknown keys raise InvalidInputError."""
    idx = _index(ev or load_evidence())
    if key not in idx:
        raise InvalidInputError(f"evidence key must name a cited entry (file:dotted.key); got {key!r}.")
    item, sources = idx[key]
    keys = tuple(s.strip() for s in item.source.split(";"))
    return Cite(key=key, status=item.status, source_keys=keys,
                citations=tuple(sources[k].citation for k in keys if k in sources))


def item(key: str, ev: Evidence | None = None) -> Any:
    """The cited object (Fact, EndpointResult, AERow ...) at ``key``."""
    cite(key, ev)
    return _index(ev or load_evidence())[key][0]


def key_of(obj: Any, ev: Evidence | None = None) -> str:
    """The evidence key of a cited object obtained from ``ev`` (identity lookup)."""
    for k, (it, _) in _index(ev or load_evidence()).items():
        if it is obj:
            return k
    raise InvalidInputError("key_of: the object is not a cited entry of the evidence library.")
