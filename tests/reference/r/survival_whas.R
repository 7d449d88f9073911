# Reference numbers for dermsim.analysis.survival (tests/reference/test_camis_survival.py).
# Run: Rscript tests/reference/r/survival_whas.R [SHARED_DIR [OUT_DIR]]
#   (R 4.2; Debian r-cran-survival 3.5, r-cran-haven; data ../shared/reference/camis/whas500.sas7bdat)
# Writes survival_whas.csv: part, conf_type, level, time, stat, value.
# Time lenfoly = round(lenfol / 365.25, 2) (half away from zero, as SAS ROUND), event fstat = 1.
suppressMessages({library(survival); library(haven)})
args <- commandArgs(TRUE)
here <- dirname(sub("--file=", "", grep("--file=", commandArgs(FALSE), value = TRUE)))
shared <- if (length(args)) args[1] else file.path(here, "..", "..", "..", "..", "shared")
out_dir <- if (length(args) > 1) args[2] else here
w <- as.data.frame(read_sas(file.path(shared, "reference", "camis", "whas500.sas7bdat")))
round_half_away <- function(x, d) sign(x) * floor(abs(x) * 10^d + 0.5 + 1e-9) / 10^d
w$t <- round_half_away(w$LENFOL / 365.25, 2)
w$e <- as.integer(w$FSTAT == 1)
rows <- list()
add <- function(part, conf, level, time, stats) {
  rows[[length(rows) + 1]] <<- data.frame(part = part, conf_type = conf, level = as.character(level),
    time = time, stat = names(stats), value = unname(unlist(stats)))
}
times <- c(0.5, 1, 2, 3, 5)
for (ct in c("log-log", "log", "plain")) {
  km <- survfit(Surv(t, e) ~ AFB, data = w, conf.type = ct)
  sm <- summary(km, times = times, extend = TRUE)
  st <- sub("AFB=", "", as.character(sm$strata))
  for (i in seq_along(sm$time)) add("survival", ct, st[i], sm$time[i], list(n_risk = sm$n.risk[i],
      estimate = sm$surv[i], se = sm$std.err[i], ci_lower = sm$lower[i], ci_upper = sm$upper[i]))
  q <- quantile(km, probs = c(0.25, 0.5))
  for (lv in c("0", "1")) for (p in c("25", "50")) {
    add(paste0("quantile", p), ct, lv, NA, list(estimate = q$quantile[paste0("AFB=", lv), p],
        ci_lower = q$lower[paste0("AFB=", lv), p], ci_upper = q$upper[paste0("AFB=", lv), p]))
  }
}
for (rho in c(0, 1)) {
  lr <- survdiff(Surv(t, e) ~ AFB, data = w, rho = rho)
  add(paste0("survdiff_rho", rho), "", "", NA, list(statistic = lr$chisq,
      p_value = pchisq(lr$chisq, 1, lower.tail = FALSE)))
}
lr <- survdiff(Surv(t, e) ~ AFB + strata(GENDER), data = w)
add("survdiff_strata_gender", "", "", NA, list(statistic = lr$chisq))
w$MIORD3 <- factor(w$MIORD)
for (ties in c("breslow", "efron")) {
  fit <- coxph(Surv(t, e) ~ factor(AFB, levels = c(1, 0)) + AGE + strata(GENDER), data = w, ties = ties)
  s <- summary(fit)
  for (i in seq_len(nrow(s$coefficients))) add(paste0("cox_", ties), "", rownames(s$coefficients)[i], NA,
      list(coef = s$coefficients[i, 1], se = s$coefficients[i, 3], hazard_ratio = s$conf.int[i, 1],
           ci_lower = s$conf.int[i, 3], ci_upper = s$conf.int[i, 4], p_value = s$coefficients[i, 5]))
  add(paste0("cox_", ties), "", "lr", NA, list(statistic = s$logtest[["test"]], df = s$logtest[["df"]]))
  # fit$score and fit$wald.test: summary() rounds the printed Wald test to 2 decimals
  add(paste0("cox_", ties), "", "score", NA, list(statistic = fit$score))
  add(paste0("cox_", ties), "", "wald", NA, list(statistic = fit$wald.test))
}
out <- do.call(rbind, rows)
write.csv(out, file.path(out_dir, "survival_whas.csv"), row.names = FALSE, na = "")
cat("wrote", nrow(out), "rows\n")
