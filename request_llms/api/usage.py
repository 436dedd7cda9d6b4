"""Requests and tokens per API key, kept in DATA_DIR/api_usage.sqlite3 (keys known only by their fingerprint)."""

from __future__ import annotations

import sqlite3
import threading
import time
from dataclasses import dataclass

from ..config_loader import data_dir


@dataclass(frozen=True)
class KeyUsage:
    key: str  # the key's fingerprint; "" for calls without a key (loopback, no API_SERVE_KEYS)
    requests: int
    prompt_tokens: int
    completion_tokens: int
    last_used: float


class UsageBook:
    def __init__(self, config) -> None:
        folder = data_dir(config)
        folder.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(folder / "api_usage.sqlite3", check_same_thread=False)
        self._lock = threading.Lock()
        with self._lock, self._db:
            self._db.execute(
                "CREATE TABLE IF NOT EXISTS api_usage (key TEXT PRIMARY KEY, requests INTEGER NOT NULL, "
                "prompt_tokens INTEGER NOT NULL, completion_tokens INTEGER NOT NULL, last_used REAL NOT NULL)"
            )

    def add(self, key: str, prompt_tokens: int, completion_tokens: int) -> None:
        with self._lock, self._db:
            self._db.execute(
                "INSERT INTO api_usage VALUES (?, 1, ?, ?, ?) ON CONFLICT(key) DO UPDATE SET requests = requests + 1, "
                "prompt_tokens = prompt_tokens + excluded.prompt_tokens, "
                "completion_tokens = completion_tokens + excluded.completion_tokens, last_used = excluded.last_used",
                (key, prompt_tokens, completion_tokens, time.time()),
            )

    def all(self) -> list[KeyUsage]:
        with self._lock:
            rows = self._db.execute("SELECT * FROM api_usage ORDER BY last_used DESC").fetchall()
        return [KeyUsage(*row) for row in rows]


_books: dict[str, UsageBook] = {}
_lock = threading.Lock()


def usage_book(config) -> UsageBook:
    """The book of this configuration's DATA_DIR, shared by the API and the page."""
    folder = str(data_dir(config))
    with _lock:
        if folder not in _books:
            _books[folder] = UsageBook(config)
        return _books[folder]
