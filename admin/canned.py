"""Console: canned (being built)."""
