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

from typing import TYPE_CHECKING

from dermsim._lazy import LazyExports

# The names are loaded on first use (PEP 562), not when the package is imported: importing every
# workflow loaded statsmodels, matplotlib, great_tables, polars and the trial and CDISC layers,
# about 3.4 s, into every `dermsim` process, while `dermsim simulate` needs 0.9 s of it.
# The imports under TYPE_CHECKING name them, for type checkers and for dermsim._lazy.
if TYPE_CHECKING:
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
        CHILDREN_PK_DRAWS,
        SHIPPED_SEED,
        VPC_DRAWS,
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


_LAZY = LazyExports(__file__, globals())
__getattr__ = _LAZY.getattr
__dir__ = _LAZY.dir


__all__ = [
    "CHILDREN_PK_DRAWS",
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
    "VPC_DRAWS",
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
