"""A user runs vLLM: by VLLM_API_BASE or GPT Academic's API_URL_REDIRECT, with the context window vLLM reports."""

from __future__ import annotations

import json

import pytest

from request_llms.chat import chat
from request_llms.errors import ContextTooLong, ModelNotFound
from request_llms.listing import list_models
from request_llms.request import ChatOptions
from request_llms.runtime import runtime_of
from tests.support.helpers import make_config

QUESTION = "Question: What is the capital of France?\nAnswer:"


@pytest.fixture
def config(tmp_path, vllm_server):
    return make_config(tmp_path, VLLM_API_BASE=f"{vllm_server.base_url}/v1", API_KEY="sk-real-openai-key")


def test_an_answer_streams_with_usage(config):
    stream = chat("vllm-gemma-270m", QUESTION, options=ChatOptions(temperature=0, max_tokens=20), config=config)
    assert len(list(stream)) > 3
    assert stream.usage.completion_tokens == 20 and stream.usage.prompt_tokens > 5


def test_the_seed_documented_redirect_reaches_vllm(tmp_path, vllm_server):
    redirect = {"https://api.openai.com/v1/chat/completions": f"{vllm_server.base_url}/v1/chat/completions"}
    config = make_config(tmp_path, API_URL_REDIRECT=json.dumps(redirect), API_KEY="sk-anything")
    text = "".join(chat("vllm-gemma-270m", QUESTION, options=ChatOptions(max_tokens=8), config=config))
    assert text.strip()


def test_vllm_max_model_len_becomes_the_context_budget(config):
    entries = {e.identifier: e for e in list_models(runtime_of(config).backends)}
    assert entries["vllm-gemma-270m"].context == 2048
    with pytest.raises(ContextTooLong) as caught:
        list(chat("vllm-gemma-270m", "Paris " * 5000, config=config))
    assert "2048" in caught.value.en


def test_vllms_own_context_error_is_the_same_clear_error(config):
    # A budget larger than the server's lets the request through, and vLLM answers 400.
    with pytest.raises(ContextTooLong, match="context"):
        list(chat("vllm-gemma-270m(max_token=100000)", "Paris " * 3000, config=config))


def test_an_unknown_model_lists_what_vllm_serves(config):
    with pytest.raises(ModelNotFound) as caught:
        list(chat("vllm-Qwen/Qwen2.5-7B-Instruct", "hi", config=config))
    assert "vllm-gemma-270m" in caught.value.en


def test_real_openai_models_still_go_to_openai_beside_vllm(config):
    from request_llms.model_spec import parse_model

    cloud, vllm = parse_model("gpt-4o-mini"), parse_model("vllm-gemma-270m")
    assert runtime_of(config).backend_for(cloud).endpoint(cloud).base_url == "https://api.openai.com/v1"
    assert runtime_of(config).backend_for(vllm).endpoint(vllm).base_url.startswith("http://127.0.0.1:")
