"""`POST /v1/embeddings` without a model to answer: what a request may ask for, how much, which models, the
model list's capabilities, and GPT Academic's embedding model with no EMBED_MODEL set."""

from __future__ import annotations

import base64
import json
import struct

import httpx
import openai
import pytest

from request_llms.api.embedding import MAX_CHARACTERS, MAX_INPUTS, _base64
from request_llms.config_loader import get_config
from request_llms.embed_models import OpenAiEmbeddingModel, mean_agg
from request_llms.errors import ConfigError
from tests.support.api_server import serving_api
from tests.support.helpers import make_config
from tests.support.servers.running import free_port

KEY = "test-key-0123456789"
EMBED = "llamacpp-gemma-270m"


@pytest.fixture(scope="module")
def api(tmp_path_factory):
    folder = tmp_path_factory.mktemp("embeddings")
    config = make_config(
        folder,
        DATA_DIR=str(folder / "data"),
        API_SERVE_KEYS=json.dumps([KEY]),
        DISCOVER_LOCAL_MODELS="false",
        LOCAL_SERVER_URLS=json.dumps({"llamacpp": f"http://127.0.0.1:{free_port()}/v1"}),  # nothing listens
        EMBED_MODEL=EMBED,
        MAX_RETRY="0",
    )
    with serving_api(config) as url:
        yield url


def client(url: str) -> openai.OpenAI:
    return openai.OpenAI(base_url=url, api_key=KEY, max_retries=0)


def post(url: str, body: dict, lang: str = "en") -> httpx.Response:
    headers = {"Authorization": f"Bearer {KEY}", "Accept-Language": lang}
    return httpx.post(f"{url}/embeddings", json={"model": EMBED, **body}, headers=headers, timeout=30)


@pytest.mark.parametrize(
    ("body", "param", "words"),
    [
        ({"input": "hi", "dimensions": 256}, "dimensions", "cannot shorten"),
        ({"input": [15339, 1917]}, "input", "Token arrays"),
        ({"input": [[15339], [1917, 0]]}, "input", "check_embedding_ctx_length=False"),
        ({"input": []}, "input", "non-empty list"),
        ({"input": ["one", ""]}, "input", "input[1] is empty"),
        ({"input": [{"text": "hi"}]}, "input", "list of texts"),
        ({"input": "hi", "encoding_format": "int8"}, "encoding_format", "base64"),
        ({}, "input", "required"),
    ],
)
def test_what_cannot_be_honoured_is_a_bad_request_naming_the_field(api, body, param, words):
    answer = post(api, body)
    error = answer.json()["error"]
    assert answer.status_code == 400 and error["type"] == "invalid_request_error" and error["param"] == param, error
    assert words in error["message"]


def test_the_openai_package_gets_the_refusal_of_dimensions_as_bad_request(api):
    with pytest.raises(openai.BadRequestError) as caught:
        client(api).embeddings.create(model=EMBED, input="hi", dimensions=64)
    assert caught.value.param == "dimensions" and "dimensions" in caught.value.message


@pytest.mark.parametrize("body", [{"input": ["x"] * (MAX_INPUTS + 1)}, {"input": "x" * (MAX_CHARACTERS + 1)}])
def test_too_much_at_once_is_refused_with_the_limits_in_both_languages(api, body):
    english, chinese = post(api, body), post(api, body, "zh-CN,zh;q=0.9")
    assert english.status_code == chinese.status_code == 400
    said, said_zh = english.json()["error"]["message"], chinese.json()["error"]["message"]
    assert f"{MAX_INPUTS} texts" in said and "1,000,000 characters" in said
    assert f"{MAX_INPUTS} 段文本" in said_zh and "1,000,000 个字符" in said_zh


def test_a_body_beyond_the_bound_is_refused_before_it_is_read_whole(api):
    answer = httpx.post(
        f"{api}/embeddings",
        content=b" " * (16 * MAX_CHARACTERS + 1),
        headers={"Authorization": f"Bearer {KEY}", "Content-Type": "application/json"},
        timeout=60,
    )
    assert answer.status_code == 400 and answer.json()["error"]["param"] == "input"


def test_a_chat_model_is_model_not_embedding_and_a_model_not_offered_is_not_found(api):
    with pytest.raises(openai.BadRequestError) as caught:
        client(api).embeddings.create(model="builtin-gemma3-270m", input="hi")
    assert caught.value.code == "model_not_embedding" and "does not make embeddings" in caught.value.message
    zh = post(api, {"model": "builtin-gemma3-270m", "input": "hi"}, "zh")
    assert "不能生成向量" in zh.json()["error"]["message"]
    for model in ("text-embedding-3-small", f"{EMBED}(base_url=http://127.0.0.1:9/v1)"):
        with pytest.raises(openai.NotFoundError) as refused:
            client(api).embeddings.create(model=model, input="hi")
        assert refused.value.code == "model_not_found", model
    assert "config_private.py" in refused.value.message


def test_a_key_is_needed_and_a_server_that_is_down_is_503(api):
    assert httpx.post(f"{api}/embeddings", json={"model": EMBED, "input": "hi"}).status_code == 401
    with pytest.raises(openai.InternalServerError) as caught:
        client(api).embeddings.create(model=EMBED, input="hi")
    assert caught.value.status_code == 503 and "llama-server" in caught.value.message


def test_the_model_list_says_what_each_model_is_for(api):
    cards = {card.id: card for card in client(api).models.list().data}
    assert cards["builtin-gemma3-270m"].model_extra["capabilities"] == ["chat"]
    assert cards[EMBED].model_extra["capabilities"] == ["embeddings"] and cards[EMBED].owned_by == "llamacpp"


def test_base64_is_the_little_endian_float32_bytes_openai_sends():
    vector = [0.5, -1.25, 3.0]
    assert struct.unpack("<3f", base64.b64decode(_base64(vector))) == (0.5, -1.25, 3.0)


def test_gpt_academics_embedding_model_without_embed_model_says_which_setting_to_write(tmp_path, monkeypatch):
    private = tmp_path / "config_private.py"
    private.write_text('EMBED_MODEL = ""\n', encoding="utf-8")
    monkeypatch.setenv("LOCALSCHOLAR_CONFIG", str(private))
    get_config.cache_clear()
    try:
        model = OpenAiEmbeddingModel({"embed_model": "text-embedding-3-small", "api_key": "sk-none"})
        for call in (
            lambda: model.get_query_embedding("hi"),
            model.embedding_dimension,
            lambda: model.get_text_embedding_batch(["a"]),
        ):
            with pytest.raises(ConfigError) as caught:
                call()
            assert "EMBED_MODEL" in caught.value.en and "EMBED_MODEL" in caught.value.zh
        with pytest.raises(TypeError):
            model.compute_embedding(["a"])  # a list needs batch_mode=True, as GPT Academic asserts
    finally:
        get_config.cache_clear()


def test_mean_agg_is_the_element_wise_mean():
    assert mean_agg([[1.0, 2.0], [3.0, 6.0]]) == [2.0, 4.0]
