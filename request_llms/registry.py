"""From a ModelSpec to its backend (the one map of kinds to backends), the list of usable models (configured ones
plus those found on local servers), and the check of a model asked for by an untrusted user."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace

import httpx

from .backends.base import Backend, Found, ModelEntry
from .backends.cloud import CloudBackend
from .backends.local_servers import LocalServerBackend
from .backends.ollama import OllamaBackend
from .errors import LLMError, ModelNotAllowed
from .model_spec import CLOUD, NATIVE, OLLAMA, OPENAI_COMPAT, ModelSpec, parse_model, parse_models
from .native.backend import NativeBackend

BACKENDS: dict[str, type[Backend]] = {
    OLLAMA: OllamaBackend,
    OPENAI_COMPAT: LocalServerBackend,
    CLOUD: CloudBackend,
    NATIVE: NativeBackend,
}
_lock = threading.Lock()


def backend_for(spec: ModelSpec, config) -> Backend:
    """The backend that serves `spec`; one instance per configuration and kind, shared by threads."""
    return _backend(BACKENDS[spec.kind], config)


def _backend(cls: type[Backend], config) -> Backend:
    with _lock:
        if cls not in config.runtime:
            config.runtime[cls] = cls(config)
        return config.runtime[cls]


def discover(config, timeout: float = 1.5) -> tuple[Found, dict[str, str]]:
    """Ask every configured server what it serves, in parallel.

    Returns ({server: {identifier: context or None}}, {server: why it could not be asked}).
    """
    jobs = {server: job for cls in BACKENDS.values() for server, job in _backend(cls, config).discovery(timeout).items()}
    found, down = {}, {}
    with ThreadPoolExecutor(max_workers=max(1, len(jobs))) as pool:
        futures = {name: pool.submit(job) for name, job in jobs.items()}
        for name, future in futures.items():
            try:
                found[name] = future.result()
            except (httpx.HTTPError, ValueError, AttributeError, KeyError, TypeError) as exc:
                down[name] = type(exc).__name__
    return found, down


def list_models(config, probe: bool = True) -> list[ModelEntry]:
    """Every usable identifier: the configured ones, then those found on reachable local servers."""
    found, down = discover(config) if probe else ({}, {})
    entries = []
    for text in config["AVAIL_LLM_MODELS"]:
        if "&" in text:
            parts = [backend_for(spec, config).describe(spec.text, spec, found, down, probe) for spec in parse_models(text)]
            problem = next((part.problem.of_part(part.identifier) for part in parts if part.problem), None)
            entries.append(
                ModelEntry(
                    text, "multi", "configured", None, "several models at once", problem=problem, detail_zh="多个模型同时回答"
                )
            )
        else:
            spec = parse_model(text)
            entries.append(backend_for(spec, config).describe(text, spec, found, down, probe))
    seen = {e.identifier for e in entries} | {parse_model(e.identifier).base for e in entries if "&" not in e.identifier}
    for server, models in found.items() if config["DISCOVER_LOCAL_MODELS"] else ():
        for identifier, context in models.items():
            if identifier not in seen:
                spec = parse_model(identifier)
                backend = backend_for(spec, config)
                if server not in _servers_of(backend, spec):
                    continue  # found only where a configured base_url points: offered as configured, not by name
                seen.add(identifier)
                if len(backend.pool(spec)) > 1:  # a pool: the line says which of its servers have the model
                    entry = replace(backend.describe(identifier, spec, found, down, probe), source="discovered")
                else:
                    entry = ModelEntry(identifier, spec.provider, "discovered", True, server, context)
                entries.append(entry)
    return entries


def _servers_of(backend: Backend, spec: ModelSpec) -> list[str]:
    try:
        return backend.pool(spec)
    except LLMError:
        return []


# Identifier parameters a page user may choose; every other one (where a request goes, which weights or
# adapter a worker loads, how much memory a server sets aside) is taken only as the configuration wrote it.
PAGE_PARAMS = ("temperature", "top_p", "think")


def check_allowed(text: str, config, discovered: set[str] = frozenset()) -> tuple[ModelSpec, ...]:
    """The specs of `text`, asked for by an untrusted user (the page, a plugin's field, the API).

    Every model must be offered (configured, or found on a configured local server), and every parameter
    beyond sampling must be exactly as configured: `base_url=` typed on the page is refused, so nobody but
    the owner decides where a request goes or which key it carries. Raises ModelNotAllowed otherwise.
    """
    if not isinstance(text, str) or not text.strip():
        raise ModelNotAllowed(en="No model is chosen: pick one in the model list.", zh="未选择模型：请在模型列表中选择一个。")
    specs = parse_models(text)
    configured: dict[str, list[ModelSpec]] = {}
    for item in config["AVAIL_LLM_MODELS"]:
        for spec in parse_models(item):
            configured.setdefault(spec.base, []).append(spec)
    for spec in specs:
        if spec.base not in configured and spec.base not in discovered:
            raise ModelNotAllowed(
                en=f"The model {spec.base} is not offered here: add it to AVAIL_LLM_MODELS in config_private.py.",
                zh=f"此处未提供模型 {spec.base}：请把它加入 config_private.py 的 AVAIL_LLM_MODELS。",
            )
        fixed = _fixed_params(spec)
        if fixed and not any(_fixed_params(known) == fixed for known in configured.get(spec.base, [])):
            names = ", ".join(sorted(fixed))
            raise ModelNotAllowed(
                en=f"{names} can only be set in config_private.py, not from the page: "
                f"add {spec.text} to AVAIL_LLM_MODELS there to offer it.",
                zh=f"{names} 只能在 config_private.py 中设置，不能从页面指定：如需使用，请把 {spec.text} 加入其中的 AVAIL_LLM_MODELS。",
            )
    return specs


def _fixed_params(spec: ModelSpec) -> dict[str, object]:
    """The parameters of `spec` that only the configuration may set, with their values."""
    return {key: value for key, value in spec.params().items() if key not in PAGE_PARAMS}
