"""A virtual trial's study files: ``sdtm/`` (DM, EX, QS, AE, DS), ``adam/`` (ADSL, ADEFF, ADAE) and
``define.json``, as labelled datasets and written atomically.

Lives in ``io`` (not the command line) because every caller writes the same folder: ``dermsim trial
simulate``, ``dermsim run`` (through :mod:`dermsim.workflows`) and the benchmark.
"""

from __future__ import annotations

import datetime as _dt
import json
from pathlib import Path
from typing import Any

from dermsim._atomic import atomic_dir
from dermsim.cdisc import adae as _adae
from dermsim.cdisc import adeff as _adeff
from dermsim.cdisc import adsl as _adsl
from dermsim.cdisc.schemas import schema_for, variable_labels
from dermsim.io.adam import write_adam_dir
from dermsim.io.dataset import Dataset, as_dataset
from dermsim.io.define import build_define, write_define_xml
from dermsim.trial import StudyData

__all__ = ["STUDY_FORMATS", "TRIAL_FORMATS", "build_trial_datasets", "write_nonmem_dir", "write_trial_dir"]

STUDY_FORMATS = ("xpt", "json", "parquet")
# what `dermsim trial simulate --format` accepts: the dataset formats, and nonmem (DIR/nonmem/)
TRIAL_FORMATS = (*STUDY_FORMATS, "nonmem")

_SDTM_LABELS = {
    "DM": "Demographics",
    "EX": "Exposure",
    "QS": "Questionnaires",
    "AE": "Adverse Events",
    "DS": "Disposition",
}


def build_trial_datasets(study: StudyData) -> tuple[dict[str, Dataset], dict[str, Dataset]]:
    """(SDTM, ADaM) datasets of ``study`` as labelled :class:`dermsim.io.Dataset` objects."""
    sdtm = {
        name: as_dataset(df, name=name, label=_SDTM_LABELS[name], column_labels=StudyData.labels(df.columns))
        for name, df in study.domains().items()
    }
    adsl = _adsl.derive_adsl(study)
    frames = {
        "ADSL": (adsl, _adsl.EXTRA_LABELS),
        "ADEFF": (_adeff.derive_adeff(study, adsl), _adeff.EXTRA_LABELS),
        "ADAE": (_adae.derive_adae(study, adsl), _adae.EXTRA_LABELS),
    }
    strata = {f.name: f"Randomization Stratum: {f.variable}" for f in study.design.stratification.factors}
    extras = {**_adsl.EXTRA_LABELS, **_adeff.EXTRA_LABELS, **_adae.EXTRA_LABELS, **strata}
    adam = {}
    for name, (df, extra) in frames.items():
        # ADaM IG labels first, then this dataset's own, then the shared extras and SDTM labels
        ig = variable_labels(name)
        labels = {
            c: ig.get(c) or extra.get(c) or extras.get(c) or StudyData.labels([c])[c] for c in df.columns
        }
        adam[name] = as_dataset(df, name=name, label=schema_for(name).label, column_labels=labels)
    return sdtm, adam


def write_nonmem_dir(study: StudyData, folder: Path) -> Path:
    """``folder/nonmem.csv`` (the NONMEM/Monolix dataset of :mod:`dermsim.cdisc.nonmem`),
    ``nonmem_dictionary.csv`` (column, label, unit, values) and ``nonmem.json`` (study, seed, arm
    codes, version)."""
    from dermsim import __version__
    from dermsim.cdisc.nonmem import build_nonmem_dataset

    data, dictionary = build_nonmem_dataset(study)
    folder.mkdir(parents=True, exist_ok=True)
    # shortest round-trip float text, so every value reads back exactly
    data.to_csv(folder / "nonmem.csv", index=False, lineterminator="\n")
    dictionary.to_csv(folder / "nonmem_dictionary.csv", index=False, lineterminator="\n")
    info = {"design": study.design.id, "studyid": study.design.studyid, "seed": study.seed,
            "n_subjects": study.n_subjects, "extension": study.extension, "dermsim_version": __version__,
            "arms": {str(i + 1): {"label": a.label, "armcd": a.armcd, "strength_pct": a.strength_pct,
                                  "application_times_h": list(a.application_times_h)}
                     for i, a in enumerate(study.design.arms)},
            "records": len(data), "files": ["nonmem.csv", "nonmem_dictionary.csv"]}
    (folder / "nonmem.json").write_text(json.dumps(info, indent=2) + "\n", encoding="utf-8")
    return folder


def write_trial_dir(study: StudyData, out: str | Path, formats: str | list[str] = "xpt,json,parquet") -> Path:
    """Write ``out/sdtm``, ``out/adam`` and ``out/define.json`` for ``study`` (atomically) in the
    dataset formats among ``formats``; with ``nonmem`` among them also ``out/nonmem/``."""
    fmts = [f.strip() for f in (formats.split(",") if isinstance(formats, str) else formats) if f.strip()]
    target = Path(out)
    if "nonmem" in fmts:
        fmts = [f for f in fmts if f != "nonmem"]
        if not fmts:
            with atomic_dir(target) as tmp:
                write_nonmem_dir(study, tmp / "nonmem")
            return target
        with atomic_dir(target) as tmp:
            _write_cdisc(study, tmp, fmts)
            write_nonmem_dir(study, tmp / "nonmem")
        return target
    with atomic_dir(target) as tmp:
        _write_cdisc(study, tmp, fmts)
    return target


def _write_cdisc(study: StudyData, tmp: Path, formats: list[str]) -> None:
    sdtm, adam = build_trial_datasets(study)
    # a fixed creation stamp (the design's start date) keeps files byte-identical across runs
    created = _dt.datetime.combine(study.design.study_start, _dt.time(0, 0))
    write_adam_dir(sdtm, tmp / "sdtm", formats, created=created, define=True)
    write_adam_dir(adam, tmp / "adam", formats, created=created, define=True, strict=True)
    # Define-XML 2.1 beside each folder's datasets, validated against the CDISC XSD
    ext = "xpt" if "xpt" in formats else formats[0]
    for standard, group, folder in (("SDTM", sdtm, "sdtm"), ("ADaM", adam, "adam")):
        write_define_xml(
            group, tmp / folder / "define.xml", standard=standard, study=study.design.studyid,
            keys={n: [k for k in (schema_for(n).keys if schema_for(n) else ()) if k in d.data.columns]
                  for n, d in group.items()},
            structures={n: schema_for(n).structure for n in group if schema_for(n)},
            created=created.isoformat(timespec="seconds"), description=study.design.title,
            file_ext="json" if ext == "json" else ext)
    doc: dict[str, Any] = {}
    for standard, group in (("SDTM", sdtm), ("ADaM", adam)):
        part = build_define(
            group,
            standard=standard,
            keys={
                n: [k for k in (schema_for(n).keys if schema_for(n) else ()) if k in d.data.columns]
                for n, d in group.items()
            },
            structures={n: schema_for(n).structure for n in group if schema_for(n)},
        )
        for d in part["datasets"]:
            d["standard"] = standard
            d["folder"] = standard.lower()
        if not doc:
            doc = {**part, "standard": "SDTM-like and ADaM", "datasets": []}
        doc["datasets"].extend(part["datasets"])
    doc["study"] = {
        "design": study.design.id,
        "studyid": study.design.studyid,
        "seed": study.seed,
        "n_subjects": study.n_subjects,
        "extension": study.extension,
    }
    (tmp / "define.json").write_text(
        json.dumps(doc, indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
    )
