"""Local models for the model plugins: what this machine has, which models a run asks, charts of their figures."""
