"""LocalScholar's test suite."""
