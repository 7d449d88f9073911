"""The posterior sample as a versioned file, its loader, and the package's default posterior.

A posterior file (JSON, small) holds: the parameter draws on the natural scale and their
importance weights, the prior they came from, the SHA-256 and version of the targets file, the
code version, the seed and the command that made it, the SMC configuration and tolerance
schedule, and the archive of every evaluated proposal (for cross-prediction by re-weighting).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from dermsim import __version__
from dermsim._atomic import atomic_path
from dermsim._rng import SeedLike, as_generator
from dermsim.calibration.priors import Prior, apply_parameters
from dermsim.calibration.targets import DEFAULT_TARGETS, V2_TARGETS, hash_file
from dermsim.errors import DataValidationError, DermsimError, InvalidInputError
from dermsim.model.parameters import ParameterSet

POSTERIOR_DIR = Path(__file__).parent / "posteriors"
# issue 12: emulator-MCMC posterior on the parameter files with the child cream load (see its diagnostics)
DEFAULT_VERSION = "v2-s20261203"
FORMAT = "dermsim-posterior/1"
_REQUIRED = ("format", "version", "names", "draws", "weights", "prior", "targets_sha256", "code_version",
             "seed", "command")


@dataclass(frozen=True)
class Posterior:
    """Weighted parameter draws (natural scale) and what made them."""

    version: str
    names: tuple[str, ...]
    draws: np.ndarray          # (N, d)
    weights: np.ndarray        # (N,) sum 1
    prior: Prior
    targets_sha256: str
    targets_version: str
    code_version: str
    seed: int
    command: str
    meta: dict[str, Any] = field(default_factory=dict)

    @property
    def n(self) -> int:
        return int(self.draws.shape[0])

    @property
    def ess(self) -> float:
        return float(1.0 / np.sum(self.weights**2))

    def summary(self) -> dict[str, dict[str, float]]:
        """Weighted median and 5-95 % range per parameter."""
        out = {}
        for j, name in enumerate(self.names):
            order = np.argsort(self.draws[:, j])
            cw = np.cumsum(self.weights[order])
            q = [float(self.draws[order, j][np.searchsorted(cw, p)]) for p in (0.05, 0.5, 0.95)]
            out[name] = {"q05": q[0], "median": q[1], "q95": q[2]}
        return out

    def sample_indices(self, n: int, seed: SeedLike) -> np.ndarray:
        """``n`` draw indices resampled by weight."""
        return as_generator(seed).choice(self.n, size=n, p=self.weights)

    def parameter_set(self, index: int | None = None, base: ParameterSet | None = None,
                      design_class: str = "") -> ParameterSet:
        """The model ParameterSet of draw ``index`` (None: the weighted posterior median), applied
        on ``base`` (default: the package's parameter files); ``design_class`` "maxuse" for a
        maximum-use-design prediction (priors.apply_parameters)."""
        if index is None:
            x = np.array([self.summary()[nm]["median"] for nm in self.names])
        else:
            x = self.draws[int(index)]
        return apply_parameters(x, self.prior, base, design_class)

    def to_dict(self) -> dict[str, Any]:
        return {"format": FORMAT, "version": self.version, "names": list(self.names),
                "draws": self.draws.tolist(), "weights": self.weights.tolist(), "prior": self.prior.to_dict(),
                "targets_sha256": self.targets_sha256, "targets_version": self.targets_version,
                "code_version": self.code_version, "seed": self.seed, "command": self.command, **self.meta}

    @classmethod
    def from_dict(cls, data: dict[str, Any], *, where: str = "<dict>") -> Posterior:
        missing = [k for k in _REQUIRED if k not in data]
        if missing:
            raise DataValidationError(f"{where}: posterior file lacks {', '.join(missing)}.")
        if data["format"] != FORMAT:
            raise DataValidationError(f"{where}: format must be {FORMAT}; got {data['format']!r}.")
        draws = np.asarray(data["draws"], float)
        weights = np.asarray(data["weights"], float)
        names = tuple(data["names"])
        prior = Prior.from_dict(data["prior"])
        if draws.ndim != 2 or draws.shape[1] != len(names) or tuple(prior.names) != names:
            raise DataValidationError(f"{where}: draws must have one column per name ({len(names)}); "
                                      f"got shape {draws.shape}.")
        if weights.shape != (draws.shape[0],) or np.any(weights < 0) or not np.all(np.isfinite(draws)):
            raise DataValidationError(f"{where}: weights must be {draws.shape[0]} non-negative numbers and "
                                      "draws finite.")
        if not np.isclose(weights.sum(), 1.0, rtol=1e-6):
            raise DataValidationError(f"{where}: weights must sum to 1; got {weights.sum():.6g}.")
        meta = {k: v for k, v in data.items() if k not in (*_REQUIRED, "targets_version")}
        return cls(version=str(data["version"]), names=names, draws=draws, weights=weights, prior=prior,
                   targets_sha256=str(data["targets_sha256"]),
                   targets_version=str(data.get("targets_version", "")),
                   code_version=str(data["code_version"]),
                   seed=int(data["seed"]), command=str(data["command"]), meta=meta)


def write_posterior(posterior: Posterior, path: str | Path) -> Path:
    path = Path(path)
    with atomic_path(path) as tmp:
        tmp.write_text(json.dumps(posterior.to_dict(), separators=(",", ":")))
    return path


def load_posterior(path: str | Path, *, targets: str | Path | None = "auto") -> Posterior:
    """Read and validate a posterior file; if ``targets`` is given, its SHA-256 must match the one
    recorded (a posterior fitted to other targets is refused). ``"auto"``: the package's default
    targets file of the posterior's method (v2 likelihood fit: targets/v2.toml; ABC-SMC:
    targets/adult_trials.toml)."""
    path = Path(path)
    if not path.exists():
        raise InvalidInputError(f"posterior file {path} does not exist.")
    try:
        data = json.loads(path.read_text())
    except json.JSONDecodeError as exc:
        raise DataValidationError(f"{path.name}: not valid JSON ({exc}).") from None
    post = Posterior.from_dict(data, where=path.name)
    if isinstance(targets, str) and targets == "auto":
        targets = V2_TARGETS if post.meta.get("method") == "laplace-is" else DEFAULT_TARGETS
    if targets is not None:
        sha = hash_file(targets)
        if sha != post.targets_sha256:
            raise DataValidationError(
                f"{path.name}: targets_sha256 {post.targets_sha256[:12]}... does not match "
                f"{Path(targets).name} ({sha[:12]}...); the targets changed since this posterior was made: "
                "recalibrate.")
    return post


def default_posterior_path() -> Path:
    return POSTERIOR_DIR / f"{DEFAULT_VERSION}.json"


_DEFAULT: Posterior | None = None


def default_posterior() -> Posterior:
    """The posterior shipped with the package (used by default by simulations)."""
    global _DEFAULT
    if _DEFAULT is None:
        _DEFAULT = load_posterior(default_posterior_path())
    return _DEFAULT


def posterior_parameters(posterior: str | Path, base: ParameterSet | None = None) -> ParameterSet:
    """Parameters at the weighted posterior median of ``posterior`` ("shipped" or a JSON path)."""
    post = default_posterior() if str(posterior) == "shipped" else load_posterior(posterior)
    return post.parameter_set(None, base)


POSTERIOR_CHOICE_HELP = ("model parameters: 'shipped' (default: the calibrated posterior that ships with "
                         "the package, weighted median), 'prior' (the model's parameter files, "
                         "uncalibrated) or a posterior JSON file")


def resolve_parameters(choice: str | Path, base: ParameterSet | None = None) -> ParameterSet | None:
    """The parameters a simulation uses for a ``--posterior`` choice (see :func:`resolve_model`)."""
    return resolve_model(choice, base).parameters


@dataclass(frozen=True)
class ResolvedModel:
    """The model parameters a simulation uses and where they came from.

    ``parameters`` is ``None`` for the model's own parameter files (``base`` not given);
    ``posterior`` is the posterior the parameters come from (None for the prior); ``fallback``
    says why a requested shipped posterior was not used ("" when it was, or not requested)."""

    choice: str
    parameters: ParameterSet | None
    posterior: Posterior | None
    path: Path | None = None
    sha256: str | None = None
    fallback: str = ""

    @property
    def calibrated(self) -> bool:
        return self.posterior is not None

    def provenance(self) -> dict[str, Any]:
        """The record a run manifest carries (keys in a fixed order)."""
        post = self.posterior
        if post is None:
            why = f"no calibrated posterior: {self.fallback}" if self.fallback else "--posterior prior"
            return {"posterior_version": None, "posterior_sha256": None,
                    "parameters": f"model default parameters ({why})"}
        return {
            "posterior_version": post.version,
            "posterior_sha256": self.sha256,
            "posterior_file": self.path.name if self.path is not None else None,
            "posterior_draws": post.n,
            "posterior_ess": float(post.ess),
            "parameters": "posterior weighted median",
            "calibration_trials": sorted(
                {str(t.get("trial")) for t in post.meta.get("targets", []) if t.get("trial")}),
        }


def resolve_model(choice: str | Path = "shipped", base: ParameterSet | None = None) -> ResolvedModel:
    """The one rule for the model parameters of a simulation.

    ``"prior"``: the parameter files (``base``, or None = the model's own). ``"shipped"``: the
    posterior shipped with the package at its weighted median, applied on ``base``; when the
    package ships none, or the shipped file no longer fits the model (its targets' SHA-256 or the
    SHA-256 of the parameter files it was fitted on differ), the prior is used and ``fallback``
    says why (runs print it and record it in their manifest). A posterior FILE: the same checks,
    but a failing check is an error (the user asked for that file).
    """
    text = str(choice)
    if text == "prior":
        return ResolvedModel("prior", base, None)
    shipped = text == "shipped"
    path = default_posterior_path() if shipped else Path(choice)
    try:
        if shipped and not path.exists():
            raise _Fallback("dermsim ships no posterior file")
        post = default_posterior() if shipped else load_posterior(path)
        fitted_on = post.meta.get("model_parameters_sha256")
        if fitted_on is not None and fitted_on != model_parameters_sha256():
            msg = (f"{path.name} was fitted on other parameter files (model parameter sha256 "
                   f"{str(fitted_on)[:12]}...); recalibrate or use --posterior prior")
            if shipped:
                raise _Fallback(msg)
            raise DataValidationError(msg + ".")
    except _Fallback as why:
        return ResolvedModel("shipped", base, None, fallback=str(why))
    except DermsimError as exc:
        if not shipped:
            raise
        return ResolvedModel("shipped", base, None, fallback=str(exc).rstrip("."))
    params = post.parameter_set(None) if base is None else post.parameter_set(None, base)
    return ResolvedModel("shipped" if shipped else str(path), params, post, path, hash_file(path))


class _Fallback(Exception):
    """Internal: the shipped posterior cannot be used (the message says why)."""


def model_parameters_sha256() -> str:
    """Hash of the model's annotated parameter files as loaded (a posterior is only valid on the
    model parameters it was fitted with)."""
    import hashlib

    from dermsim.model.parameters import default_parameters

    text = json.dumps(default_parameters().to_dict(), sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()


def code_version() -> str:
    """Package version plus the git commit of the source tree when available."""
    import subprocess

    try:
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=Path(__file__).parent,
                                capture_output=True, text=True, timeout=5, check=False).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        commit = ""
    return f"{__version__}+g{commit}" if commit else __version__
