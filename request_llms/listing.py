"""The list of usable models: the configured ones, then those found on the configured local servers."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace

import httpx

from .backends.base import Found, ModelEntry
from .errors import LLMError
from .model_spec import parse_model, parse_models
from .registry import Backends


def discover(backends: Backends, timeout: float = 1.5) -> tuple[Found, dict[str, str]]:
    """Ask every configured server what it serves, in parallel.

    Returns ({server: {identifier: context or None}}, {server: why it could not be asked}).
    """
    jobs = {server: job for backend in backends.every() for server, job in backend.discovery(timeout).items()}
    found, down = {}, {}
    with ThreadPoolExecutor(max_workers=max(1, len(jobs))) as pool:
        futures = {name: pool.submit(job) for name, job in jobs.items()}
        for name, future in futures.items():
            try:
                found[name] = future.result()
            except (httpx.HTTPError, ValueError, AttributeError, KeyError, TypeError) as exc:
                down[name] = type(exc).__name__
    return found, down


def list_models(backends: Backends, probe: bool = True, embedding: bool = False) -> list[ModelEntry]:
    """Every usable identifier: the configured ones, then those found on reachable local servers; with `embedding`,
    last, EMBED_MODEL (source "embedding") where one is set."""
    config = backends.config
    found, down = discover(backends) if probe else ({}, {})
    entries = []
    for text in config["AVAIL_LLM_MODELS"]:
        if "&" in text:
            parts = [backends(spec).describe(spec.text, spec, found, down, probe) for spec in parse_models(text)]
            problem = next((part.problem.of_part(part.identifier) for part in parts if part.problem), None)
            entries.append(
                ModelEntry(
                    text, "multi", "configured", None, "several models at once", problem=problem, detail_zh="多个模型同时回答"
                )
            )
        else:
            spec = parse_model(text)
            entries.append(backends(spec).describe(text, spec, found, down, probe))
    seen = {e.identifier for e in entries} | {parse_model(e.identifier).base for e in entries if "&" not in e.identifier}
    for server, models in found.items() if config["DISCOVER_LOCAL_MODELS"] else ():
        for identifier, context in models.items():
            if identifier not in seen:
                spec = parse_model(identifier)
                backend = backends(spec)
                urls = _urls_of(backend, spec)
                if server not in urls:
                    continue  # found only where a configured base_url points: offered as configured, not by name
                seen.add(identifier)
                if len(urls) > 1:  # a pool: the line says which of its servers have the model
                    entry = replace(backend.describe(identifier, spec, found, down, probe), source="discovered")
                else:
                    entry = ModelEntry(identifier, spec.provider, "discovered", True, server, context)
                entries.append(entry)
    if embedding and config["EMBED_MODEL"]:
        spec = parse_model(config["EMBED_MODEL"])
        entry = backends(spec).describe(config["EMBED_MODEL"], spec, found, down, probe)
        entries.append(replace(entry, source="embedding"))
    return entries


def _urls_of(backend, spec) -> list[str]:
    try:
        return backend.urls(spec)
    except LLMError:
        return []
