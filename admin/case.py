"""Console: case (being built)."""
