"""Conversations kept in SQLite, per user (each user's folders are in userfiles.py).

Every read and write names the user; a conversation is only ever found under the user who made it.
A user is the signed-in name, or, without sign-in, the browser's sealed id (webui/owners.py).
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from request_llms.config_loader import data_dir

_SCHEMA = """
CREATE TABLE IF NOT EXISTS conversations (
    id TEXT PRIMARY KEY,
    user TEXT NOT NULL,
    title TEXT NOT NULL,
    model TEXT NOT NULL,
    messages TEXT NOT NULL,
    history TEXT NOT NULL,
    updated REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS by_user ON conversations (user, updated);
"""


@dataclass
class Conversation:
    """What the page shows (messages) and what the model is sent next time (history: user, answer, ...)."""

    id: str = field(default_factory=lambda: uuid.uuid4().hex)
    title: str = ""
    model: str = ""
    messages: list[dict] = field(default_factory=list)
    history: list[str] = field(default_factory=list)
    updated: float = 0.0

    def markdown(self) -> str:
        lines = [f"# {self.title or 'Conversation'}", "", f"Model: `{self.model}`", ""]
        for message in self.messages:
            who = "**User / 用户**" if message["role"] == "user" else "**Assistant / 助手**"
            lines += [who, "", str(message["content"]), ""]
        return "\n".join(lines)


class Store:
    """The conversations of every user, in one SQLite file; safe to use from many threads."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(path, check_same_thread=False)
        self._db.executescript(_SCHEMA)
        self._lock = threading.Lock()

    def save(self, user: str, conversation: Conversation) -> None:
        conversation.updated = time.time()
        if not conversation.title:
            first = next((m["content"] for m in conversation.messages if m["role"] == "user"), "")
            conversation.title = " ".join(str(first).split())[:40] or "…"
        row = (
            conversation.id,
            user,
            conversation.title,
            conversation.model,
            json.dumps(conversation.messages, ensure_ascii=False),
            json.dumps(conversation.history, ensure_ascii=False),
            conversation.updated,
        )
        with self._lock, self._db:
            owner = self._db.execute("SELECT user FROM conversations WHERE id = ?", (conversation.id,)).fetchone()
            if owner and owner[0] != user:
                raise PermissionError("conversation belongs to another user")
            self._db.execute("INSERT OR REPLACE INTO conversations VALUES (?, ?, ?, ?, ?, ?, ?)", row)

    def list(self, user: str, limit: int = 200) -> list[tuple[str, str, float]]:
        """(id, title, updated) of the user's conversations, newest first."""
        with self._lock:
            return self._db.execute(
                "SELECT id, title, updated FROM conversations WHERE user = ? ORDER BY updated DESC LIMIT ?", (user, limit)
            ).fetchall()

    def load(self, user: str, conversation_id: str) -> Conversation | None:
        with self._lock:
            row = self._db.execute(
                "SELECT id, title, model, messages, history, updated FROM conversations WHERE user = ? AND id = ?",
                (user, conversation_id),
            ).fetchone()
        if row is None:
            return None
        return Conversation(row[0], row[1], row[2], json.loads(row[3]), json.loads(row[4]), row[5])

    def delete(self, user: str, conversation_id: str) -> None:
        with self._lock, self._db:
            self._db.execute("DELETE FROM conversations WHERE user = ? AND id = ?", (user, conversation_id))


def open_store(config) -> Store:
    return Store(data_dir(config) / "conversations.sqlite3")
