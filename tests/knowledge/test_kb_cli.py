"""`python -m request_llms kb ...` as a user runs it: add, list, search and ask with --json (the keys scripts read),
remove and drop, a bad name or a missing path in one line with exit 2, a cited answer from the real llama-server chat
model (its contract, not its quality: the test model is tiny), a question the papers do not answer left unanswered
without asking any model, and the listing in Chinese."""

from __future__ import annotations

import json

import pytest

from knowledge.answering import NOTHING_FOUND
from tests.support.helpers import cli, cli_env
from tests.support.papers import make_corpus
from tests.support.plugin_support import LLAMA
from tests.support.servers.provision import cache_root
from tests.support.servers.running import free_port

pytestmark = pytest.mark.servers  # the embedding model's worker, and llama-server for the answers

MODEL_CACHE = cache_root() / "localscholar-cache"
BUILTIN = "builtin-all-minilm-l6-v2"
DOCUMENTS = [
    "papers/catalysis.pdf",
    "papers/coral.pdf",
    "papers/glaciers.pdf",
    "papers/report.docx",
    "papers/sleep.pdf",
    "thesis.zip/main.tex",
]
FILE_KEYS = {"file", "state", "chunks", "added", "model", "bytes", "reason"}


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    return tmp_path_factory.mktemp("kb-cli")


@pytest.fixture(scope="module")
def env(folder, llama_server):
    return cli_env(
        folder,
        DATA_DIR=str(folder / "data"),
        LOCAL_MODEL_CACHE=str(MODEL_CACHE),
        LOCAL_SERVER_URLS=json.dumps({"llamacpp": f"{llama_server.base_url}/v1"}),
        LANGUAGE="en",
    )


@pytest.fixture(scope="module")
def corpus(folder, env):
    corpus = make_corpus(folder / "documents")
    added = cli(env, "kb", "add", "papers", *map(str, corpus.paths), timeout=300)
    assert added.returncode == 0, added.stderr
    assert added.stdout.startswith("6 added, 0 changed, 0 unchanged, 0 failed; "), added.stdout
    return corpus


def run_json(env, *args: str) -> dict:
    done = cli(env, *args, timeout=300)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def assert_one_clear_line(done, *words: str) -> None:
    assert done.returncode == 2, (done.returncode, done.stderr)
    assert "Traceback" not in done.stderr and len(done.stderr.strip().splitlines()) == 1, done.stderr
    assert done.stdout == ""
    for word in words:
        assert word in done.stderr


def test_list_shows_the_base_and_its_files(env, corpus):
    listed = cli(env, "kb", "list")
    assert listed.returncode == 0 and listed.stdout.startswith("papers  6 files, ") and f"[{BUILTIN}]" in listed.stdout
    bases = run_json(env, "kb", "list", "--json")
    assert list(bases) == ["bases"] and len(bases["bases"]) == 1
    row = bases["bases"][0]
    assert set(row) == {"base", "files", "failed", "chunks", "model"}
    assert (row["base"], row["files"], row["failed"], row["model"]) == ("papers", 6, 0, BUILTIN) and row["chunks"] >= 6
    files = run_json(env, "kb", "list", "papers", "--json")
    assert set(files) == {"base", "model", "files"} and files["model"] == BUILTIN
    assert [f["file"] for f in files["files"]] == DOCUMENTS and {fact.file for fact in corpus.facts.values()} <= set(DOCUMENTS)
    assert all(set(f) == FILE_KEYS and f["state"] == "indexed" and f["reason"] is None for f in files["files"])
    assert sum(f["chunks"] for f in files["files"]) == row["chunks"]
    shown = cli(env, "kb", "list", "papers").stdout
    assert shown.startswith(f"papers  [{BUILTIN}]\n") and "  papers/report.docx  " in shown and " chunks  " in shown


def test_search_json_gives_the_passages_with_file_page_and_section(env, corpus):
    """Word and LaTeX have no pages (null); a PDF's page is checked with the answer's citations below."""
    report, latex = corpus.facts["report"], corpus.facts["latex-method"]
    for fact, only in ((report, []), (latex, ["--file", latex.file])):
        found = run_json(env, "kb", "search", "papers", fact.question, "-k", "3", *only, "--json")
        assert list(found) == ["results"] and 1 <= len(found["results"]) <= 3
        assert all(list(r) == ["file", "page", "section", "text", "score"] for r in found["results"])
        assert [r["score"] for r in found["results"]] == sorted((r["score"] for r in found["results"]), reverse=True)
        match = [r for r in found["results"] if r["file"] == fact.file and fact.phrase in r["text"]]
        assert match, (fact, found)
        assert (match[0]["page"], match[0]["section"]) == (None, fact.section)
    assert {r["file"] for r in found["results"]} == {latex.file}, "--file searched other files"


def test_ask_json_cites_the_passages_search_finds(env, corpus):
    fact = corpus.facts["catalysis"]
    model = f"{LLAMA}(max_token=512, temperature=0)"  # a 512-token window: one passage or two, a short answer
    asked = run_json(env, "kb", "ask", "papers", fact.question, "--model", model, "--json")
    assert set(asked) == {"answer", "citations"}
    assert isinstance(asked["answer"], str) and asked["answer"].strip()
    citations = asked["citations"]
    assert citations and [c["n"] for c in citations] == list(range(1, len(citations) + 1))
    assert all(list(c) == ["n", "file", "page", "section", "text"] for c in citations)
    found = run_json(env, "kb", "search", "papers", fact.question, "-k", "8", "--json")["results"]
    places = [(r["file"], r["page"], r["section"], r["text"]) for r in found]
    cited = [(c["file"], c["page"], c["section"], c["text"]) for c in citations]
    assert all(place in places for place in cited), "a citation is not a passage search finds"
    assert [places.index(place) for place in cited] == sorted(places.index(place) for place in cited), "not best first"
    assert any(
        (c["file"], c["page"], c["section"]) == (fact.file, 3, "4 Results") and fact.phrase in c["text"] for c in citations
    )


def test_ask_with_no_answer_in_the_papers_asks_no_model(env, corpus):
    nobody = {**env, "LOCAL_SERVER_URLS": json.dumps({"llamacpp": f"http://127.0.0.1:{free_port()}/v1"})}
    asked = cli(nobody, "kb", "ask", "papers", "What is the capital of France?", "--model", LLAMA, "--json", timeout=300)
    assert asked.returncode == 0, asked.stderr  # a model asked would be exit 3: nothing listens there
    assert json.loads(asked.stdout) == {"answer": NOTHING_FOUND.en.format(base="papers"), "citations": []}


def test_the_listing_speaks_chinese(env, corpus):
    zh = {**env, "LANGUAGE": "zh"}
    listed = cli(zh, "kb", "list")
    assert listed.returncode == 0 and listed.stdout.startswith("papers  6 个文件，") and "个片段" in listed.stdout
    assert "files" not in listed.stdout and "chunks" not in listed.stdout
    shown = cli(zh, "kb", "list", "papers").stdout
    assert "个片段" in shown and " chunks" not in shown
    missing = cli(zh, "kb", "list", "nothing-here")
    assert missing.returncode == 2 and "没有名为「nothing-here」的知识库" in missing.stderr and "papers" in missing.stderr


def test_a_file_without_text_is_listed_as_failed_then_removed_and_the_base_dropped(env, folder):
    """A file with no text is kept as failed (no model is started for it); then it is removed and its base dropped."""
    (folder / "blank.md").write_text("\n\n   \n", encoding="utf-8")
    added = cli(env, "kb", "add", "scratch", str(folder / "blank.md"))
    assert added.returncode == 0 and added.stdout.startswith("0 added, 0 changed, 0 unchanged, 1 failed; ")
    assert "✗ blank.md: no text was found in it" in added.stderr
    listed = run_json(env, "kb", "list", "scratch", "--json")["files"]
    assert [(f["file"], f["state"], f["chunks"], f["reason"]) for f in listed] == [
        ("blank.md", "failed", 0, "no text was found in it")
    ]
    assert "失败 1" in cli({**env, "LANGUAGE": "zh"}, "kb", "add", "scratch", str(folder / "blank.md")).stdout
    removed = cli(env, "kb", "remove", "scratch", "blank.md")
    assert removed.returncode == 0 and removed.stdout.strip() == "Removed blank.md"
    assert run_json(env, "kb", "list", "scratch", "--json")["files"] == []
    assert_one_clear_line(cli(env, "kb", "remove", "scratch", "blank.md"), "no file named 'blank.md'")
    stored = folder / "data" / "users"
    before = len(list(stored.rglob("*.sqlite3")))
    dropped = cli(env, "kb", "drop", "scratch")
    assert dropped.returncode == 0 and dropped.stdout.strip() == "Deleted the knowledge base 'scratch'"
    assert [b["base"] for b in run_json(env, "kb", "list", "--json")["bases"]] == ["papers"]
    assert len(list(stored.rglob("*.sqlite3"))) == before - 1
    assert_one_clear_line(cli(env, "kb", "drop", "scratch"), "No knowledge base named 'scratch'")


@pytest.mark.parametrize("name", ["x" * 65, "bell\x07", "  "])
def test_a_bad_base_name_is_one_line_and_exit_2(env, folder, name):
    for args in (("list", name), ("add", name, str(folder)), ("search", name, "q"), ("drop", name)):
        assert_one_clear_line(cli(env, "kb", *args), "1 to 64 printable characters")


def test_a_missing_path_is_one_line_and_exit_2_and_makes_no_base(env, folder):
    assert_one_clear_line(cli(env, "kb", "add", "fresh", str(folder / "no-such.pdf")), "no-such.pdf does not exist")
    assert "fresh" not in [b["base"] for b in run_json(env, "kb", "list", "--json")["bases"]]


def test_a_file_of_a_kind_not_indexed_is_one_line_and_exit_2_and_makes_no_base(env, folder):
    (folder / "table.xlsx").write_bytes(b"PK\x03\x04 not really")
    assert_one_clear_line(cli(env, "kb", "add", "sheets", str(folder / "table.xlsx")), "table.xlsx", "not indexed")
    assert "sheets" not in [b["base"] for b in run_json(env, "kb", "list", "--json")["bases"]]


def test_a_damaged_zip_is_one_line_and_exit_2(env, folder):
    (folder / "broken.zip").write_bytes(b"PK\x03\x04 this is no zip")
    assert_one_clear_line(cli(env, "kb", "add", "zips", str(folder / "broken.zip")), "broken.zip is not a readable zip file")
