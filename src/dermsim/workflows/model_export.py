"""The model as a pharmacometrician takes it elsewhere: the annotated parameter table and a virtual
patient as SBML/Antimony, both under the parameters a simulation uses (``--posterior``: the shipped
posterior, the prior or a posterior file, resolved by the one rule :func:`resolve_model`)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from dermsim._validate import check_choice
from dermsim.calibration.posterior import ResolvedModel
from dermsim.model.parameters import GROUPS, ParameterSet
from dermsim.model.pharmacology.regimen import Regimen
from dermsim.workflows.model import course_regimen, parameters_from, resolve_model
from dermsim.workflows.outputs import check_out, output_file

__all__ = ["ParameterTable", "PatientExport", "export_patient_model", "model_parameters", "parameters_label"]


def parameters_label(model: ResolvedModel) -> str:
    """One line saying which parameters a result used (written into exported files)."""
    prov = model.provenance()
    if model.posterior is None:
        return str(prov["parameters"])
    return (f"posterior {prov['posterior_version']} ({prov['parameters']}; file {prov['posterior_file']}, "
            f"sha256 {str(prov['posterior_sha256'])[:12]}...)")


def _model_parameters(model: ResolvedModel, params_dir: str | Path | None) -> ParameterSet:
    return model.parameters if model.parameters is not None else parameters_from(params_dir)


def _calibrated_fields(model: ResolvedModel) -> dict[str, list[str]]:
    """model parameter name -> the fields ("value", "omega") the posterior sets."""
    out: dict[str, list[str]] = {}
    if model.posterior is not None:
        for p in model.posterior.prior.parameters:
            if p.model_name and p.field in ("value", "omega"):
                out.setdefault(p.model_name, []).append(p.field)
    return out


@dataclass(frozen=True)
class ParameterTable:
    """The annotated parameters under ``model``: ``frame`` (one row per parameter, with ``from``:
    which fields the posterior sets), ``data`` ({group: {name: spec}}) and where they came from."""

    frame: pd.DataFrame
    data: dict[str, dict[str, dict[str, Any]]]
    model: ResolvedModel

    @property
    def label(self) -> str:
        return parameters_label(self.model)


def model_parameters(group: str = "all", params_dir: str | Path | None = None, *,
                     posterior: str | Path = "shipped") -> ParameterTable:
    """The annotated parameters of ``group`` (``all`` or one of GROUPS) as a simulation with
    ``posterior`` uses them (default: the shipped posterior's weighted median, as ``dermsim simulate``)."""
    check_choice("--group", group, ("all", *GROUPS))
    model = resolve_model(posterior, params_dir=params_dir)
    ps = _model_parameters(model, params_dir)
    calibrated = _calibrated_fields(model)
    version = model.posterior.version if model.posterior is not None else ""

    def origin(name: str) -> str:
        fields = calibrated.get(name)
        return f"posterior {version}: {' and '.join(fields)}" if fields else "parameter file"

    frame = ps.to_frame()
    frame["from"] = [origin(n) for n in frame["name"]]
    data = ps.to_dict()
    for params in data.values():
        for name, spec in params.items():
            spec["from"] = origin(name)
    if group != "all":
        frame = frame[frame["group"] == group].reset_index(drop=True)
        data = {group: data[group]}
    return ParameterTable(frame, data, model)


@dataclass(frozen=True)
class PatientExport:
    out: Path
    fmt: str
    text: str
    model: ResolvedModel
    regimen: Regimen


def export_patient_model(
    out: str | Path,
    *,
    fmt: str = "sbml",
    strength: float = 1.5,
    interval_h: float = 8.0,
    seed: int = 1,
    typical: bool = False,
    age_y: float = 6.5,
    weight_kg: float = 22.0,
    height_cm: float = 118.0,
    affected_pct: float = 10.5,
    easi0: float = 8.6,
    iga0: int = 3,
    nrs0: float = 5.0,
    grams: float | None = None,
    params_dir: str | Path | None = None,
    posterior: str | Path = "shipped",
    regimen_file: str | Path | None = None,
    overwrite: bool = False,
) -> PatientExport:
    """One virtual patient (parameters under ``posterior``, baseline steady state, the regimen as
    events; EASI, latent IGA, IGA and NRS as assignment rules) as SBML or Antimony. The regimen is
    twice daily at ``strength`` or the schedule of ``regimen_file`` (periods, holidays, weekdays,
    as-needed rules)."""
    from dermsim.model.sbml import antimony_to_sbml, build_patients_antimony
    from dermsim.model.simulate import make_patient

    check_choice("--format", fmt, ("sbml", "antimony"))
    out = Path(out)
    regimen = course_regimen(strength, interval_h=interval_h, grams=grams, regimen_file=regimen_file)
    check_out(out, overwrite=overwrite, kind="file")
    patient = make_patient(age_y=age_y, weight_kg=weight_kg, height_cm=height_cm, affected_pct=affected_pct,
                           easi0=easi0, iga0=iga0, nrs0=nrs0)
    model = resolve_model(posterior, params_dir=params_dir)
    ps = _model_parameters(model, params_dir)
    label = parameters_label(model)
    if typical:
        ps = ps.replace_omegas(**{name: 0.0 for name in ps.names()})
        label += "; typical patient (no IIV draw)"
    else:
        label += f"; IIV draw of seed {seed}"
    text = build_patients_antimony(patient, regimen, seed, params=ps, parameters_label=label)[0]
    if fmt == "sbml":
        text = antimony_to_sbml(text)
    with output_file(out, overwrite=overwrite) as tmp:
        tmp.write_text(text)
    return PatientExport(out, fmt, text, model, regimen)
