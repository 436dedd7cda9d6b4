"""Real LLM servers for the test suite: cached provisioning, start/stop helpers and pytest fixtures."""
