"""Re-ranking by a chat model (KB_RERANK_MODEL): how its answer is read, and a search re-ranked by a real
llama-server, whose order is the model's and whose failures keep the search's own order."""

from __future__ import annotations

import pytest

from knowledge.bases import OWNER, create_base
from knowledge.indexing import add_paths
from knowledge.reranking import RERANK_CANDIDATES, order_from, rerank
from knowledge.retrieval import search
from request_llms.runtime import runtime_of
from tests.support.documents import make_docx, make_paper
from tests.support.helpers import make_config
from tests.support.plugin_support import LLAMA


@pytest.mark.parametrize(
    ("answer", "order"),
    [
        ("3, 1, 7", [2, 0, 6]),
        ("Passages [2] and [2] answer it, then 5.", [1, 4]),
        ("0", []),
        ("None of them. 0.", None),  # words and a 0: not a clear "none"
        ("99, 12, 8", [7]),  # only passages there are
        ("I cannot tell.", None),
    ],
)
def test_the_order_is_read_from_the_numbers_the_model_gives(answer, order):
    assert order_from(answer, 8) == order


@pytest.fixture(scope="module")
def reranked_base(tmp_path_factory, llama_server):
    folder = tmp_path_factory.mktemp("rerank")
    common = f'DATA_DIR = "{folder / "data"}"\nLOCAL_SERVER_URLS = {{"llamacpp": "{llama_server.base_url}/v1"}}\n'
    (folder / "plain").mkdir()
    config = make_config(folder, common + f'KB_RERANK_MODEL = "{LLAMA}"\n')
    plain = make_config(folder / "plain", common)
    base = create_base(config, OWNER, "reranked", config["EMBED_MODEL"])
    add_paths(base, [make_paper(folder / "paper.pdf"), make_docx(folder / "report.docx")], config)
    yield config, plain, base
    runtime_of(config).shutdown()
    runtime_of(plain).shutdown()


def test_a_search_takes_the_order_the_model_gives(reranked_base):
    config, plain_config, base = reranked_base
    question = "How many slots did the server have?"
    plain = search(base, question, plain_config, k=RERANK_CANDIDATES)
    texts = [hit.chunk.text for hit in plain.hits]
    expected = rerank(config["KB_RERANK_MODEL"], question, texts, config)  # temperature 0: the same answer again
    found = search(base, question, config, k=3)
    assert [hit.chunk.id for hit in found.hits] == [plain.hits[i].chunk.id for i in expected.order[:3]]
    assert found.notices == ([expected.notice] if expected.notice else [])


def test_a_reranker_that_fails_keeps_the_search_order_with_one_line(reranked_base, tmp_path):
    config, plain_config, base = reranked_base
    broken = make_config(
        tmp_path,
        f'DATA_DIR = "{config["DATA_DIR"]}"\nLOCAL_SERVER_URLS = {{"llamacpp": "http://127.0.0.1:9/v1"}}\n'
        f'KB_RERANK_MODEL = "{LLAMA}"\nMAX_RETRY = 0\n',
    )
    question = "How many slots did the server have?"
    found = search(base, question, broken, k=3)
    plain = search(base, question, plain_config, k=3)
    assert [h.chunk.id for h in found.hits] == [h.chunk.id for h in plain.hits]
    assert len(found.notices) == 1 and "Not re-ranked" in found.notices[0].en and "重排序未完成" in found.notices[0].zh
    runtime_of(broken).shutdown()
