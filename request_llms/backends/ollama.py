"""Ollama's native API: /api/chat as an NDJSON stream, num_ctx and keep_alive, /api/tags, /api/show, /api/ps."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from typing import Any

import httpx

from ..config_loader import url_list
from ..errors import (
    BackendUnreachable,
    ConfigError,
    ContextTooLong,
    LLMError,
    ModelNotFound,
    ServerError,
    StreamError,
)
from ..model_spec import ModelSpec
from ..request import CancelToken, ChatOptions, Event, Usage, Vectors
from ..servers import Server, Servers
from ..thinking import Thought
from ..transport import Cancelled, client_for, get_json, iter_lines, json_chunk, open_stream, read_json
from .base import Backend, Found, ModelEntry, not_an_embedding_model, pooled_entry, served_entry
from .problems import not_pulled, server_down

START_HINT = "ollama serve"


def build_payload(
    spec: ModelSpec, messages: list[dict[str, str]], options: ChatOptions, num_ctx: int, keep_alive: str, think: object = None
) -> dict[str, Any]:
    """The /api/chat request body (pure, no I/O); `think` is sent when not None (True, False or a level)."""
    model_options: dict[str, Any] = {"num_ctx": num_ctx}
    if options.temperature is not None:
        model_options["temperature"] = options.temperature
    if options.top_p is not None:
        model_options["top_p"] = options.top_p
    if options.max_tokens is not None:
        model_options["num_predict"] = options.max_tokens
    payload: dict[str, Any] = {"model": spec.model, "messages": messages, "stream": True, "options": model_options}
    if spec.keep_alive or keep_alive:
        payload["keep_alive"] = spec.keep_alive or keep_alive
    if think is not None:
        payload["think"] = think
    return payload


def parse_line(line: str) -> list[Event]:
    """One NDJSON line of /api/chat: a thinking delta (`message.thinking`), a text delta, or the final Usage."""
    chunk = json_chunk(line, "Ollama", "Ollama ")
    if "error" in chunk:
        raise StreamError(
            en=f"Ollama reported an error mid-answer: {chunk['error']}", zh=f"Ollama 在回答中途报错：{chunk['error']}"
        )
    message = chunk.get("message") or {}
    events: list[Event] = [Thought(message["thinking"])] if message.get("thinking") else []
    if message.get("content"):
        events.append(message["content"])
    if chunk.get("done"):
        eval_count, eval_ns = chunk.get("eval_count"), chunk.get("eval_duration")
        events.append(
            Usage(
                prompt_tokens=chunk.get("prompt_eval_count"),
                completion_tokens=eval_count,
                finish_reason=chunk.get("done_reason") or "stop",
                server_tokens_per_s=eval_count / (eval_ns / 1e9) if eval_count and eval_ns else None,
                load_seconds=chunk["load_duration"] / 1e9 if chunk.get("load_duration") else None,
            )
        )
    return events


class OllamaBackend(Backend):
    """Talks to the Ollama server at OLLAMA_API_BASE, or to each server of a pool when it lists several."""

    label = "Ollama"

    def __init__(self, config, servers: Servers) -> None:
        super().__init__(config, servers)
        self.bases = url_list(config["OLLAMA_API_BASE"])
        self.base = self.bases[0]  # the first server, where a request goes when nothing chose another
        self.default_ctx = config["OLLAMA_NUM_CTX"]
        self.keep_alive = config["OLLAMA_KEEP_ALIVE"]
        self._shown: dict[tuple[str, str], dict] = {}
        self._lock = threading.Lock()

    def client(self, base: str) -> httpx.Client:
        return client_for(base, self.config["CONNECT_TIMEOUT"], self.config["READ_TIMEOUT"])

    def at(self, server: Server | None) -> str:
        """The address of `server` (one of OLLAMA_API_BASE's), or of the first configured when None."""
        if server is None:
            return self.base
        if server.url not in self.bases:
            raise ValueError(f"{server.url} is not one of OLLAMA_API_BASE's servers")
        return server.url

    def urls(self, spec: ModelSpec) -> list[str]:
        return list(self.bases)

    def probe(self, spec: ModelSpec, server: Server, timeout: float) -> None:
        self.list_models(timeout, self.at(server))

    def unreachable(self, base: str | None = None) -> LLMError:
        base = base or self.base
        return BackendUnreachable(
            en=f"Ollama is not running at {base}: start it with `{START_HINT}`, or set OLLAMA_API_BASE.",
            zh=f"无法连接 {base} 上的 Ollama：请运行 `{START_HINT}`，或设置 OLLAMA_API_BASE。",
        )

    def status_error(self, spec: ModelSpec, status: int, body: str) -> LLMError:
        try:
            message = json.loads(body).get("error", body)
        except (json.JSONDecodeError, AttributeError):
            message = body
        if status == 404:
            return ModelNotFound(
                en=f"Ollama has no model {spec.model}: run `ollama pull {spec.model}` (or `ollama list` to see what it has).",
                zh=f"Ollama 中没有模型 {spec.model}：请运行 `ollama pull {spec.model}`（`ollama list` 可查看已有模型）。",
            )
        if status == 400 and "context" in str(message).lower():
            return ContextTooLong(en=f"Ollama: {message}", zh=f"Ollama：{message}")
        return ServerError(
            en=f"Ollama answered {status}: {str(message)[:300]}",
            zh=f"Ollama 返回错误 {status}：{str(message)[:300]}",
        )

    def num_ctx(self, spec: ModelSpec, server: Server | None = None) -> int:
        """The context window to ask for: the identifier's, else OLLAMA_NUM_CTX capped at the model's own."""
        if spec.num_ctx or spec.max_token:
            return spec.num_ctx or spec.max_token
        native = self.model_context_length(spec.model, self.at(server))
        return min(self.default_ctx, native) if native else self.default_ctx

    def context_budget(self, spec: ModelSpec, server: Server | None = None) -> int | None:
        return self.num_ctx(spec, server)

    def _show(self, model: str, base: str) -> dict | None:
        """/api/show of the model on the server at `base`, cached; None when it cannot be read."""
        with self._lock:
            if (base, model) in self._shown:
                return self._shown[base, model]
        try:
            info = get_json(self.client(base), f"{base}/api/show", timeout=5.0, payload={"model": model})
        except (httpx.HTTPError, ValueError, AttributeError):
            return None
        info = info if isinstance(info, dict) else {}
        with self._lock:
            self._shown[base, model] = info
        return info

    def model_context_length(self, model: str, base: str | None = None) -> int | None:
        """The model's trained context length from /api/show; None when it cannot be read."""
        info = self._show(model, base or self.base) or {}
        lengths = [v for k, v in (info.get("model_info") or {}).items() if k.endswith(".context_length")]
        try:
            return int(lengths[0]) if lengths else None
        except (TypeError, ValueError):
            return None

    def think_value(self, spec: ModelSpec, think: str | None, server: Server | None = None) -> object:
        """What to send as `think`: None (send nothing), True, False or a level, as the model allows.

        Ollama lists "thinking" in /api/show's capabilities for models that think; asking a model without it
        to think is refused with one line. Turning thinking off is sent only to models that have it.
        """
        if think is None:
            return None
        capabilities = (self._show(spec.model, self.at(server)) or {}).get("capabilities")
        thinks = None if not isinstance(capabilities, list) else "thinking" in capabilities
        if think == "false":
            return False if thinks else None
        if thinks is False:
            raise ConfigError(
                en=f"{spec.model} does not think (Ollama lists no thinking capability): remove think={think}.",
                zh=f"{spec.model} 不支持思考模式（Ollama 未列出 thinking 能力）：请去掉 think={think}。",
            )
        return True if think == "true" else think

    def stream(
        self,
        spec: ModelSpec,
        server: Server | None,
        messages: list[dict[str, str]],
        options: ChatOptions,
        cancel: CancelToken,
    ) -> Iterator[Event]:
        base = self.at(server)
        url = f"{base}/api/chat"
        think = self.think_value(spec, options.think, server)
        payload = build_payload(spec, messages, options, self.num_ctx(spec, server), self.keep_alive, think)
        try:
            with open_stream(
                self.client(base),
                "POST",
                url,
                json=payload,
                headers={},
                cancel=cancel,
                unreachable=lambda: self.unreachable(base),
                status_error=lambda status, body: self.status_error(spec, status, body),
                retries=self.retries(spec),
            ) as response:
                for line in iter_lines(response, cancel, url):
                    if line.strip():
                        yield from parse_line(line)
        except Cancelled:
            return

    def embed(self, spec: ModelSpec, server: Server | None, texts: list[str], cancel: CancelToken) -> Vectors:
        """POST /api/embed with every text as `input`; never cut by Ollama itself (`truncate` off): a text too long is
        ContextTooLong, for the caller to cut with a notice."""
        base = self.at(server)
        url = f"{base}/api/embed"
        options = {"num_ctx": self.num_ctx(spec, server)}  # the window its texts are measured against (embed_limit)
        payload: dict[str, Any] = {"model": spec.model, "input": texts, "truncate": False, "options": options}
        if spec.keep_alive or self.keep_alive:
            payload["keep_alive"] = spec.keep_alive or self.keep_alive
        with open_stream(
            self.client(base),
            "POST",
            url,
            json=payload,
            headers={},
            cancel=cancel,
            unreachable=lambda: self.unreachable(base),
            status_error=lambda status, body: self.embed_error(spec, status, body),
            retries=self.retries(spec),
        ) as response:
            answer = read_json(response, cancel, url, "Ollama", "Ollama ")
        return Vectors(answer.get("embeddings") or [], answer.get("prompt_eval_count"))

    def embed_error(self, spec: ModelSpec, status: int, body: str) -> LLMError:
        lowered = body.lower()
        if "does not support" in lowered and "embed" in lowered:
            return not_an_embedding_model(spec)
        if "context length" in lowered or "too long" in lowered:
            return ContextTooLong(
                en=f"Ollama: a text is too long to embed with {spec.model} ({body[:200]}).",
                zh=f"Ollama：有文本过长，{spec.model} 无法生成向量（{body[:200]}）。",
            )
        return self.status_error(spec, status, body)

    def embed_limit(self, spec: ModelSpec, server: Server | None) -> int | None:
        return self.num_ctx(spec, server)

    def list_models(self, timeout: float = 2.0, base: str | None = None) -> list[str]:
        """Names of the models Ollama has (/api/tags); raises httpx errors when it cannot be reached."""
        tags = get_json(self.client(base or self.base), f"{base or self.base}/api/tags", timeout=timeout)
        return [m["name"] for m in tags.get("models", [])]

    def running(self, timeout: float = 2.0, base: str | None = None) -> list[dict[str, Any]]:
        """Loaded models with their memory (/api/ps): name, size, size_vram in bytes."""
        return get_json(self.client(base or self.base), f"{base or self.base}/api/ps", timeout=timeout).get("models", [])

    def discovery(self, timeout: float) -> dict:
        return {
            base: lambda base=base: {
                f"ollama-{name}": self.model_context_length(name, base) for name in self.list_models(timeout, base)
            }
            for base in self.bases
        }

    def describe(self, text: str, spec: ModelSpec, found: Found, down: dict[str, str], probed: bool) -> ModelEntry:
        names = (spec.base,) if ":" in spec.model else (spec.base + ":latest", spec.base)

        def entry(base: str) -> ModelEntry:
            down_problem, missing = server_down("Ollama", base, START_HINT), not_pulled(spec.model)
            return served_entry(text, spec, base, found, down, probed, names, down_problem, missing)

        return pooled_entry(spec, self.servers(spec), entry, found, down)

    def memory(self, spec: ModelSpec, server: Server | None = None) -> dict:
        try:
            for model in self.running(base=self.at(server)):
                if model.get("name") in (spec.model, spec.model + ":latest"):
                    return {"source": "ollama /api/ps", "bytes": model.get("size"), "gpu_bytes": model.get("size_vram")}
        except (httpx.HTTPError, ValueError, AttributeError):
            return {}
        return {}

    def pull(self, spec: ModelSpec, repo: str | None = None) -> Iterator[tuple[str, int, int]]:
        """Download a model through Ollama (/api/pull), yielding (status, bytes done, bytes total)."""
        model = spec.model
        base = self.base
        url = f"{base}/api/pull"
        with open_stream(
            self.client(base),
            "POST",
            url,
            json={"model": model, "stream": True},
            headers={},
            cancel=CancelToken(),
            unreachable=lambda: self.unreachable(base),
            status_error=lambda status, body: self.status_error(spec, status, body),
            retries=0,
        ) as response:
            for line in iter_lines(response, CancelToken(), url):
                if not line.strip():
                    continue
                chunk = json.loads(line)
                if "error" in chunk:
                    raise ServerError(
                        en=f"Ollama could not download {model}: {chunk['error']}. Check the Ollama server's network or proxy, then run `ollama pull {model}` again.",
                        zh=f"Ollama 无法下载 {model}：{chunk['error']}。请检查 Ollama 服务所在机器的网络或代理，然后重新运行 `ollama pull {model}`。",
                    )
                yield chunk.get("status", ""), chunk.get("completed") or 0, chunk.get("total") or 0
