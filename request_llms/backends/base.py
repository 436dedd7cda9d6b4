"""What every backend shares: options, usage figures, the cancel token, the Backend interface and its list line."""

from __future__ import annotations

import threading
from collections.abc import Callable, Generator, Iterator
from dataclasses import asdict, dataclass, field, replace

from ..errors import ConfigError
from ..model_spec import ModelSpec
from ..text import Text
from ..thinking import Thought
from .problems import Problem


@dataclass(frozen=True)
class ChatOptions:
    """Sampling settings of one request; None leaves the model's or server's default."""

    temperature: float | None = None
    top_p: float | None = None
    max_tokens: int | None = None  # longest answer, in tokens
    think: str | None = None  # true, false, low, medium, high; None: the model's own default

    def over(self, spec: ModelSpec) -> ChatOptions:
        """These options, with the identifier's bracket values filling what is unset (its think= wins)."""
        return ChatOptions(
            temperature=self.temperature if self.temperature is not None else spec.temperature,
            top_p=self.top_p if self.top_p is not None else spec.top_p,
            max_tokens=self.max_tokens,
            think=spec.think or self.think,
        )


@dataclass
class Usage:
    """What the server reported about an answer, when it reports it."""

    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    finish_reason: str | None = None  # "stop", "length", ...
    server_tokens_per_s: float | None = None  # the server's own generation speed
    load_seconds: float | None = None  # time the server spent loading the model for this request


@dataclass(frozen=True)
class Status:
    """Progress before the answer: a native model loading, or a request waiting its turn."""

    kind: str  # "loading", "queued", or "running" once the wait is over
    en: str
    zh: str
    percent: float | None = None  # loading progress, 0 to 100
    position: int | None = None  # requests ahead of this one

    def text(self, lang: str = "zh") -> str:
        return Text(zh=self.zh, en=self.en).text(lang)


class CancelToken:
    """Set once to stop a request; callbacks run at once, from whichever thread cancels."""

    def __init__(self) -> None:
        self._event = threading.Event()
        self._lock = threading.Lock()
        self._callbacks: list[Callable[[], None]] = []

    def cancel(self) -> None:
        with self._lock:
            self._event.set()
            callbacks, self._callbacks = self._callbacks, []
        for callback in callbacks:
            callback()

    def is_set(self) -> bool:
        return self._event.is_set()

    def wait(self, timeout: float | None = None) -> bool:
        return self._event.wait(timeout)

    def on_cancel(self, callback: Callable[[], None]) -> Callable[[], None]:
        """Run `callback` on cancel (at once if already cancelled); returns a function that unregisters it."""
        with self._lock:
            if not self._event.is_set():
                self._callbacks.append(callback)
                return lambda: self._discard(callback)
        callback()
        return lambda: None

    def _discard(self, callback: Callable[[], None]) -> None:
        with self._lock:
            if callback in self._callbacks:
                self._callbacks.remove(callback)


Event = str | Thought | Usage | Status  # an answer delta, a thinking delta, the usage at the end, or progress before


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
    servers: list = field(default_factory=list)  # a pool's servers (pools.ServerLine), each with its state and load
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

    `stream` is the heart; the rest have defaults for a backend that lacks the feature. The registry maps
    each kind of ModelSpec to one Backend class, and no other module asks a spec for its kind.
    """

    label = ""
    group = "local"  # PARALLEL_REQUESTS falls back from the provider to this ("local" or "cloud")

    def __init__(self, config) -> None:
        self.config = config

    def stream(
        self, spec: ModelSpec, messages: list[dict[str, str]], options: ChatOptions, cancel: CancelToken
    ) -> Iterator[Event]:
        """Yield Status while waiting, text deltas as they arrive, then at most one Usage; end quietly when cancelled."""
        raise NotImplementedError

    def context_budget(self, spec: ModelSpec) -> int | None:
        """The model's context window in tokens, as far as it can be known; None if unknown."""
        return spec.max_token

    def server(self, spec: ModelSpec) -> str | None:
        """The server a request for `spec` goes to (one queue each); None when the backend queues requests itself."""
        return None

    def pool(self, spec: ModelSpec) -> list[str]:
        """Every server that may answer `spec`, in configured order: one, or several serving the same models."""
        server = self.server(spec)
        return [server] if server else []

    def retries(self, spec: ModelSpec) -> int:
        """Tries again on the same server (MAX_RETRY); none for a pool member: the pool tries another server instead."""
        return 0 if len(self.pool(spec)) > 1 else int(self.config["MAX_RETRY"])

    def probe(self, spec: ModelSpec, timeout: float) -> None:
        """A cheap request to the server of `spec` (a pool member resting after a failure); raises if it does not answer."""

    def parallel(self, spec: ModelSpec) -> int | None:
        """Requests sent to that server at once: PARALLEL_REQUESTS by provider, then by group; None with no queue."""
        if self.server(spec) is None:
            return None
        limits = {**DEFAULT_PARALLEL, **self.config["PARALLEL_REQUESTS"]}
        return int(limits.get(spec.provider) or limits.get(self.group) or DEFAULT_PARALLEL[self.group])

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

    def memory(self, spec: ModelSpec) -> dict:
        """What the serving process holds in memory, where it can be read: source, bytes, gpu_bytes, ..."""
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
    backend: Backend,
    spec: ModelSpec,
    members: list[str],
    entry: Callable[[str], ModelEntry],
    found: Found,
    down: dict[str, str],
) -> ModelEntry:
    """The `list` line of a model on one server or a pool (`entry(url)`: the line for one server).

    A pool's model is ready when any of its servers has it; each server's state and load goes in `servers`,
    and what discovery saw (a server without the model) is passed to routing, which leaves that server out.
    """
    entries = [entry(url) for url in members]
    if len(members) < 2:
        return entries[0]
    from ..pools import pool_summary, pools_of

    pools = pools_of(backend.config)
    seen: dict[str, bool | None] = {}
    for url, line in zip(members, entries, strict=True):
        seen[url] = line.reachable
        if url in found and url not in down:
            pools.note_models(url, spec.model, has=bool(line.reachable))
    best = next((line for line in entries if line.reachable), entries[0])
    servers = pools.lines(backend, spec, members, seen)
    missing = ", ".join(server.url for server in servers if server.state == "missing")
    detail = pool_summary(servers, "en") + (f"; without this model: {missing}" if missing else "")
    detail_zh = pool_summary(servers, "zh") + (f"；没有此模型：{missing}" if missing else "")
    if best.reachable is None:
        detail, detail_zh = f"pool of {len(members)} servers (not checked)", f"服务池：{len(members)} 个服务（未检查）"
    problem = None if best.reachable or best.reachable is None else best.problem
    return replace(best, detail=detail, detail_zh=detail_zh, servers=servers, problem=problem, reachable=best.reachable)
