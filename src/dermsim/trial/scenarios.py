"""Built-in trial designs (``data/scenarios/<name>.toml``) built from the evidence library."""

from __future__ import annotations

from pathlib import Path

from dermsim.errors import InvalidInputError
from dermsim.trial.design import TrialDesign

SCENARIO_DIR = Path(__file__).parent / "data" / "scenarios"


def list_scenarios() -> tuple[str, ...]:
    """Names of the built-in designs (``true-ad1``, ``true-ad2``, ``true-ad3``)."""
    return tuple(sorted(p.stem for p in SCENARIO_DIR.glob("*.toml")))


def load_design(name_or_path: str | Path) -> TrialDesign:
    """A built-in design by name, or a design TOML by path."""
    p = Path(name_or_path)
    if p.suffix == ".toml" or p.exists():
        return TrialDesign.from_toml(p)
    name = str(name_or_path).lower()
    if name not in list_scenarios():
        raise InvalidInputError(
            f"design must be one of {', '.join(list_scenarios())} or a .toml path; got {str(name_or_path)!r}."
        )
    return TrialDesign.from_toml(SCENARIO_DIR / f"{name}.toml")
