"""Embeddings from real servers: llama-server started with --embeddings, Ollama's /api/embed, a llama-server that
does not embed. LocalScholar's vectors must be the server's own (cosine >= 0.999), in the texts' order."""

from __future__ import annotations

import math

import httpx
import pytest

from request_llms.embeddings import embed
from request_llms.errors import WrongKindOfModel
from tests.support.helpers import make_config
from tests.support.servers.running import GEMMA_ALIAS, OLLAMA_MODEL, RunningServer, free_port

pytestmark = pytest.mark.servers

TEXTS = [
    "Transformers replace recurrence with attention.",
    "本文提出一种新的检索增强方法。",
    "The results hold on three benchmarks.",
]


def cosine(a: list[float], b: list[float]) -> float:
    dot = sum(x * y for x, y in zip(a, b, strict=True))
    return dot / (math.sqrt(sum(x * x for x in a)) * math.sqrt(sum(y * y for y in b)))


def llama_config(tmp_path, server: RunningServer):
    return make_config(tmp_path, f'LOCAL_SERVER_URLS = {{"llamacpp": "{server.base_url}/v1"}}\n')


def test_llama_server_vectors_are_the_servers_own_in_order_across_batches(embedding_llama, tmp_path):
    texts = [f"{TEXTS[i % 3]} ({i})" for i in range(40)]  # two batches of what is sent at once
    got = embed(f"llamacpp-{GEMMA_ALIAS}", texts, config=llama_config(tmp_path, embedding_llama))
    direct = httpx.post(
        f"{embedding_llama.base_url}/v1/embeddings", json={"model": GEMMA_ALIAS, "input": texts}, timeout=60
    ).json()["data"]
    own = [item["embedding"] for item in sorted(direct, key=lambda item: item["index"])]
    assert len(got.vectors) == 40 and got.dimension == len(own[0]) == 640
    assert min(cosine(a, b) for a, b in zip(got.vectors, own, strict=True)) >= 0.999
    assert got.notices == [] and got.prompt_tokens and got.servers == [f"{embedding_llama.base_url}/v1"]


def test_a_pool_with_a_server_gone_embeds_on_the_other(embedding_llama, tmp_path):
    gone = f"http://127.0.0.1:{free_port()}/v1"
    urls = [gone, f"{embedding_llama.base_url}/v1"]
    config = make_config(tmp_path, f'LOCAL_SERVER_URLS = {{"llamacpp": {urls!r}}}\n')
    got = embed(f"llamacpp-{GEMMA_ALIAS}", TEXTS * 4, config=config)
    assert len(got.vectors) == 12 and got.servers == [urls[1]]


def test_a_text_too_long_for_the_server_is_cut_with_a_notice_not_refused(embedding_llama, tmp_path):
    long = "x " * 3000  # 3,002 tokens to llama-server, which embeds at most its 512-token batch
    got = embed(f"llamacpp-{GEMMA_ALIAS}", ["short text", long], config=llama_config(tmp_path, embedding_llama))
    assert len(got.vectors) == 2 and all(len(vector) == 640 for vector in got.vectors)
    assert got.notices and all("Text 2" in notice.en and "第 2 段" in notice.zh for notice in got.notices)


def test_a_llama_server_started_without_embeddings_says_how_to_start_it(llama_server, tmp_path):
    config = make_config(tmp_path, f'LOCAL_SERVER_URLS = {{"llamacpp": "{llama_server.base_url}/v1"}}\n')
    with pytest.raises(WrongKindOfModel) as caught:
        embed(f"llamacpp-{GEMMA_ALIAS}", ["hello"], config=config)
    assert "--embeddings --pooling mean" in caught.value.en and "--embeddings --pooling mean" in caught.value.zh
    assert caught.value.status == 501 and not caught.value.retryable


def test_ollama_vectors_are_its_own(ollama_server, tmp_path):
    """Each text alone, on both sides: Ollama runs the test model with four slots, and texts that share its batch come
    out different from run to run (the README says to give an embedding server one slot)."""
    config = make_config(tmp_path, f'OLLAMA_API_BASE = "{ollama_server.base_url}"\n')
    for text in TEXTS:
        got = embed(f"ollama-{OLLAMA_MODEL}", [text], config=config)
        direct = httpx.post(
            f"{ollama_server.base_url}/api/embed",
            json={"model": OLLAMA_MODEL, "input": [text], "truncate": False, "options": {"num_ctx": 4096}},
            timeout=120,
        ).json()["embeddings"][0]
        assert got.dimension == len(direct) == 640
        assert cosine(got.vectors[0], direct) >= 0.999, text
