"""OpenAI-compatible servers on the user's own machines: vLLM, llama.cpp, LM Studio, Jan, LocalAI,
text-generation-webui, SGLang and any URL. No key unless LOCAL_API_KEY is set; never through a proxy.

Requests at once are PARALLEL_REQUESTS, but never more than the server's own slots where it says how
many it has (llama.cpp's /props `total_slots`): more would only wait in the server's queue. A llamacpp
server's slots are learned before its first request and again once a minute (runtime.learn); for the other
presets the count is known only once /props was read to find the context window (a llama-server behind an
openai-compat URL): other servers get no extra request.
"""

from __future__ import annotations

from urllib.parse import urlsplit

import httpx

from ..config_loader import url_list
from ..errors import BackendUnreachable, ConfigError, LLMError, ServerError
from ..model_spec import ModelSpec, parse_model, parse_models
from ..procinfo import server_memory
from ..providers import LOCAL_SERVERS
from ..request import ChatOptions
from ..servers import Server
from ..transport import get_json, is_local
from .base import Found, ModelEntry, pooled_entry, served_entry
from .openai_compat import Endpoint, OpenAIProtocol, redirected
from .problems import misconfigured, not_loaded, server_down

LOOPBACK = ("127.0.0.1", "localhost", "::1")
LLAMA_CPP_UBATCH = 512  # llama-server's default physical batch (-ub): the longest text it embeds
SLOTS_TTL = 60.0  # seconds a server's slot count (or its lack of one) is kept before it is asked again


class LocalServerBackend(OpenAIProtocol):
    """A local server of one of the presets (LOCAL_SERVERS), at its configured or usual URL."""

    label = "local server"
    group = "local"

    def urls(self, spec: ModelSpec) -> list[str]:
        return self._where(spec)[0]

    def _where(self, spec: ModelSpec) -> tuple[list[str], str]:
        """The configured servers of `spec` (one, or a pool) and the key they take."""
        config = self.config
        server = LOCAL_SERVERS[spec.provider]
        key = config["LOCAL_API_KEY"]
        urls = url_list(spec.base_url or config["LOCAL_SERVER_URLS"].get(spec.provider))
        if not urls and spec.provider == "vllm":
            urls = url_list(config["VLLM_API_BASE"])
            if not urls and (seed := redirected("https://api.openai.com/v1", config["API_URL_REDIRECT"])):
                urls, key = [seed], key or config["API_KEY"]
        urls = urls or url_list(server.default_url)
        if not urls:
            raise ConfigError(
                en=f"{spec.base} needs the server's URL: write {spec.base}(base_url=http://HOST:PORT/v1), "
                'or set LOCAL_SERVER_URLS = {"openai-compat": "http://HOST:PORT/v1"}.',
                zh=f"{spec.base} 需要服务地址：写成 {spec.base}(base_url=http://主机:端口/v1)，"
                '或设置 LOCAL_SERVER_URLS = {"openai-compat": "http://主机:端口/v1"}。',
            )
        return urls, key

    def endpoint(self, spec: ModelSpec, server: Server | None = None) -> Endpoint:
        """`server` (one of the configured servers of `spec`), or the first configured one."""
        urls, key = self._where(spec)
        base = server.url if server is not None else urls[0]
        if base not in urls:
            raise ValueError(f"{base} is not a server of {spec.base}")
        preset = LOCAL_SERVERS[spec.provider]
        return Endpoint(base, preset.label, key, "", preset.start_hint)

    def probe(self, spec: ModelSpec, server: Server, timeout: float) -> None:
        self.served_models(self.endpoint(spec, server), timeout)

    def unreachable(self, spec: ModelSpec, endpoint: Endpoint) -> LLMError:
        setting = "VLLM_API_BASE" if spec.provider == "vllm" else f'LOCAL_SERVER_URLS["{spec.provider}"]'
        return BackendUnreachable(
            en=f"{endpoint.label} is not running at {endpoint.base_url}: start it ({endpoint.start_hint}), or set {setting}.",
            zh=f"无法连接 {endpoint.base_url} 上的 {endpoint.label}：请先启动它（{endpoint.start_hint}），或设置 {setting}。",
        )

    def no_models_listing(self, spec: ModelSpec, endpoint: Endpoint, message: str) -> LLMError:
        return ServerError(
            en=f"{endpoint.base_url} has no OpenAI chat endpoint (404): the URL should end with /v1.",
            zh=f"{endpoint.base_url} 上没有 OpenAI 接口（404）：地址应以 /v1 结尾。",
        )

    def facts_ttl(self, spec: ModelSpec) -> float | None:
        """llama-server says how many slots it has; the other presets are not asked (see the module's text)."""
        return SLOTS_TTL if spec.provider == "llamacpp" else None

    def embedding_fix(self, spec: ModelSpec) -> tuple[str, str]:
        if spec.provider == "llamacpp":
            return (
                "start llama-server with --embeddings --pooling mean (a server started so answers both chat and embeddings)",
                "请用 --embeddings --pooling mean 启动 llama-server（这样启动的服务同时支持对话和向量）",
            )
        if spec.provider == "vllm":
            return (
                "serve an embedding model with vLLM's pooling runner (`vllm serve BAAI/bge-m3 --runner pooling`)",
                "请用 vLLM 的 pooling 运行器部署向量模型（`vllm serve BAAI/bge-m3 --runner pooling`）",
            )
        return "", ""

    def embed_limit(self, spec: ModelSpec, server: Server | None) -> int | None:
        """llama-server embeds a text in one physical batch (512 tokens unless started with another -ub); other servers
        take what their model's window takes."""
        if spec.max_token:
            return spec.max_token
        if spec.provider == "llamacpp":
            return LLAMA_CPP_UBATCH
        try:
            return self.context_budget(spec, server)
        except LLMError:
            return None

    def learn(self, spec: ModelSpec, server: Server, timeout: float = 2.0) -> None:
        """Read the server's slots (llama.cpp's /props total_slots) and note them on it."""
        self.props(self.endpoint(spec, server), timeout)

    def extra_fields(self, spec: ModelSpec, options: ChatOptions) -> dict:
        """Thinking on or off through the chat template (Qwen3's `enable_thinking`, read by vLLM and llama.cpp;
        templates without it ignore it), and a level as `reasoning_effort` (gpt-oss)."""
        if options.think is None:
            return {}
        extra: dict = {"chat_template_kwargs": {"enable_thinking": options.think != "false"}}
        if options.think in ("low", "medium", "high"):
            extra["reasoning_effort"] = options.think
        return extra

    def context_budget(self, spec: ModelSpec, server: Server | None = None) -> int | None:
        if spec.max_token:
            return spec.max_token
        endpoint = self.endpoint(spec, server)
        server = server or self.first(spec)
        known = server.models if server is not None else None
        if known is None:
            try:
                known = self.served_models(endpoint)
            except (httpx.HTTPError, ValueError, AttributeError):
                return None
        return known.get(spec.model)

    def discovery(self, timeout: float) -> dict:
        """One job per configured server URL (each server of a pool, and those a configured `base_url` names),
        naming its models with the preset prefix."""
        jobs = {}
        specs = [parse_model(f"{prefix}-probe") for prefix in LOCAL_SERVERS]
        specs += [spec for text in self.config["AVAIL_LLM_MODELS"] for spec in parse_models(text) if spec.base_url]
        for spec in specs:
            try:
                servers = self.servers(spec)
            except LLMError:
                continue
            prefix = spec.provider
            for server in servers:
                if server.url not in jobs:
                    endpoint = self.endpoint(spec, server)
                    jobs[server.url] = lambda p=prefix, e=endpoint: {
                        f"{p}-{name}": ctx for name, ctx in self.served_models(e, timeout).items()
                    }
        return jobs

    def describe(self, text: str, spec: ModelSpec, found: Found, down: dict[str, str], probed: bool) -> ModelEntry:
        try:
            servers = self.servers(spec)
        except ConfigError as exc:
            return ModelEntry(text, spec.provider, "configured", False, exc.en, problem=misconfigured(exc.zh, exc.en))
        endpoint = self.endpoint(spec)

        def entry(url: str) -> ModelEntry:
            start = endpoint.start_hint.replace("MODEL", spec.model)
            down_problem, missing = server_down(endpoint.label, url, start), not_loaded(endpoint.label, url, spec.model, start)
            return served_entry(text, spec, url, found, down, probed, (spec.base,), down_problem, missing)

        return pooled_entry(spec, servers, entry, found, down)

    def token_source(self, spec: ModelSpec) -> str:
        return f"{spec.provider} /tokenize"

    def count_tokens(self, spec: ModelSpec, text: str, timeout: float = 30.0) -> int:
        """The server's own token count of `text` (POST /tokenize: vLLM reads `prompt`, llama.cpp `content`)."""
        endpoint = self.endpoint(spec)
        url = endpoint.base_url.removesuffix("/").removesuffix("/v1") + "/tokenize"
        body = {"model": spec.model, "prompt": text, "content": text}
        answer = get_json(self._client(endpoint), url, self._headers(endpoint), timeout, payload=body)
        return answer["count"] if isinstance(answer.get("count"), int) else len(answer["tokens"])

    def memory(self, spec: ModelSpec, server: Server | None = None) -> dict:
        """The resident memory of the server process, when it listens on this machine's loopback."""
        url = urlsplit(self.endpoint(spec, server).base_url)
        if is_local(url.geturl()) and url.hostname in LOOPBACK:
            found = server_memory(url.port or 80)
            if found:
                return {"source": f"process {found[0]} and its children (RSS)", "bytes": found[1]}
        return {}
