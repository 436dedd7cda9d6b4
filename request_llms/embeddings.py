"""The other call of the model layer: `embed(model, texts)` -> one vector per text.

It takes the same identifiers as `chat()` and goes the same way: the configuration's runtime, the model's
servers (a pool's least busy one, another when one fails), each server's gate, the one retry policy and the
typed errors in both languages. A model that does not embed (a native chat model, a llama-server started
without --embeddings) says so in one line with the fix.

Texts go out in batches of what the backend sends at once. A text longer than the model takes is cut to fit
and `Embeddings.notices` says which: never a silent refusal by the server. Where the server still finds a
text too long (the length is estimated, deliberately high, but not every text tokenizes as expected), the
text is cut again, shorter.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

from .backends.base import Backend
from .config_loader import get_config
from .errors import ConfigError, ContextTooLong, LLMError, ServerError, embedding_stopped
from .messages import estimate_tokens
from .model_spec import ModelSpec, parse_model
from .request import CancelToken, Vectors
from .runtime import Runtime, runtime_of
from .servers import Server
from .text import Text
from .transport import Cancelled

CUTS = 3  # times a text the server still finds too long is cut again, each time to half


@dataclass
class Embeddings:
    """The vectors of `texts`, in order, and what happened on the way."""

    model: str
    vectors: list[list[float]]
    prompt_tokens: int | None = None  # as the servers counted them, where they say
    notices: list[Text] = field(default_factory=list)  # texts cut to fit, in both languages
    servers: list[str] = field(default_factory=list)  # the servers that answered
    seconds: float = 0.0

    @property
    def dimension(self) -> int:
        return len(self.vectors[0]) if self.vectors else 0


def embed_model(config) -> ModelSpec:
    """EMBED_MODEL as a spec; a clear ConfigError while none is set."""
    if not config["EMBED_MODEL"]:
        raise ConfigError(
            en='No embedding model is set: set EMBED_MODEL in config_private.py, e.g. "ollama-bge-m3".',
            zh='尚未设置向量模型：请在 config_private.py 中设置 EMBED_MODEL，例如 "ollama-bge-m3"。',
        )
    return parse_model(config["EMBED_MODEL"])


def embed(
    model: str | ModelSpec | None,
    texts: Sequence[str],
    config=None,
    cancel: CancelToken | None = None,
    affinity: str | None = None,
) -> Embeddings:
    """One vector per text from `model` (EMBED_MODEL when None); raises the typed errors of errors.py."""
    config = config or get_config()
    runtime = runtime_of(config)
    spec = embed_model(config) if model is None else model if isinstance(model, ModelSpec) else parse_model(model)
    cancel = cancel or CancelToken()
    backend = runtime.backend_for(spec)
    started = time.perf_counter()
    result = Embeddings(spec.text, [])
    texts = [str(text) for text in texts]
    size = max(1, backend.embed_batch(spec))
    asked = _Asker(runtime, backend, spec, cancel, affinity)
    for start in range(0, len(texts), size):
        batch = texts[start : start + size]
        limit = backend.embed_limit(spec, asked.server_hint())
        batch = [_fit(text, limit, start + i, result.notices) for i, text in enumerate(batch)]
        vectors = asked.vectors(batch, start, result.notices)
        result.notices += [_cut_notice(start + i, len(batch[i]), None, vectors.limit, exact=True) for i in vectors.cut]
        result.vectors += vectors.vectors
        if vectors.prompt_tokens is not None:
            result.prompt_tokens = (result.prompt_tokens or 0) + vectors.prompt_tokens
    result.servers = list(dict.fromkeys(asked.answered))
    result.seconds = time.perf_counter() - started
    return result


def _usable(vector: object) -> bool:
    """A vector that can be compared: a list of numbers, not all zero (servers have been seen to answer zeros)."""
    if not isinstance(vector, list) or not vector:
        return False
    return all(isinstance(x, int | float) and math.isfinite(x) for x in vector) and any(x != 0 for x in vector)


def _fit(text: str, limit: int | None, index: int, notices: list[Text]) -> str:
    """`text`, cut so its estimated length fits `limit` tokens; a notice says so."""
    if not limit or estimate_tokens(text) <= limit:
        return text
    low, high = 0, len(text)
    while low < high:  # the longest prefix whose estimate fits
        middle = (low + high + 1) // 2
        if estimate_tokens(text[:middle]) <= limit:
            low = middle
        else:
            high = middle - 1
    notices.append(_cut_notice(index, len(text), low, limit))
    return text[:low]


def _cut_notice(index: int, whole: int, kept: int | None, limit: int | None, exact: bool = False) -> Text:
    if exact:  # the model cut it itself, at its longest input
        return Text(
            en=f"Text {index + 1} ({whole} characters) is longer than the model's {limit} tokens; only its first {limit} are embedded.",
            zh=f"第 {index + 1} 段文本（{whole} 字符）超过模型的 {limit} 个 token，只有前 {limit} 个 token 生成了向量。",
        )
    within = f" to fit the model's {limit} tokens" if limit else " (the server found it too long)"
    within_zh = f"以适应模型的 {limit} 个 token" if limit else "（服务认为它过长）"
    return Text(
        en=f"Text {index + 1} was cut from {whole} to {kept} characters{within}; only its start is embedded.",
        zh=f"第 {index + 1} 段文本从 {whole} 字符截为 {kept} 字符{within_zh}，只有开头部分生成了向量。",
    )


class _Asker:
    """Sends batches to the model's servers: the least busy of a pool, another one after a failure."""

    def __init__(self, runtime: Runtime, backend: Backend, spec: ModelSpec, cancel: CancelToken, affinity: str | None):
        self.runtime, self.backend, self.spec, self.cancel, self.affinity = runtime, backend, spec, cancel, affinity
        self.servers = backend.servers(spec)
        self.answered: list[str] = []

    def server_hint(self) -> Server | None:
        """The server a batch's texts are measured for (the first; a pool's servers serve the same model)."""
        return self.servers[0] if self.servers else None

    def vectors(self, batch: list[str], start: int, notices: list[Text]) -> Vectors:
        """The batch's vectors; a text the server finds too long is cut shorter, alone, and asked again, and one whose
        vector came back empty (all zeros, or not numbers) is asked again alone, once."""
        try:
            got = self._ask(batch)
        except ContextTooLong:
            if len(batch) == 1 and not batch[0]:
                raise
        else:
            for i in [i for i, vector in enumerate(got.vectors) if not _usable(vector)]:
                again = self._ask([batch[i]])
                if not _usable(again.vectors[0]):
                    raise ServerError(
                        en=f"{self.spec.base} answered an empty vector (all zeros or not numbers) for text {start + i + 1}, "
                        "twice: check the server's log, or restart it.",
                        zh=f"{self.spec.base} 为第 {start + i + 1} 段文本两次返回了空向量（全零或非数值）：请查看服务日志，或重启服务。",
                    )
                got.vectors[i] = again.vectors[0]
            return got
        parts = [self._one(text, start + i, notices) for i, text in enumerate(batch)]
        tokens = [part.prompt_tokens for part in parts]
        cut = [i for i, part in enumerate(parts) if part.cut]
        limit = next((part.limit for part in parts if part.limit), None)
        return Vectors([part.vectors[0] for part in parts], None if None in tokens else sum(tokens), cut, limit)

    def _one(self, text: str, index: int, notices: list[Text]) -> Vectors:
        for _ in range(CUTS + 1):
            try:
                return self._ask([text])
            except ContextTooLong:
                if len(text) < 2:
                    raise
                kept = len(text) // 2
                notices.append(_cut_notice(index, len(text), kept, None))
                text = text[:kept]
        return self._ask([text])

    def _ask(self, batch: list[str]) -> Vectors:
        tried: list[Server] = []
        while True:
            if self.cancel.is_set():
                raise embedding_stopped()
            server = self._pick(tried)
            try:
                vectors = self._at(server, batch, expected=server is not None and len(self.servers) > 1)
            except LLMError as exc:
                if server is None or len(self.servers) < 2:
                    raise
                tried.append(server)
                if not self.runtime.router.failed(self.backend, self.spec, server, exc):
                    raise
                if len(tried) > self.runtime.config["MAX_RETRY"]:
                    raise
                continue
            if len(vectors.vectors) != len(batch):
                raise ServerError(
                    en=f"{self.spec.base} answered {len(vectors.vectors)} vector(s) for {len(batch)} text(s).",
                    zh=f"{self.spec.base} 为 {len(batch)} 段文本返回了 {len(vectors.vectors)} 个向量。",
                )
            if server is not None:
                server.back(answered=True)
                self.answered.append(server.url)
            return vectors

    def _pick(self, tried: list[Server]) -> Server | None:
        if len(self.servers) < 2:
            return self.servers[0] if self.servers else None
        router = self.runtime.router
        server = router.pick(self.spec, self.servers, tried, self.affinity, expect=True)
        return server or router.pick(self.spec, self.servers, [], self.affinity, expect=True)

    def _at(self, server: Server | None, batch: list[str], expected: bool) -> Vectors:
        """The vectors of `batch` from `server`; `expected`: routing counted the request at its gate."""
        try:
            if server is not None:
                self.runtime.learn(self.spec, [server])
            gate = self.runtime.gate(self.spec, server)
        except BaseException:
            if expected:
                server.gate.unexpect()
            raise
        if gate is not None:
            turn = gate.wait_turn(self.cancel, self.spec.base, expected)
            while True:
                try:
                    next(turn)
                except StopIteration as done:
                    if not done.value:
                        raise embedding_stopped() from None
                    break
        try:
            return self.backend.embed(self.spec, server, batch, self.cancel)
        except Cancelled:
            raise embedding_stopped() from None
        finally:
            if gate is not None:
                gate.leave()
