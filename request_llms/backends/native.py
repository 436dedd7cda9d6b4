"""Native models (ChatGLM, Qwen, local folders, the built-in demo model) run by LocalScholar's own workers.

The worker processes are not part of this release yet; a native identifier parses and is listed,
and asking it says so in one line.
"""

from __future__ import annotations

from collections.abc import Iterator

from ..errors import BackendNotReady
from ..model_spec import ModelSpec
from ..providers import NATIVE_MODELS
from .base import CancelToken, ChatOptions, Event


class NativeBackend:
    def __init__(self, config) -> None:
        self.config = config

    def context_budget(self, spec: ModelSpec) -> int | None:
        return spec.max_token

    def stream(
        self, spec: ModelSpec, messages: list[dict[str, str]], options: ChatOptions, cancel: CancelToken
    ) -> Iterator[Event]:
        label = NATIVE_MODELS.get(spec.base, spec.base)
        raise BackendNotReady(
            f"Native models such as {label} are not available in this version yet; use an Ollama, vLLM or llama.cpp model meanwhile.",
            f"本版本暂不支持原生本地模型（{label}），请先使用 Ollama、vLLM 或 llama.cpp 上的模型。",
        )
        yield ""  # a generator, like every backend
