"""Console: audit_log (being built)."""
