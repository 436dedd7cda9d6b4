"""The OpenAI chat protocol: vLLM, the local server presets, any OpenAI-compatible URL, and cloud vendors.

Requests and stream chunks are built and parsed by pure functions (`build_payload`, `SSEDecoder`,
`parse_chunk`); `OpenAICompatBackend` sends them and maps failures to typed errors.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx

from ..errors import (
    AuthFailed,
    BackendUnreachable,
    ConfigError,
    ContextTooLong,
    LLMError,
    ModelNotFound,
    RateLimited,
    ServerError,
    StreamCut,
    StreamError,
)
from ..model_spec import CLOUD, ModelSpec
from ..providers import CLOUD_VENDORS, LOCAL_SERVERS
from ..transport import Cancelled, client_for, get_json, iter_lines, json_chunk, open_stream
from .base import CancelToken, ChatOptions, Event, Usage

OPENAI_CHAT_URL = "https://api.openai.com/v1/chat/completions"


@dataclass(frozen=True)
class Endpoint:
    """Where a model's requests go and with which key (never shown)."""

    base_url: str
    label: str
    api_key: str = field(default="", repr=False)
    key_setting: str = ""  # the configuration key to set when a key is missing; "" for local servers
    start_hint: str = ""


def _redirected(base: str, redirect: dict[str, str]) -> str | None:
    """API_URL_REDIRECT as GPT Academic has it: keyed by the full chat URL (or by the base URL)."""
    for key in (f"{base}/chat/completions", base):
        if key in redirect:
            target = redirect[key].rstrip("/")
            return target.removesuffix("/chat/completions")
    return None


def resolve_endpoint(spec: ModelSpec, config) -> Endpoint:
    """The URL and key of an OpenAI-compatible model, from its brackets and the configuration."""
    redirect = config["API_URL_REDIRECT"]
    if spec.kind == CLOUD:
        vendor = next(v for v in CLOUD_VENDORS if v.name == spec.provider)
        base = _redirected(vendor.base_url, redirect) or vendor.base_url
        return Endpoint(base, vendor.label, config[vendor.key_setting], vendor.key_setting)
    server = LOCAL_SERVERS[spec.provider]
    key = config["LOCAL_API_KEY"]
    base = spec.base_url or config["LOCAL_SERVER_URLS"].get(spec.provider)
    if not base and spec.provider == "vllm":
        base = config["VLLM_API_BASE"]
        if not base and (seed := _redirected("https://api.openai.com/v1", redirect)):
            base, key = seed, key or config["API_KEY"]
    base = base or server.default_url
    if not base:
        raise ConfigError(
            f"{spec.base} needs the server's URL: write {spec.base}(base_url=http://HOST:PORT/v1), "
            'or set LOCAL_SERVER_URLS = {"openai-compat": "http://HOST:PORT/v1"}.',
            f"{spec.base} 需要服务地址：写成 {spec.base}(base_url=http://主机:端口/v1)，"
            '或设置 LOCAL_SERVER_URLS = {"openai-compat": "http://主机:端口/v1"}。',
        )
    return Endpoint(base.rstrip("/"), server.label, key, "", server.start_hint)


def build_payload(model: str, messages: list[dict[str, str]], options: ChatOptions, include_usage: bool) -> dict[str, Any]:
    """The /chat/completions request body (pure, no I/O)."""
    payload: dict[str, Any] = {"model": model, "messages": messages, "stream": True}
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
    """One SSE data payload of a chat stream: text deltas and, where present, Usage."""
    chunk = json_chunk(data, "The server", "服务")
    if event == "error" or "error" in chunk:
        message = _error_text(chunk.get("error", chunk))
        raise StreamError(f"The server reported an error mid-answer: {message}", f"服务在回答中途报错：{message}")
    events: list[Event] = []
    finish = None
    for choice in chunk.get("choices") or []:
        text = (choice.get("delta") or {}).get("content")
        if text:
            events.append(text)
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


class OpenAICompatBackend:
    """Streams chat completions from any server that speaks the OpenAI protocol."""

    def __init__(self, config) -> None:
        self.config = config
        self.retries = config["MAX_RETRY"]
        self._no_usage_option: set[str] = set()  # servers that refuse stream_options
        self._served: dict[str, dict[str, int | None]] = {}
        self._lock = threading.Lock()

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
        with self._lock:
            self._served[endpoint.base_url] = served
        return served

    def count_tokens(self, spec: ModelSpec, text: str, timeout: float = 30.0) -> int:
        """The server's own token count of `text` (POST /tokenize: vLLM reads `prompt`, llama.cpp `content`)."""
        endpoint = resolve_endpoint(spec, self.config)
        url = endpoint.base_url.removesuffix("/").removesuffix("/v1") + "/tokenize"
        body = {"model": spec.model, "prompt": text, "content": text}
        answer = get_json(self._client(endpoint), url, self._headers(endpoint), timeout, payload=body)
        return answer["count"] if isinstance(answer.get("count"), int) else len(answer["tokens"])

    def _llama_cpp_context(self, endpoint: Endpoint, timeout: float) -> int | None:
        """llama.cpp's server gives each slot's context at /props (n_ctx), not at /models; other servers have no /props."""
        root = endpoint.base_url.removesuffix("/").removesuffix("/v1")
        try:
            props = get_json(self._client(endpoint), f"{root}/props", self._headers(endpoint), timeout)
            n_ctx = props.get("default_generation_settings", {}).get("n_ctx")
        except (httpx.HTTPError, ValueError, AttributeError):
            return None
        return n_ctx if isinstance(n_ctx, int) and n_ctx > 0 else None

    def context_budget(self, spec: ModelSpec) -> int | None:
        if spec.max_token:
            return spec.max_token
        if spec.kind == CLOUD:
            return None
        endpoint = resolve_endpoint(spec, self.config)
        with self._lock:
            known = self._served.get(endpoint.base_url)
        if known is None:
            try:
                known = self.served_models(endpoint)
            except (httpx.HTTPError, ValueError, AttributeError):
                return None
        return known.get(spec.model)

    def unreachable(self, spec: ModelSpec, endpoint: Endpoint) -> LLMError:
        if spec.kind == CLOUD:
            return BackendUnreachable(
                f"Cannot reach {endpoint.label} at {endpoint.base_url}: check the network, or set PROXIES.",
                f"无法连接 {endpoint.label}（{endpoint.base_url}）：请检查网络，或设置 PROXIES 代理。",
            )
        setting = "VLLM_API_BASE" if spec.provider == "vllm" else f'LOCAL_SERVER_URLS["{spec.provider}"]'
        return BackendUnreachable(
            f"{endpoint.label} is not running at {endpoint.base_url}: start it ({endpoint.start_hint}), or set {setting}.",
            f"无法连接 {endpoint.base_url} 上的 {endpoint.label}：请先启动它（{endpoint.start_hint}），或设置 {setting}。",
        )

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
                f"{endpoint.label} refused the key ({status}): {fix_en}.", f"{endpoint.label} 拒绝了密钥（{status}）：{fix_zh}。"
            )
        if status == 404:
            return self._not_found(spec, endpoint, message)
        if status == 429:
            return RateLimited(
                f"{endpoint.label} is rate limiting ({message}); wait a moment and try again.",
                f"{endpoint.label} 限流（{message}），请稍后再试。",
            )
        lowered = (code + " " + message).lower()
        if status == 400 and ("context" in lowered or "too long" in lowered or "exceed" in lowered):
            return ContextTooLong(
                f"{endpoint.label}: the prompt does not fit the model's context ({message}); shorten it or start a new chat.",
                f"{endpoint.label}：输入超出模型上下文（{message}）；请缩短输入或新建对话。",
            )
        return ServerError(f"{endpoint.label} answered {status}: {message}", f"{endpoint.label} 返回错误 {status}：{message}")

    def _not_found(self, spec: ModelSpec, endpoint: Endpoint, message: str) -> LLMError:
        try:
            served = sorted(self.served_models(endpoint))
        except (httpx.HTTPError, ValueError, AttributeError):
            served = None
        if served is None and spec.kind != CLOUD:
            return ServerError(
                f"{endpoint.base_url} has no OpenAI chat endpoint (404): the URL should end with /v1.",
                f"{endpoint.base_url} 上没有 OpenAI 接口（404）：地址应以 /v1 结尾。",
            )
        names = ", ".join(f"{spec.provider}-{name}" for name in served[:8]) if served else ""
        if names:
            return ModelNotFound(
                f"{endpoint.label} does not serve {spec.model}; it serves: {names}.",
                f"{endpoint.label} 没有模型 {spec.model}；它提供的是：{names}。",
            )
        return ModelNotFound(
            f"{endpoint.label} has no model {spec.model}: {message}", f"{endpoint.label} 没有模型 {spec.model}：{message}"
        )

    def stream(
        self, spec: ModelSpec, messages: list[dict[str, str]], options: ChatOptions, cancel: CancelToken
    ) -> Iterator[Event]:
        endpoint = resolve_endpoint(spec, self.config)
        if spec.kind == CLOUD and not endpoint.api_key:
            raise AuthFailed(
                f"{spec.base} needs a key: set {endpoint.key_setting} in config_private.py.",
                f"{spec.base} 需要密钥：请在 config_private.py 中设置 {endpoint.key_setting}。",
            )
        url = f"{endpoint.base_url}/chat/completions"
        include_usage = endpoint.base_url not in self._no_usage_option
        try:
            yield from self._stream(spec, endpoint, url, build_payload(spec.model, messages, options, include_usage), cancel)
        except ServerError as exc:
            if not include_usage or not 400 <= (exc.status or 0) < 500 or "stream_options" not in exc.detail:
                raise
            self._no_usage_option.add(endpoint.base_url)
            yield from self._stream(spec, endpoint, url, build_payload(spec.model, messages, options, False), cancel)

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
                retries=self.retries,
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
                f"{endpoint.label} ended the answer without finishing it; the text so far is kept.",
                f"{endpoint.label} 未完成回答就结束了，已保留收到的部分。",
            )
        if usage:
            yield usage
