"""The application layer: one function per user task, between the user interfaces (``cli``, ``app``)
and the domain packages.

Each workflow takes typed inputs and returns a frozen, typed result; long ones report through a
:class:`Progress` and stop at the next chunk or replicate when their :class:`CancelToken` is
cancelled. Everything a user interface needs is importable from here (the import contract in
``pyproject.toml`` lets ``cli`` and ``app`` import nothing else of dermsim but ``errors``):

======================  ========================================================================
task                    workflow (module)
======================  ========================================================================
model parameters        :func:`resolve_model`, :func:`model_parameters`, :func:`export_patient_model`,
                        :func:`summarize_posterior`
population / course     :func:`check_population`, :func:`simulate_course`
virtual trial           :func:`simulate_study`, :func:`run_virtual_trial`, :func:`rerender_report`
analysis of ADaM        :func:`analyze_adam`, :func:`check_adam`, :func:`convert_adam`
design at scale         :func:`run_design_study`, :func:`run_sample_size_study`, :func:`run_design_sweep`
clinic                  :func:`plan_dose`, :func:`make_family_sheet`, :func:`build_family_sheet`
calibration             :func:`run_calibration`, :func:`preregister`, :func:`validate_model`
evidence                :func:`load_evidence`, :func:`get_trial` (:mod:`dermsim.workflows.evidence`)
======================  ========================================================================
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # the names below, for type checkers; at run time they load on first use
    from dermsim._validate import check_choice
    from dermsim.report.format import fmt_num
    from dermsim.workflows.analysis import (
        AdamCheck,
        AdamFolderCheck,
        AnalysisRun,
        ConvertRun,
        analyze_adam,
        check_adam,
        convert_adam,
        load_analysis_plan,
    )
    from dermsim.workflows.calibration import (
        SHIPPED_SEED,
        CalibrationRun,
        LikelihoodFitOptions,
        default_posterior_out,
        preregister,
        run_calibration,
        validate_model,
    )
    from dermsim.workflows.clinic import (
        DEFAULT_DRAWS,
        DosePlan,
        DosePlanInput,
        FamilySheetRun,
        ScenarioSet,
        build_family_sheet,
        check_language,
        compare_plans,
        compute_benefit_risk,
        dose_card_context,
        dose_input,
        dose_plan_record,
        export_dose_card,
        export_family_sheet,
        make_family_sheet,
        page_size,
        plan_dose,
        run_scenarios,
    )
    from dermsim.workflows.design import (
        DEFAULT_REPLICATE_BLOCK,
        DesignOptions,
        DesignStudy,
        base_design,
        power_designs,
        run_design_study,
        run_design_sweep,
        run_sample_size_study,
    )
    from dermsim.workflows.model import (
        DEFAULT_RECORD,
        GROUPS,
        POSTERIOR_CHOICE_HELP,
        RECORDABLE,
        ResolvedModel,
        TrajectoryRun,
        resolve_model,
        simulate_course,
        simulate_regimen,
    )
    from dermsim.workflows.model_export import (
        ParameterTable,
        PatientExport,
        export_patient_model,
        model_parameters,
    )
    from dermsim.workflows.outputs import OVERWRITE_HELP
    from dermsim.workflows.population import PopulationCheck, builtin_populations, check_population
    from dermsim.workflows.posterior_summary import PosteriorSummary, summarize_posterior
    from dermsim.workflows.progress import NO_PROGRESS, Cancelled, CancelToken, NullProgress, Progress
    from dermsim.workflows.report import SUMMARY_COLUMNS, ReportRun, rerender_report
    from dermsim.workflows.trial import RUN_FORMATS, StudyRun, TrialRun, run_virtual_trial, simulate_study

# name -> (module, attribute): a user interface that asks for one workflow imports that workflow's
# module only (the analysis workflows alone pull in statsmodels, scipy.stats and matplotlib, about
# 2 s), so `dermsim --version` or `dermsim simulate` do not wait for what they never run
_LAZY: dict[str, tuple[str, str]] = {
    "AdamCheck": ("dermsim.workflows.analysis", "AdamCheck"),
    "AdamFolderCheck": ("dermsim.workflows.analysis", "AdamFolderCheck"),
    "AnalysisRun": ("dermsim.workflows.analysis", "AnalysisRun"),
    "CalibrationRun": ("dermsim.workflows.calibration", "CalibrationRun"),
    "CancelToken": ("dermsim.workflows.progress", "CancelToken"),
    "Cancelled": ("dermsim.workflows.progress", "Cancelled"),
    "ConvertRun": ("dermsim.workflows.analysis", "ConvertRun"),
    "DEFAULT_DRAWS": ("dermsim.workflows.clinic", "DEFAULT_DRAWS"),
    "DEFAULT_RECORD": ("dermsim.workflows.model", "DEFAULT_RECORD"),
    "DEFAULT_REPLICATE_BLOCK": ("dermsim.workflows.design", "DEFAULT_REPLICATE_BLOCK"),
    "DesignOptions": ("dermsim.workflows.design", "DesignOptions"),
    "DesignStudy": ("dermsim.workflows.design", "DesignStudy"),
    "DosePlan": ("dermsim.workflows.clinic", "DosePlan"),
    "DosePlanInput": ("dermsim.workflows.clinic", "DosePlanInput"),
    "FamilySheetRun": ("dermsim.workflows.clinic", "FamilySheetRun"),
    "GROUPS": ("dermsim.workflows.model", "GROUPS"),
    "LikelihoodFitOptions": ("dermsim.workflows.calibration", "LikelihoodFitOptions"),
    "NO_PROGRESS": ("dermsim.workflows.progress", "NO_PROGRESS"),
    "NullProgress": ("dermsim.workflows.progress", "NullProgress"),
    "OVERWRITE_HELP": ("dermsim.workflows.outputs", "OVERWRITE_HELP"),
    "POSTERIOR_CHOICE_HELP": ("dermsim.workflows.model", "POSTERIOR_CHOICE_HELP"),
    "ParameterTable": ("dermsim.workflows.model_export", "ParameterTable"),
    "PatientExport": ("dermsim.workflows.model_export", "PatientExport"),
    "PopulationCheck": ("dermsim.workflows.population", "PopulationCheck"),
    "PosteriorSummary": ("dermsim.workflows.posterior_summary", "PosteriorSummary"),
    "Progress": ("dermsim.workflows.progress", "Progress"),
    "RECORDABLE": ("dermsim.workflows.model", "RECORDABLE"),
    "RUN_FORMATS": ("dermsim.workflows.trial", "RUN_FORMATS"),
    "ReportRun": ("dermsim.workflows.report", "ReportRun"),
    "ResolvedModel": ("dermsim.workflows.model", "ResolvedModel"),
    "SHIPPED_SEED": ("dermsim.workflows.calibration", "SHIPPED_SEED"),
    "SUMMARY_COLUMNS": ("dermsim.workflows.report", "SUMMARY_COLUMNS"),
    "ScenarioSet": ("dermsim.workflows.clinic", "ScenarioSet"),
    "StudyRun": ("dermsim.workflows.trial", "StudyRun"),
    "TrajectoryRun": ("dermsim.workflows.model", "TrajectoryRun"),
    "TrialRun": ("dermsim.workflows.trial", "TrialRun"),
    "analyze_adam": ("dermsim.workflows.analysis", "analyze_adam"),
    "base_design": ("dermsim.workflows.design", "base_design"),
    "build_family_sheet": ("dermsim.workflows.clinic", "build_family_sheet"),
    "builtin_populations": ("dermsim.workflows.population", "builtin_populations"),
    "check_adam": ("dermsim.workflows.analysis", "check_adam"),
    "check_choice": ("dermsim._validate", "check_choice"),
    "check_language": ("dermsim.workflows.clinic", "check_language"),
    "check_population": ("dermsim.workflows.population", "check_population"),
    "compare_plans": ("dermsim.workflows.clinic", "compare_plans"),
    "compute_benefit_risk": ("dermsim.workflows.clinic", "compute_benefit_risk"),
    "convert_adam": ("dermsim.workflows.analysis", "convert_adam"),
    "default_posterior_out": ("dermsim.workflows.calibration", "default_posterior_out"),
    "dose_card_context": ("dermsim.workflows.clinic", "dose_card_context"),
    "dose_input": ("dermsim.workflows.clinic", "dose_input"),
    "dose_plan_record": ("dermsim.workflows.clinic", "dose_plan_record"),
    "export_dose_card": ("dermsim.workflows.clinic", "export_dose_card"),
    "export_family_sheet": ("dermsim.workflows.clinic", "export_family_sheet"),
    "export_patient_model": ("dermsim.workflows.model_export", "export_patient_model"),
    "fmt_num": ("dermsim.report.format", "fmt_num"),
    "load_analysis_plan": ("dermsim.workflows.analysis", "load_analysis_plan"),
    "make_family_sheet": ("dermsim.workflows.clinic", "make_family_sheet"),
    "model_parameters": ("dermsim.workflows.model_export", "model_parameters"),
    "page_size": ("dermsim.workflows.clinic", "page_size"),
    "plan_dose": ("dermsim.workflows.clinic", "plan_dose"),
    "power_designs": ("dermsim.workflows.design", "power_designs"),
    "preregister": ("dermsim.workflows.calibration", "preregister"),
    "rerender_report": ("dermsim.workflows.report", "rerender_report"),
    "resolve_model": ("dermsim.workflows.model", "resolve_model"),
    "run_calibration": ("dermsim.workflows.calibration", "run_calibration"),
    "run_design_study": ("dermsim.workflows.design", "run_design_study"),
    "run_design_sweep": ("dermsim.workflows.design", "run_design_sweep"),
    "run_sample_size_study": ("dermsim.workflows.design", "run_sample_size_study"),
    "run_scenarios": ("dermsim.workflows.clinic", "run_scenarios"),
    "run_virtual_trial": ("dermsim.workflows.trial", "run_virtual_trial"),
    "simulate_course": ("dermsim.workflows.model", "simulate_course"),
    "simulate_regimen": ("dermsim.workflows.model", "simulate_regimen"),
    "simulate_study": ("dermsim.workflows.trial", "simulate_study"),
    "summarize_posterior": ("dermsim.workflows.posterior_summary", "summarize_posterior"),
    "validate_model": ("dermsim.workflows.calibration", "validate_model"),
}


def __getattr__(name: str) -> Any:
    try:
        module, attr = _LAZY[name]
    except KeyError:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}") from None
    value = getattr(importlib.import_module(module), attr)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_LAZY])

__all__ = [
    "DEFAULT_DRAWS",
    "DEFAULT_RECORD",
    "DEFAULT_REPLICATE_BLOCK",
    "GROUPS",
    "NO_PROGRESS",
    "OVERWRITE_HELP",
    "POSTERIOR_CHOICE_HELP",
    "RECORDABLE",
    "RUN_FORMATS",
    "SHIPPED_SEED",
    "SUMMARY_COLUMNS",
    "AdamCheck",
    "AdamFolderCheck",
    "AnalysisRun",
    "CalibrationRun",
    "CancelToken",
    "Cancelled",
    "ConvertRun",
    "DesignOptions",
    "DesignStudy",
    "DosePlan",
    "DosePlanInput",
    "FamilySheetRun",
    "LikelihoodFitOptions",
    "NullProgress",
    "ParameterTable",
    "PatientExport",
    "PopulationCheck",
    "PosteriorSummary",
    "Progress",
    "ReportRun",
    "ResolvedModel",
    "ScenarioSet",
    "StudyRun",
    "TrajectoryRun",
    "TrialRun",
    "analyze_adam",
    "base_design",
    "build_family_sheet",
    "builtin_populations",
    "check_adam",
    "check_choice",
    "check_language",
    "check_population",
    "compare_plans",
    "compute_benefit_risk",
    "convert_adam",
    "default_posterior_out",
    "dose_card_context",
    "dose_input",
    "dose_plan_record",
    "export_dose_card",
    "export_family_sheet",
    "export_patient_model",
    "fmt_num",
    "load_analysis_plan",
    "make_family_sheet",
    "model_parameters",
    "page_size",
    "plan_dose",
    "power_designs",
    "preregister",
    "rerender_report",
    "resolve_model",
    "run_calibration",
    "run_design_study",
    "run_design_sweep",
    "run_sample_size_study",
    "run_scenarios",
    "run_virtual_trial",
    "simulate_course",
    "simulate_regimen",
    "simulate_study",
    "summarize_posterior",
    "validate_model",
]
