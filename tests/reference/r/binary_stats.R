# Independent R (base stats) numbers for dermsim's binary and categorical statistics.
# Run from the repository root:  Rscript tests/reference/r/binary_stats.R
# Writes tests/reference/r/binary_stats.csv (case, stat, value) at full precision.
camis <- Sys.getenv("CAMIS_DIR", "../shared/reference/camis")
d <- read.csv(file.path(camis, "adcibc.csv"), stringsAsFactors = FALSE)
out <- list()
add <- function(case, stat, value) out[[length(out) + 1]] <<- data.frame(case = case, stat = stat, value = value)

# single proportion 36/154 (CAMIS active arm, AVAL > 4)
ct <- binom.test(36, 154)$conf.int
add("prop_36_154", "clopper_pearson_lower", ct[1]); add("prop_36_154", "clopper_pearson_upper", ct[2])
w <- prop.test(36, 154, correct = FALSE)$conf.int
add("prop_36_154", "wilson_lower", w[1]); add("prop_36_154", "wilson_upper", w[2])
wc <- prop.test(36, 154, correct = TRUE)$conf.int
add("prop_36_154", "wilson_cc_lower", wc[1]); add("prop_36_154", "wilson_cc_upper", wc[2])

# edge proportions 0/20 and 20/20
for (x in c(0, 20)) {
  ct <- binom.test(x, 20)$conf.int; w <- prop.test(x, 20, correct = FALSE)$conf.int
  add(paste0("prop_", x, "_20"), "clopper_pearson_lower", ct[1]); add(paste0("prop_", x, "_20"), "clopper_pearson_upper", ct[2])
  add(paste0("prop_", x, "_20"), "wilson_lower", w[1]); add(paste0("prop_", x, "_20"), "wilson_upper", w[2])
}

# 2x2 responders: active 36/154 vs placebo 12/77
tab <- matrix(c(36, 12, 118, 65), 2)
cs <- chisq.test(tab, correct = FALSE); add("rd_2x2", "chisq", cs$statistic); add("rd_2x2", "chisq_p", cs$p.value)
cy <- chisq.test(tab, correct = TRUE); add("rd_2x2", "yates", cy$statistic); add("rd_2x2", "yates_p", cy$p.value)
add("rd_2x2", "fisher_p", fisher.test(tab)$p.value)

# R x C Fisher: small 3 x 3 table, and TRTP x SEX x AGEGR1 >80 stratum as a 3 x 2
t33 <- matrix(c(3, 1, 0, 1, 4, 2, 2, 0, 5), 3)
add("fisher_3x3", "p", fisher.test(t33)$p.value)
t34 <- matrix(c(10, 7, 4, 12, 9, 6, 8, 14, 9, 5, 3, 11), 3)
add("fisher_3x4", "p", fisher.test(t34)$p.value)
s80 <- subset(d, AGEGR1 == ">80")
add("fisher_trtp_sex_gt80", "p", fisher.test(table(s80$TRTP, s80$SEX))$p.value)
add("chisq_trtp_sex", "chisq", chisq.test(table(d$TRTP, d$SEX))$statistic)
add("chisq_trtp_sex", "p", chisq.test(table(d$TRTP, d$SEX))$p.value)

# Migraine (SAS PROC FREQ example): strata sex, rows treatment (Active, Placebo), cols (Better, Same)
mig <- array(c(16, 5, 11, 20, 12, 7, 16, 19), dim = c(2, 2, 2))
m <- mantelhaen.test(mig, correct = FALSE)
add("migraine", "mh_x2", m$statistic); add("migraine", "mh_p", m$p.value); add("migraine", "mh_or", m$estimate)
add("migraine", "mh_or_lower", m$conf.int[1]); add("migraine", "mh_or_upper", m$conf.int[2])

# scenario 1 (CAMIS): TRTP (Placebo, High) x SEX, strata AGEGR1 in (<65, 65-80)
s1 <- subset(d, TRTP %in% c("Placebo", "Xanomeline High Dose") & AGEGR1 %in% c("<65", "65-80"))
m1 <- mantelhaen.test(table(s1$TRTP, s1$SEX, s1$AGEGR1), correct = FALSE)
add("scenario1", "mh_x2", m1$statistic); add("scenario1", "mh_p", m1$p.value); add("scenario1", "mh_or", m1$estimate)

# generalized CMH (general association) of base R for R x C x K: cases 2 and 6 of REFERENCE.md
m2 <- mantelhaen.test(table(d$TRTP, d$SEX, d$AGEGR1))
add("cmh_case2", "general_x2", m2$statistic); add("cmh_case2", "general_df", m2$parameter); add("cmh_case2", "general_p", m2$p.value)
m6 <- mantelhaen.test(table(s1$TRTP, s1$AVAL, s1$SEX))
add("cmh_case6", "general_x2", m6$statistic); add("cmh_case6", "general_df", m6$parameter); add("cmh_case6", "general_p", m6$p.value)

# Rabbits (Agresti 1990), R's mantelhaen.test example, default continuity correction
Rabbits <- array(c(0, 0, 6, 5, 3, 0, 3, 6, 6, 2, 0, 4, 5, 6, 1, 0, 2, 5, 0, 0), dim = c(2, 2, 5))
r <- mantelhaen.test(Rabbits)
add("rabbits", "mh_x2_cc", r$statistic); add("rabbits", "mh_p_cc", r$p.value); add("rabbits", "mh_or", r$estimate)
add("rabbits", "mh_or_lower", r$conf.int[1]); add("rabbits", "mh_or_upper", r$conf.int[2])

# exact conditional inference (R solves with uniroot at its default tol, about 1e-4 on its scale)
re <- mantelhaen.test(Rabbits, exact = TRUE)
add("rabbits", "exact_p", re$p.value); add("rabbits", "exact_or", re$estimate)
add("rabbits", "exact_or_lower", re$conf.int[1]); add("rabbits", "exact_or_upper", re$conf.int[2])
me <- mantelhaen.test(mig, exact = TRUE)
add("migraine", "exact_p", me$p.value); add("migraine", "exact_or", me$estimate)
add("migraine", "exact_or_lower", me$conf.int[1]); add("migraine", "exact_or_upper", me$conf.int[2])

# two-group odds ratio and relative risk, active 36/154 vs placebo 12/77: fisher.test (exact
# conditional MLE and CI, uniroot default tolerance) and saturated glm Wald limits on the log scale
# (logit link = Woolf, log link = Katz)
add("ratio_2x2", "fisher_or", fisher.test(tab)$estimate)
add("ratio_2x2", "fisher_or_lower", fisher.test(tab)$conf.int[1]); add("ratio_2x2", "fisher_or_upper", fisher.test(tab)$conf.int[2])
g <- data.frame(act = c(1, 1, 0, 0), resp = c(1, 0, 1, 0), w = c(36, 118, 12, 65))
fo <- glm(resp ~ act, family = binomial, weights = w, data = g)
ci <- exp(confint.default(fo)["act", ])
add("ratio_2x2", "woolf_or", exp(coef(fo)["act"])); add("ratio_2x2", "woolf_lower", ci[1]); add("ratio_2x2", "woolf_upper", ci[2])
fr <- glm(resp ~ act, family = binomial(link = "log"), weights = w, data = g)
cr <- exp(confint.default(fr)["act", ])
add("ratio_2x2", "katz_rr", exp(coef(fr)["act"])); add("ratio_2x2", "katz_lower", cr[1]); add("ratio_2x2", "katz_upper", cr[2])

# Cochran-Armitage trend of responders (AVAL > 4) over dose TRTPN (0, 54, 81 mg): prop.trend.test
# gives X2 = Z^2 of SAS TREND
resp <- tapply(d$AVAL > 4, d$TRTPN, sum); tot <- tapply(d$AVAL > 4, d$TRTPN, length)
tr <- prop.trend.test(resp, tot, score = as.numeric(names(resp)))
add("trend_dose", "x2", tr$statistic); add("trend_dose", "p", tr$p.value)
tr1 <- prop.trend.test(resp, tot)
add("trend_rank", "x2", tr1$statistic); add("trend_rank", "p", tr1$p.value)

res <- do.call(rbind, out)
write.csv(res, "tests/reference/r/binary_stats.csv", row.names = FALSE)
print(res, digits = 10)
