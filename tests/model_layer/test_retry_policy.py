"""One retry policy, in the transport: a request is sent at most 1 + MAX_RETRY times whoever asks (chat, a
plugin piece, GPT Academic's helpers), only for failures that can pass (429, 5xx, 408, 409), and never again
by the caller. Against the deliberately broken server of tests/support/faulty_server.py, which answers as told."""

from __future__ import annotations

import pytest

from crazy_functions.crazy_utils import (
    request_gpt_model_in_new_thread_with_ui_alive,
    request_gpt_model_multi_threads_with_very_awesome_ui_and_high_efficiency,
)
from crazy_functions.runtime.parallel import Piece, ask_in_parallel
from request_llms.chat import chat
from request_llms.compat import predict_no_ui_long_connection
from request_llms.config_loader import get_config
from request_llms.errors import ContextTooLong, RateLimited, ServerError
from tests.support.faulty_server import FaultyServer, plain
from tests.support.plugin_support import make_chatbot

MODEL = "openai-compat-m(max_token=4096)"
LIMITED = [plain(429, {"error": {"message": "slow down"}}, "Retry-After: 0\r\n")]
BROKEN = [plain(500, {"error": {"message": "internal"}})]
BAD_REQUEST = [plain(400, {"error": {"message": "unsupported parameter: foo"}})]


@pytest.fixture
def server_config(monkeypatch, tmp_path):
    """Point the configuration (as plugins read it) at a FaultyServer; returns a function taking its replies."""

    def start(reply: list, times: int = 12) -> FaultyServer:
        server = FaultyServer(*([reply] * times))
        private = tmp_path / "config_private.py"
        private.write_text(f'LOCAL_SERVER_URLS = {{"openai-compat": "{server.url}/v1"}}\nMAX_RETRY = 2\n', encoding="utf-8")
        monkeypatch.setenv("LOCALSCHOLAR_CONFIG", str(private))
        get_config.cache_clear()
        servers.append(server)
        return server

    servers: list[FaultyServer] = []
    yield start
    for server in servers:
        server.close()
    get_config.cache_clear()


def _drain(generator):
    try:
        while True:
            next(generator)
    except StopIteration as done:
        return done.value


def test_a_chat_against_a_server_that_always_says_429_sends_three_requests(server_config):
    server = server_config(LIMITED)
    with pytest.raises(RateLimited) as caught:
        list(chat(MODEL, "hi", config=get_config()))
    assert len(server.requests) == 3
    assert caught.value.status == 429 and caught.value.retryable and caught.value.retry_after == 0


def test_one_plugin_piece_sends_at_most_three_requests(server_config, tmp_path):
    server = server_config(LIMITED)
    chatbot = make_chatbot(tmp_path, lang="en")
    pieces = _drain(ask_in_parallel(chatbot, [], [Piece("one piece")], {"llm_model": MODEL}))
    assert pieces[0].state == "failed" and isinstance(pieces[0].error, RateLimited)
    assert len(server.requests) == 3


def test_gpt_academics_helpers_send_at_most_three_requests_per_piece(server_config, tmp_path):
    server = server_config(LIMITED)
    chatbot = make_chatbot(tmp_path)
    _drain(request_gpt_model_in_new_thread_with_ui_alive("q", "q", {"llm_model": MODEL}, chatbot, [], ""))
    assert len(server.requests) == 3
    server = server_config(LIMITED)
    _drain(
        request_gpt_model_multi_threads_with_very_awesome_ui_and_high_efficiency(
            ["a", "b"], ["a", "b"], {"llm_model": MODEL}, make_chatbot(tmp_path), [[], []], ["", ""]
        )
    )
    assert len(server.requests) == 6
    server = server_config(LIMITED)
    with pytest.raises(RateLimited):
        predict_no_ui_long_connection("q", {"llm_model": MODEL})
    assert len(server.requests) == 3


def test_a_server_error_is_retried_and_keeps_its_status(server_config):
    server = server_config(BROKEN)
    with pytest.raises(ServerError) as caught:
        list(chat(MODEL, "hi", config=get_config()))
    assert len(server.requests) == 3 and caught.value.status == 500 and "internal" in caught.value.detail


def test_a_plain_bad_request_is_sent_once(server_config, tmp_path):
    server = server_config(BAD_REQUEST)
    chatbot = make_chatbot(tmp_path, lang="en")
    pieces = _drain(ask_in_parallel(chatbot, [], [Piece("one piece")], {"llm_model": MODEL}))
    assert len(server.requests) == 1
    error = pieces[0].error
    assert isinstance(error, ServerError) and error.status == 400 and not error.retryable
    assert "unsupported parameter" in error.detail


def test_a_context_error_is_not_retried(server_config):
    server = server_config([plain(400, {"error": {"message": "the request exceeds the available context size"}})])
    with pytest.raises(ContextTooLong) as caught:
        list(chat(MODEL, "hi", config=get_config()))
    assert len(server.requests) == 1 and caught.value.status == 400


def test_a_retry_after_beyond_the_longest_wait_is_shown_not_waited_for(server_config):
    server = server_config([plain(429, {"error": {"message": "come back later"}}, "Retry-After: 3600\r\n")])
    with pytest.raises(RateLimited, match="come back later") as caught:
        list(chat(MODEL, "hi", config=get_config()))
    assert len(server.requests) == 1 and caught.value.retry_after == 3600 and not caught.value.retryable


def test_one_wait_for_every_retry_grows_with_jitter_and_honours_retry_after_up_to_its_cap():
    from request_llms.retry import FIRST_WAIT, GROWTH, JITTER, MAX_WAIT, wait_before

    for attempt in range(3):
        waits = [wait_before(attempt) for _ in range(200)]
        middle = FIRST_WAIT * GROWTH**attempt
        assert all(middle * (1 - JITTER) <= wait <= middle * (1 + JITTER) for wait in waits)
        assert len(set(waits)) > 1  # clients that failed together do not come back together
    assert wait_before(0, retry_after=3.0) == 3.0
    assert wait_before(2, retry_after=0.0) == 0.0
    assert wait_before(0, retry_after=MAX_WAIT * 10) == MAX_WAIT
