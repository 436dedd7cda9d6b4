"""Stream chunks as real servers send them become text deltas, usage, or one clear error."""

from __future__ import annotations

import json

import pytest

from request_llms.backends.ollama import build_payload as ollama_payload
from request_llms.backends.ollama import parse_line
from request_llms.backends.openai_compat import SSEDecoder, build_payload, parse_chunk
from request_llms.errors import StreamError
from request_llms.model_spec import parse_model
from request_llms.request import ChatOptions, Usage


def feed(lines):
    decoder = SSEDecoder()
    return [event for line in lines if (event := decoder.feed(line))]


def test_sse_events_end_at_blank_lines_and_comments_are_skipped():
    events = feed([": keep-alive", 'data: {"a": 1}', "", "event: error", 'data: {"error": "x"}', "", "data: [DONE]", ""])
    assert events == [("message", '{"a": 1}'), ("error", '{"error": "x"}'), ("message", "[DONE]")]


def test_a_role_only_first_chunk_gives_no_text():
    chunk = {"choices": [{"index": 0, "delta": {"role": "assistant", "content": None}, "finish_reason": None}]}
    assert parse_chunk(json.dumps(chunk)) == []


def test_text_then_finish_then_usage():
    assert parse_chunk(json.dumps({"choices": [{"delta": {"content": "Hel"}}]})) == ["Hel"]
    finish = parse_chunk(
        json.dumps({"choices": [{"delta": {}, "finish_reason": "length"}], "timings": {"predicted_per_second": 30.5}})
    )
    assert finish == [Usage(finish_reason="length", server_tokens_per_s=30.5)]
    usage = parse_chunk(json.dumps({"choices": [], "usage": {"prompt_tokens": 12, "completion_tokens": 34}}))
    assert usage == [Usage(prompt_tokens=12, completion_tokens=34)]


@pytest.mark.parametrize(
    ("data", "event"),
    [('{"error": {"message": "model crashed", "type": "server_error"}}', "message"), ('{"message": "boom"}', "error")],
)
def test_an_error_chunk_mid_stream_is_a_stream_error(data, event):
    with pytest.raises(StreamError, match="mid-answer"):
        parse_chunk(data, event)


def test_a_malformed_chunk_is_a_stream_error_not_a_traceback():
    with pytest.raises(StreamError, match="not a JSON object"):
        parse_chunk("{half a chunk")


def test_ollama_lines_give_text_then_the_servers_counts():
    assert parse_line('{"message": {"role": "assistant", "content": "Pa"}, "done": false}') == ["Pa"]
    final = parse_line(
        '{"message": {"content": ""}, "done": true, "done_reason": "stop", "eval_count": 50, '
        '"eval_duration": 2000000000, "prompt_eval_count": 20, "load_duration": 1500000000}'
    )
    assert final == [
        Usage(prompt_tokens=20, completion_tokens=50, finish_reason="stop", server_tokens_per_s=25.0, load_seconds=1.5)
    ]
    with pytest.raises(StreamError, match="out of memory"):
        parse_line('{"error": "out of memory"}')


def test_payloads_carry_the_context_and_sampling_settings():
    spec = parse_model("ollama-qwen(keep_alive=10m)")
    body = ollama_payload(spec, [{"role": "user", "content": "hi"}], ChatOptions(0.2, 0.9, 64), 8192, "")
    assert body["options"] == {"num_ctx": 8192, "temperature": 0.2, "top_p": 0.9, "num_predict": 64}
    assert body["keep_alive"] == "10m" and body["stream"] is True
    body = build_payload("m", [], ChatOptions(max_tokens=5), include_usage=True)
    assert body["stream_options"] == {"include_usage": True} and body["max_tokens"] == 5 and "temperature" not in body
