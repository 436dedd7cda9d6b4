"""A user runs Ollama: answers stream with Ollama's own counts, models are discovered, and each failure says how to fix it."""

from __future__ import annotations

import pytest

from request_llms.chat import chat, complete
from request_llms.errors import BackendUnreachable, ContextTooLong, ModelNotFound
from request_llms.listing import list_models
from request_llms.request import ChatOptions
from request_llms.runtime import runtime_of
from tests.support.helpers import make_config
from tests.support.servers.running import free_port

MODEL = "ollama-gemma3:270m"
QUESTION = "Question: What is the capital of France?\nAnswer:"


@pytest.fixture
def config(tmp_path, ollama_server):
    return make_config(tmp_path, OLLAMA_API_BASE=ollama_server.base_url, AVAIL_LLM_MODELS=f'["{MODEL}", "ollama-missing:1b"]')


def test_an_answer_streams_with_the_servers_own_counts(config):
    stream = chat(MODEL, QUESTION, options=ChatOptions(temperature=0, max_tokens=30), config=config)
    deltas = list(stream)
    assert len(deltas) > 3 and stream.text.strip()
    usage = stream.usage
    assert usage.completion_tokens == 30 and usage.finish_reason == "length"
    assert usage.prompt_tokens > 5 and usage.server_tokens_per_s > 0


def test_waiting_for_the_whole_answer_works_too(config):
    result = complete(MODEL, QUESTION, options=ChatOptions(temperature=0, max_tokens=10), config=config)
    assert result.text.strip() and result.usage.completion_tokens == 10


def test_models_are_discovered_with_their_context_length(config):
    entries = {e.identifier: e for e in list_models(runtime_of(config).backends)}
    assert entries[MODEL].reachable is True and entries[MODEL].context == 32768
    assert entries["ollama-missing:1b"].reachable is False
    assert "does not have" in entries["ollama-missing:1b"].detail


def test_an_unknown_model_says_ollama_pull(config):
    with pytest.raises(ModelNotFound) as caught:
        list(chat("ollama-missing:1b", "hi", config=config))
    assert "ollama pull missing:1b" in caught.value.en and "ollama pull missing:1b" in caught.value.zh


def test_ollama_down_says_ollama_serve(tmp_path):
    config = make_config(tmp_path, OLLAMA_API_BASE=f"http://127.0.0.1:{free_port()}")
    with pytest.raises(BackendUnreachable) as caught:
        list(chat(MODEL, "hi", config=config))
    assert "ollama serve" in caught.value.en and "OLLAMA_API_BASE" in caught.value.zh


def test_max_token_sets_num_ctx_and_old_turns_are_trimmed_with_a_notice(config):
    history = [
        item for i in range(12) for item in (f"Tell me fact number {i} about Paris. " * 6, f"Fact {i}: Paris is old. " * 6)
    ]
    stream = chat(f"{MODEL}(max_token=512)", QUESTION, history=history, options=ChatOptions(max_tokens=16), config=config)
    assert "".join(stream)
    assert stream.prompt.dropped_turns > 0 and "oldest" in stream.prompt.notice("en")
    # Ollama's count of what it read stays inside the window we asked for.
    assert stream.usage.prompt_tokens <= 512 - 16


def test_a_prompt_too_long_for_the_window_is_refused_before_sending(config):
    with pytest.raises(ContextTooLong) as caught:
        list(chat(f"{MODEL}(num_ctx=256)", "Paris " * 2000, config=config))
    assert "256" in caught.value.en
