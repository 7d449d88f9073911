# Reference numbers for dermsim.analysis.ancova (tests/reference/test_pilot_ancova_r.py).
# Run: Rscript tests/reference/r/ancova_lsmeans.R [SHARED_DIR [OUT_DIR]]
#   (R 4.2; Debian r-cran-emmeans 1.8, r-cran-car; data ../shared/data/cdisc_pilot and
#   ../shared/reference/camis)
# Writes ancova_lsmeans.csv: case, part, term, level, comparator, stat, value.
# Type III tests by car::Anova(type = 3) with sum-to-zero contrasts (as SAS PROC GLM);
# LS means by emmeans with weights "equal" (SAS default) and "proportional" (SAS LSMEANS / OM).
suppressMessages({library(emmeans); library(car)})
options(contrasts = c("contr.sum", "contr.poly"))
args <- commandArgs(TRUE)
here <- dirname(sub("--file=", "", grep("--file=", commandArgs(FALSE), value = TRUE)))
shared <- if (length(args)) args[1] else file.path(here, "..", "..", "..", "..", "shared")
out_dir <- if (length(args) > 1) args[2] else here
rows <- list()
add <- function(case, part, term, level, comparator, stats) {
  rows[[length(rows) + 1]] <<- data.frame(case = case, part = part, term = term, level = level,
    comparator = comparator, stat = names(stats), value = unname(unlist(stats)))
}
one <- function(case, fit, spec, weights, levels) {
  a <- Anova(fit, type = 3)
  for (t in setdiff(rownames(a), c("(Intercept)", "Residuals")))
    add(case, "type3", t, "", "", list(ss = a[t, "Sum Sq"], df = a[t, "Df"], statistic = a[t, "F value"],
        p_value = a[t, "Pr(>F)"]))
  s <- summary(fit)
  add(case, "model", "", "", "", list(statistic = s$fstatistic[[1]], df = s$fstatistic[[2]],
      df_error = s$fstatistic[[3]], r_squared = s$r.squared, root_mse = s$sigma,
      sse = sum(residuals(fit)^2)))
  for (w in weights) {
    em <- emmeans(fit, spec, weights = w)
    es <- summary(em, infer = TRUE)
    for (i in seq_len(nrow(es))) add(case, paste0("lsmean_", w), "", as.character(es[[spec]][i]), "",
        list(estimate = es$emmean[i], se = es$SE[i], ci_lower = es$lower.CL[i], ci_upper = es$upper.CL[i]))
    pr <- summary(pairs(em, adjust = "none", reverse = FALSE), infer = TRUE)
    for (i in seq_len(nrow(pr))) {
      p <- strsplit(as.character(pr$contrast[i]), " - ", fixed = TRUE)[[1]]
      add(case, paste0("diff_", w), "", p[1], p[2], list(estimate = pr$estimate[i], se = pr$SE[i],
          ci_lower = pr$lower.CL[i], ci_upper = pr$upper.CL[i], statistic = pr$t.ratio[i],
          p_value = pr$p.value[i]))
    }
  }
}

# 1. CDISC pilot t14-3-01: ADAS-Cog(11) ACTOT, Week 24, EFFFL, ANL01FL (LOCF records as in ADADAS)
adas <- read.csv(gzfile(file.path(shared, "data", "cdisc_pilot", "adadas.csv.gz")), na.strings = "",
                 stringsAsFactors = FALSE)
d <- adas[adas$PARAMCD == "ACTOT" & adas$EFFFL == "Y" & adas$ANL01FL %in% "Y" & adas$AVISIT == "Week 24", ]
d$TRTP <- factor(d$TRTP, levels = c("Placebo", "Xanomeline High Dose", "Xanomeline Low Dose"))
d$SITEGR1 <- factor(d$SITEGR1)
one("pilot_main", lm(CHG ~ TRTP + SITEGR1 + BASE, data = d), "TRTP", c("equal", "proportional"))
one("pilot_interaction", lm(CHG ~ TRTP * SITEGR1 + BASE, data = d), "TRTP", c("equal", "proportional"))
dose <- summary(lm(CHG ~ TRTPN + SITEGR1 + BASE, data = d))$coefficients
add("pilot_dose", "slope", "TRTPN", "", "", list(estimate = dose["TRTPN", 1], se = dose["TRTPN", 2],
    statistic = dose["TRTPN", 3], p_value = dose["TRTPN", 4]))

# 2. CAMIS drug_trial.csv with a drug x sex interaction and observed-margin weights
dt <- read.csv(file.path(shared, "reference", "camis", "drug_trial.csv"), stringsAsFactors = TRUE)
one("drug_sex", lm(post ~ drug * sex + pre, data = dt), "drug", c("equal", "proportional"))
# 3. separate slopes (drug x pre): Type III of drug at pre = 0, LS means at the mean of pre
one("drug_pre", lm(post ~ drug * pre, data = dt), "drug", c("equal"))

out <- do.call(rbind, rows)
write.csv(out, file.path(out_dir, "ancova_lsmeans.csv"), row.names = FALSE, na = "")
cat("wrote", nrow(out), "rows\n")
