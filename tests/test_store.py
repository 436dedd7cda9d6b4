"""Conversations are kept per user: no read, write or delete ever reaches another user's."""

from __future__ import annotations

import pytest

from tests.helpers import make_config
from webui.store import Conversation, Store, page_secret, user_dir, user_of


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
    class Request:
        username = None
        session_hash = "s1"

    signed = Request()
    signed.username = "alice"
    assert user_of(signed, "b" * 32) == "user:alice"
    assert user_of(Request(), "b" * 32) == "browser:" + "b" * 32
    assert user_of(Request(), "../x") == "session:s1"
    config = make_config(tmp_path, f'DATA_DIR = "{tmp_path / "data"}"\n')
    assert page_secret(config) == page_secret(config) and len(page_secret(config)) == 64
