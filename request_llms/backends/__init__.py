"""Backends: each turns (ModelSpec, messages, options, cancel) into an iterator of text deltas."""
