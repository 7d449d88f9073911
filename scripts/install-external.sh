#!/usr/bin/env bash
# Installs the external tools that reference and end-to-end tests use, from Debian's packages:
#   R (r-base-core, haven, rpact) for reference numbers; Chromium for the HTML report and app;
#   LibreOffice (writer, no GUI) to open the RTF tables; poppler-utils to turn PDFs into pictures;
#   npm to vendor axe-core for the web app's accessibility test.
# Idempotent and quiet when everything is there. Where apt-get cannot be used (not root, no apt),
# it says so and exits 0: the tests that need a missing tool skip with that reason.
set -u
need=()
command -v Rscript >/dev/null 2>&1 || need+=(r-base-core)
if command -v Rscript >/dev/null 2>&1; then
  Rscript -e 'quit(status = !requireNamespace("haven", quietly = TRUE))' >/dev/null 2>&1 || need+=(r-cran-haven)
  Rscript -e 'quit(status = !requireNamespace("rpact", quietly = TRUE))' >/dev/null 2>&1 || need+=(r-cran-rpact)
  # analysis reference numbers: mice::pool (Rubin's rules), emmeans and survival (CDISC pilot),
  # coin (stratified rank tests: CMH with rank and modified ridit scores), car (Type III tests),
  # nlme + pbkrtest + numDeriv (MMRM: gls with corSymm/varIdent, Kenward-Roger, Satterthwaite)
  for p in mice emmeans survival coin car nlme pbkrtest numDeriv; do
    Rscript -e "quit(status = !requireNamespace('$p', quietly = TRUE))" >/dev/null 2>&1 \
      || need+=("r-cran-$(echo "$p" | tr '[:upper:]' '[:lower:]')")
  done
else
  need+=(r-cran-haven r-cran-rpact r-cran-mice r-cran-emmeans r-cran-survival r-cran-coin r-cran-car
         r-cran-nlme r-cran-pbkrtest r-cran-numderiv)
fi
command -v chromium >/dev/null 2>&1 || need+=(chromium)
command -v soffice >/dev/null 2>&1 || need+=(libreoffice-writer-nogui)
command -v pdftoppm >/dev/null 2>&1 || need+=(poppler-utils)
# web app browser tests: Playwright for Python comes with the dev extra (pip) and drives this
# Chromium through executable_path (no browser download); axe-core (accessibility rules) is
# vendored from npm into out/vendor/axe-core/ for the tests only; the app never loads it.
command -v npm >/dev/null 2>&1 || need+=(npm)
AXE_DIR="$(cd "$(dirname "$0")/.." && pwd)/out/vendor/axe-core"
vendor_axe() {
  [ -f "$AXE_DIR/axe.min.js" ] && return 0
  command -v npm >/dev/null 2>&1 || return 0
  local tmp
  tmp="$(mktemp -d)"
  if (cd "$tmp" && timeout 120 npm pack --silent "axe-core@>=4.8 <5" >/dev/null 2>&1) \
     && tar -xzf "$tmp"/axe-core-*.tgz -C "$tmp" && mkdir -p "$AXE_DIR" \
     && cp "$tmp/package/axe.min.js" "$tmp/package/LICENSE" "$AXE_DIR/"; then :; else
    echo "install-external: could not fetch axe-core with npm; the app's accessibility test will skip." >&2
  fi
  rm -rf "$tmp"
}
[ ${#need[@]} -eq 0 ] && { vendor_axe; exit 0; }
if [ "$(id -u)" != "0" ] || ! command -v apt-get >/dev/null 2>&1; then
  echo "install-external: cannot install ${need[*]} here (needs root and apt-get); tests that need them will skip." >&2
  vendor_axe
  exit 0
fi
echo "install-external: installing ${need[*]} (Debian packages) ..." >&2
export DEBIAN_FRONTEND=noninteractive
if ! { apt-get update -qq >/dev/null && apt-get install -y -qq --no-install-recommends "${need[@]}" >/tmp/dermsim-apt.log 2>&1; }; then
  echo "install-external: apt-get failed (see /tmp/dermsim-apt.log); tests that need these tools will skip." >&2
fi
vendor_axe
exit 0
