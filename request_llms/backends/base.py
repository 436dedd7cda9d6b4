"""The Backend interface, and the `list` line of a model on its servers."""

from __future__ import annotations

from collections.abc import Callable, Generator, Iterator
from dataclasses import asdict, dataclass, field, replace

from ..errors import ConfigError, WrongKindOfModel
from ..model_spec import ModelSpec
from ..request import CancelToken, ChatOptions, Event, Vectors
from ..servers import Server, ServerLine, Servers, pool_summary
from .problems import Problem


@dataclass
class ModelEntry:
    """One line of `list`: an identifier, what serves it, and whether it can answer now."""

    identifier: str
    backend: str
    source: str  # "configured" or "discovered"
    reachable: bool | None  # None: not checked (cloud models, native models)
    detail: str = ""
    context: int | None = None
    problem: Problem | None = None  # why it cannot answer now and the fix; None when ready or not checked
    servers: list[ServerLine] = field(default_factory=list)  # a pool's servers, each with its state and load
    detail_zh: str = ""  # `detail` in Chinese, where it has words to translate

    def detail_in(self, lang: str) -> str:
        return self.detail_zh if lang == "zh" and self.detail_zh else self.detail

    def as_dict(self) -> dict:
        data = asdict(self)
        data["servers"] = [server.as_dict() for server in self.servers]
        return data


# What each server answered at discovery: {server address: {identifier: context length or None}}
Found = dict[str, dict[str, int | None]]
DEFAULT_PARALLEL = {"ollama": 4, "llamacpp": 4, "local": 16, "cloud": 8}


class Backend:
    """A way to talk to one kind of model; it answers for its kind everything the rest of LocalScholar asks.

    A backend lists the servers that may answer a model (`servers`: one, several for a pool, none for a
    native model, whose worker queues its requests itself) and streams to the one it is handed; which one
    is routing's choice (pools.py). The registry maps each kind of ModelSpec to one Backend class, and no
    other module asks a spec for its kind. Nothing here reads the network but `stream`, `learn`, `probe`,
    `discovery`, `context_budget`, `count_tokens`, `memory` and `pull`.
    """

    label = ""
    group = "local"  # PARALLEL_REQUESTS falls back from the provider to this ("local" or "cloud")

    def __init__(self, config, servers: Servers) -> None:
        self.config = config
        self.directory = servers

    def stream(
        self,
        spec: ModelSpec,
        server: Server | None,
        messages: list[dict[str, str]],
        options: ChatOptions,
        cancel: CancelToken,
    ) -> Iterator[Event]:
        """Yield Status while waiting, text deltas as they arrive, then at most one Usage; end quietly when cancelled."""
        raise NotImplementedError

    def embed(self, spec: ModelSpec, server: Server | None, texts: list[str], cancel: CancelToken) -> Vectors:
        """One vector per text, from one request to `server`; a backend whose models do not embed says so."""
        raise not_an_embedding_model(spec)

    def embed_limit(self, spec: ModelSpec, server: Server | None) -> int | None:
        """The longest text, in tokens, one input to embed may be; None where only the server knows."""
        return spec.max_token

    def embed_batch(self, spec: ModelSpec) -> int:
        """Texts sent in one embedding request."""
        return 32

    def urls(self, spec: ModelSpec) -> list[str]:
        """Where the servers of `spec` are, in configured order; none when the backend has no servers."""
        return []

    def servers(self, spec: ModelSpec) -> list[Server]:
        """Every server that may answer `spec`, in configured order: one, several (a pool), or none."""
        return [self.directory.at(url, self.capacity(spec, None)) for url in self.urls(spec)]

    def first(self, spec: ModelSpec) -> Server | None:
        """The first configured server of `spec` (where a request goes when nothing chose another)."""
        servers = self.servers(spec)
        return servers[0] if servers else None

    def context_budget(self, spec: ModelSpec, server: Server | None = None) -> int | None:
        """The model's context window in tokens, as far as it can be known; None if unknown."""
        return spec.max_token

    def retries(self, spec: ModelSpec) -> int:
        """Tries again on the same server (MAX_RETRY); none for a pool member: the pool tries another server instead."""
        return 0 if len(self.urls(spec)) > 1 else int(self.config["MAX_RETRY"])

    def capacity(self, spec: ModelSpec, server: Server | None) -> int:
        """Requests sent to one server at once: PARALLEL_REQUESTS by provider, then by group, capped by the slots
        the server said it has. Reads only what is known: no request goes out."""
        limits = {**DEFAULT_PARALLEL, **self.config["PARALLEL_REQUESTS"]}
        wanted = int(limits.get(spec.provider) or limits.get(self.group) or DEFAULT_PARALLEL[self.group])
        slots = server.slots if server is not None else None
        return min(wanted, slots) if slots else wanted

    def facts_ttl(self, spec: ModelSpec) -> float | None:
        """Seconds a server's facts (its slots) are trusted before `learn` reads them again; None: nothing to learn."""
        return None

    def learn(self, spec: ModelSpec, server: Server, timeout: float = 2.0) -> None:
        """Ask the server about itself (its slots) and note the answer on it."""

    def probe(self, spec: ModelSpec, server: Server, timeout: float) -> None:
        """A cheap request to a server (one resting after a failure); raises if it does not answer."""

    def waiting(self, spec: ModelSpec) -> int:
        """Requests this backend itself holds waiting for `spec` (a native worker's queue); 0 where a gate queues them."""
        return 0

    def discovery(self, timeout: float) -> dict[str, Callable[[], dict[str, int | None]]]:
        """For each server of this kind to ask, a call that returns {identifier: context} (raising if down)."""
        return {}

    def describe(self, text: str, spec: ModelSpec, found: Found, down: dict[str, str], probed: bool) -> ModelEntry:
        """The `list` line of a configured identifier, from what discovery found."""
        return ModelEntry(text, spec.provider, "configured", None)

    def token_source(self, spec: ModelSpec) -> str | None:
        """What counts this model's tokens exactly (`count_tokens`), or None: callers use the estimate."""
        return None

    def count_tokens(self, spec: ModelSpec, text: str, timeout: float = 30.0) -> int:
        raise NotImplementedError

    def memory(self, spec: ModelSpec, server: Server | None = None) -> dict:
        """What the serving process (of `server`, else the first) holds in memory, where it can be read: source, bytes, gpu_bytes, ..."""
        return {}

    def pull(self, spec: ModelSpec, repo: str | None = None) -> Generator[tuple[str, int, int], None, tuple[str, str] | None]:
        """Fetch the model's weights, yielding (status, done, total); may return a closing (en, zh) line."""
        raise ConfigError(
            en=f"{spec.base} is served by its own server, which loads its weights itself: nothing to pull here.",
            zh=f"{spec.base} 由其服务自行加载权重，这里无需下载。",
        )
        yield  # a generator, like the backends that do pull

    def shutdown(self) -> None:
        """Let go of what the backend holds (worker processes); the next request starts them again."""


def not_an_embedding_model(spec: ModelSpec, fix_en: str = "", fix_zh: str = "") -> WrongKindOfModel:
    """A chat model asked for embeddings: say so, and how to get an embedding model."""
    fix_en = fix_en or 'set EMBED_MODEL to an embedding model, e.g. "ollama-bge-m3" after `ollama pull bge-m3`'
    fix_zh = fix_zh or '请把 EMBED_MODEL 设为向量模型，例如先 `ollama pull bge-m3`，再设为 "ollama-bge-m3"'
    return WrongKindOfModel(
        en=f"{spec.base} does not make embeddings: {fix_en}.", zh=f"{spec.base} 不能生成向量（embedding）：{fix_zh}。"
    )


def served_entry(
    text: str,
    spec: ModelSpec,
    server: str,
    found: Found,
    down: dict[str, str],
    probed: bool,
    names: tuple[str, ...],
    when_down: Problem,
    when_missing: Problem,
) -> ModelEntry:
    """The `list` line of a model on a server that was asked what it serves (`names`: how the server may call it)."""
    if not probed:
        return ModelEntry(text, spec.provider, "configured", None, f"{server} (not checked)", detail_zh=f"{server}（未检查）")
    if server in down or server not in found:
        return ModelEntry(text, spec.provider, "configured", False, f"server not reachable at {server}", problem=when_down)
    models = found[server]
    for name in names:
        if name in models:
            return ModelEntry(text, spec.provider, "configured", True, server, models[name])
    detail = f"server at {server} does not have this model"
    return ModelEntry(text, spec.provider, "configured", False, detail, problem=when_missing)


def pooled_entry(
    spec: ModelSpec,
    servers: list[Server],
    entry: Callable[[str], ModelEntry],
    found: Found,
    down: dict[str, str],
) -> ModelEntry:
    """The `list` line of a model on one server or a pool (`entry(url)`: the line for one server).

    A pool's model is ready when any of its servers has it; each server's state and load goes in `servers`,
    and what discovery saw (a server without the model) is noted on the server, which routing then leaves out.
    """
    entries = [entry(server.url) for server in servers]
    if len(servers) < 2:
        return entries[0]
    seen: dict[str, bool | None] = {}
    for server, line in zip(servers, entries, strict=True):
        seen[server.url] = line.reachable
        if server.url in found and server.url not in down:
            server.note_model(spec.model, has=bool(line.reachable))
    best = next((line for line in entries if line.reachable), entries[0])
    lines = [server.line(spec.model, seen.get(server.url)) for server in servers]
    missing = ", ".join(line.url for line in lines if line.state == "missing")
    detail = pool_summary(lines, "en") + (f"; without this model: {missing}" if missing else "")
    detail_zh = pool_summary(lines, "zh") + (f"；没有此模型：{missing}" if missing else "")
    if best.reachable is None:
        detail, detail_zh = f"pool of {len(servers)} servers (not checked)", f"服务池：{len(servers)} 个服务（未检查）"
    problem = None if best.reachable or best.reachable is None else best.problem
    return replace(best, detail=detail, detail_zh=detail_zh, servers=lines, problem=problem, reachable=best.reachable)
