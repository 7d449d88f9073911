"""The one error hierarchy of dermsim.

Every error a user can cause derives from :class:`DermsimError`; the CLI turns it into one line on
stderr and exit code 2. Messages name the argument or field, what was expected and what came.
"""

from __future__ import annotations


class DermsimError(Exception):
    """Base class of every error dermsim raises on purpose."""


class InvalidInputError(DermsimError, ValueError):
    """An argument, option or spec field has a value outside what is allowed."""


class DataValidationError(DermsimError, ValueError):
    """A data file or dataset breaks its schema (missing variable, duplicate keys, bad term)."""


class NotEstimableError(DataValidationError, InvalidInputError):
    """The data hold too few subjects, groups or strata for a statistic (a small trial, an empty
    arm). An analysis plan run reports the statistic as missing ("NE" in tables), not as an error."""


class SolverError(DermsimError, RuntimeError):
    """A numerical method failed (no convergence, non-finite state)."""


class DermsimWarning(UserWarning):
    """Base class of dermsim warnings."""
