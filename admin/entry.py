"""Console: entry (being built)."""
