"""Help texts of options that several commands share, in a module of their own: a command imports
them without importing another command's module and the workflows that one needs (``dermsim
simulate`` took them from ``cli.model`` and with it the posterior summary and model export, 0.15-0.25 s
of every run's start)."""

from __future__ import annotations

GRAMS_HELP = "cream per application in g (default: fingertip-unit rule on the treated area)"
PARAMS_HELP = "directory of annotated parameter TOML files (default: the package's own)"
REGIMEN_HELP = ("regimen TOML file (examples/regimens/: periods, holidays, weekdays, as-needed rules) "
                "instead of twice daily at --strength")
