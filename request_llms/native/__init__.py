"""Native models: LocalScholar runs them itself, one worker process per model (catalog, plan, pull, backend, worker)."""
