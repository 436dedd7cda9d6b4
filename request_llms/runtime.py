"""One runtime per configuration: the backends, the servers (with their gates and health), routing, the catalog
of offered models and the check of a model an untrusted caller asks for.

Everything that keeps state between requests lives here, so two configurations in one process share
nothing (not even a gate for a URL both name), and tests can build runtimes side by side. Every entry point
(the page, the API, the command line, GPT Academic's bridge functions) reaches models through `runtime_of`.
"""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

from .backends.base import Backend
from .gates import Gate
from .model_spec import ModelSpec
from .offered import Catalog
from .pools import Router
from .registry import Backends
from .servers import Server, Servers

LEARN_TIMEOUT = 2.0  # seconds a server is given to say how many slots it has


class Runtime:
    """The live state of one configuration."""

    def __init__(self, config) -> None:
        self.config = config
        self.servers = Servers()
        self.backends = Backends(config, self.servers)
        self.router = Router()
        self._catalog: Catalog | None = None
        self._lock = threading.Lock()
        self.untrusted = False  # once the page or the API serves these settings: bridge calls are checked too

    def backend_for(self, spec: ModelSpec) -> Backend:
        return self.backends(spec)

    @property
    def catalog(self) -> Catalog:
        """The models offered (shared by the page and the API); made on first use."""
        with self._lock:
            if self._catalog is None:
                self._catalog = Catalog(self.backends)
            return self._catalog

    def allowed(self, identifier: str) -> tuple[ModelSpec, ...]:
        """The specs of `identifier` if it is offered here; raises ModelNotAllowed otherwise (untrusted callers)."""
        return self.catalog.allowed(identifier)

    def open_to_users(self) -> None:
        """The page or the API serves this configuration: from now on every model asked for through GPT Academic's
        bridge functions (a plugin may take a model name from its input box) must be one the page offers."""
        self.untrusted = True

    def check(self, identifier: str) -> None:
        """Raise ModelNotAllowed for a model not offered, where untrusted users reach this runtime."""
        if self.untrusted:
            self.allowed(identifier)

    def gate(self, spec: ModelSpec, server: Server | None) -> Gate | None:
        """The gate of `server` sized for `spec` as now known (no request goes out); None without a server."""
        if server is None:
            return None
        server.gate.resize(self.backends(spec).capacity(spec, server))
        return server.gate

    def capacity(self, spec: ModelSpec) -> int | None:
        """Requests `spec` takes at once: its server's gate, or all of a pool's in service; None for a native model
        (its worker queues). Reads what is known: `learn` first where the servers' slots matter."""
        backend = self.backends(spec)
        servers = backend.servers(spec)
        if not servers:
            return None
        in_service = [server for server in servers if not server.resting()] or servers[:1]
        return sum(backend.capacity(spec, server) for server in in_service)

    def waiting(self, spec: ModelSpec) -> int:
        """Requests waiting their turn for `spec` now: its server's line (a pool's shortest), or a native worker's."""
        backend = self.backends(spec)
        servers = backend.servers(spec)
        if not servers:
            return backend.waiting(spec)
        in_service = [server for server in servers if not server.resting()] or servers
        return min(server.gate.waiting for server in in_service)

    def learn(self, spec: ModelSpec, servers: list[Server] | None = None) -> None:
        """Read what the servers of `spec` say about themselves where it is not known yet (waiting for the
        answers) or is older than the backend trusts it (in the background, not waiting)."""
        backend = self.backends(spec)
        ttl = backend.facts_ttl(spec)
        if ttl is None:
            return
        never, stale, awaited = [], [], []
        for server in backend.servers(spec) if servers is None else servers:
            with server.lock:
                if server.learning:
                    if not server.first_read.is_set():
                        awaited.append(server)  # another request reads it for the first time: wait for that answer
                    continue
                if server.learned_at and server.learned_at + ttl > time.monotonic():
                    continue
                server.learning = True
            (stale if server.learned_at else never).append(server)

        def read(server: Server) -> None:
            try:
                backend.learn(spec, server, LEARN_TIMEOUT)
            finally:
                with server.lock:
                    server.learning = False
                server.first_read.set()

        for server in stale:
            threading.Thread(target=read, args=(server,), daemon=True, name=f"learn-{server.url}").start()
        if len(never) == 1:
            read(never[0])
        elif never:
            with ThreadPoolExecutor(max_workers=len(never)) as pool:
                list(pool.map(read, never))
        for server in awaited:
            server.first_read.wait(LEARN_TIMEOUT + 1)

    def shutdown(self) -> None:
        """Let go of worker processes; the next request starts them again."""
        for backend in self.backends.made():
            backend.shutdown()


_lock = threading.Lock()


def runtime_of(config) -> Runtime:
    """The one runtime of `config` (made on first use and kept with it)."""
    with _lock:
        if config.runtime is None:
            config.runtime = Runtime(config)
        return config.runtime
