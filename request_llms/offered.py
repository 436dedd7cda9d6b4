"""The models LocalScholar offers now: the configured ones and those found on local servers, looked at on demand
and shared by the page and the API (one per runtime), with the check of a model an untrusted caller asks for."""

from __future__ import annotations

import threading
import time

from .backends.base import ModelEntry
from .errors import ModelNotAllowed
from .listing import list_models
from .model_spec import ModelSpec, parse_model
from .providers import LOCAL_SERVERS
from .registry import Backends, check_allowed
from .servers import pool_summary
from .text import Text

_KIND = {
    "native": Text(zh="本地原生", en="native"),
    "ollama": Text(zh="Ollama", en="Ollama"),
    "cloud": Text(zh="云端", en="cloud"),
    "multi": Text(zh="多模型对比", en="compare"),
}

FRESH_SECONDS = 15.0  # a page load reuses a look at the servers this recent


class Catalog:
    """What the dropdown offers; looks at the local servers on demand, shared by every page."""

    def __init__(self, backends: Backends) -> None:
        self.backends = backends
        self.config = backends.config
        self._lock = threading.Lock()
        self._entries: list[ModelEntry] = list_models(backends, probe=False)
        self._checked = 0.0
        self._discovered: set[str] = set()

    def entries(self, refresh: bool = False) -> list[ModelEntry]:
        """The models, looking at the servers again when asked or when the last look is stale."""
        with self._lock:
            if refresh or time.monotonic() - self._checked > FRESH_SECONDS:
                self._entries = list_models(self.backends)
                self._checked = time.monotonic()
                self._discovered |= {e.identifier for e in self._entries if e.source == "discovered"}
            return list(self._entries)

    def choices(self, lang: str, refresh: bool = False) -> list[tuple[str, str]]:
        return [(label(entry, lang), entry.identifier) for entry in self.entries(refresh)]

    def note(self, identifier: str, lang: str) -> str:
        """The lines under the dropdown for `identifier`: what keeps it from answering and the fix, and where a pool
        serves it, each server with its state and load; "" when there is nothing to say."""
        entry = next((e for e in self.entries() if e.identifier == identifier), None)
        if entry is None:
            return ""
        lines = [f"⚠ {entry.problem.line(lang)}"] if entry.problem else []
        if entry.servers:
            model = parse_model(identifier).model
            known = [(self.backends.servers.known(line.url), line) for line in entry.servers]
            servers = [server.line(model, line.seen) if server else line for server, line in known]
            lines.append(pool_summary(servers, lang))
            lines += [f"- {server.text(lang)}" for server in servers]
        return "\n".join(lines)

    def offers(self, identifier: str) -> bool:
        """Whether the dropdown as last drawn holds `identifier` (no look at the servers)."""
        with self._lock:
            return any(entry.identifier == identifier for entry in self._entries)

    def allowed(self, identifier: str) -> tuple[ModelSpec, ...]:
        """The specs of `identifier` if this page offers it (looking at the servers again when a model is not
        known yet: it may have been loaded since); raises ModelNotAllowed otherwise."""
        try:
            return check_allowed(identifier, self.config, self._discovered)
        except ModelNotAllowed:
            self.entries()  # looks at the servers again if the last look is stale
            return check_allowed(identifier, self.config, self._discovered)


def label(entry: ModelEntry, lang: str) -> str:
    server = LOCAL_SERVERS.get(entry.backend)
    name = server.label if server else entry.backend
    kind = _KIND.get(entry.backend, Text(zh=name, en=name)).text(lang)
    mark = f" · ⚠ {entry.problem.state.text(lang)}" if entry.problem else ""
    if entry.servers and not entry.problem:
        ready = sum(1 for server in entry.servers if server.state == "ready")
        mark = f" · {ready}/{len(entry.servers)} {'个服务' if lang == 'zh' else 'servers'}"
    return f"{entry.identifier}  [{kind}]{mark}"
