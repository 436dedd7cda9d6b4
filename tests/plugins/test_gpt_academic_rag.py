"""GPT Academic's own Rag问答, from a full checkout, on LocalScholar: its llama-index store is fed by
LocalScholar's embedding module (the built-in embedding model) and its answers come from the session's
llama-server. It runs in the venv that adds requirements-gpt-academic.txt (llama-index-core 0.10, numpy 1)."""

from __future__ import annotations

import pytest

from tests.support.gpt_academic import NO_CHECKOUT, checkout, run_in_extras_venv
from tests.support.papers import make_papers
from tests.support.plugin_support import LLAMA
from tests.support.servers.provision import cache_root, gpt_academic_python
from tests.support.webapp import write_config

pytestmark = [pytest.mark.servers, pytest.mark.skipif(checkout() is None, reason=NO_CHECKOUT)]


@pytest.fixture(scope="module")
def report(tmp_path_factory, llama_server) -> dict:
    folder = tmp_path_factory.mktemp("rag")
    facts = make_papers(folder / "papers")
    config = write_config(
        folder,
        {
            "GPT_ACADEMIC_FOLDER": str(checkout()),
            "CUSTOM_PLUGINS": {"Rag问答": "crazy_functions.Rag_Interface:Rag问答"},
            "EMBED_MODEL": "builtin-all-minilm-l6-v2",
            "LOCAL_SERVER_URLS": {"llamacpp": f"{llama_server.base_url}/v1"},
            "LLM_MODEL": LLAMA,
            "AVAIL_LLM_MODELS": [LLAMA],
            "LOCAL_MODEL_CACHE": str(cache_root() / "localscholar-cache"),
            "DATA_DIR": str(folder / "data"),
            "DISCOVER_LOCAL_MODELS": False,
        },
    )
    fact = facts["glacier"]
    module = "tests.support.gpt_academic.rag_driver"
    found = run_in_extras_venv(gpt_academic_python(), config, module, str(folder / "papers"), fact.question)
    return {**found, "fact": fact, "data": folder / "data"}


def test_a_folder_outside_the_users_own_is_refused(report):
    assert "不允许访问该路径" in report["outside"]["chat"][-1][1]


def test_each_uploaded_paper_is_added_to_its_store(report):
    added = [answer for _, answer in report["add"]["chat"] if "文件已成功添加到知识库" in answer]
    assert len(added) == 4, report["add"]["chat"]


def test_the_passage_that_answers_is_found_by_localscholars_embeddings_and_the_model_answers(report):
    assert report["dimension"] == 384  # the built-in embedding model's vectors, not OpenAI's
    assert report["fact"].phrase in report["found"][0]["text"]
    assert report["found"][0]["source"].endswith("glaciers.pdf")
    question, answer = report["ask"]["chat"][-1]
    assert question == report["fact"].question and answer.strip() and "Traceback" not in answer


def test_its_store_is_kept_in_the_users_own_folder(report):
    stores = list(report["data"].glob("users/*/logs/experimental_rag/*.json"))
    assert stores and all("users" in str(path) for path in stores)
