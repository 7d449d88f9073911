"""The virtual patients: population specs, the laws their marginals are matched with, sampling,
body surface and lesion maps, growth reference, user covariate tables."""
