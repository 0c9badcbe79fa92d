"""Console: documents (being built)."""
