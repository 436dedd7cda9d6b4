"""Faults a real server cannot be made to produce on demand, against the deliberately broken server in
tests/support/faulty_server.py: the user keeps what arrived and reads one clear line about what happened."""

from __future__ import annotations

import threading
import time

import pytest

from request_llms.chat import chat
from request_llms.errors import RateLimited, StreamCut, StreamError
from request_llms.request import CancelToken
from tests.support.faulty_server import CUT, HANG, FaultyServer, chunked, delta, plain, sse, stream_head
from tests.support.helpers import make_config


def compat_config(tmp_path, server: FaultyServer, **environ):
    return make_config(tmp_path, LOCAL_SERVER_URLS=f'{{"openai-compat": "{server.url}/v1"}}', MAX_RETRY="2", **environ)


def test_a_malformed_chunk_keeps_the_text_so_far_and_says_what_came(tmp_path):
    with FaultyServer([stream_head("text/event-stream"), delta("Hello"), delta(" wor"), sse("{not json"), HANG]) as server:
        stream = chat("openai-compat-m(max_token=4096)", "hi", config=compat_config(tmp_path, server))
        with pytest.raises(StreamError) as caught:
            list(stream)
    assert caught.value.partial == "Hello wor"
    assert "not a JSON object" in caught.value.en and "已保留" in caught.value.zh


def test_a_connection_cut_mid_answer_keeps_the_partial_text(tmp_path):
    with FaultyServer([stream_head("text/event-stream"), delta("Paris is"), CUT]) as server:
        stream = chat("openai-compat-m(max_token=4096)", "hi", config=compat_config(tmp_path, server))
        with pytest.raises(StreamCut) as caught:
            list(stream)
    assert caught.value.partial == "Paris is"
    assert "broke in the middle" in caught.value.en


def test_ollama_cut_mid_answer_keeps_the_partial_text(tmp_path):
    line = chunked(b'{"message": {"role": "assistant", "content": "Bonjour"}, "done": false}\n')
    with FaultyServer([stream_head("application/x-ndjson"), line, CUT]) as server:
        stream = chat("ollama-m(num_ctx=512)", "hi", config=make_config(tmp_path, OLLAMA_API_BASE=server.url))
        with pytest.raises(StreamCut) as caught:
            list(stream)
    assert caught.value.partial == "Bonjour"


def test_ollama_error_line_mid_answer_is_reported(tmp_path):
    lines = chunked(b'{"message": {"content": "Hi"}, "done": false}\n') + chunked(
        b'{"error": "llama runner process has terminated"}\n'
    )
    with FaultyServer([stream_head("application/x-ndjson"), lines, CUT]) as server:
        stream = chat("ollama-m(num_ctx=512)", "hi", config=make_config(tmp_path, OLLAMA_API_BASE=server.url))
        with pytest.raises(StreamError, match="runner process has terminated") as caught:
            list(stream)
    assert caught.value.partial == "Hi"


def test_a_rate_limit_is_retried_then_succeeds(tmp_path):
    limited = [plain(429, {"error": {"message": "slow down"}}, "Retry-After: 0\r\n")]
    ok = [
        stream_head("text/event-stream"),
        delta("ok"),
        sse({"choices": [{"delta": {}, "finish_reason": "stop"}]}),
        sse("[DONE]"),
        chunked(b""),
    ]
    with FaultyServer(limited, ok) as server:
        assert "".join(chat("openai-compat-m(max_token=4096)", "hi", config=compat_config(tmp_path, server))) == "ok"
        assert len(server.requests) == 2


def test_a_rate_limit_that_persists_is_one_clear_line(tmp_path):
    limited = [plain(429, {"error": {"message": "slow down"}}, "Retry-After: 0\r\n")]
    with FaultyServer(limited, limited, limited) as server, pytest.raises(RateLimited, match="slow down"):
        list(chat("openai-compat-m(max_token=4096)", "hi", config=compat_config(tmp_path, server)))


def test_a_stream_that_ends_without_finishing_is_reported_as_cut(tmp_path):
    with FaultyServer([stream_head("text/event-stream"), delta("half"), chunked(b"")]) as server:
        with pytest.raises(StreamCut, match="without finishing") as caught:
            list(chat("openai-compat-m(max_token=4096)", "hi", config=compat_config(tmp_path, server)))
    assert caught.value.partial == "half"


def test_cancel_while_waiting_for_the_first_byte_closes_the_connection_at_once(tmp_path):
    with FaultyServer([HANG]) as server:
        cancel = CancelToken()
        stream = chat("openai-compat-m(max_token=4096)", "hi", cancel=cancel, config=compat_config(tmp_path, server))
        threading.Timer(0.5, cancel.cancel).start()
        started = time.monotonic()
        assert list(stream) == []
        assert time.monotonic() - started < 3
        assert server.peer_closed.wait(3), "the server never saw the connection close"
    assert stream.cancelled
