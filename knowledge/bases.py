"""Whose knowledge bases, where they live, and their names.

A user's bases are files in their own folder, `DATA_DIR/users/<digest>/kb/`, one SQLite file a base named
by a hash of the base's name (the name itself, in any script, is kept inside the file). So a base's name
cannot reach outside the folder, and no user can name another user's base.

Who: the command line is the machine's owner (`OWNER`). The page without sign-in (AUTHENTICATION empty:
a page for one person, kept on 127.0.0.1) is the owner too, so what is added there is asked from the
command line and back; with sign-in, every signed-in user has bases of their own.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import unicodedata
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from request_llms.errors import LLMError
from userfiles import user_dir

from .remote import remote_for
from .store import Store

OWNER = "owner"
MAX_NAME = 64  # characters in a base's name
MAX_BASES = 200  # bases one user may have


class KnowledgeError(LLMError):
    """A knowledge-base request that cannot be done as asked: the message says what to do instead."""

    exit_code = 2
    final = True


def kb_user(user: str, config) -> str:
    """The owner of the bases a page user sees: the signed-in user, or the machine's owner on a page without sign-in."""
    if user.startswith("user:") or config["AUTHENTICATION"]:  # with sign-in, nobody unsigned reaches the owner's
        return user
    return OWNER


def check_name(name: str) -> str:
    """A base's name, trimmed; raises KnowledgeError for an empty, too long or unprintable one."""
    name = unicodedata.normalize("NFC", (name or "").strip())
    if not name or len(name) > MAX_NAME or any(unicodedata.category(c)[0] == "C" for c in name):
        raise KnowledgeError(
            en=f"A knowledge base needs a name of 1 to {MAX_NAME} printable characters, e.g. thesis-papers.",
            zh=f"知识库名称须为 1 到 {MAX_NAME} 个可打印字符，例如 论文资料。",
        )
    return name


def folder(config, user: str) -> Path:
    return user_dir(config, user, "kb")


def _store(config, user: str, name: str) -> Store:
    digest = hashlib.sha256(name.encode("utf-8")).hexdigest()[:24]
    return Store(folder(config, user) / f"{digest}.sqlite3", remote_for(config))


@dataclass(frozen=True)
class Base:
    """A named base of one user."""

    name: str
    user: str
    store: Store

    @property
    def model(self) -> str:
        return self.store.meta().get("model", "")


def open_base(config, user: str, name: str) -> Base:
    """An existing base; raises KnowledgeError (with the names there are) when the user has none of that name."""
    name = check_name(name)
    store = _store(config, user, name)
    if not store.exists() or "name" not in store.meta():
        there = ", ".join(base.name for base in list_bases(config, user)) or "—"
        raise KnowledgeError(
            en=f"No knowledge base named {name!r}. Yours: {there}. Add files to create one (kb add {name} FILE...).",
            zh=f"没有名为「{name}」的知识库。现有：{there}。添加文件即可新建（kb add {name} 文件...）。",
        )
    return Base(name, user, store)


def create_base(config, user: str, name: str, model: str) -> Base:
    """The base of that name, made (remembering its embedding model) if the user has none yet."""
    name = check_name(name)
    store = _store(config, user, name)
    if not store.exists() or "name" not in store.meta():
        if len(list_bases(config, user)) >= MAX_BASES:
            raise KnowledgeError(
                en=f"You have {MAX_BASES} knowledge bases, the most one user may have: drop one first.",
                zh=f"你已有 {MAX_BASES} 个知识库，已达上限：请先删除一个。",
            )
        store.create(name, model)
    return Base(name, user, store)


def list_bases(config, user: str) -> list[Base]:
    found = []
    for path in sorted(folder(config, user).glob("*.sqlite3")):
        store = Store(path, remote_for(config))
        try:
            name = store.meta().get("name")
        except Exception:  # noqa: BLE001 - a damaged file is skipped here; opening it by name says what is wrong
            continue
        if name:
            found.append(Base(name, user, store))
    return sorted(found, key=lambda base: base.name)


def drop_base(base: Base) -> None:
    with indexing_lock(base, wait=False):
        base.store.drop()
    Path(f"{base.store.path}.lock").unlink(missing_ok=True)


@contextmanager
def indexing_lock(base: Base, wait: bool = False) -> Iterator[None]:
    """One indexing job (or drop) a base at a time, across processes; a killed job's lock goes with it."""
    path = Path(f"{base.store.path}.lock")
    handle = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
        except BlockingIOError:
            raise KnowledgeError(
                en=f"Files are being added to {base.name!r} right now: wait until that finishes, or stop it.",
                zh=f"知识库「{base.name}」正在添加文件：请等它完成，或先停止它。",
            ) from None
        yield
    finally:
        os.close(handle)
