# Stratified rank tests with R coin (1.4) as independent numbers for dermsim's CMH with rank-type
# scores computed within strata (SAS PROC FREQ "cmh scores=rank|modridit").
# Run from the repository root:  Rscript tests/reference/r/cmh_rank_scores.R
# Writes tests/reference/r/cmh_rank_scores.csv (case, stat, value).
suppressPackageStartupMessages(library(coin))
camis <- Sys.getenv("CAMIS_DIR", "../shared/reference/camis")
d <- read.csv(file.path(camis, "adcibc.csv"), stringsAsFactors = FALSE)
d$TRTP <- factor(d$TRTP)
d$AGEGR1 <- factor(d$AGEGR1)
d$SEX <- factor(d$SEX)
out <- list()
add <- function(case, stat, value) out[[length(out) + 1]] <<- data.frame(case = case, stat = stat, value = value)

# rank scores within stratum (3 arms) = CMH row mean scores, df 2. coin's kruskal_test(y ~ x | b)
# ranks over all strata, so the within-stratum ranks are given as an explicit ytrafo.
rk <- function(data) trafo(data, numeric_trafo = rank, block = d$AGEGR1)
kw <- independence_test(AVAL ~ TRTP | AGEGR1, data = d, ytrafo = rk, teststat = "quadratic")
add("trtp_aval_agegr1", "rank_rms", statistic(kw))
# modified ridit scores within stratum (rank / (N_h + 1)): van Elteren form
modridit <- function(data) trafo(data, numeric_trafo = function(y) rank(y) / (length(y) + 1), block = d$AGEGR1)
it <- independence_test(AVAL ~ TRTP | AGEGR1, data = d, ytrafo = modridit, teststat = "quadratic")
add("trtp_aval_agegr1", "modridit_rms", statistic(it))

# two arms, strata SEX: stratified Wilcoxon (rank) and van Elteren (modridit), chi-square = Z^2
s <- droplevels(subset(d, TRTP %in% c("Placebo", "Xanomeline High Dose")))
rk2 <- function(data) trafo(data, numeric_trafo = rank, block = s$SEX)
wt <- independence_test(AVAL ~ TRTP | SEX, data = s, ytrafo = rk2, teststat = "quadratic")
add("pbo_high_aval_sex", "rank_rms", statistic(wt))
mr2 <- function(data) trafo(data, numeric_trafo = function(y) rank(y) / (length(y) + 1), block = s$SEX)
ve <- independence_test(AVAL ~ TRTP | SEX, data = s, ytrafo = mr2, teststat = "quadratic")
add("pbo_high_aval_sex", "modridit_rms", statistic(ve))
add("pbo_high_aval_sex", "modridit_p", pvalue(ve))

res <- do.call(rbind, out)
write.csv(res, "tests/reference/r/cmh_rank_scores.csv", row.names = FALSE)
print(res, digits = 12)
