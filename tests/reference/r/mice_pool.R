# Reference numbers for dermsim.analysis.estimands.pool_rubin (Rubin's rules, Barnard-Rubin df).
# Run: Rscript tests/reference/r/mice_pool.R [OUT_DIR]   (R 4.2, mice 3.15.0; Debian r-cran-mice)
# Writes mice_pool_fits.csv (per-imputation estimates and variances of lm(chl ~ age + bmi) on
# mice's nhanes data, m = 5, seed = 1) and mice_pool_pooled.csv (mice::pool on the same fits).
suppressMessages(library(mice))
here <- dirname(sub("--file=", "", grep("--file=", commandArgs(FALSE), value = TRUE)))
if (length(commandArgs(TRUE))) here <- commandArgs(TRUE)[1]
imp <- mice(nhanes, m = 5, seed = 1, printFlag = FALSE)
fit <- with(imp, lm(chl ~ age + bmi))
fits <- do.call(rbind, lapply(seq_along(fit$analyses), function(i) {
  f <- fit$analyses[[i]]
  data.frame(imputation = i, term = names(coef(f)), estimate = unname(coef(f)),
             variance = unname(diag(vcov(f))), df_residual = f$df.residual)
}))
write.csv(fits, file.path(here, "mice_pool_fits.csv"), row.names = FALSE)
pooled <- pool(fit)$pooled
s <- summary(pool(fit), conf.int = TRUE)
out <- data.frame(term = as.character(pooled$term), m = pooled$m, estimate = pooled$estimate,
                  ubar = pooled$ubar, b = pooled$b, t = pooled$t, dfcom = pooled$dfcom,
                  df = pooled$df, riv = pooled$riv, lambda = pooled$lambda, fmi = pooled$fmi,
                  std_error = s$std.error, statistic = s$statistic, p_value = s$p.value,
                  ci_lower = s[["2.5 %"]], ci_upper = s[["97.5 %"]])
write.csv(out, file.path(here, "mice_pool_pooled.csv"), row.names = FALSE)
# pool.scalar with an infinite complete-data df (Rubin 1987 df) on fixed inputs
ps <- pool.scalar(Q = c(1.2, 1.5, 0.9, 1.1), U = c(0.04, 0.05, 0.045, 0.05), n = Inf)
write.csv(data.frame(qbar = ps$qbar, ubar = ps$ubar, b = ps$b, t = ps$t, df = ps$df, r = ps$r,
                     fmi = ps$fmi),
          file.path(here, "mice_pool_scalar.csv"), row.names = FALSE)
