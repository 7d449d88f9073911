"""SDTM-like domains of a virtual trial, one module each (DM, EX, QS, AE, DS): each builder takes the
arrays :func:`dermsim.trial.conduct.simulate_trial` drew and returns the domain's frame; none
draws random numbers except AE, from the generator it is given."""

from __future__ import annotations

from dermsim.trial.domains.ae import build_ae
from dermsim.trial.domains.dates import ad_dates
from dermsim.trial.domains.dm import Subjects, build_dm
from dermsim.trial.domains.ds import build_ds
from dermsim.trial.domains.ex import build_ex
from dermsim.trial.domains.qs import EASI_COMPONENTS, build_qs

__all__ = ["EASI_COMPONENTS", "Subjects", "ad_dates", "build_ae", "build_dm", "build_ds", "build_ex",
           "build_qs"]
