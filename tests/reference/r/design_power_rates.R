# Reference power and sample size of the two-sided test of two proportions (fixed design), from
# rpact 3.x (normal approximation, pooled variance under H0), for tests/unit/design/test_binomial_power.py.
# Rscript tests/reference/r/design_power_rates.R [OUTDIR]   -> OUTDIR/design_power_rates.csv
suppressMessages(library(rpact))
args <- commandArgs(trailingOnly = TRUE)
outdir <- if (length(args) >= 1) args[[1]] else "tests/reference/r"
cases <- data.frame(
  id = c("a", "b", "c", "d"),
  pi1 = c(0.45, 0.30, 0.50, 0.25),
  pi2 = c(0.30, 0.15, 0.30, 0.25),
  n_total = c(400, 300, 240, 400),
  allocation = c(1, 2, 1, 1)
)
rows <- lapply(seq_len(nrow(cases)), function(i) {
  k <- cases[i, ]
  pw <- getPowerRates(groups = 2, pi1 = k$pi1, pi2 = k$pi2, maxNumberOfSubjects = k$n_total,
                      allocationRatioPlanned = k$allocation, alpha = 0.05, sided = 2)
  ss <- if (k$pi1 != k$pi2) getSampleSizeRates(groups = 2, pi1 = k$pi1, pi2 = k$pi2, alpha = 0.05,
                                               sided = 2, beta = 0.1, allocationRatioPlanned = k$allocation,
                                               normalApproximation = TRUE)$maxNumberOfSubjects else NA
  data.frame(k, power = pw$overallReject, n_total_power90 = ss)
})
out <- do.call(rbind, rows)
write.csv(out, file.path(outdir, "design_power_rates.csv"), row.names = FALSE)
print(out, digits = 10)
