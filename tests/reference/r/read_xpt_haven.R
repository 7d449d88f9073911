# Read an XPT file with haven and write what R sees, for tests/reference/test_xpt_haven.py.
# Usage: Rscript read_xpt_haven.R IN.xpt VALUES.csv META.csv
# Values as text: numbers with 17 significant digits (exact for doubles), dates ISO 8601,
# datetimes ISO 8601 in UTC, missing as "".
args <- commandArgs(trailingOnly = TRUE)
d <- haven::read_xpt(args[1])
as_text <- function(x) {
  if (inherits(x, "POSIXct")) {
    out <- format(x, "%Y-%m-%dT%H:%M:%S", tz = "UTC")
  } else if (inherits(x, "Date")) {
    out <- format(x, "%Y-%m-%d")
  } else if (is.numeric(x)) {
    out <- sprintf("%.17g", x)
  } else {
    out <- as.character(x)
  }
  out[is.na(x)] <- ""
  out
}
values <- as.data.frame(lapply(d, as_text), stringsAsFactors = FALSE, check.names = FALSE)
write.csv(values, args[2], row.names = FALSE, na = "")
attr_or <- function(x, a) { v <- attr(x, a); if (is.null(v)) "" else as.character(v) }
meta <- data.frame(name = names(d),
                   label = vapply(d, attr_or, "", a = "label"),
                   format = vapply(d, attr_or, "", a = "format.sas"),
                   class = vapply(d, function(x) class(x)[1], ""),
                   stringsAsFactors = FALSE)
meta <- rbind(meta, data.frame(name = "_DATASET_", label = attr_or(d, "label"), format = "",
                               class = as.character(packageVersion("haven"))))
write.csv(meta, args[3], row.names = FALSE)
