"""Console: queue (being built)."""
