"""A base's SQLite file with synthetic vectors (no model): files put, replaced and removed whole, exact vector search,
dimensions kept, a re-index under way left out of vector search; keyword search that no question can break; base
names and whose bases they are; a search and an answer with nothing relevant that never reach a chat model."""

from __future__ import annotations

import sqlite3
import unicodedata
import zlib

import numpy as np
import pytest

import knowledge.answering as answering
import knowledge.retrieval as retrieval
from knowledge import bases
from knowledge.bases import (
    OWNER,
    KnowledgeError,
    check_name,
    create_base,
    drop_base,
    indexing_lock,
    kb_user,
    list_bases,
    open_base,
)
from knowledge.indexing import add_paths
from knowledge.retrieval import match_expression, query_terms, terms
from knowledge.store import Chunk, FileRecord, Store
from request_llms.embeddings import Embeddings
from tests.support.helpers import make_config

DIMENSION = 16


@pytest.fixture
def store(tmp_path) -> Store:
    store = Store(tmp_path / "base.sqlite3")
    store.create("base", "model-a")
    return store


def record(name: str, sha: str = "0" * 64, model: str = "model-a", state: str = "indexed") -> FileRecord:
    return FileRecord(name, sha, 100, 1.0, state, None, 0, model)


def chunks_of(texts: list[str], section: str = "Results") -> list[Chunk]:
    return [Chunk(i, i + 1, i + 1, section, 0, len(text), text) for i, text in enumerate(texts)]


def put(store: Store, name: str, texts: list[str], vectors, model: str = "model-a", sha: str = "0" * 64) -> None:
    store.put_file(record(name, sha, model), chunks_of(texts), [" ".join(terms(t)) for t in texts], np.asarray(vectors))


def keyword(store: Store, question: str, file_ids=None) -> list[int]:
    return [chunk_id for chunk_id, _ in store.keyword(match_expression(query_terms(question)), 50, file_ids)]


def rows(store: Store, sql: str) -> list[tuple]:
    with sqlite3.connect(store.path) as db:
        return db.execute(sql).fetchall()


def test_a_file_put_is_listed_and_found_by_keywords_and_exact_vector_search(store):
    rng = np.random.default_rng(7)
    a, b = rng.normal(size=(30, DIMENSION)), rng.normal(size=(20, DIMENSION))
    put(store, "a.pdf", [f"alpha passage {i} about zeolites" for i in range(30)], a)
    put(store, "b.pdf", [f"beta passage {i} about glaciers" for i in range(20)], b)
    listed = {r.name: r for r in store.files()}
    assert sorted(listed) == ["a.pdf", "b.pdf"] and listed["a.pdf"].chunks == 30 and listed["b.pdf"].state == "indexed"
    assert store.count_chunks() == 50 and rows(store, "SELECT COUNT(*) FROM chunks_fts") == [(50,)]
    found = store.chunks(keyword(store, "glaciers"))
    assert len(found) == 20 and {chunk.file for chunk in found.values()} == {"b.pdf"}

    query = rng.normal(size=DIMENSION)
    everything = np.vstack([a, b])
    cosines = everything @ query / (np.linalg.norm(everything, axis=1) * np.linalg.norm(query))
    ids = sorted(store.chunks(list(range(1, 100))))  # the chunks' ids in the order they were written
    best = [ids[i] for i in np.argsort(-cosines)[:10]]
    nearest = store.nearest(query, 10)
    assert [chunk_id for chunk_id, _ in nearest] == best
    assert np.allclose([score for _, score in nearest], np.sort(cosines)[::-1][:10], atol=1e-5)
    only_a = store.nearest(query, 50, file_ids=[listed["a.pdf"].id])
    assert len(only_a) == 30 and {store.chunks([i])[i].file for i, _ in only_a} == {"a.pdf"}
    assert keyword(store, "zeolites glaciers", [listed["a.pdf"].id]) and not keyword(store, "glaciers", [listed["a.pdf"].id])
    with pytest.raises(ValueError, match="dimensions"):
        store.nearest(np.ones(DIMENSION + 1), 5)


def test_a_changed_file_replaces_its_chunks_whole(store):
    put(store, "a.pdf", ["the old finding about tungsten", "more old words"], np.eye(DIMENSION)[:2], sha="1" * 64)
    old = keyword(store, "tungsten")
    put(store, "a.pdf", ["the new finding about cobalt"] * 3, np.eye(DIMENSION)[2:5], sha="2" * 64)
    assert [(r.name, r.sha256, r.chunks) for r in store.files()] == [("a.pdf", "2" * 64, 3)]
    assert old and not keyword(store, "tungsten") and len(keyword(store, "cobalt")) == 3
    assert store.count_chunks() == 3 and rows(store, "SELECT COUNT(*) FROM chunks_fts") == [(3,)]
    nearest = store.chunks([chunk_id for chunk_id, _ in store.nearest(np.eye(DIMENSION)[0], 10)])
    assert {chunk.text for chunk in nearest.values()} == {"the new finding about cobalt"}, "old vectors were searched"
    assert {chunk.text for chunk in store.file_chunks("a.pdf")} == {"the new finding about cobalt"}


def test_a_removed_file_leaves_nothing_behind_and_the_others_stay(store):
    put(store, "a.pdf", ["alpha text"] * 2, np.eye(DIMENSION)[:2])
    put(store, "b.pdf", ["beta text"] * 2, np.eye(DIMENSION)[2:4])
    assert store.nearest(np.eye(DIMENSION)[0], 1)  # the vectors are read (and kept) before the removal
    assert store.remove_file("a.pdf") is True and store.remove_file("a.pdf") is False
    assert [r.name for r in store.files()] == ["b.pdf"] and not keyword(store, "alpha")
    assert rows(store, "SELECT COUNT(*) FROM chunks") == [(2,)] and rows(store, "SELECT COUNT(*) FROM chunks_fts") == [(2,)]
    assert {store.chunks([i])[i].file for i, _ in store.nearest(np.eye(DIMENSION)[0], 10)} == {"b.pdf"}


def test_vectors_of_another_dimension_are_refused_and_change_nothing(store):
    put(store, "a.pdf", ["alpha"], np.ones((1, DIMENSION)))
    with pytest.raises(ValueError, match="dimensions"):
        put(store, "b.pdf", ["beta"], np.ones((1, DIMENSION * 2)))
    with pytest.raises(ValueError, match="dimensions"):
        put(store, "a.pdf", ["alpha again"], np.ones((1, DIMENSION * 2)))
    assert [(r.name, r.chunks) for r in store.files()] == [("a.pdf", 1)], "a refused file was written or removed"
    assert [c.text for c in store.file_chunks("a.pdf")] == ["alpha"] and store.meta()["dimension"] == str(DIMENSION)
    with pytest.raises(ValueError, match="one vector"):
        put(store, "c.pdf", ["one", "two"], np.ones((1, DIMENSION)))
    with pytest.raises(ValueError, match="one vector per chunk"):
        store.put_vectors("a.pdf", "model-a", np.ones((2, DIMENSION)))


def test_a_reindex_under_way_leaves_the_files_not_yet_moved_out_of_vector_search(store):
    put(store, "a.pdf", ["alpha one", "alpha two"], np.eye(DIMENSION)[:2])
    put(store, "b.pdf", ["beta one"], np.eye(DIMENSION)[2:3])
    assert len(store.nearest(np.ones(DIMENSION), 10)) == 3
    store.set_model("model-b")  # 32 dimensions
    assert store.meta()["model"] == "model-b" and "dimension" not in store.meta()
    assert store.nearest(np.ones(DIMENSION * 2), 10) == [], "vectors of the old model were searched"
    store.put_vectors("a.pdf", "model-b", np.eye(DIMENSION * 2)[:2])
    moved = store.nearest(np.ones(DIMENSION * 2), 10)
    assert {store.chunks([i])[i].file for i, _ in moved} == {"a.pdf"} and len(moved) == 2
    assert {r.name: r.model for r in store.files()} == {"a.pdf": "model-b", "b.pdf": "model-a"}
    assert keyword(store, "beta"), "a file not yet moved is still found by its keywords"
    assert rows(
        store, "SELECT DISTINCT length(vector) FROM chunks c JOIN files f ON f.id = c.file_id WHERE f.name = 'a.pdf'"
    ) == [(DIMENSION * 2 * 4,)]
    store.put_vectors("b.pdf", "model-b", np.eye(DIMENSION * 2)[2:3])
    assert len(store.nearest(np.ones(DIMENSION * 2), 10)) == 3 and store.meta()["dimension"] == str(DIMENSION * 2)


QUESTIONS = [
    '"AND OR NOT * ( NEAR',
    'NEAR(zeolite catalyst, 2) AND "unclosed',
    "terms: ^start -minus +plus {braces} [x] col:term",
    "x' OR '1'='1'; DROP TABLE chunks; --",
    "catalyst*",
    '"""',
    "AND",
    "",
    "的 是",
]


@pytest.mark.parametrize("question", QUESTIONS)
def test_no_question_is_read_as_fts_syntax(store, question):
    put(store, "a.pdf", ["NEAR the zeolite catalyst AND its NOT gate (start) col term minus"], np.ones((1, DIMENSION)))
    store.keyword(match_expression(query_terms(question)), 10)  # no sqlite3.OperationalError
    assert store.keyword(match_expression(['a"b', "NEAR(x", "*", "OR", "zeolite"]), 10)
    assert store.keyword(match_expression(query_terms(question + " zeolite")), 10)


def test_chinese_beside_numbers_and_latin_letters_is_indexed_as_character_pairs(store):
    texts = ["在2019年冰川退缩了412米。", "GPT-4模型的准确率为百分之八十。"]
    put(store, "zh.md", texts, np.eye(DIMENSION)[:2])
    assert {"2019", "冰川", "退缩", "412"} <= set(terms(texts[0])) and {"gpt", "4", "模型"} <= set(terms(texts[1]))
    for question, text in (("冰川退缩了多少米？", texts[0]), ("模型的准确率是多少？", texts[1])):
        found = store.chunks(keyword(store, question))
        assert [chunk.text for chunk in found.values()] == [text], question


# ---------------------------------------------------------------- search and answers, with a stand-in for the model


def fake_embed(model, texts, config=None, cancel=None) -> Embeddings:
    """A bag of hashed words that carry meaning: texts that share such words are near, others are not."""
    vectors = []
    for text in texts:
        vector = np.zeros(256)
        for word in query_terms(text):
            vector[zlib.crc32(word.encode()) % 256] += 1.0
        vectors.append(vector.tolist())
    return Embeddings(model, vectors)


@pytest.fixture
def config(tmp_path):
    return make_config(tmp_path, f'DATA_DIR = "{tmp_path / "data"}"\n')


@pytest.fixture
def base(config, monkeypatch):
    monkeypatch.setattr(retrieval, "embed", fake_embed)
    base = create_base(config, OWNER, "papers", "fake-model")
    texts = ["the zeolite catalyst raised the yield to 83 percent", "glaciers retreated along the southern coast"]
    base.store.put_file(record("a.pdf", model="fake-model"), chunks_of(texts), [" ".join(terms(t)) for t in texts],
                        np.asarray(fake_embed("", texts).vectors))  # fmt: skip
    return base


@pytest.mark.parametrize("question", QUESTIONS)
def test_a_search_with_fts_syntax_in_the_question_answers(base, config, question):
    found = retrieval.search(base, question, config)
    assert len(found.hits) <= 2 and found.model == "fake-model"


def test_a_search_finds_by_keywords_and_an_answer_with_nothing_relevant_asks_no_model(base, config, monkeypatch):
    found = retrieval.search(base, "Which zeolite catalyst raised the yield?", config, k=2)
    assert found.hits[0].chunk.text.startswith("the zeolite catalyst") and found.hits[0].relevant
    assert found.hits[0].keyword_rank == 1 and found.hits[0].coverage == 1.0
    assert retrieval.search(base, "glaciers", config, files=["a.pdf"]).hits
    assert not retrieval.search(base, "glaciers", config, files=["other.pdf"]).hits

    def no_model(*args, **kwargs):
        raise AssertionError("a chat model was asked with nothing found")

    monkeypatch.setattr(answering, "chat", no_model)
    answer = answering.ask(base, "What is the capital of France?", "llamacpp-any", config, "en")
    assert answer.stream is None and answer.cited == [] and answer.citations() == []
    assert answer.nothing_found("en") == answering.NOTHING_FOUND.en.format(base="papers")
    assert "「papers」" in answer.nothing_found("zh") and "没有找到" in answer.nothing_found("zh")


# ---------------------------------------------------------------- names and users


@pytest.mark.parametrize(
    "name", ["", "   ", "x" * 65, "tab\there", "new\nline", "nul\x00", "bell\x07", "zero\u200bwidth", "\x7f"]
)
def test_a_name_empty_too_long_or_unprintable_is_refused_in_both_languages(name):
    with pytest.raises(KnowledgeError) as refused:
        check_name(name)
    assert "1 to 64" in refused.value.en and "1 到 64" in refused.value.zh and refused.value.exit_code == 2


def test_chinese_and_other_printable_names_are_fine_and_never_share_a_file(config):
    names = ["论文资料", "論文資料", "thesis", "Thesis", "thesis.", "x" * 64, "x" * 63 + "y", "../../etc", "a/b", "C:\\kb", "😀"]
    made = {name: create_base(config, OWNER, name, "m") for name in names}
    paths = {base.store.path for base in made.values()}
    assert len(paths) == len(names), "two names share a file"
    assert all(path.parent == bases.folder(config, OWNER) and path.name.isascii() for path in paths)
    assert sorted(base.name for base in list_bases(config, OWNER)) == sorted(names)
    assert open_base(config, OWNER, "论文资料").store.path == made["论文资料"].store.path
    assert check_name("  论文资料 ") == "论文资料"
    composed, decomposed = "Résumé", unicodedata.normalize("NFD", "Résumé")
    assert create_base(config, OWNER, decomposed, "m").store.path == create_base(config, OWNER, composed, "m").store.path


def test_one_users_bases_are_not_listed_or_opened_for_another(config):
    alice = create_base(config, "user:alice", "secret-notes", "m")
    assert [b.name for b in list_bases(config, "user:alice")] == ["secret-notes"]
    assert list_bases(config, "user:bob") == [] and list_bases(config, OWNER) == []
    for other in ("user:bob", OWNER):
        with pytest.raises(KnowledgeError) as refused:
            open_base(config, other, "secret-notes")
        assert "No knowledge base named 'secret-notes'" in refused.value.en and "Yours: —" in refused.value.en
    bob = create_base(config, "user:bob", "secret-notes", "m")
    assert bob.store.path != alice.store.path and bob.store.path.parent != alice.store.path.parent


def test_kb_user_is_the_owner_without_sign_in_and_the_signed_in_user_with_it(tmp_path):
    open_page = make_config(tmp_path)
    signed = make_config(tmp_path, 'AUTHENTICATION = [["alice", "a-long-password-1"], ["bob", "a-long-password-2"]]\n')
    assert kb_user("browser:" + "0" * 32, open_page) == OWNER and kb_user("session:x", open_page) == OWNER
    assert kb_user("user:alice", signed) == "user:alice" and kb_user("user:bob", signed) == "user:bob"
    assert kb_user("browser:" + "0" * 32, signed) != OWNER  # with sign-in, nobody unsigned reaches the owner's bases


def test_a_user_may_have_so_many_bases_and_one_being_indexed_cannot_be_dropped(config, monkeypatch):
    monkeypatch.setattr(bases, "MAX_BASES", 2)
    one, _ = create_base(config, OWNER, "one", "m"), create_base(config, OWNER, "two", "m")
    with pytest.raises(KnowledgeError, match="2 knowledge bases"):
        create_base(config, OWNER, "three", "m")
    assert create_base(config, OWNER, "one", "m").store.path == one.store.path  # an existing one is opened
    with indexing_lock(one):
        with pytest.raises(KnowledgeError, match="being added"):
            drop_base(one)
        with pytest.raises(KnowledgeError, match="being added"), indexing_lock(one):
            pass
    drop_base(one)
    assert [b.name for b in list_bases(config, OWNER)] == ["two"] and not one.store.path.exists()
    assert not list(bases.folder(config, OWNER).glob(f"{one.store.path.name}*"))


def test_a_chinese_question_to_an_english_only_model_counts_by_its_words_alone(config, monkeypatch):
    def everything_near(model, texts, config=None, cancel=None) -> Embeddings:  # what MiniLM does with any Chinese
        return Embeddings(model, [[1.0, 0.0, 0.0] for _ in texts])

    monkeypatch.setattr(retrieval, "embed", everything_near)
    base = create_base(config, OWNER, "中文", retrieval.BUILTIN_EMBED)
    texts = ["冰川在二十年间退缩了四百米", "催化剂把产率提高到百分之八十三"]
    base.store.put_file(record("zh.md", model=retrieval.BUILTIN_EMBED), chunks_of(texts), [" ".join(terms(t)) for t in texts],
                        np.ones((2, 3)))  # fmt: skip
    unrelated = retrieval.search(base, "法国的首都是哪里？", config)
    assert unrelated.hits and all(h.similarity > 0.5 and not h.relevant for h in unrelated.hits)
    related = retrieval.search(base, "冰川退缩了多少？", config)
    assert related.relevant and related.relevant[0].chunk.text.startswith("冰川")
    english = retrieval.search(base, "What is the capital of France?", config)
    assert all(h.relevant for h in english.hits)  # an English question: nearness counts (and here all are near)


def test_two_paths_that_give_documents_one_name_are_refused_before_anything_is_added(config, tmp_path):
    for parent in ("a", "b"):
        (tmp_path / parent / "notes").mkdir(parents=True)
        (tmp_path / parent / "notes" / "n.md").write_text(f"# {parent}\n\nNotes of {parent}.\n", encoding="utf-8")
    base = create_base(config, OWNER, "twins", "fake-model")
    with pytest.raises(KnowledgeError) as refused:
        add_paths(base, [tmp_path / "a" / "notes", tmp_path / "b" / "notes"], config)
    assert "notes/n.md" in refused.value.en and "notes/n.md" in refused.value.zh
    assert base.store.files() == []
