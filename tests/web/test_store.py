"""Conversations are kept per user: no read, write or delete ever reaches another user's."""

from __future__ import annotations

import pytest

from tests.support.helpers import make_config
from userfiles import user_dir
from webui.owners import cookie_name, page_secret, seal, unseal, user_of
from webui.store import Conversation, Store


def test_each_user_sees_only_their_own_conversations(tmp_path):
    store = Store(tmp_path / "c.sqlite3")
    mine = Conversation(model="m", messages=[{"role": "user", "content": "alpha question"}], history=["alpha question", "a"])
    store.save("user:alice", mine)
    assert [row[1] for row in store.list("user:alice")] == ["alpha question"]
    assert store.list("user:bob") == []
    assert store.load("user:bob", mine.id) is None
    store.delete("user:bob", mine.id)
    assert store.load("user:alice", mine.id).history == ["alpha question", "a"]
    with pytest.raises(PermissionError):
        store.save("user:bob", Conversation(id=mine.id, messages=[{"role": "user", "content": "overwrite"}]))
    assert store.load("user:alice", mine.id).messages[0]["content"] == "alpha question"


def test_the_store_survives_a_restart(tmp_path):
    conv = Conversation(model="m", messages=[{"role": "user", "content": "kept"}], history=["kept", "yes"])
    Store(tmp_path / "c.sqlite3").save("browser:" + "a" * 32, conv)
    again = Store(tmp_path / "c.sqlite3").load("browser:" + "a" * 32, conv.id)
    assert again.messages == conv.messages and again.title == "kept" and "**User / 用户**" in again.markdown()


def test_user_folders_are_hashed_so_no_name_reaches_outside(tmp_path):
    config = make_config(tmp_path, f'DATA_DIR = "{tmp_path / "data"}"\n')
    folder = user_dir(config, "user:../../etc", "uploads")
    assert folder.is_relative_to(tmp_path / "data" / "users") and ".." not in folder.parts


def test_who_is_asking(tmp_path):
    config = make_config(tmp_path, f'DATA_DIR = "{tmp_path / "data"}"\n')
    secret = page_secret(config)
    assert secret == page_secret(config) and len(secret) == 64
    assert (tmp_path / "data" / "page.secret").stat().st_mode & 0o077 == 0

    class Inner:
        def __init__(self, cookie: str) -> None:
            self.cookies = {cookie_name(7860): cookie}
            self.scope = {"server": ("127.0.0.1", 7860)}

    class Request:
        def __init__(self, cookie: str = "", username: str | None = None) -> None:
            self.username, self.session_hash, self.request = username, "s1", Inner(cookie)

    sealed = seal(secret, "b" * 32)
    assert user_of(Request(sealed, username="alice"), secret) == "user:alice"
    assert user_of(Request(sealed), secret) == "browser:" + "b" * 32
    forged = "c" * 32 + sealed[32:]  # another id with this id's seal
    assert unseal(secret, forged) is None and user_of(Request(forged), secret) == "session:s1"
    assert user_of(Request("b" * 32), secret) == "session:s1"  # an unsealed id is nobody
    assert user_of(Request(seal(b"another server", "b" * 32)), secret) == "session:s1"
