# Reference numbers for dermsim.analysis.mmrm (tests/reference/test_pilot_mmrm_r.py).
# Run: Rscript tests/reference/r/pilot_mmrm.R [SHARED_DIR [OUT_DIR]]
#   (R 4.2; Debian r-cran-nlme 3.1, r-cran-emmeans 1.8, r-cran-pbkrtest 0.5; data
#   ../shared/data/cdisc_pilot/adadas.csv.gz)
# Writes pilot_mmrm.csv: case, part, visit, level, comparator, stat, value.
#
# CDISC pilot table 14-3.11: ADAS-Cog(11) ACTOT change from baseline, efficacy population,
# observed records (DTYPE blank) at weeks 8, 16, 24. Fixed effects as the pilot's PROC MIXED:
# treatment, visit, treatment x visit, pooled site, baseline, baseline x visit; unstructured
# covariance over the visits (REML). In R: nlme::gls with corSymm (general correlation, by visit
# position) and varIdent (one variance per visit) = SAS TYPE=UN.
#   case "estimates": REML -2 log-likelihood, the covariance matrix, LS means and differences.
#   case "satterthwaite_observed": Satterthwaite df 2 (L Phi L')^2 / (g' W g) with W the inverse
#     observed information of the REML log-likelihood in the linear UN parameters (SAS's), both W
#     and the gradient g of L Phi L' by numDeriv's numerical derivatives of the dense REML formula
#     (emmeans' gls Satterthwaite is an approximation, "appx-satterthwaite", good to ~0.3 df only).
#     For one contrast this is also the Kenward-Roger df of SAS DDFM=KR (observed information).
#   case "kr_expected": Kenward-Roger by pbkrtest's own routines (vcovAdj_internal, Lb_ddf), fed
#     the gls covariance in SAS's linear UN parameterisation (Sigma = sum sigma_ij G_ij): pbkrtest
#     uses the expected information. Adjusted SE, KR df, t and p for each LS mean and difference.
suppressMessages({library(nlme); library(emmeans); library(pbkrtest); library(Matrix); library(numDeriv)})
args <- commandArgs(TRUE)
here <- dirname(sub("--file=", "", grep("--file=", commandArgs(FALSE), value = TRUE)))
shared <- if (length(args)) args[1] else file.path(here, "..", "..", "..", "..", "shared")
out_dir <- if (length(args) > 1) args[2] else here
rows <- list()
add <- function(case, part, visit, level, comparator, stats) {
  rows[[length(rows) + 1]] <<- data.frame(case = case, part = part, visit = visit, level = level,
    comparator = comparator, stat = names(stats), value = unname(unlist(stats)))
}

adas <- read.csv(gzfile(file.path(shared, "data", "cdisc_pilot", "adadas.csv.gz")), na.strings = "",
                 stringsAsFactors = FALSE)
visits <- c("Week 8", "Week 16", "Week 24")
d <- adas[adas$PARAMCD == "ACTOT" & adas$EFFFL == "Y" & adas$ANL01FL %in% "Y" & is.na(adas$DTYPE) &
          adas$AVISITN > 0, ]
d$TRTP <- factor(d$TRTP, levels = c("Placebo", "Xanomeline High Dose", "Xanomeline Low Dose"))
d$AVISIT <- factor(d$AVISIT, levels = visits)
d$VIDX <- as.integer(d$AVISIT)
d$SITEGR1 <- factor(d$SITEGR1)
d <- d[order(d$USUBJID, d$VIDX), ]

form <- CHG ~ TRTP * AVISIT + SITEGR1 + BASE * AVISIT
fit <- gls(form, data = d, method = "REML",
           correlation = corSymm(form = ~ VIDX | USUBJID), weights = varIdent(form = ~ 1 | AVISIT),
           control = glsControl(tolerance = 1e-10, msTol = 1e-10, maxIter = 200, msMaxIter = 500))
add("estimates", "model", "", "", "", list(neg2_reml_loglik = -2 * as.numeric(logLik(fit)),
    n_obs = nrow(d), n_subjects = length(unique(d$USUBJID))))

# the 3 x 3 covariance over the visits, from a subject seen at all three
full_id <- names(which(table(d$USUBJID) == 3))[1]
V <- as.matrix(getVarCov(fit, individual = full_id))
for (i in 1:3) for (j in 1:i) add("estimates", "covariance", "", sprintf("UN(%d,%d)", i, j), "",
                                  list(value = V[i, j]))

em <- emmeans(fit, ~ TRTP | AVISIT, mode = "df.error")
es <- summary(em, infer = TRUE)
ct <- contrast(em, method = "trt.vs.ctrl", ref = 1, adjust = "none")
cs <- summary(ct, infer = TRUE)
for (i in seq_len(nrow(es))) {
  add("estimates", "lsmean", as.character(es$AVISIT[i]), as.character(es$TRTP[i]), "",
      list(estimate = es$emmean[i], se = es$SE[i]))
}
for (i in seq_len(nrow(cs))) {
  lv <- sub(" - Placebo$", "", as.character(cs$contrast[i]))
  add("estimates", "diff", as.character(cs$AVISIT[i]), lv, "Placebo", list(estimate = cs$estimate[i],
      se = cs$SE[i]))
}

# Kenward-Roger with pbkrtest: Sigma and its derivatives in the linear UN parameters, block-diagonal
# over subjects in the data order (sorted by subject and visit, as gls sees them)
X <- model.matrix(form, data = d)
stopifnot(ncol(X) == length(coef(fit)), all(colnames(X) == names(coef(fit))))
subj <- split(seq_len(nrow(d)), d$USUBJID)
blockdiag <- function(m) {
  bdiag(lapply(subj, function(r) { v <- d$VIDX[r]; m[v, v, drop = FALSE] }))
}
G <- list()
for (i in 1:3) for (j in 1:i) {
  E <- matrix(0, 3, 3); E[i, j] <- 1; E[j, i] <- 1
  G[[length(G) + 1]] <- blockdiag(E)
}
ord <- unlist(subj)
Xo <- X[ord, , drop = FALSE]
SigmaG <- list(Sigma = blockdiag(V), G = G, n.ggamma = length(G))
Phi <- vcov(fit)
Vadj <- pbkrtest:::vcovAdj_internal(Phi, SigmaG, Xo)
kr <- function(L) {
  L <- matrix(L, nrow = 1)
  est <- as.numeric(L %*% coef(fit))
  se <- sqrt(as.numeric(L %*% as.matrix(Vadj) %*% t(L)))
  df <- pbkrtest:::Lb_ddf(L, Phi, Vadj)
  list(estimate = est, se = se, df = df, p_value = 2 * pt(-abs(est / se), df))
}
lf <- em@linfct
grid <- em@grid
for (i in seq_len(nrow(lf))) {
  add("kr_expected", "lsmean", as.character(grid$AVISIT[i]), as.character(grid$TRTP[i]), "", kr(lf[i, ]))
}
for (v in visits) {
  pl <- which(grid$AVISIT == v & grid$TRTP == "Placebo")
  for (a in c("Xanomeline High Dose", "Xanomeline Low Dose")) {
    k <- which(grid$AVISIT == v & grid$TRTP == a)
    add("kr_expected", "diff", v, a, "Placebo", kr(lf[k, ] - lf[pl, ]))
  }
}

# Type III F tests with Kenward-Roger (pbkrtest's .KR_adjust: scaled F, df) on the same covariance,
# with sum-to-zero coding so that testing a term's columns is the SAS Type III hypothesis
X2 <- model.matrix(form, data = d, contrasts.arg = list(TRTP = "contr.sum", AVISIT = "contr.sum",
                                                       SITEGR1 = "contr.sum"))[ord, , drop = FALSE]
Si <- solve(blockdiag(V))
Phi2 <- solve(as.matrix(crossprod(X2, Si %*% X2)))
beta2 <- as.numeric(Phi2 %*% as.matrix(crossprod(X2, Si %*% d$CHG[ord])))
Vadj2 <- pbkrtest:::vcovAdj_internal(Phi2, SigmaG, X2)
labels <- attr(terms(form), "term.labels")
assign <- attr(model.matrix(form, data = d[1:5, ], contrasts.arg = list(TRTP = "contr.sum",
                            AVISIT = "contr.sum", SITEGR1 = "contr.sum")), "assign")
for (k in seq_along(labels)) {
  L <- diag(ncol(X2))[assign == k, , drop = FALSE]
  kr3 <- pbkrtest:::.KR_adjust(Vadj2, Phi2, L, beta2, 0)
  add("kr_expected", "type3", "", labels[k], "", list(statistic = kr3$Fstat, num_df = kr3$ndf,
      den_df = kr3$ddf, p_value = kr3$p.value))
}

# Satterthwaite with the observed information, by numerical derivatives of the dense REML formula
theta_hat <- sapply(G, function(g) NA)
k <- 0
for (i in 1:3) for (j in 1:i) { k <- k + 1; theta_hat[k] <- V[i, j] }
sigma_of <- function(th) { S <- matrix(0, 3, 3); k <- 0
  for (i in 1:3) for (j in 1:i) { k <- k + 1; S[i, j] <- th[k]; S[j, i] <- th[k] }; S }
yo <- d$CHG[ord]
reml <- function(th) {
  S <- blockdiag(sigma_of(th))              # sparse block-diagonal
  Si <- solve(S)
  A <- as.matrix(crossprod(Xo, Si %*% Xo))
  b <- solve(A, as.matrix(crossprod(Xo, Si %*% yo)))
  r <- yo - Xo %*% b
  -0.5 * (as.numeric(determinant(S)$modulus) + as.numeric(determinant(A)$modulus) +
          sum(r * as.matrix(Si %*% r)))
}
phi_of <- function(th) solve(as.matrix(crossprod(Xo, solve(blockdiag(sigma_of(th)), Xo))))
W <- solve(-hessian(reml, theta_hat))
Phi0 <- phi_of(theta_hat)
dPhi <- jacobian(function(th) as.vector(phi_of(th)), theta_hat)   # d vec(Phi) / d theta, once
satt <- function(L) {
  L <- as.numeric(L)
  g <- as.numeric(t(kronecker(L, L)) %*% dPhi)                     # d (L Phi L') / d theta
  2 * as.numeric(L %*% Phi0 %*% L)^2 / as.numeric(t(g) %*% W %*% g)
}
for (i in seq_len(nrow(lf)))
  add("satterthwaite_observed", "lsmean", as.character(grid$AVISIT[i]), as.character(grid$TRTP[i]), "",
      list(df = satt(lf[i, ])))
for (v in visits) {
  pl <- which(grid$AVISIT == v & grid$TRTP == "Placebo")
  for (a in c("Xanomeline High Dose", "Xanomeline Low Dose")) {
    k <- which(grid$AVISIT == v & grid$TRTP == a)
    add("satterthwaite_observed", "diff", v, a, "Placebo", list(df = satt(lf[k, ] - lf[pl, ])))
  }
}

out <- do.call(rbind, rows)
write.csv(out, file.path(out_dir, "pilot_mmrm.csv"), row.names = FALSE, na = "")
cat("wrote", nrow(out), "rows\n")
