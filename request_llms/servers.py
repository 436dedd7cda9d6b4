"""A server: one server of one backend (an Ollama or OpenAI-compatible URL, a cloud vendor), with its gate, its
health and what it told about itself.

Each runtime (runtime.py) has one `Servers` directory, so every request of one configuration to one server
shares one gate, and two configurations share nothing. Health is what requests saw: a server that failed
rests for COOL_FIRST seconds, twice as long each time it fails again in a row (at most COOL_MOST), and
one that said it lacks a model is left out for that model for MISSING_FOR seconds unless discovery sees it
again. Facts (its slot count) are written by whoever asked the server (discovery, a probe, the backend's
`learn`), never by a read: reading a server's load or state asks nothing over the network.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

from .gates import Gate
from .text import Text

COOL_FIRST = 2.0  # seconds a server rests after its first failure in a row
COOL_MOST = 60.0  # the longest rest
MISSING_FOR = 300.0  # seconds a server that lacked a model is left out for it, unless discovery sees it again


class Server:
    """One server: where it is, its gate, its health and its facts."""

    def __init__(self, url: str, size: int) -> None:
        self.url = url
        self.gate = Gate(size)
        self.failures = 0  # in a row
        self.until = 0.0  # time.monotonic() at which its rest ends; 0 when it is in service
        self.reason: Text | None = None  # the last failure, in both languages
        self.answered = 0  # answers it finished
        self.missing: dict[str, float] = {}  # model -> when it said it lacked it
        self.probing = False  # a thread is asking it whether it is back
        self.slots: int | None = None  # requests it runs at once, where it says (llama.cpp's total_slots)
        self.models: dict[str, int | None] | None = None  # what it serves, with each context window, when last asked
        self.learned_at = 0.0  # time.monotonic() when its facts were last read; 0: never
        self.learning = False  # a thread is reading its facts
        self.first_read = threading.Event()  # set once the first reading of its facts has ended, answered or not
        self.lock = threading.RLock()

    def __repr__(self) -> str:
        return f"Server({self.url!r})"

    def resting(self, now: float | None = None) -> bool:
        return self.until > (time.monotonic() if now is None else now)

    def rest_left(self, now: float | None = None) -> float:
        return max(0.0, self.until - (time.monotonic() if now is None else now))

    def fail(self) -> float:
        """Count one more failure in a row and start the rest it earns; returns the rest in seconds."""
        with self.lock:
            self.failures += 1
            rest = min(COOL_FIRST * 2 ** (self.failures - 1), COOL_MOST)
            self.until = time.monotonic() + rest
            return rest

    def back(self, answered: bool = False) -> None:
        """It answered (a request, or a probe): in service again, its failures forgotten."""
        with self.lock:
            self.answered += int(answered)
            self.failures, self.until, self.reason = 0, 0.0, None

    def lacks(self, model: str, now: float | None = None) -> bool:
        seen = self.missing.get(model)
        return seen is not None and (time.monotonic() if now is None else now) - seen < MISSING_FOR

    def note_model(self, model: str, has: bool) -> bool:
        """What discovery or a 404 saw: whether it has `model`; True when that is news that it lacks it."""
        with self.lock:
            if has:
                self.missing.pop(model, None)
                return False
            if model in self.missing:
                return False
            self.missing[model] = time.monotonic()
            return True

    def learned(self, slots: int | None) -> None:
        """What the server said about itself just now."""
        with self.lock:
            self.slots, self.learned_at = slots, time.monotonic()

    def line(self, model: str, seen: bool | None, now: float | None = None) -> ServerLine:
        """Its state and load as `list` and the page show it; `seen` is what discovery saw (True has the model,
        False down, None not checked)."""
        now = time.monotonic() if now is None else now
        if self.resting(now):
            state = "resting"
        elif self.lacks(model, now):
            state = "missing"
        elif seen is None:
            state = "unchecked"
        else:
            state = "ready" if seen else "down"
        resting = state == "resting"
        return ServerLine(
            self.url,
            state,
            self.gate.active,
            self.gate.waiting,
            self.gate.size,
            self.rest_left(now) if resting else 0.0,
            self.reason if resting else None,
            seen,
        )


class Servers:
    """Every server of one runtime, by URL (or vendor name): made on first use, kept for the runtime's life."""

    def __init__(self) -> None:
        self._by_url: dict[str, Server] = {}
        self._lock = threading.Lock()

    def at(self, url: str, size: int) -> Server:
        """The server at `url`; `size` is its gate's size if it is new."""
        with self._lock:
            server = self._by_url.get(url)
            if server is None:
                server = self._by_url[url] = Server(url, size)
            return server

    def known(self, url: str) -> Server | None:
        with self._lock:
            return self._by_url.get(url)


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
