"""L4: calibration of the model to published trials and honest validation by held-out prediction.

* :mod:`.targets` - the arm-level and PK summaries fitted (each read from the evidence library);
* :mod:`.priors` - the calibrated parameters, their priors, and the map onto model parameters;
* :mod:`.summaries` - simulated summaries of candidate parameter sets (common random numbers);
* :mod:`.smc` - a vectorised ABC-SMC (adaptive population Monte Carlo), resumable;
* :mod:`.posterior` - the versioned posterior file and ``default_posterior()``;
* :mod:`.diagnostics` - posterior predictive checks, correlations, identifiability;
* :mod:`.validate` - the validation ladder (cross-prediction, held-out TRuE-AD3, pediatric PK);
* :mod:`.mechanism` - single-pathway block questions at the same local exposure.
"""
