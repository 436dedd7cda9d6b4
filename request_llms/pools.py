"""Routing: which of a model's servers answers a request, balanced by their queues, failing over when one goes away.

A pool is what OLLAMA_API_BASE, VLLM_API_BASE, a LOCAL_SERVER_URLS entry or a configured `base_url` lists
when it names more than one URL; its servers serve the same models. Each request goes to the server whose
gate has the smallest share of its slots taken, in flight or waiting. A conversation or a plugin run stays
on the server it used last, where the server keeps its prompt prefix cached, unless that server is busier
than the least busy one by STICKY_MARGIN of its slots.

A server that refuses connections, times out or answers 5xx rests (servers.Server.fail); a thread asks it a
cheap question (its model list) when the rest ends and brings it back as soon as it answers. A server that
says it lacks the model is left out for that model. Choosing reads only the servers' gates and health:
it asks nothing over the network.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict

from .backends.base import Backend
from .errors import LLMError, ModelNotFound
from .model_spec import ModelSpec
from .retry import is_server_failure
from .servers import Server

log = logging.getLogger("localscholar.pools")

STICKY_MARGIN = 0.5  # share of its slots by which a conversation's server may be busier than the least busy one
PROBE_TIMEOUT = 2.0
AFFINITIES = 10_000  # conversations and plugin runs whose server is remembered


class Router:
    """Which server each conversation used, and the choice of the next; one per runtime."""

    def __init__(self) -> None:
        self._sticky: OrderedDict[tuple[str, str], str] = OrderedDict()
        self._turn = 0
        self._lock = threading.Lock()

    def pick(
        self, spec: ModelSpec, servers: list[Server], tried: list[Server], affinity: str | None, expect: bool = False
    ) -> Server | None:
        """The server for the next try of `spec`: the least busy server in service that was not tried yet.

        `expect`: count the request at the chosen server's gate (`Gate.expect`) in the same step, so that requests
        routed at the same moment, before any has reached a gate, do not all see the same loads."""
        now = time.monotonic()
        left = [server for server in servers if server not in tried and not server.lacks(spec.model, now)]
        if not left:
            return None
        in_service = [server for server in left if not server.resting(now)]
        if not in_service:  # all resting: the one whose rest ends first may be back already
            in_service = [min(left, key=lambda server: server.until)]
        key = (affinity, spec.base) if affinity else None
        with self._lock:
            self._turn += 1
            turn = self._turn % len(in_service)
            order = in_service[turn:] + in_service[:turn]  # equal loads take turns
            loads = {server.url: server.gate.load for server in order}
            chosen = min(order, key=lambda server: loads[server.url])
            last = self._sticky.get(key) if key else None
            if last in loads and loads[last] - loads[chosen.url] < STICKY_MARGIN:
                chosen = next(server for server in order if server.url == last)
            if key:
                self._sticky[key] = chosen.url
                self._sticky.move_to_end(key)
                while len(self._sticky) > AFFINITIES:
                    self._sticky.popitem(last=False)
            if expect:
                chosen.gate.expect()
        return chosen

    def failed(self, backend: Backend, spec: ModelSpec, server: Server, exc: LLMError) -> bool:
        """Note a failure at `server`; True when another server of the pool may answer the same request."""
        if isinstance(exc, ModelNotFound):
            if server.note_model(spec.model, has=False):
                log.warning("%s does not have %s: requests for it go to the other servers of its pool", server.url, spec.model)
            return True
        if not is_server_failure(exc):
            return False
        with server.lock:
            if server.resting():
                return True  # requests already under way when it went down: one failure, not several
            rest = server.fail()
            server.reason = exc.message
            start = not server.probing
            server.probing = True
        log.warning("%s failed (%s): resting %.0f s", server.url, exc.en, rest)
        if start:
            threading.Thread(target=self._probe, args=(backend, spec, server), daemon=True, name=f"probe-{server.url}").start()
        return True

    @staticmethod
    def _probe(backend: Backend, spec: ModelSpec, server: Server) -> None:
        """Ask a resting server for its model list when its rest ends, until it answers."""
        while True:
            wait = server.rest_left()
            if wait > 0:
                time.sleep(wait)
                continue
            try:
                backend.probe(spec, server, PROBE_TIMEOUT)
            except Exception as exc:  # noqa: BLE001 - any failure of the probe means the server is not back
                server.fail()
                log.debug("%s is still down (%s)", server.url, type(exc).__name__)
                continue
            server.back()
            with server.lock:
                server.probing = False
            log.warning("%s answers again: back in its pool", server.url)
            return
