"""The knowledge-base plugins as the page runs them: add uploads (with progress and Stop), ask with citations,
list, remove and delete; two signed-in users never see each other's bases. Real files, the real built-in
embedding model, a real llama-server as the chat model."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from crazy_functions.knowledge_base import kb_add, kb_ask, kb_manage
from crazy_functions.runtime.session import PluginChatbot
from knowledge.bases import OWNER, list_bases
from request_llms.config_loader import get_config
from request_llms.runtime import runtime_of
from tests.support.documents import make_docx, make_paper
from tests.support.papers import make_filler_paper
from tests.support.plugin_support import LLAMA, _configure, drive

pytestmark = pytest.mark.servers  # the built-in embedding model runs in a worker process


@pytest.fixture
def kb_kwargs(monkeypatch, tmp_path, llama_server):
    lines = [
        f'LOCAL_SERVER_URLS = {{"llamacpp": "{llama_server.base_url}/v1"}}',
        f'DATA_DIR = "{tmp_path / "data"}"',
    ]
    _configure(monkeypatch, tmp_path, lines)
    yield {"llm_model": LLAMA, "temperature": 0, "top_p": 1.0, "max_length": 48}
    runtime_of(get_config()).shutdown()


def _chatbot(tmp_path: Path, files=(), lang: str = "en", user: str = "browser:abc") -> PluginChatbot:
    return PluginChatbot(lang=lang, files=files, out_dir=tmp_path / "out", config=get_config(), user=user)


def test_add_ask_list_remove_and_delete_from_the_page(kb_kwargs, tmp_path):
    paper = make_paper(tmp_path / "paper.pdf")
    report = make_docx(tmp_path / "report.docx")
    chatbot = _chatbot(tmp_path, [paper, report])
    drive(kb_add, "", kb_kwargs, chatbot, {"base": "papers"})
    answer = chatbot[-1][1]
    assert "2 added" in answer and "0 failed" in answer, answer
    assert [b.name for b in list_bases(get_config(), OWNER)] == ["papers"]  # no sign-in: the owner's, as on the command line

    again = _chatbot(tmp_path, [paper, report])
    drive(kb_add, "", kb_kwargs, again, {"base": "papers"})
    assert "2 unchanged" in again[-1][1] and "0 chunks" in again[-1][1]

    asked = _chatbot(tmp_path)
    drive(kb_ask, "How many slots did the server have?", kb_kwargs, asked, {"base": "papers"})
    text = asked[-1][1]
    assert "<details><summary>[1] paper.pdf · p. 1 · 2.1 Setup</summary>" in text  # the passage opens on the page
    assert "The server had four slots." in text
    assert re.search(r"tok/s|first token", text), text  # the figures line, as in chat

    nothing = _chatbot(tmp_path, lang="zh")
    drive(kb_ask, "What is the capital of France?", kb_kwargs, nothing, {"base": "papers"})
    assert "没有找到与这个问题相关的内容" in nothing[-1][1] and "<details>" not in nothing[-1][1]

    listing = _chatbot(tmp_path)
    drive(kb_manage, "", kb_kwargs, listing, {"base": "papers"})
    assert "| paper.pdf | indexed | 4 |" in listing[-1][1] and "report.docx" in listing[-1][1]

    removing = _chatbot(tmp_path)
    drive(kb_manage, "", kb_kwargs, removing, {"base": "papers", "remove": "report.docx"})
    after = _chatbot(tmp_path)
    drive(kb_manage, "", kb_kwargs, after, {"base": "papers"})
    assert "report.docx" not in after[-1][1] and "paper.pdf" in after[-1][1]

    wrong = _chatbot(tmp_path)
    drive(kb_manage, "", kb_kwargs, wrong, {"base": "papers", "drop": "paper"})
    assert "type its name exactly" in wrong[-1][1]
    assert list_bases(get_config(), OWNER)
    dropping = _chatbot(tmp_path)
    drive(kb_manage, "", kb_kwargs, dropping, {"base": "papers", "drop": "papers"})
    assert list_bases(get_config(), OWNER) == []


def test_stop_keeps_the_files_finished_and_adding_again_goes_on(kb_kwargs, tmp_path):
    papers = [make_filler_paper(tmp_path / f"trial-{i}.pdf", i, pages=8, sentences=12) for i in range(12)]
    chatbot = _chatbot(tmp_path, papers)
    some_done = re.compile(r"files ([1-9]|10)/12")  # the progress line is drawn every half second: any of these may show
    drive(kb_add, "", kb_kwargs, chatbot, {"base": "stopped"}, stop_when=lambda c: bool(some_done.search(c[-1][1])))
    first = chatbot[-1][1]
    assert first.startswith("⏹ Stopped:"), first
    done = int(re.search(r"(\d+) added", first).group(1))
    assert 1 <= done < 12
    again = _chatbot(tmp_path, papers)
    drive(kb_add, "", kb_kwargs, again, {"base": "stopped"})
    assert f"{12 - done} added" in again[-1][1] and f"{done} unchanged" in again[-1][1], again[-1][1]


def test_signed_in_users_never_see_each_others_bases(kb_kwargs, tmp_path, monkeypatch):
    lines = (tmp_path / "config_private.py").read_text(encoding="utf-8").splitlines()
    _configure(monkeypatch, tmp_path, [*lines, 'AUTHENTICATION = [["alice", "a-long-password"], ["bob", "b-long-password"]]'])
    alice = _chatbot(tmp_path, [make_paper(tmp_path / "alice.pdf")], user="user:alice")
    drive(kb_add, "", kb_kwargs, alice, {"base": "mine"})
    assert "1 added" in alice[-1][1]

    bob = _chatbot(tmp_path, user="user:bob")
    drive(kb_ask, "How many slots did the server have?", kb_kwargs, bob, {"base": "mine"})
    assert "No knowledge base named 'mine'" in bob[-1][1]
    bob_list = _chatbot(tmp_path, user="user:bob")
    drive(kb_manage, "", kb_kwargs, bob_list, {})
    assert "mine" not in bob_list[-1][1] and "No knowledge bases yet" in bob_list[-1][1]
    assert list_bases(get_config(), OWNER) == []  # nor is it the owner's
