"""The OpenAI chat protocol, shared by the local servers (local_servers.py) and the cloud vendors (cloud.py).

Requests and stream chunks are built and parsed by pure functions (`build_payload`, `SSEDecoder`,
`parse_chunk`); `OpenAIProtocol` sends them and maps failures to typed errors.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx

from ..errors import (
    AuthFailed,
    ContextTooLong,
    LLMError,
    ModelNotFound,
    RateLimited,
    ServerError,
    StreamCut,
    StreamError,
    WrongKindOfModel,
)
from ..model_spec import ModelSpec
from ..request import CancelToken, ChatOptions, Event, Usage, Vectors
from ..servers import Server, Servers
from ..thinking import Thought
from ..transport import Cancelled, client_for, get_json, iter_lines, json_chunk, open_stream, read_json
from .base import Backend, not_an_embedding_model

OPENAI_CHAT_URL = "https://api.openai.com/v1/chat/completions"


@dataclass(frozen=True)
class Endpoint:
    """Where a model's requests go and with which key (never shown)."""

    base_url: str
    label: str
    api_key: str = field(default="", repr=False)
    key_setting: str = ""  # the configuration key to set when a key is missing; "" for local servers
    start_hint: str = ""


def redirected(base: str, redirect: dict[str, str]) -> str | None:
    """API_URL_REDIRECT as GPT Academic has it: keyed by the full chat URL (or by the base URL)."""
    for key in (f"{base}/chat/completions", base):
        if key in redirect:
            target = redirect[key].rstrip("/")
            return target.removesuffix("/chat/completions")
    return None


def build_payload(
    model: str, messages: list[dict[str, str]], options: ChatOptions, include_usage: bool, extra: dict | None = None
) -> dict[str, Any]:
    """The /chat/completions request body (pure, no I/O); `extra` fields are the backend's own."""
    payload: dict[str, Any] = {"model": model, "messages": messages, "stream": True, **(extra or {})}
    if include_usage:
        payload["stream_options"] = {"include_usage": True}
    if options.temperature is not None:
        payload["temperature"] = options.temperature
    if options.top_p is not None:
        payload["top_p"] = options.top_p
    if options.max_tokens is not None:
        payload["max_tokens"] = options.max_tokens
    return payload


class SSEDecoder:
    """Server-sent events, line by line: returns (event name, data) when an event is complete."""

    def __init__(self) -> None:
        self.event = ""
        self.data: list[str] = []

    def feed(self, line: str) -> tuple[str, str] | None:
        if not line:
            if not self.data:
                self.event = ""
                return None
            done = (self.event or "message", "\n".join(self.data))
            self.event, self.data = "", []
            return done
        if line.startswith(":"):
            return None
        name, _, value = line.partition(":")
        value = value[1:] if value.startswith(" ") else value
        if name == "data":
            self.data.append(value)
        elif name == "event":
            self.event = value
        return None


def _error_text(error: Any) -> str:
    if isinstance(error, dict):
        return str(error.get("message") or error)
    return str(error)


def parse_chunk(data: str, event: str = "message") -> list[Event]:
    """One SSE data payload of a chat stream: thinking (`reasoning_content`, or `reasoning` in newer vLLM), text
    deltas and, where present, Usage."""
    chunk = json_chunk(data, "The server", "服务")
    if event == "error" or "error" in chunk:
        message = _error_text(chunk.get("error", chunk))
        raise StreamError(en=f"The server reported an error mid-answer: {message}", zh=f"服务在回答中途报错：{message}")
    events: list[Event] = []
    finish = None
    for choice in chunk.get("choices") or []:
        delta = choice.get("delta") or {}
        thought = delta.get("reasoning_content") or delta.get("reasoning")
        if thought and isinstance(thought, str):
            events.append(Thought(thought))
        if delta.get("content"):
            events.append(delta["content"])
        finish = choice.get("finish_reason") or finish
    usage, timings = chunk.get("usage"), chunk.get("timings") or {}
    if usage or finish:
        usage = usage or {}
        events.append(
            Usage(
                prompt_tokens=usage.get("prompt_tokens"),
                completion_tokens=usage.get("completion_tokens"),
                finish_reason=finish,
                server_tokens_per_s=timings.get("predicted_per_second"),
            )
        )
    return events


def _merge(old: Usage | None, new: Usage) -> Usage:
    if old is None:
        return new
    return Usage(
        prompt_tokens=new.prompt_tokens if new.prompt_tokens is not None else old.prompt_tokens,
        completion_tokens=new.completion_tokens if new.completion_tokens is not None else old.completion_tokens,
        finish_reason=new.finish_reason or old.finish_reason,
        server_tokens_per_s=new.server_tokens_per_s or old.server_tokens_per_s,
    )


class OpenAIProtocol(Backend):
    """Streams chat completions from a server that speaks the OpenAI protocol; subclasses say where requests go."""

    def __init__(self, config, servers: Servers) -> None:
        super().__init__(config, servers)
        self._no_usage_option: set[str] = set()  # servers that refuse stream_options

    def endpoint(self, spec: ModelSpec, server: Server | None = None) -> Endpoint:
        """The URL and key of `spec`'s requests to `server` (the first configured when None); the key is never shown."""
        raise NotImplementedError

    def unreachable(self, spec: ModelSpec, endpoint: Endpoint) -> LLMError:
        raise NotImplementedError

    def check_ready(self, spec: ModelSpec, endpoint: Endpoint) -> None:
        """Raise before sending when the request cannot succeed (a cloud model without its key)."""

    def extra_fields(self, spec: ModelSpec, options: ChatOptions) -> dict[str, Any]:
        """Request fields of this backend's own beyond OpenAI's (local servers: thinking on or off)."""
        return {}

    def _client(self, endpoint: Endpoint) -> httpx.Client:
        return client_for(endpoint.base_url, self.config["CONNECT_TIMEOUT"], self.config["READ_TIMEOUT"], self.config["PROXIES"])

    @staticmethod
    def _headers(endpoint: Endpoint) -> dict[str, str]:
        return {"Authorization": f"Bearer {endpoint.api_key}"} if endpoint.api_key else {}

    def served_models(self, endpoint: Endpoint, timeout: float = 2.0) -> dict[str, int | None]:
        """The models the server lists at /models, each with its context length where it gives one."""
        listing = get_json(self._client(endpoint), f"{endpoint.base_url}/models", self._headers(endpoint), timeout)
        served = {m["id"]: m.get("max_model_len") for m in listing.get("data", []) if isinstance(m, dict) and "id" in m}
        if served and None in served.values():
            slot_context = self._llama_cpp_context(endpoint, timeout)
            served = {name: ctx or slot_context for name, ctx in served.items()}
        server = self.directory.known(endpoint.base_url)
        if server is not None:
            server.models = served
        return served

    def props(self, endpoint: Endpoint, timeout: float = 2.0) -> dict | None:
        """llama.cpp's GET /props (each slot's n_ctx, total_slots); None from servers without it. The slot count
        (or its absence) is noted on the server, for its gate's size."""
        root = endpoint.base_url.removesuffix("/").removesuffix("/v1")
        try:
            props = get_json(self._client(endpoint), f"{root}/props", self._headers(endpoint), timeout)
        except (httpx.HTTPError, ValueError):
            props = None
        props = props if isinstance(props, dict) else None
        total = (props or {}).get("total_slots")
        server = self.directory.known(endpoint.base_url)
        if server is not None:
            server.learned(total if isinstance(total, int) and total > 0 else None)
        return props

    def _llama_cpp_context(self, endpoint: Endpoint, timeout: float) -> int | None:
        """llama.cpp's server gives each slot's context at /props (n_ctx), not at /models; other servers have no /props."""
        settings = (self.props(endpoint, timeout) or {}).get("default_generation_settings")
        n_ctx = settings.get("n_ctx") if isinstance(settings, dict) else None
        return n_ctx if isinstance(n_ctx, int) and n_ctx > 0 else None

    def status_error(self, spec: ModelSpec, endpoint: Endpoint, status: int, body: str) -> LLMError:
        try:
            error = json.loads(body).get("error", body)
        except (json.JSONDecodeError, AttributeError):
            error = body
        message = _error_text(error)[:300]
        code = str(error.get("code") or error.get("type") or "") if isinstance(error, dict) else ""
        if status in (401, 403):
            fix_en = f"check {endpoint.key_setting}" if endpoint.key_setting else "set LOCAL_API_KEY to the server's --api-key"
            fix_zh = f"请检查 {endpoint.key_setting}" if endpoint.key_setting else "请把 LOCAL_API_KEY 设为服务的 --api-key"
            return AuthFailed(
                en=f"{endpoint.label} refused the key ({status}): {fix_en}.",
                zh=f"{endpoint.label} 拒绝了密钥（{status}）：{fix_zh}。",
            )
        if status == 404:
            return self._not_found(spec, endpoint, message)
        if status == 429:
            return RateLimited(
                en=f"{endpoint.label} is rate limiting ({message}); wait a moment and try again.",
                zh=f"{endpoint.label} 限流（{message}），请稍后再试。",
            )
        lowered = (code + " " + message).lower()
        if status == 400 and ("context" in lowered or "too long" in lowered or "exceed" in lowered):
            return ContextTooLong(
                en=f"{endpoint.label}: the prompt does not fit the model's context ({message}); shorten it or start a new chat.",
                zh=f"{endpoint.label}：输入超出模型上下文（{message}）；请缩短输入或新建对话。",
            )
        return ServerError(
            en=f"{endpoint.label} answered {status}: {message}", zh=f"{endpoint.label} 返回错误 {status}：{message}"
        )

    def _not_found(self, spec: ModelSpec, endpoint: Endpoint, message: str, embedding: bool = False) -> LLMError:
        try:
            served = sorted(self.served_models(endpoint))
        except (httpx.HTTPError, ValueError, AttributeError):
            served = None
        if served is None:
            return self.no_models_listing(spec, endpoint, message)
        if spec.model in served:  # the model is there, the endpoint is not: a model of the other kind
            if embedding:
                return not_an_embedding_model(spec, *self.embedding_fix(spec))
            return WrongKindOfModel(
                en=f"{spec.base} makes embeddings ({endpoint.label} has no chat for it): pick a chat model for questions.",
                zh=f"{spec.base} 是向量（embedding）模型（{endpoint.label} 不为它提供对话）：提问请选择对话模型。",
            )
        names = ", ".join(f"{spec.provider}-{name}" for name in served[:8])
        if names:
            return ModelNotFound(
                en=f"{endpoint.label} does not serve {spec.model}; it serves: {names}.",
                zh=f"{endpoint.label} 没有模型 {spec.model}；它提供的是：{names}。",
            )
        return ModelNotFound(
            en=f"{endpoint.label} has no model {spec.model}: {message}", zh=f"{endpoint.label} 没有模型 {spec.model}：{message}"
        )

    def no_models_listing(self, spec: ModelSpec, endpoint: Endpoint, message: str) -> LLMError:
        """A 404 from a server whose model list cannot be read either."""
        return ModelNotFound(
            en=f"{endpoint.label} has no model {spec.model}: {message}", zh=f"{endpoint.label} 没有模型 {spec.model}：{message}"
        )

    def embed(self, spec: ModelSpec, server: Server | None, texts: list[str], cancel: CancelToken) -> Vectors:
        """POST /embeddings (OpenAI's shape): one vector per text, in order."""
        endpoint = self.endpoint(spec, server)
        self.check_ready(spec, endpoint)
        url = f"{endpoint.base_url}/embeddings"
        with open_stream(
            self._client(endpoint),
            "POST",
            url,
            json={"model": spec.model, "input": texts, "encoding_format": "float"},
            headers=self._headers(endpoint),
            cancel=cancel,
            unreachable=lambda: self.unreachable(spec, endpoint),
            status_error=lambda status, body: self.embed_error(spec, endpoint, status, body),
            retries=self.retries(spec),
        ) as response:
            answer = read_json(response, cancel, url, endpoint.label, endpoint.label)
        data = sorted(answer.get("data") or [], key=lambda item: item.get("index", 0))
        vectors = [item.get("embedding") for item in data]
        return Vectors(vectors, (answer.get("usage") or {}).get("prompt_tokens"))

    def embed_error(self, spec: ModelSpec, endpoint: Endpoint, status: int, body: str) -> LLMError:
        """An error answer to /embeddings: a model or server that does not embed, a text too long, or as for chat."""
        lowered = body.lower()
        if status == 501 or "pooling type" in lowered or ("embedding" in lowered and "support" in lowered):
            return not_an_embedding_model(spec, *self.embedding_fix(spec))
        if status == 404:
            return self._not_found(spec, endpoint, body[:300], embedding=True)
        if "too large" in lowered or "context length" in lowered or "too long" in lowered:
            return ContextTooLong(
                en=f"{endpoint.label}: a text is too long to embed ({body[:200]}).",
                zh=f"{endpoint.label}：有文本过长，无法生成向量（{body[:200]}）。",
            )
        return self.status_error(spec, endpoint, status, body)

    def embedding_fix(self, spec: ModelSpec) -> tuple[str, str]:
        """How to get embeddings from this kind of server, in English and Chinese ("" for the general advice)."""
        return "", ""

    def stream(
        self,
        spec: ModelSpec,
        server: Server | None,
        messages: list[dict[str, str]],
        options: ChatOptions,
        cancel: CancelToken,
    ) -> Iterator[Event]:
        endpoint = self.endpoint(spec, server)
        self.check_ready(spec, endpoint)
        url = f"{endpoint.base_url}/chat/completions"
        include_usage = endpoint.base_url not in self._no_usage_option
        extra = self.extra_fields(spec, options)
        try:
            yield from self._stream(
                spec, endpoint, url, build_payload(spec.model, messages, options, include_usage, extra), cancel
            )
        except ServerError as exc:
            if not include_usage or not 400 <= (exc.status or 0) < 500 or "stream_options" not in exc.detail:
                raise
            self._no_usage_option.add(endpoint.base_url)
            yield from self._stream(spec, endpoint, url, build_payload(spec.model, messages, options, False, extra), cancel)

    def _stream(
        self, spec: ModelSpec, endpoint: Endpoint, url: str, payload: dict[str, Any], cancel: CancelToken
    ) -> Iterator[Event]:
        decoder, usage, finished = SSEDecoder(), None, False
        try:
            with open_stream(
                self._client(endpoint),
                "POST",
                url,
                json=payload,
                headers=self._headers(endpoint),
                cancel=cancel,
                unreachable=lambda: self.unreachable(spec, endpoint),
                status_error=lambda status, body: self.status_error(spec, endpoint, status, body),
                retries=self.retries(spec),
            ) as response:
                for line in iter_lines(response, cancel, url):
                    event = decoder.feed(line)
                    if event is None:
                        continue
                    name, data = event
                    if data.strip() == "[DONE]":
                        finished = True
                        break
                    for item in parse_chunk(data, name):
                        if isinstance(item, Usage):
                            usage = _merge(usage, item)
                            finished = finished or bool(item.finish_reason)
                        else:
                            yield item
        except Cancelled:
            return
        if not finished:
            raise StreamCut(
                en=f"{endpoint.label} ended the answer without finishing it; the text so far is kept.",
                zh=f"{endpoint.label} 未完成回答就结束了，已保留收到的部分。",
            )
        if usage:
            yield usage
