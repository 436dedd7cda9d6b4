"""From a ModelSpec to its backend, and the list of usable models: configured ones plus those found on local servers."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass

import httpx

from .backends.base import Backend
from .backends.local import LocalBackend
from .backends.ollama import OllamaBackend
from .backends.openai_compat import Endpoint, OpenAICompatBackend, resolve_endpoint
from .errors import LLMError, ModelNotAllowed
from .model_spec import CLOUD, NATIVE, OLLAMA, OPENAI_COMPAT, ModelSpec, parse_model, parse_models
from .native_plan import resolve_plan
from .providers import LOCAL_SERVERS, NATIVE_MODELS

_BACKEND_TYPES = {OLLAMA: OllamaBackend, OPENAI_COMPAT: OpenAICompatBackend, CLOUD: OpenAICompatBackend, NATIVE: LocalBackend}
_lock = threading.Lock()


def backend_for(spec: ModelSpec, config) -> Backend:
    """The backend that serves `spec`; one instance per configuration and kind, shared by threads."""
    cls = _BACKEND_TYPES[spec.kind]
    with _lock:
        if cls not in config.runtime:
            config.runtime[cls] = cls(config)
        return config.runtime[cls]


@dataclass
class ModelEntry:
    """One line of `list`: an identifier, what serves it, and whether it can answer now."""

    identifier: str
    backend: str
    source: str  # "configured" or "discovered"
    reachable: bool | None  # None: not checked (cloud models, native models)
    detail: str = ""
    context: int | None = None

    def as_dict(self) -> dict:
        return asdict(self)


def _local_endpoints(config) -> dict[str, tuple[str, Endpoint]]:
    """One OpenAI-compatible URL per server to probe, with the preset prefix that names its models."""
    found: dict[str, tuple[str, Endpoint]] = {}
    for prefix in LOCAL_SERVERS:
        try:
            endpoint = resolve_endpoint(parse_model(f"{prefix}-probe"), config)
        except LLMError:
            continue
        found.setdefault(endpoint.base_url, (prefix, endpoint))
    return found


def discover(config, timeout: float = 1.5) -> tuple[dict[str, dict], dict[str, str]]:
    """Ask every configured local server what it serves, in parallel.

    Returns ({server: {identifier: context or None}}, {server: why it could not be asked}).
    """
    ollama = backend_for(parse_model("ollama-probe"), config)
    compat = backend_for(parse_model("vllm-probe"), config)
    jobs = {"ollama": lambda: {f"ollama-{name}": ollama.model_context_length(name) for name in ollama.list_models(timeout)}}
    for base_url, (prefix, endpoint) in _local_endpoints(config).items():
        jobs[base_url] = lambda p=prefix, e=endpoint: {
            f"{p}-{name}": ctx for name, ctx in compat.served_models(e, timeout).items()
        }
    found, down = {}, {}
    with ThreadPoolExecutor(max_workers=len(jobs)) as pool:
        futures = {name: pool.submit(job) for name, job in jobs.items()}
        for name, future in futures.items():
            try:
                found[name] = future.result()
            except (httpx.HTTPError, ValueError, AttributeError, KeyError, TypeError) as exc:
                down[name] = type(exc).__name__
    return found, down


def _configured_entry(text: str, config, found: dict[str, dict], down: dict[str, str], probed: bool) -> ModelEntry:
    spec = parse_models(text)[0] if "&" in text else parse_model(text)
    if "&" in text:
        return ModelEntry(text, "multi", "configured", None, "several models at once")
    if spec.kind == NATIVE:
        label = NATIVE_MODELS.get(spec.base, spec.base)
        try:
            plan = resolve_plan(spec, config)
        except LLMError as exc:
            return ModelEntry(text, "native", "configured", False, exc.en)
        return ModelEntry(text, "native", "configured", True, f"{label}: {plan.folder or 'built in, prepared on first use'}")
    if spec.kind == CLOUD:
        endpoint = resolve_endpoint(spec, config)
        detail = endpoint.label if endpoint.api_key else f"{endpoint.label}: no key, set {endpoint.key_setting}"
        return ModelEntry(text, "cloud", "configured", None, detail)
    server = "ollama" if spec.kind == OLLAMA else resolve_endpoint(spec, config).base_url
    where = config["OLLAMA_API_BASE"] if spec.kind == OLLAMA else server
    if not probed:
        return ModelEntry(text, spec.provider, "configured", None, f"{where} (not checked)")
    if server in down or server not in found:
        return ModelEntry(text, spec.provider, "configured", False, f"server not reachable at {where}")
    models = found[server]
    name = spec.base if spec.kind != OLLAMA or ":" in spec.model else spec.base + ":latest"
    if name in models or spec.base in models:
        return ModelEntry(text, spec.provider, "configured", True, where, models.get(name) or models.get(spec.base))
    return ModelEntry(text, spec.provider, "configured", False, f"server at {where} does not have this model")


def list_models(config, probe: bool = True) -> list[ModelEntry]:
    """Every usable identifier: the configured ones, then those found on reachable local servers."""
    found, down = discover(config) if probe else ({}, {})
    entries = [_configured_entry(text, config, found, down, probe) for text in config["AVAIL_LLM_MODELS"]]
    seen = {e.identifier for e in entries} | {parse_model(e.identifier).base for e in entries if "&" not in e.identifier}
    for server, models in found.items() if config["DISCOVER_LOCAL_MODELS"] else ():
        for identifier, context in models.items():
            if identifier not in seen:
                seen.add(identifier)
                provider = parse_model(identifier).provider
                where = config["OLLAMA_API_BASE"] if server == "ollama" else server
                entries.append(ModelEntry(identifier, provider, "discovered", True, where, context))
    return entries


# Identifier parameters a page user may choose; every other one (where a request goes, which weights or
# adapter a worker loads, how much memory a server sets aside) is taken only as the configuration wrote it.
PAGE_PARAMS = ("temperature", "top_p")


def check_allowed(text: str, config, discovered: set[str] = frozenset()) -> tuple[ModelSpec, ...]:
    """The specs of `text`, asked for by an untrusted user (the page, a plugin's field, the API).

    Every model must be offered (configured, or found on a configured local server), and every parameter
    beyond sampling must be exactly as configured: `base_url=` typed on the page is refused, so nobody but
    the owner decides where a request goes or which key it carries. Raises ModelNotAllowed otherwise.
    """
    if not isinstance(text, str) or not text.strip():
        raise ModelNotAllowed("No model is chosen: pick one in the model list.", "未选择模型：请在模型列表中选择一个。")
    specs = parse_models(text)
    configured: dict[str, list[ModelSpec]] = {}
    for item in config["AVAIL_LLM_MODELS"]:
        for spec in parse_models(item):
            configured.setdefault(spec.base, []).append(spec)
    for spec in specs:
        if spec.base not in configured and spec.base not in discovered:
            raise ModelNotAllowed(
                f"The model {spec.base} is not offered here: add it to AVAIL_LLM_MODELS in config_private.py.",
                f"此处未提供模型 {spec.base}：请把它加入 config_private.py 的 AVAIL_LLM_MODELS。",
            )
        fixed = _fixed_params(spec)
        if fixed and not any(_fixed_params(known) == fixed for known in configured.get(spec.base, [])):
            names = ", ".join(sorted(fixed))
            raise ModelNotAllowed(
                f"{names} can only be set in config_private.py, not from the page: "
                f"add {spec.text} to AVAIL_LLM_MODELS there to offer it.",
                f"{names} 只能在 config_private.py 中设置，不能从页面指定：如需使用，请把 {spec.text} 加入其中的 AVAIL_LLM_MODELS。",
            )
    return specs


def _fixed_params(spec: ModelSpec) -> dict[str, object]:
    """The parameters of `spec` that only the configuration may set, with their values."""
    return {key: value for key, value in spec.params().items() if key not in PAGE_PARAMS}
