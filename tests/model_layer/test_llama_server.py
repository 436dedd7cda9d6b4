"""A user points LocalScholar at a llama.cpp server: answers stream, usage arrives, Stop frees the slot at once."""

from __future__ import annotations

import pytest

from request_llms.chat import chat, complete
from request_llms.errors import AuthFailed, ContextTooLong
from request_llms.listing import list_models
from request_llms.request import CancelToken, ChatOptions
from request_llms.runtime import runtime_of
from tests.support.helpers import make_config
from tests.support.servers import running

QUESTION = "Question: What is the capital of France?\nAnswer:"
LONG = "Write a very long story about a cat who travels around the world, with many chapters."


@pytest.fixture
def config(tmp_path, llama_server):
    return make_config(tmp_path, LOCAL_SERVER_URLS=f'{{"llamacpp": "{llama_server.base_url}/v1"}}', DISCOVER_LOCAL_MODELS="true")


def test_an_answer_streams_in_several_deltas_with_usage(config):
    stream = chat("llamacpp-gemma-270m", QUESTION, options=ChatOptions(temperature=0, max_tokens=40), config=config)
    deltas = list(stream)
    assert len(deltas) > 3 and stream.text.strip()
    assert stream.usage.completion_tokens == 40 or stream.usage.finish_reason == "stop"
    assert stream.usage.prompt_tokens > 5
    assert stream.time_to_first_token is not None and stream.tokens_per_second > 0


def test_waiting_for_the_whole_answer_gives_the_same_text_as_streaming(config):
    options = ChatOptions(temperature=0, max_tokens=24)
    whole = complete("llamacpp-gemma-270m", QUESTION, options=options, config=config)
    streamed = "".join(chat("llamacpp-gemma-270m", QUESTION, options=options, config=config))
    assert whole.text == streamed and whole.usage.completion_tokens == 24


def test_stop_closes_the_stream_and_the_server_stops_generating(config, llama_server):
    cancel = CancelToken()
    stream = chat("llamacpp-gemma-270m", LONG, options=ChatOptions(max_tokens=2000), cancel=cancel, config=config)
    received = []
    for delta in stream:
        received.append(delta)
        if len(received) == 5:
            assert llama_server.busy_slots() == 1
            cancel.cancel()
    assert len(received) == 5 and stream.cancelled
    assert llama_server.wait_idle(3)


def test_the_server_lists_its_model_and_the_list_marks_it_reachable(config):
    entries = {e.identifier: e for e in list_models(runtime_of(config).backends)}
    assert entries["llamacpp-gemma-270m"].reachable is True
    assert entries["llamacpp-gemma-270m"].source == "discovered"
    assert entries["llamacpp-gemma-270m"].context == 1024  # 4096 over 4 slots, read from /props


def test_a_prompt_beyond_the_slot_context_is_refused_before_it_is_sent(config):
    with pytest.raises(ContextTooLong, match="1024"):
        list(chat("llamacpp-gemma-270m", "word " * 3000, config=config))


def test_a_prompt_the_server_refuses_for_its_context_is_the_context_error(config):
    # The identifier claims a larger window than the slot has, so the server itself refuses the prompt.
    with pytest.raises(ContextTooLong, match="context"):
        list(chat("llamacpp-gemma-270m(max_token=8192)", "word " * 3000, config=config))


@pytest.mark.servers
def test_a_server_started_with_a_key_refuses_a_wrong_one(tmp_path):
    server = running.start_llama_server(parallel=1, ctx=1024, extra_args=["--api-key", "sk-right-key-123"])
    try:
        url = f'{{"llamacpp": "{server.base_url}/v1"}}'
        wrong = make_config(tmp_path, LOCAL_SERVER_URLS=url, LOCAL_API_KEY="sk-wrong-key-456")
        with pytest.raises(AuthFailed) as caught:
            list(chat("llamacpp-gemma-270m(max_token=1024)", QUESTION, config=wrong))
        assert "LOCAL_API_KEY" in caught.value.en and "sk-wrong" not in caught.value.en + caught.value.zh
        right = make_config(tmp_path, LOCAL_SERVER_URLS=url, LOCAL_API_KEY="sk-right-key-123")
        assert complete("llamacpp-gemma-270m(max_token=1024)", QUESTION, options=ChatOptions(max_tokens=8), config=right).text
    finally:
        server.stop()
