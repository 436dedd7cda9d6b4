"""From a ModelSpec to its backend (the one map of kinds to backends), and the check of a model asked for by an
untrusted user."""

from __future__ import annotations

import threading

from .backends.base import Backend
from .backends.cloud import CloudBackend
from .backends.local_servers import LocalServerBackend
from .backends.ollama import OllamaBackend
from .errors import ModelNotAllowed
from .model_spec import CLOUD, NATIVE, OLLAMA, OPENAI_COMPAT, ModelSpec, parse_models
from .native.backend import NativeBackend
from .servers import Servers

BACKENDS: dict[str, type[Backend]] = {
    OLLAMA: OllamaBackend,
    OPENAI_COMPAT: LocalServerBackend,
    CLOUD: CloudBackend,
    NATIVE: NativeBackend,
}


class Backends:
    """One backend of each kind for one configuration, sharing its servers; made on first use."""

    def __init__(self, config, servers: Servers) -> None:
        self.config = config
        self.servers = servers
        self._made: dict[str, Backend] = {}
        self._lock = threading.Lock()

    def of_kind(self, kind: str) -> Backend:
        with self._lock:
            if kind not in self._made:
                self._made[kind] = BACKENDS[kind](self.config, self.servers)
            return self._made[kind]

    def __call__(self, spec: ModelSpec) -> Backend:
        """The backend that serves `spec`, shared by threads."""
        return self.of_kind(spec.kind)

    def every(self) -> list[Backend]:
        """One of each kind (discovery asks each for its servers)."""
        return [self.of_kind(kind) for kind in BACKENDS]

    def made(self) -> list[Backend]:
        """The backends made so far (shutting down needs no new ones)."""
        with self._lock:
            return list(self._made.values())


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
