"""Knowledge bases whose vectors live in Milvus (KB_STORE_URI), against the real engine: Milvus Lite, the same
pymilvus client a Milvus cluster is reached with. The built-in embedding model makes the vectors."""

from __future__ import annotations

import numpy as np
import pytest

from knowledge.bases import OWNER, create_base, drop_base, open_base
from knowledge.indexing import add_paths
from knowledge.retrieval import search
from request_llms.embeddings import embed
from request_llms.runtime import runtime_of
from tests.support.documents import make_docx, make_paper
from tests.support.helpers import cli, cli_env, make_config

pytestmark = pytest.mark.servers  # Milvus Lite runs as a process of its own; the embedding model in a worker


@pytest.fixture(scope="module")
def milvus(tmp_path_factory):
    folder = tmp_path_factory.mktemp("milvus")
    uri = str(folder / "kb.db")
    config = make_config(folder, f'DATA_DIR = "{folder / "data"}"\nKB_STORE_URI = "{uri}"\n')
    yield config, folder, uri
    runtime_of(config).shutdown()


def _rows(uri: str) -> dict[str, int]:
    from pymilvus import MilvusClient  # here, not at the top: the tier without servers collects this file without it

    client = MilvusClient(uri)
    return {name: client.get_collection_stats(name)["row_count"] for name in client.list_collections()}


def test_vectors_go_to_milvus_and_searches_come_back_from_it(milvus):
    config, folder, uri = milvus
    base = create_base(config, OWNER, "lab", config["EMBED_MODEL"])
    paper, report = make_paper(folder / "paper.pdf"), make_docx(folder / "report.docx")
    done = add_paths(base, [paper, report], config)
    assert (len(done.added), done.failed) == (2, [])
    chunks = base.store.count_chunks()
    assert sum(_rows(uri).values()) == chunks  # every chunk's vector is in the collection

    hit = search(base, "How many slots did the server have?", config, k=1).hits[0]
    assert (hit.chunk.file, hit.chunk.page, hit.chunk.section) == ("paper.pdf", 1, "2.1 Setup")
    assert hit.similarity is not None and hit.similarity > 0.5

    base.store.remove_file("report.docx")
    assert sum(_rows(uri).values()) == base.store.count_chunks() < chunks  # its vectors left Milvus too
    assert all(h.chunk.file == "paper.pdf" for h in search(base, "quantisation to four bits", config, k=5).hits)


def test_a_vector_milvus_has_but_the_base_never_committed_is_never_found(milvus):
    config, folder, _ = milvus
    base = create_base(config, OWNER, "crash", config["EMBED_MODEL"])
    add_paths(base, [make_paper(folder / "crash.pdf")], config)
    question = "a question about penguins in Antarctica"
    vector = np.asarray(embed(None, [question], config).vectors[0], dtype=np.float32)
    store = base.store
    # what a process killed between Milvus's upsert and SQLite's commit leaves behind
    store.remote.upsert(store._collection(base.model), [10**9], 1, (vector / np.linalg.norm(vector))[None, :])
    assert all(chunk_id != 10**9 for chunk_id, _ in store.nearest(vector, 10))
    assert 10**9 not in {h.chunk.id for h in search(base, question, config, k=10).hits}


def test_dropping_a_base_drops_its_collections(milvus):
    config, folder, uri = milvus
    base = create_base(config, OWNER, "gone", config["EMBED_MODEL"])
    add_paths(base, [make_paper(folder / "gone.pdf")], config)
    before = set(_rows(uri))
    drop_base(open_base(config, OWNER, "gone"))
    after = set(_rows(uri))
    assert len(before - after) == 1 and after  # its one collection went; the other bases' stay


def test_a_milvus_that_does_not_answer_is_one_line_without_its_token(tmp_path):
    paper = make_paper(tmp_path / "paper.pdf")
    env = cli_env(tmp_path)
    private = tmp_path / "config_private.py"
    private.write_text(
        f'DATA_DIR = "{tmp_path / "data"}"\nKB_STORE_URI = "http://127.0.0.1:9"\nKB_STORE_TOKEN = "root:sekrit-milvus"\n',
        encoding="utf-8",
    )
    done = cli(env, "kb", "add", "down", str(paper), timeout=180)
    assert done.returncode == 3, done.stderr
    lines = [line for line in done.stderr.splitlines() if "KB_STORE_URI" in line]
    assert len(lines) == 1 and "http://127.0.0.1:9" in lines[0]
    assert "Traceback" not in done.stderr and "sekrit" not in done.stderr + done.stdout
    listing = cli(env, "kb", "list", "down", "--json")
    assert '"files": []' in listing.stdout  # nothing half-written: the file's transaction rolled back
