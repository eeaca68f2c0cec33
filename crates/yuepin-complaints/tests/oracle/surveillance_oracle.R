# Oracle for yuepin-complaints: runs surveillance::earsC (C1, C2, C3, also with minSigma) and
# surveillance::farringtonFlexible with the Noufaily (2013) settings on example series shipped
# with the package, and prints one CSV on stdout:
#   series,method,t,observed,upperbound,alarm,pvalue
# method "data" rows carry the full observed series. t is 1-based. Series are re-wrapped as
# plain sts objects (epochAsDate = FALSE) so that reference weeks are exactly freq apart.
suppressPackageStartupMessages(library(surveillance))

emit <- function(name, method, t, obs, upper, alm, pvalue) {
  up <- ifelse(is.na(upper), "NA", formatC(upper, digits = 15, format = "g"))
  pv <- ifelse(is.na(pvalue), "NA", formatC(pvalue, digits = 15, format = "g"))
  al <- ifelse(is.na(alm), "NA", ifelse(alm, "1", "0"))
  cat(paste(name, method, t, obs, up, al, pv, sep = ","), sep = "\n")
  if (length(t) > 0) cat("\n")
}

series <- list()
data("salmNewport")
series$salmNewport <- rowSums(observed(salmNewport))
data("salmonella.agona")
series$salmonella.agona <- as.numeric(salmonella.agona$observed)
data("ha.sts")
series$ha.sts.1 <- as.numeric(observed(ha.sts)[, 1])
data("campyDE")
series$campyDE <- as.numeric(campyDE$case)
data("stsNewport")
series$stsNewport <- as.numeric(observed(stsNewport)[, 1])

cat("series,method,t,observed,upperbound,alarm,pvalue\n")
for (name in names(series)) {
  y <- series[[name]]
  n <- length(y)
  emit(name, "data", seq_len(n), y, rep(NA, n), rep(NA, n), rep(NA, n))
  s <- sts(observed = matrix(y, ncol = 1), frequency = 52, start = c(2000, 1))
  for (spec in list(list("C1", 0), list("C2", 0), list("C3", 0), list("C1", 0.5), list("C2", 0.5), list("C3", 0.5))) {
    res <- earsC(s, control = list(method = spec[[1]], minSigma = spec[[2]]))
    t <- seq(from = n - nrow(res) + 1, to = n)
    emit(name, paste0(spec[[1]], "_ms", spec[[2]]), t, res@observed[, 1], res@upperbound[, 1], res@alarm[, 1], rep(NA, length(t)))
  }
  if (n >= 52 * 5 + 3 + 1) {
    ctl <- list(noPeriods = 10, populationOffset = FALSE, fitFun = "algo.farrington.fitGLM.flexible",
                b = 5, w = 3, weightsThreshold = 2.58, pastWeeksNotIncluded = 26,
                pThresholdTrend = 1, trend = TRUE, thresholdMethod = "nbPlugin", alpha = 0.05,
                glmWarnings = FALSE)
    res <- farringtonFlexible(s, control = ctl)
    t <- seq(from = n - nrow(res) + 1, to = n)
    emit(name, "farrington", t, res@observed[, 1], res@upperbound[, 1], res@alarm[, 1], res@control$pvalue[, 1])
  }
}
