"""Indexing and searching papers with the real built-in embedding model (MiniLM in a worker process): each fact found
on its page under its section, the same files again cost nothing, a changed file replaced, a removed one gone, a
question the papers do not answer left unanswered, a base moved to another embedding model, and an add killed with
`kill -9` that leaves only whole files and goes on where it stopped."""

from __future__ import annotations

import contextlib
import os
import signal
import sqlite3
import subprocess
import sys
import time

import pytest

import knowledge.answering as answering
from knowledge.answering import NOTHING_FOUND, ask, model_notices
from knowledge.bases import OWNER, create_base, list_bases, open_base
from knowledge.indexing import add_paths, reindex
from knowledge.retrieval import MIN_SIMILARITY, match_expression, search
from knowledge.store import Store
from request_llms.config_loader import ROOT
from request_llms.embeddings import embed_model
from request_llms.request import CancelToken
from request_llms.runtime import runtime_of
from tests.support.helpers import cli, cli_env, make_config
from tests.support.papers import DECOY, make_changed_paper, make_corpus, make_filler_paper, papers, typeset
from tests.support.plugin_support import LLAMA
from tests.support.servers.provision import cache_root
from tests.support.servers.running import GEMMA_ALIAS

pytestmark = pytest.mark.servers  # starts the embedding model's worker processes

MODEL_CACHE = cache_root() / "localscholar-cache"
BUILTIN = "builtin-all-minilm-l6-v2"
UNANSWERED = ["What is the capital of France?", "Who won the football world cup in 1998?"]


def settings(folder, *more: str) -> str:
    return "\n".join([f'DATA_DIR = "{folder / "data"}"', f'LOCAL_MODEL_CACHE = "{MODEL_CACHE}"', *more]) + "\n"


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    return tmp_path_factory.mktemp("kb")


@pytest.fixture(scope="module")
def config(folder):
    config = make_config(folder, settings(folder))
    yield config
    runtime_of(config).shutdown()


@pytest.fixture(scope="module")
def corpus(folder):
    return make_corpus(folder / "documents")


@pytest.fixture(scope="module")
def indexed(config, corpus):
    base = create_base(config, OWNER, "papers", embed_model(config).text)
    return base, add_paths(base, corpus.paths, config)


def the_hit(found, fact):
    return next(
        (
            hit
            for hit in found.hits
            if (hit.chunk.file, hit.chunk.page, hit.chunk.section) == (fact.file, fact.page, fact.section)
            and fact.phrase in hit.chunk.text
        ),
        None,
    )


def test_every_document_is_indexed_and_each_fact_is_found_in_the_top_3(indexed, corpus, config):
    base, progress = indexed
    records = base.store.files()
    assert sorted(progress.added) == sorted(r.name for r in records) and len(records) == 6
    assert progress.failed == [] and progress.replaced == progress.unchanged == [] and not progress.stopped
    assert all(r.state == "indexed" and r.model == BUILTIN and r.chunks > 0 for r in records)
    assert progress.chunks == base.store.count_chunks() == sum(r.chunks for r in records)
    missed = []
    for key, fact in corpus.facts.items():
        found = search(base, fact.question, config, k=3)
        hit = the_hit(found, fact)
        if hit is None or not hit.relevant:
            missed.append((key, [(h.chunk.file, h.chunk.page, h.chunk.section, round(h.score, 3)) for h in found.hits]))
    assert not missed, missed


def test_the_bibliography_is_not_in_the_base(indexed, config):
    base, _ = indexed
    assert base.store.keyword(match_expression([DECOY.lower()]), 10) == []
    found = search(base, f"{DECOY} ligands for ammonia synthesis", config)
    assert found.hits and not any(DECOY in hit.chunk.text for hit in found.hits)


def test_adding_the_same_documents_again_embeds_nothing(indexed, corpus, config):
    base, _ = indexed
    before = base.store.files()
    again = add_paths(base, corpus.paths, config)
    assert sorted(again.unchanged) == sorted(r.name for r in before)
    assert again.added == again.replaced == again.failed == [] and again.chunks == 0 and again.done == 6
    assert base.store.files() == before


def test_a_changed_file_replaces_its_passages_and_a_removed_one_is_gone(config, folder):
    documents = folder / "changing"
    documents.mkdir()
    catalysis, _, _, coral = papers()
    typeset(catalysis, documents / "catalysis.pdf")
    typeset(coral, documents / "coral.pdf")
    base = create_base(config, OWNER, "changing", BUILTIN)
    assert sorted(add_paths(base, [documents], config).added) == ["changing/catalysis.pdf", "changing/coral.pdf"]
    question = "What ammonia yield did the catalyst reach in the pressure trials?"
    assert any("83 percent" in hit.chunk.text for hit in search(base, question, config).hits)

    new_phrase = make_changed_paper(documents / "catalysis.pdf")
    changed = add_paths(base, [documents], config)
    assert changed.replaced == ["changing/catalysis.pdf"] and changed.unchanged == ["changing/coral.pdf"]
    assert changed.chunks == base.store.file("changing/catalysis.pdf").chunks > 0
    hits = search(base, question, config, k=10).hits
    assert any(new_phrase in hit.chunk.text for hit in hits)
    assert not any("83 percent" in hit.chunk.text or "XR-7" in hit.chunk.text for hit in hits), "the old text is found"
    assert not any("83 percent" in chunk.text for chunk in base.store.file_chunks("changing/catalysis.pdf"))

    assert base.store.remove_file("changing/catalysis.pdf")
    assert [r.name for r in base.store.files()] == ["changing/coral.pdf"]
    assert all(hit.chunk.file == "changing/coral.pdf" for hit in search(base, question, config, k=10).hits)
    assert add_paths(base, [documents], config).added == ["changing/catalysis.pdf"]  # added again, as new


def test_an_empty_base_finds_nothing_and_says_it_has_no_files(config, monkeypatch):
    monkeypatch.setattr(answering, "chat", lambda *a, **k: pytest.fail("a chat model was asked"))
    base = create_base(config, OWNER, "empty", BUILTIN)
    assert search(base, "What yield did the catalyst reach?", config).hits == []
    answer = ask(base, "What yield did the catalyst reach?", LLAMA, config, "en")
    assert answer.stream is None and answer.cited == []
    assert [n.en for n in answer.notices] == [
        "The knowledge base 'empty' has no files yet: add some first (kb add empty FILE...)."
    ]
    assert "还没有文件" in answer.notices[0].zh
    assert answer.nothing_found("en") == NOTHING_FOUND.en.format(base="empty")


@pytest.mark.parametrize("question", UNANSWERED)
def test_a_question_the_papers_do_not_answer_is_not_answered(indexed, config, monkeypatch, question):
    monkeypatch.setattr(answering, "chat", lambda *a, **k: pytest.fail("a chat model was asked"))
    base, _ = indexed
    found = search(base, question, config)
    assert found.hits and all(hit.similarity < MIN_SIMILARITY and not hit.relevant for hit in found.hits)
    for lang in ("en", "zh"):
        answer = ask(base, question, LLAMA, config, lang)
        assert answer.stream is None and answer.cited == [] and answer.notices == []
    assert answer.nothing_found("en") == (
        "Nothing in the knowledge base 'papers' is about this question, so no answer is given (rather than an "
        "invented one). Ask it another way, or add the papers that answer it first."
    )
    assert answer.nothing_found("zh") == NOTHING_FOUND.zh.format(base="papers") and "「papers」" in answer.nothing_found("zh")


NOTES = {
    "xr7.md": "# Pressure trials\n\nIn the pressure trials the catalyst XR-7 raised the ammonia yield to 83 percent.\n",
    "glacier.md": "# Observations\n\nThe Skalafell outlet glacier retreated 412 metres between 2001 and 2019.\n",
    "sleep.md": "# Findings\n\nParticipants who slept less than six hours recalled fewer word pairs.\n",
}


def test_a_base_asked_under_another_embedding_model_says_so_and_reindex_moves_it(config, folder, embedding_llama):
    """Three short notes: the test model embeds on one thread, about a second a passage."""
    notes = folder / "notes"
    notes.mkdir()
    for name, text in NOTES.items():
        (notes / name).write_text(text, encoding="utf-8")
    base = create_base(config, OWNER, "moving", BUILTIN)
    assert len(add_paths(base, [notes], config).added) == 3
    other = f"llamacpp-{GEMMA_ALIAS}"
    (folder / "moved").mkdir()
    moved_config = make_config(
        folder / "moved",
        settings(folder, f'LOCAL_SERVER_URLS = {{"llamacpp": "{embedding_llama.base_url}/v1"}}', f'EMBED_MODEL = "{other}"'),
    )
    try:
        base = open_base(moved_config, OWNER, "moving")
        answer = ask(base, UNANSWERED[0], LLAMA, moved_config, "en")
        assert [n.en for n in answer.notices] == [
            f"The knowledge base 'moving' was indexed with {BUILTIN}, not the EMBED_MODEL now set ({other}): it is "
            f"searched with {BUILTIN}. To move it to the new model, re-index it (kb reindex moving)."
        ]
        assert "kb reindex moving" in answer.notices[0].zh

        cancel = CancelToken()
        stopped = reindex(base, other, moved_config, cancel, lambda state: state.done >= 1 and cancel.cancel())
        assert stopped.stopped and stopped.replaced == ["notes/glacier.md"] and base.model == other
        found = search(base, "What yield did the XR-7 catalyst reach?", moved_config)
        notices = [n.en for n in model_notices(base, found, moved_config)]
        assert notices == [f"2 file(s) are not yet re-indexed with {other} and were searched by keywords only: run kb "
                           "reindex moving again."]  # fmt: skip
        assert {hit.chunk.file for hit in found.hits if hit.similarity is not None} <= set(stopped.replaced)

        finished = reindex(base, other, moved_config)
        assert finished.unchanged == stopped.replaced and finished.replaced == ["notes/sleep.md", "notes/xr7.md"]
        assert {r.model for r in base.store.files()} == {other} and base.store.meta()["dimension"] == "640"
        with sqlite3.connect(base.store.path) as db:
            assert db.execute("SELECT DISTINCT length(vector) FROM chunks").fetchall() == [(640 * 4,)]
        found = search(base, "What yield did the XR-7 catalyst reach?", moved_config)
        assert model_notices(base, found, moved_config) == [] and found.model == other
        assert all(len(hit.chunk.text) and hit.similarity is not None for hit in found.hits)
        assert found.hits[0].chunk.file == "notes/xr7.md" and found.hits[0].relevant
        assert reindex(base, other, moved_config).chunks == 0
    finally:
        runtime_of(moved_config).shutdown()


# ---------------------------------------------------------------- kill -9 while adding

CRASH_FILES = 30


def whole(store: Store) -> list[str]:
    """What is wrong with the base's file: every listed file must have all its chunks and keyword rows."""
    wrong = []
    with sqlite3.connect(store.path) as db:
        assert db.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        db.execute("INSERT INTO chunks_fts (chunks_fts) VALUES ('integrity-check')")  # raises if the index is damaged
        for name, file_id, chunks in db.execute("SELECT name, id, chunks FROM files").fetchall():
            rows = db.execute("SELECT COUNT(*) FROM chunks WHERE file_id = ?", (file_id,)).fetchone()[0]
            fts = db.execute(
                "SELECT COUNT(*) FROM chunks_fts WHERE rowid IN (SELECT id FROM chunks WHERE file_id = ?)", (file_id,)
            ).fetchone()[0]
            if not chunks or rows != chunks or fts != chunks:
                wrong.append(f"{name}: {chunks} chunks listed, {rows} rows, {fts} keyword rows")
        if db.execute("SELECT COUNT(*) FROM chunks WHERE file_id NOT IN (SELECT id FROM files)").fetchone()[0]:
            wrong.append("chunks of no file")
        if db.execute("SELECT COUNT(*) FROM chunks_fts").fetchone()[0] != db.execute("SELECT COUNT(*) FROM chunks").fetchone()[0]:
            wrong.append("keyword rows of no chunk")
    return wrong


def test_an_add_killed_with_sigkill_leaves_whole_files_and_adding_again_finishes(folder, tmp_path):
    documents = tmp_path / "trials"
    documents.mkdir()
    for number in range(CRASH_FILES):
        make_filler_paper(documents / f"trial-{number:02d}.pdf", number)
    env = cli_env(tmp_path, DATA_DIR=str(tmp_path / "data"), LOCAL_MODEL_CACHE=str(MODEL_CACHE), LANGUAGE="en")
    (tmp_path / "reader").mkdir()
    config = make_config(tmp_path / "reader", settings(tmp_path))
    job = subprocess.Popen(
        [sys.executable, "-m", "request_llms", "kb", "add", "crash", str(documents)],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True,
    )  # fmt: skip
    try:
        deadline, done = time.monotonic() + 120, 0
        while done < 3 and job.poll() is None and time.monotonic() < deadline:
            time.sleep(0.02)
            found = list_bases(config, OWNER)  # a base whose file is still being made is not listed yet
            done = len(found[0].store.files()) if found else 0
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(job.pid, signal.SIGKILL)  # the job and its embedding worker, at once
        job.communicate(timeout=30)
    assert job.returncode == -signal.SIGKILL, "the add finished before it could be killed"

    base = open_base(config, OWNER, "crash")
    finished = {r.name: r for r in base.store.files()}
    assert 3 <= len(finished) < CRASH_FILES and all(r.state == "indexed" for r in finished.values())
    assert whole(base.store) == []

    again = cli(env, "kb", "add", "crash", str(documents), timeout=300)
    assert again.returncode == 0, again.stderr
    left = CRASH_FILES - len(finished)
    assert again.stdout.startswith(f"{left} added, 0 changed, {len(finished)} unchanged, 0 failed"), again.stdout
    after = {r.name: r for r in base.store.files()}
    assert len(after) == CRASH_FILES and {name: after[name] for name in finished} == finished
    assert whole(base.store) == []
