"""vLLM's pooling runner serving all-MiniLM-L6-v2 (unpacked from the built-in model's package): LocalScholar's
vectors are vLLM's own, a text over its 256 tokens is cut with a notice, and each kind of model asked for the other
kind of work says so."""

from __future__ import annotations

import math
from collections.abc import Iterator

import httpx
import pytest

from request_llms.chat import chat
from request_llms.embeddings import embed
from request_llms.errors import WrongKindOfModel
from request_llms.native.worker.encoder import unpack_builtin
from tests.support.helpers import make_config
from tests.support.servers.running import GEMMA_ALIAS, RunningServer, start_vllm

pytestmark = pytest.mark.servers

TEXTS = ["Transformers replace recurrence with attention.", "本文提出一种新的检索增强方法。", "word " * 400]


@pytest.fixture(scope="module")
def pooling_vllm(tmp_path_factory) -> Iterator[RunningServer]:
    folder = unpack_builtin(tmp_path_factory.mktemp("minilm"), lambda stage, percent: None)
    server = start_vllm(max_model_len=256, extra_args=["--runner", "pooling"], model_dir=folder, alias="minilm")
    yield server
    server.stop()


def cosine(a, b) -> float:
    dot = sum(x * y for x, y in zip(a, b, strict=True))
    return dot / (math.sqrt(sum(x * x for x in a)) * math.sqrt(sum(y * y for y in b)))


def test_vllm_pooling_vectors_are_its_own_and_a_long_text_is_cut(pooling_vllm, tmp_path):
    config = make_config(tmp_path, f'VLLM_API_BASE = "{pooling_vllm.base_url}/v1"\n')
    got = embed("vllm-minilm", TEXTS, config=config)
    short = httpx.post(f"{pooling_vllm.base_url}/v1/embeddings", json={"model": "minilm", "input": TEXTS[:2]}, timeout=60)
    own = [item["embedding"] for item in sorted(short.json()["data"], key=lambda item: item["index"])]
    assert got.dimension == 384 and min(cosine(a, b) for a, b in zip(got.vectors[:2], own, strict=True)) >= 0.999
    assert len(got.notices) == 1 and "Text 3" in got.notices[0].en and "256" in got.notices[0].en
    with pytest.raises(WrongKindOfModel) as caught:
        list(chat("vllm-minilm", "hello", config=config))
    assert "makes embeddings" in caught.value.en and "向量" in caught.value.zh


def test_a_vllm_chat_model_asked_for_vectors_says_how_to_serve_an_embedding_model(vllm_server, tmp_path):
    config = make_config(tmp_path, f'VLLM_API_BASE = "{vllm_server.base_url}/v1"\n')
    with pytest.raises(WrongKindOfModel) as caught:
        embed(f"vllm-{GEMMA_ALIAS}", ["hello"], config=config)
    assert "--runner pooling" in caught.value.en and "--runner pooling" in caught.value.zh
