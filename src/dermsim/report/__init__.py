"""Report: number formatting (the one rounding rule), table layouts, renderers and figures."""
