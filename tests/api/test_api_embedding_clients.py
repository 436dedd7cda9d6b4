"""Real clients of `POST /v1/embeddings` with llama-server --embeddings behind the API: the openai package (float,
base64, one text and a list), LangChain's OpenAIEmbeddings, GPT Academic's OpenAiEmbeddingModel. The vectors
must be the server's own (cosine >= 0.999), in order, not only of the right shape."""

from __future__ import annotations

import base64
import json
import math
import struct

import httpx
import openai
import pytest
from langchain_openai import OpenAIEmbeddings

from request_llms.api.usage import usage_book
from request_llms.config_loader import get_config
from request_llms.embed_models import OpenAiEmbeddingModel, mean_agg
from tests.support.api_server import serving_api
from tests.support.helpers import make_config
from tests.support.servers.running import GEMMA_ALIAS, RunningServer

pytestmark = pytest.mark.servers

LLAMA = "llamacpp-gemma-270m"
TEXTS = [
    "Transformers replace recurrence with attention.",
    "本文提出一种新的检索增强方法。",
    "The results hold on three benchmarks.",
]


def settings(server: RunningServer, **more: str) -> dict[str, str]:
    return {
        "LOCAL_SERVER_URLS": json.dumps({"llamacpp": f"{server.base_url}/v1"}),
        "AVAIL_LLM_MODELS": json.dumps(["builtin-gemma3-270m"]),
        "EMBED_MODEL": LLAMA,
        **more,
    }


@pytest.fixture(scope="module")
def api(embedding_llama, tmp_path_factory):
    folder = tmp_path_factory.mktemp("api-embeddings")
    config = make_config(folder, DATA_DIR=str(folder / "data"), **settings(embedding_llama))
    with serving_api(config) as url:
        yield url, config


def own(server: RunningServer, texts: list[str]) -> dict:
    """The server's own /v1/embeddings answer."""
    return httpx.post(f"{server.base_url}/v1/embeddings", json={"model": GEMMA_ALIAS, "input": texts}, timeout=60).json()


def vectors(answer: dict) -> list[list[float]]:
    return [item["embedding"] for item in sorted(answer["data"], key=lambda item: item["index"])]


def cosine(a: list[float], b: list[float]) -> float:
    dot = sum(x * y for x, y in zip(a, b, strict=True))
    return dot / (math.sqrt(sum(x * x for x in a)) * math.sqrt(sum(y * y for y in b)))


def same(got: list[list[float]], expected: list[list[float]]) -> bool:
    return len(got) == len(expected) and min(cosine(a, b) for a, b in zip(got, expected, strict=True)) >= 0.999


def test_the_openai_package_gets_the_servers_own_vectors_as_floats_and_as_base64(api, embedding_llama):
    url, config = api
    client = openai.OpenAI(base_url=url, api_key="none", max_retries=0)
    counted = used(config)
    direct, alone = own(embedding_llama, TEXTS), own(embedding_llama, TEXTS[1:2])  # a text alone differs a little
    floats = client.embeddings.create(model=LLAMA, input=TEXTS, encoding_format="float")
    assert same([item.embedding for item in floats.data], vectors(direct)) and len(floats.data[0].embedding) == 640
    assert [item.index for item in floats.data] == [0, 1, 2] and floats.model == LLAMA
    assert floats.usage.prompt_tokens == floats.usage.total_tokens == direct["usage"]["prompt_tokens"]
    decoded = client.embeddings.create(model=LLAMA, input=TEXTS)  # the package asks for base64 and decodes it
    assert same([item.embedding for item in decoded.data], vectors(direct))
    raw = client.embeddings.create(model=LLAMA, input=TEXTS[1], encoding_format="base64").data[0].embedding
    assert isinstance(raw, str) and same([list(struct.unpack("<640f", base64.b64decode(raw)))], vectors(alone))
    assert used(config) - counted == 2 * direct["usage"]["prompt_tokens"] + alone["usage"]["prompt_tokens"]


def used(config) -> int:
    """The prompt tokens the usage book counted for calls without a key."""
    return sum(row.prompt_tokens for row in usage_book(config).all() if row.key == "")


def test_the_model_list_says_the_embedding_model_embeds(api):
    url, _ = api
    cards = {card.id: card for card in openai.OpenAI(base_url=url, api_key="none").models.list().data}
    assert "embeddings" in cards[LLAMA].model_extra["capabilities"]  # found on the server too: it chats as well
    assert cards["builtin-gemma3-270m"].model_extra["capabilities"] == ["chat"]


def test_langchain_embeds_documents_and_a_query_offline(api, embedding_llama):
    url, _ = api
    model = OpenAIEmbeddings(model=LLAMA, base_url=url, api_key="none", check_embedding_ctx_length=False, max_retries=0)
    assert same(model.embed_documents(TEXTS), vectors(own(embedding_llama, TEXTS)))
    assert same([model.embed_query(TEXTS[0])], vectors(own(embedding_llama, TEXTS[:1])))


def test_a_text_too_long_is_cut_with_a_notice_in_the_answer(api):
    url, _ = api
    answer = httpx.post(f"{url}/embeddings", json={"model": LLAMA, "input": ["short", "x " * 3000]}, timeout=120).json()
    assert [len(vector) for vector in vectors(answer)] == [640, 640]
    assert answer["notices"] and all("Text 2" in notice for notice in answer["notices"])


def test_a_llama_server_that_does_not_embed_is_a_bad_request_with_the_fix(llama_server, tmp_path):
    config = make_config(tmp_path, DATA_DIR=str(tmp_path / "data"), **settings(llama_server))
    with serving_api(config) as url:
        with pytest.raises(openai.BadRequestError) as caught:
            openai.OpenAI(base_url=url, api_key="none", max_retries=0).embeddings.create(model=LLAMA, input=TEXTS)
    assert caught.value.code == "model_not_embedding" and caught.value.param == "model"
    assert "--embeddings --pooling mean" in caught.value.message


def test_gpt_academics_embedding_model_gives_embed_models_vectors(embedding_llama, tmp_path, monkeypatch):
    private = tmp_path / "config_private.py"
    private.write_text(f'DATA_DIR = "{tmp_path}/data"\n', encoding="utf-8")
    monkeypatch.setenv("LOCALSCHOLAR_CONFIG", str(private))
    for key, value in settings(embedding_llama).items():
        monkeypatch.setenv(key, value)
    get_config.cache_clear()
    try:
        model = OpenAiEmbeddingModel({"embed_model": "text-embedding-3-small", "api_key": "sk-ignored"})
        assert same(model.get_text_embedding_batch(TEXTS), vectors(own(embedding_llama, TEXTS)))
        alone = [vectors(own(embedding_llama, [text]))[0] for text in TEXTS]  # a text alone differs a little
        assert same([model.get_query_embedding(TEXTS[0])], alone[:1])
        assert same([model.compute_embedding(TEXTS[1])], alone[1:2])
        assert same([model.get_agg_embedding_from_queries(TEXTS)], [mean_agg(alone)])
        assert model.embedding_dimension() == 640
    finally:
        get_config.cache_clear()
