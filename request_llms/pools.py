"""Pools: several servers behind one model identifier, balanced by their queues, failing over when one goes away.

A pool is what OLLAMA_API_BASE, VLLM_API_BASE, a LOCAL_SERVER_URLS entry or a configured `base_url` lists
when it names more than one URL; its servers serve the same models. Each request goes to the server whose
gate (limits.py) has the smallest share of its slots taken, in flight or waiting. A conversation or a
plugin run stays on the server it used last, where the server keeps its prompt prefix cached, unless that
server is busier than the least busy one by STICKY_MARGIN of its slots.

A server that refuses connections, times out or answers 5xx rests for COOL_FIRST seconds, twice as long
each time it fails again in a row (at most COOL_MOST); a thread asks it a cheap question (its model list)
when the rest ends and brings it back as soon as it answers. A server that says it lacks the model is
left out for that model until discovery or MISSING_FOR seconds show otherwise.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass, field, replace

from .errors import BackendTimeout, BackendUnreachable, LLMError, ModelNotFound, StreamCut
from .model_spec import ModelSpec
from .text import Text

log = logging.getLogger("localscholar.pools")

COOL_FIRST = 2.0  # seconds a server rests after its first failure in a row
COOL_MOST = 60.0  # the longest rest
STICKY_MARGIN = 0.5  # share of its slots by which a conversation's server may be busier than the least busy one
MISSING_FOR = 300.0  # seconds a server that lacked a model is left out for it, unless discovery sees it again
PROBE_TIMEOUT = 2.0
AFFINITIES = 10_000  # conversations and plugin runs whose server is remembered


@dataclass
class ServerHealth:
    """What LocalScholar has seen of one server of a pool."""

    url: str
    failures: int = 0  # in a row
    until: float = 0.0  # time.monotonic() at which its rest ends; 0 when it is in service
    reason: Text | None = None  # the last failure, in both languages
    answered: int = 0  # answers it finished
    missing: dict[str, float] = field(default_factory=dict)  # model -> when it said it lacked it
    probing: bool = False

    def resting(self, now: float) -> bool:
        return self.until > now

    def fail(self) -> float:
        """Count one more failure in a row and start the rest it earns; returns the rest in seconds."""
        self.failures += 1
        rest = min(COOL_FIRST * 2 ** (self.failures - 1), COOL_MOST)
        self.until = time.monotonic() + rest
        return rest


@dataclass(frozen=True)
class ServerLine:
    """One server of a pool as `list` and the page show it: its state and its load now."""

    url: str
    state: str  # ready, resting, down, missing, unchecked
    active: int = 0
    waiting: int = 0
    slots: int | None = None
    rest_seconds: float = 0.0
    reason: Text | None = None
    seen: bool | None = None  # what discovery saw: True has the model, False down, None not checked

    def as_dict(self) -> dict:
        data = {"url": self.url, "state": self.state, "active": self.active, "waiting": self.waiting, "slots": self.slots}
        if self.rest_seconds:
            data["rest_seconds"] = round(self.rest_seconds, 1)
        if self.reason:
            data["reason"] = self.reason.en
        return data

    def text(self, lang: str) -> str:
        states = {
            "ready": ("可用", "ready"),
            "resting": ("暂停中", "resting"),
            "down": ("无法连接", "down"),
            "missing": ("没有此模型", "lacks the model"),
            "unchecked": ("未检查", "not checked"),
        }
        zh, en = states.get(self.state, (self.state, self.state))
        state = zh if lang == "zh" else en
        if self.state == "resting":
            state += f" {self.rest_seconds:.0f} s"
        slots = f"/{self.slots}" if self.slots else ""
        load = (
            f"进行中 {self.active}{slots} · 等待 {self.waiting}"
            if lang == "zh"
            else f"{self.active}{slots} busy · {self.waiting} waiting"
        )
        return f"{self.url}  {state} · {load}"


def pool_summary(servers: list[ServerLine], lang: str) -> str:
    """A pool in a few words: how many servers and how many of them are ready."""
    ready = sum(1 for server in servers if server.state == "ready")
    if lang == "zh":
        return f"服务池：{len(servers)} 个服务，{ready} 个可用"
    return f"pool of {len(servers)} servers, {ready} ready"


def is_server_failure(exc: LLMError) -> bool:
    """A failure of the server rather than of the request: another server of the pool may answer."""
    if isinstance(exc, (BackendUnreachable, BackendTimeout, StreamCut)):
        return True
    return bool(exc.retryable) or (exc.status or 0) >= 500


class Pools:
    """Health of every pooled server and which server each conversation used, for one configuration."""

    def __init__(self) -> None:
        self._health: dict[str, ServerHealth] = {}
        self._sticky: OrderedDict[tuple[str, str], str] = OrderedDict()
        self._turn = 0
        self._lock = threading.Lock()

    def health(self, url: str) -> ServerHealth:
        with self._lock:
            return self._health.setdefault(url, ServerHealth(url))

    def lacks(self, url: str, model: str, now: float | None = None) -> bool:
        seen = self.health(url).missing.get(model)
        return seen is not None and (now or time.monotonic()) - seen < MISSING_FOR

    def in_service(self, members: list[str]) -> list[str]:
        """The servers of `members` that are not resting now."""
        now = time.monotonic()
        return [url for url in members if not self.health(url).resting(now)]

    def note_models(self, url: str, model: str, has: bool) -> None:
        """What discovery saw: whether the server at `url` has `model`."""
        health = self.health(url)
        with self._lock:
            if has:
                health.missing.pop(model, None)
            elif model not in health.missing:
                health.missing[model] = time.monotonic()
                log.warning("%s does not have %s: requests for it go to the other servers of its pool", url, model)

    def pick(self, backend, spec: ModelSpec, members: list[str], tried: list[str], affinity: str | None) -> str | None:
        """The server for the next try of `spec`: the least busy server in service that was not tried yet."""
        from .limits import gate_for

        now = time.monotonic()
        left = [url for url in members if url not in tried and not self.lacks(url, spec.model, now)]
        if not left:
            return None
        in_service = self.in_service(left)
        if not in_service:  # all resting: the one whose rest ends first may be back already
            in_service = [min(left, key=lambda url: self.health(url).until)]
        with self._lock:
            self._turn += 1
            turn = self._turn
        order = in_service[turn % len(in_service) :] + in_service[: turn % len(in_service)]  # equal loads take turns

        def busy(url: str) -> float:
            gate = gate_for(replace(spec, route=url), backend.config)
            return (gate.active + gate.waiting) / gate.size if gate else 0.0

        loads = {url: busy(url) for url in order}
        chosen = min(order, key=loads.__getitem__)
        key = (affinity, spec.base) if affinity else None
        with self._lock:
            last = self._sticky.get(key) if key else None
            if last in loads and loads[last] - loads[chosen] < STICKY_MARGIN:
                chosen = last
            if key:
                self._sticky[key] = chosen
                self._sticky.move_to_end(key)
                while len(self._sticky) > AFFINITIES:
                    self._sticky.popitem(last=False)
        return chosen

    def answered(self, url: str) -> None:
        health = self.health(url)
        with self._lock:
            health.answered += 1
            health.failures, health.until, health.reason = 0, 0.0, None

    def failed(self, backend, spec: ModelSpec, url: str, exc: LLMError) -> bool:
        """Note a failure at `url`; True when another server of the pool may answer the same request."""
        if isinstance(exc, ModelNotFound):
            self.note_models(url, spec.model, has=False)
            return True
        if not is_server_failure(exc):
            return False
        health = self.health(url)
        with self._lock:
            if health.resting(time.monotonic()):
                return True  # requests already under way when it went down: one failure, not several
            rest = health.fail()
            health.reason = exc.message
            start = not health.probing
            health.probing = True
        log.warning("%s failed (%s): resting %.0f s", url, exc.en, rest)
        if start:
            threading.Thread(target=self._probe, args=(backend, spec, url), daemon=True, name=f"probe-{url}").start()
        return True

    def _probe(self, backend, spec: ModelSpec, url: str) -> None:
        """Ask a resting server for its model list when its rest ends, until it answers."""
        health = self.health(url)
        while True:
            with self._lock:
                wait = health.until - time.monotonic()
            if wait > 0:
                time.sleep(wait)
                continue
            try:
                backend.probe(replace(spec, route=url), PROBE_TIMEOUT)
            except Exception as exc:  # noqa: BLE001 - any failure of the probe means the server is not back
                with self._lock:
                    health.fail()
                log.debug("%s is still down (%s)", url, type(exc).__name__)
                continue
            with self._lock:
                health.failures, health.until, health.probing = 0, 0.0, False
            log.warning("%s answers again: back in its pool", url)
            return

    def lines(self, backend, spec: ModelSpec, members: list[str], reachable: dict[str, bool | None]) -> list[ServerLine]:
        """Each server of the pool of `spec` with its state and load, for `list` and the page.

        `reachable` is what discovery saw per server: True (has the model), False (down), None (not checked).
        """
        from .limits import gate_at

        now = time.monotonic()
        result = []
        for url in members:
            health = self.health(url)
            seen = reachable.get(url)
            if health.resting(now):
                state = "resting"
            elif self.lacks(url, spec.model, now):
                state = "missing"
            elif seen is None:
                state = "unchecked"
            else:
                state = "ready" if seen else "down"
            gate = gate_at(backend.server(replace(spec, route=url)))
            result.append(
                ServerLine(
                    url,
                    state,
                    gate.active if gate else 0,
                    gate.waiting if gate else 0,
                    gate.size if gate else None,
                    max(0.0, health.until - now) if state == "resting" else 0.0,
                    health.reason if state == "resting" else None,
                    seen,
                )
            )
        return result

    def now(self, backend, spec: ModelSpec, lines: list[ServerLine]) -> list[ServerLine]:
        """`lines` as discovery left them, with each server's rest and load as they are at this moment."""
        return self.lines(backend, spec, [line.url for line in lines], {line.url: line.seen for line in lines})


def pools_of(config) -> Pools:
    """The pools' health and affinities of this configuration (one per process and configuration)."""
    runtime = config.runtime
    with _lock:
        if Pools not in runtime:
            runtime[Pools] = Pools()
        return runtime[Pools]


_lock = threading.Lock()
