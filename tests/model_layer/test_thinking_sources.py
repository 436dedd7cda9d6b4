"""A reasoning model's thinking, from every source, kept out of the answer: a real llama-server made to think
inline by a grammar, and replays of the wire formats this machine's servers cannot produce (Ollama's
`message.thinking`, newer than the Ollama build the tests run; OpenAI-style `reasoning_content`)."""

from __future__ import annotations

import json

import pytest

from crazy_functions.runtime.parallel import Piece, ask_in_parallel
from crazy_functions.word_summary import word_summary
from request_llms.chat import chat, complete
from request_llms.compat import predict_no_ui_long_connection
from request_llms.config_loader import get_config
from request_llms.errors import ConfigError, IdentifierError
from request_llms.model_spec import parse_model
from request_llms.request import CancelToken, ChatOptions
from request_llms.thinking import Thought
from tests.support.documents import make_docx
from tests.support.faulty_server import FaultyServer, chunked, delta, plain, sse, stream_head
from tests.support.helpers import make_config
from tests.support.plugin_support import drive, make_chatbot


def ndjson(*chunks: dict) -> bytes:
    return b"".join(chunked((json.dumps(chunk) + "\n").encode()) for chunk in chunks) + chunked(b"")


OLLAMA_THINKING = [  # /api/chat as current Ollama streams a thinking model (replayed)
    stream_head("application/x-ndjson"),
    ndjson(
        {"message": {"role": "assistant", "content": "", "thinking": "The user asks for "}, "done": False},
        {"message": {"role": "assistant", "content": "", "thinking": "a capital."}, "done": False},
        {"message": {"role": "assistant", "content": "Paris"}, "done": False},
        {"message": {"role": "assistant", "content": "."}, "done": True, "done_reason": "stop", "eval_count": 9},
    ),
]
SHOW_THINKING = [plain(200, {"capabilities": ["completion", "thinking"], "model_info": {}})]
SHOW_PLAIN = [plain(200, {"capabilities": ["completion"], "model_info": {}})]
REASONING = [  # an OpenAI-compatible server with a reasoning parser (vLLM, llama.cpp --reasoning-format), replayed
    stream_head("text/event-stream"),
    sse({"choices": [{"delta": {"reasoning_content": "Think of "}}]}),
    sse({"choices": [{"delta": {"reasoning": "France."}}]}),
    delta("Paris"),
    sse({"choices": [{"delta": {}, "finish_reason": "stop"}]}),
    sse("[DONE]"),
    chunked(b""),
]


def test_ollamas_thinking_field_streams_apart_and_think_is_sent(tmp_path):
    with FaultyServer(SHOW_THINKING, OLLAMA_THINKING) as server:
        config = make_config(tmp_path, OLLAMA_API_BASE=server.url)
        stream = chat("ollama-qwen3:8b(num_ctx=4096, think=true)", "Capital of France?", config=config)
        assert list(stream) == ["Paris", "."]
        assert stream.thinking == "The user asks for a capital." and stream.text == "Paris."
        assert stream.time_to_first_thought is not None and stream.time_to_first_token >= stream.time_to_first_thought
        assert server.requests[-1]["think"] is True


def test_asking_a_model_without_thinking_to_think_is_one_line(tmp_path):
    with FaultyServer(SHOW_PLAIN) as server:
        config = make_config(tmp_path, OLLAMA_API_BASE=server.url)
        with pytest.raises(ConfigError) as refused:
            list(chat("ollama-gemma3:270m(num_ctx=2048, think=high)", "hi", config=config))
    assert "think=high" in refused.value.en and "think=high" in refused.value.zh


def test_reasoning_content_streams_apart_and_the_template_is_told(tmp_path):
    with FaultyServer(REASONING) as server:
        config = make_config(tmp_path, LOCAL_SERVER_URLS=f'{{"vllm": "{server.url}/v1"}}')
        stream = complete("vllm-Qwen/Qwen3-8B(max_token=4096)", "Capital?", options=ChatOptions(think="false"), config=config)
        assert stream.thinking == "Think of France." and stream.text == "Paris"
        assert server.requests[-1]["chat_template_kwargs"] == {"enable_thinking": False}


def test_the_gpt_academic_bridge_returns_the_answer_only(tmp_path, monkeypatch):
    with FaultyServer(REASONING) as server:
        private = tmp_path / "config_private.py"
        private.write_text(f'LOCAL_SERVER_URLS = {{"vllm": "{server.url}/v1"}}\n', encoding="utf-8")
        monkeypatch.setenv("LOCALSCHOLAR_CONFIG", str(private))
        get_config.cache_clear()
        window = ["", 0, ""]
        try:
            assert (
                predict_no_ui_long_connection("Capital?", {"llm_model": "vllm-Qwen/Qwen3-8B(max_token=4096)"}, [], "", window)
                == "Paris"
            )
        finally:
            get_config.cache_clear()
    assert window[0] == "Paris"


@pytest.mark.parametrize("raw", ["maybe", "1", ""])
def test_think_takes_only_known_levels(raw):
    with pytest.raises(IdentifierError):
        parse_model(f"ollama-qwen3(think={raw})")
    assert parse_model("ollama-qwen3(think=HIGH)").think == "high"


def test_inline_thinking_from_a_real_server_never_reaches_the_answer(thinking_llama, tmp_path):
    config = make_config(tmp_path, LOCAL_SERVER_URLS=f'{{"llamacpp": "{thinking_llama.base_url}/v1"}}')
    stream = complete("llamacpp-gemma-270m", "Say hello.", options=ChatOptions(temperature=0, max_tokens=120), config=config)
    assert len(stream.thinking) >= 20 and stream.text.strip()
    assert "think>" not in stream.text and "<" not in stream.thinking
    assert stream.first_thought_at < stream.first_token_at


def test_a_plugin_piece_on_a_thinking_model_keeps_the_answer_only(thinking_llama, tmp_path, monkeypatch):
    private = tmp_path / "config_private.py"
    private.write_text(f'LOCAL_SERVER_URLS = {{"llamacpp": "{thinking_llama.base_url}/v1"}}\n', encoding="utf-8")
    monkeypatch.setenv("LOCALSCHOLAR_CONFIG", str(private))
    get_config.cache_clear()
    try:
        chatbot = make_chatbot(tmp_path, lang="en")
        kwargs = {"llm_model": "llamacpp-gemma-270m", "temperature": 0, "max_length": 200}
        runner = ask_in_parallel(chatbot, [], [Piece("one"), Piece("two")], kwargs)
        for _ in runner:
            pass
    finally:
        get_config.cache_clear()
    assert [p.state for p in chatbot.requests] == ["done", "done"]
    # The grammar lets the answer be blank (10 to 80 of [a-zA-Z ,.]): what matters is that no thought is in it.
    assert all("think>" not in p.answer for p in chatbot.requests)


def test_a_plugins_file_holds_no_thinking(thinking_llama, tmp_path, monkeypatch):
    private = tmp_path / "config_private.py"
    private.write_text(f'LOCAL_SERVER_URLS = {{"llamacpp": "{thinking_llama.base_url}/v1"}}\n', encoding="utf-8")
    monkeypatch.setenv("LOCALSCHOLAR_CONFIG", str(private))
    get_config.cache_clear()
    try:
        chatbot = make_chatbot(tmp_path, [make_docx(tmp_path / "report.docx", sections=2, sentences=4)])
        drive(word_summary, "", {"llm_model": "llamacpp-gemma-270m", "temperature": 0, "max_length": 160}, chatbot)
    finally:
        get_config.cache_clear()
    assert chatbot.requests and all(p.state == "done" for p in chatbot.requests), [p.error for p in chatbot.requests]
    [saved] = chatbot.outputs
    written = saved.read_text(encoding="utf-8")
    assert "think>" not in written and all(p.answer.strip() in written for p in chatbot.requests[:-1])


def test_stop_while_the_model_thinks_stops_the_server(thinking_llama, tmp_path):
    config = make_config(tmp_path, LOCAL_SERVER_URLS=f'{{"llamacpp": "{thinking_llama.base_url}/v1"}}')
    cancel = CancelToken()
    stream = chat(
        "llamacpp-gemma-270m", "Say hello.", options=ChatOptions(temperature=0, max_tokens=200), cancel=cancel, config=config
    )
    for event in stream.events():
        if isinstance(event, Thought):
            cancel.cancel()  # Stop pressed during the thinking phase
    assert stream.cancelled and stream.thinking and stream.text == ""
    assert thinking_llama.wait_idle(timeout=5), "llama-server kept generating after Stop"
