"""Analysis: estimands, statistics, ARD."""
