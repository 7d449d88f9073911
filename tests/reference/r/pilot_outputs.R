# Independent reference numbers for the CDISC Pilot 01 analyses of examples/cdisc_pilot/plan.toml.
# Run: Rscript tests/reference/r/pilot_outputs.R [PILOT_DIR [OUT_DIR]]
#   (R 4.2; Debian r-cran-emmeans 1.8.4, r-cran-survival 3.5.3; data ../shared/data/cdisc_pilot)
# Writes pilot_outputs.csv in ARD layout (analysis_id, variable, variable_level, visit,
# group_level, comparator, stat_name, stat_value) for tests/reference/test_pilot_outputs.py.
suppressMessages({library(emmeans); library(survival)})
args <- commandArgs(TRUE)
here <- dirname(sub("--file=", "", grep("--file=", commandArgs(FALSE), value = TRUE)))
pilot <- if (length(args)) args[1] else file.path(here, "..", "..", "..", "..", "shared", "data", "cdisc_pilot")
outdir <- if (length(args) > 1) args[2] else here
rd <- function(n) read.csv(gzfile(file.path(pilot, paste0(n, ".csv.gz"))), na.strings = "",
                           stringsAsFactors = FALSE)
rows <- list()
add <- function(id, variable, level, visit, group, comparator, stats) {
  rows[[length(rows) + 1]] <<- data.frame(analysis_id = id, variable = variable,
    variable_level = as.character(level), visit = as.character(visit), group_level = group,
    comparator = comparator, stat_name = names(stats), stat_value = unname(unlist(stats)))
}
adsl <- rd("adsl")

# t14-1-01: populations by planned treatment, % of randomized subjects
for (fl in c("ITTFL", "SAFFL", "EFFFL", "COMP24FL")) for (g in c(sort(unique(adsl$TRT01P)), "")) {
  d <- if (g == "") adsl else adsl[adsl$TRT01P == g, ]
  k <- sum(d[[fl]] == "Y", na.rm = TRUE)
  add("t14-1-01", fl, "Y", "", g, "", list(count = k, pct = 100 * k / nrow(d)))
}

# t14-2-01: demographics, ITT population; one-way ANOVA (continuous), Pearson chi-square (categorical)
itt <- adsl[adsl$ITTFL == "Y", ]
for (v in c("AGE", "MMSETOT", "DURDIS", "EDUCLVL", "WEIGHTBL", "HEIGHTBL", "BMIBL")) {
  for (g in c(sort(unique(itt$TRT01P)), "")) {
    x <- if (g == "") itt[[v]] else itt[[v]][itt$TRT01P == g]
    x <- x[!is.na(x)]
    q <- quantile(x, c(.25, .75), type = 2)  # SAS default QNTLDEF=5 equals R type 2
    add("t14-2-01", v, "", "", g, "", list(n = length(x), mean = mean(x), sd = sd(x),
        median = median(x), q1 = q[[1]], q3 = q[[2]], min = min(x), max = max(x)))
  }
  a <- anova(lm(itt[[v]] ~ factor(itt$TRT01P)))
  add("t14-2-01", v, "", "", "", "", list(statistic = a$`F value`[1], df = a$Df[1], p_value = a$`Pr(>F)`[1]))
}
for (v in c("AGEGR1", "SEX", "RACE")) {
  for (g in c(sort(unique(itt$TRT01P)), "")) {
    x <- if (g == "") itt[[v]] else itt[[v]][itt$TRT01P == g]
    for (lv in sort(unique(itt[[v]])))
      add("t14-2-01", v, lv, "", g, "", list(count = sum(x == lv), pct = 100 * sum(x == lv) / length(x)))
  }
  ct <- suppressWarnings(chisq.test(table(itt$TRT01P, itt[[v]]), correct = FALSE))
  add("t14-2-01", v, "", "", "", "", list(statistic = unname(ct$statistic), df = unname(ct$parameter),
      p_value = ct$p.value))
}

# t14-3-01: ADAS-Cog (11) total, change from baseline at Week 24, LOCF, efficacy population
adas <- rd("adadas")
d <- adas[adas$PARAMCD == "ACTOT" & adas$EFFFL == "Y" & adas$ANL01FL %in% "Y" & adas$AVISIT == "Week 24", ]
d$TRTP <- factor(d$TRTP, levels = c("Placebo", "Xanomeline Low Dose", "Xanomeline High Dose"))
d$SITEGR1 <- factor(d$SITEGR1)  # pooled site is a class variable (read as integer)
for (g in levels(d$TRTP)) for (v in c("BASE", "AVAL", "CHG")) {
  x <- d[[v]][d$TRTP == g]
  add("t14-3-01", v, "", "Week 24", g, "", list(n = length(x), mean = mean(x), sd = sd(x),
      median = median(x), min = min(x), max = max(x)))
}
fit <- lm(CHG ~ TRTP + SITEGR1 + BASE, data = d)
em <- emmeans(fit, "TRTP")  # equal weights over SITEGR1 levels, like SAS LSMEANS
es <- summary(em)
for (i in seq_len(nrow(es))) add("t14-3-01", "CHG", "", "Week 24", as.character(es$TRTP[i]), "",
                                 list(lsmean = es$emmean[i], lsmean_se = es$SE[i]))
ct <- summary(contrast(em, list(
  "Xanomeline Low Dose|Placebo" = c(-1, 1, 0), "Xanomeline High Dose|Placebo" = c(-1, 0, 1),
  "Xanomeline High Dose|Xanomeline Low Dose" = c(0, -1, 1))), infer = TRUE)
for (i in seq_len(nrow(ct))) {
  p <- strsplit(as.character(ct$contrast[i]), "|", fixed = TRUE)[[1]]
  add("t14-3-01", "CHG", "", "Week 24", p[1], p[2], list(estimate = ct$estimate[i], se = ct$SE[i],
      ci_lower = ct$lower.CL[i], ci_upper = ct$upper.CL[i], df = ct$df[i], p_value = ct$p.value[i]))
}
a3 <- drop1(fit, test = "F")  # Type III for a model without interactions
for (term in c("TRTP", "SITEGR1", "BASE"))
  add("t14-3-01", "CHG", term, "Week 24", "", "", list(statistic = a3[term, "F value"], df = a3[term, "Df"],
      p_value = a3[term, "Pr(>F)"]))
dfit <- lm(CHG ~ TRTPN + SITEGR1 + BASE, data = d)
dose <- summary(dfit)$coefficients
dci <- confint(dfit)["TRTPN", ]
add("t14-3-01", "CHG", "TRTPN", "Week 24", "", "", list(estimate = dose["TRTPN", 1], se = dose["TRTPN", 2],
    ci_lower = dci[[1]], ci_upper = dci[[2]], statistic = dose["TRTPN", 3], df = dfit$df.residual,
    p_value = dose["TRTPN", 4]))

# t14-3-13: CIBIC+ by visit, LOCF (the ADaM DTYPE = "LOCF" records; efficacy population, ANL01FL), CMH
# general association (mantelhaen.test), correlation and row mean scores (gcmh above)
# controlling for SITEGR1 (R mantelhaen.test); counts per category
# Generalized CMH (Landis, Heyman and Koch 1978; SAS PROC FREQ CMH) written out here as an
# independent check: nonzero correlation and row mean scores with table scores (rows: TRTPN
# values, columns: AVAL values); strata with fewer than two subjects carry no information.
gcmh <- function(x, row, col, strata) {
  rs <- sort(unique(x[[row]])); cs <- sort(unique(x[[col]]))
  G1 <- 0; V1 <- 0; G2 <- rep(0, length(rs) - 1); V2 <- matrix(0, length(rs) - 1, length(rs) - 1)
  for (s in unique(x[[strata]])) {
    d <- x[x[[strata]] == s, ]
    n <- table(factor(d[[row]], levels = rs), factor(d[[col]], levels = cs))
    N <- sum(n)
    if (N < 2) next
    pr <- rowSums(n) / N; pc <- colSums(n) / N
    dev <- n - N * outer(pr, pc)
    Ar <- diag(pr, length(pr)) - outer(pr, pr); Ac <- diag(pc, length(pc)) - outer(pc, pc)
    k <- N^2 / (N - 1)
    va <- drop(t(cs) %*% Ac %*% cs); vc <- drop(t(rs) %*% Ar %*% rs)
    G1 <- G1 + drop(t(rs) %*% dev %*% cs); V1 <- V1 + k * va * vc
    r1 <- seq_len(length(rs) - 1)
    G2 <- G2 + drop(dev[r1, , drop = FALSE] %*% cs); V2 <- V2 + k * va * Ar[r1, r1, drop = FALSE]
  }
  q2 <- drop(t(G2) %*% solve(V2, G2))
  list(correlation = c(statistic = G1^2 / V1, df = 1, p_value = pchisq(G1^2 / V1, 1, lower.tail = FALSE)),
       rms = c(statistic = q2, df = length(G2), p_value = pchisq(q2, length(G2), lower.tail = FALSE)))
}
cib <- rd("adcibc")
cib <- cib[cib$EFFFL == "Y" & cib$ANL01FL %in% "Y", ]
arms <- c("Placebo", "Xanomeline Low Dose", "Xanomeline High Dose")
for (vis in c("Week 8", "Week 16", "Week 24")) {
  dv <- cib[cib$AVISIT == vis & !is.na(cib$AVAL), ]
  for (g in arms) {
    x <- dv$AVAL[dv$TRTP == g]
    add("t14-3-13", "AVAL", "", vis, g, "", list(n = length(x)))
    for (lv in 1:7) add("t14-3-13", "AVAL", lv, vis, g, "", list(count = sum(x == lv),
                                                                 pct = 100 * sum(x == lv) / length(x)))
  }
  tab <- table(factor(dv$TRTP, levels = arms), factor(dv$AVAL), factor(dv$SITEGR1))
  m <- mantelhaen.test(tab)
  add("t14-3-13", "AVAL", "general association", vis, "", "", list(statistic = unname(m$statistic),
      df = unname(m$parameter), p_value = m$p.value))
  g <- gcmh(dv, "TRTPN", "AVAL", "SITEGR1")
  add("t14-3-13", "AVAL", "nonzero correlation", vis, "", "", as.list(g$correlation))
  add("t14-3-13", "AVAL", "row mean scores", vis, "", "", as.list(g$rms))
  for (g in arms[-1]) {
    s <- dv[dv$TRTP %in% c("Placebo", g), ]
    t2 <- table(factor(s$TRTP, levels = c("Placebo", g)), factor(s$AVAL), s$SITEGR1)
    t2 <- t2[, colSums(apply(t2, c(1, 2), sum)) > 0, , drop = FALSE]
    m <- mantelhaen.test(t2)
    add("t14-3-13", "AVAL", "general association", vis, g, "Placebo", list(statistic = unname(m$statistic),
        df = unname(m$parameter), p_value = m$p.value))
    gp <- gcmh(s, "TRTPN", "AVAL", "SITEGR1")
    add("t14-3-13", "AVAL", "nonzero correlation", vis, g, "Placebo", as.list(gp$correlation))
    add("t14-3-13", "AVAL", "row mean scores", vis, g, "Placebo", as.list(gp$rms))
  }
}

# t14-5-01: TEAEs by SOC and PT, safety population; subjects, % of N, events; Fisher exact vs placebo
adae <- rd("adae")
ae <- adae[adae$TRTEMFL %in% "Y" & adae$SAFFL == "Y", ]
saf <- adsl[adsl$SAFFL == "Y", ]
bign <- table(saf$TRT01A)
one <- function(level, variable, keep) {
  for (g in arms) {
    s <- ae[keep & ae$TRTA == g, ]
    add("t14-5-01", variable, level, "", g, "", list(count = length(unique(s$USUBJID)),
        pct = 100 * length(unique(s$USUBJID)) / bign[[g]], n_events = nrow(s)))
  }
  for (g in arms[-1]) {
    k1 <- length(unique(ae$USUBJID[keep & ae$TRTA == g]))
    k0 <- length(unique(ae$USUBJID[keep & ae$TRTA == "Placebo"]))
    ft <- fisher.test(matrix(c(k1, bign[[g]] - k1, k0, bign[["Placebo"]] - k0), 2))
    add("t14-5-01", variable, level, "", g, "Placebo", list(p_value = ft$p.value))
  }
}
one("ANY", "TRTEMFL", rep(TRUE, nrow(ae)))
for (soc in sort(unique(ae$AEBODSYS))) {
  one(soc, "AEBODSYS", ae$AEBODSYS == soc)
  for (pt in sort(unique(ae$AEDECOD[ae$AEBODSYS == soc])))
    one(paste(soc, pt, sep = " / "), "AEDECOD", ae$AEBODSYS == soc & ae$AEDECOD == pt)
}

# f14-ttde: Kaplan-Meier, time to first dermatologic event; log-log CIs (SAS default), log-rank
tte <- rd("adtte")
tte <- tte[tte$PARAMCD == "TTDE" & tte$SAFFL == "Y", ]
tte$TRTA <- factor(tte$TRTA, levels = arms)
km <- survfit(Surv(AVAL, 1 - CNSR) ~ TRTA, data = tte, conf.type = "log-log")
times <- seq(0, 200, by = 20)
sm <- summary(km, times = times, extend = TRUE)
st <- sub("TRTA=", "", as.character(sm$strata))
for (i in seq_along(sm$time)) {
  add("f14-ttde", "AVAL", "at_risk", sm$time[i], st[i], "", list(n = sm$n.risk[i]))
  add("f14-ttde", "AVAL", "survival", sm$time[i], st[i], "", list(estimate = sm$surv[i], se = sm$std.err[i],
      ci_lower = sm$lower[i], ci_upper = sm$upper[i]))
}
tb <- summary(km)$table
for (i in seq_along(arms)) {
  add("f14-ttde", "AVAL", "", "", arms[i], "", list(n = tb[i, "records"], n_events = tb[i, "events"]))
  add("f14-ttde", "AVAL", "median", "", arms[i], "", list(estimate = tb[i, "median"],
      ci_lower = tb[i, "0.95LCL"], ci_upper = tb[i, "0.95UCL"]))
}
lr <- survdiff(Surv(AVAL, 1 - CNSR) ~ TRTA, data = tte)
add("f14-ttde", "AVAL", "log-rank", "", "", "", list(statistic = lr$chisq, df = length(lr$n) - 1,
    p_value = pchisq(lr$chisq, length(lr$n) - 1, lower.tail = FALSE)))

out <- do.call(rbind, rows)
write.csv(out, file.path(outdir, "pilot_outputs.csv"), row.names = FALSE, na = "")
cat("wrote", nrow(out), "rows\n")
