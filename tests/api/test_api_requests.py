"""The API's contract without a model: keys, binding, the error shape through the openai package's own exception
classes, what a request may ask for, and the answer cut at a stop text. The one model behind it here is a
scripted server (tests/support/faulty_server.py) for a connection cut in the middle of an answer."""

from __future__ import annotations

import json
import subprocess
import sys

import httpx
import openai
import pytest

from request_llms.api.convert import StopCutter, conversation
from request_llms.api.protocol import Message
from request_llms.messages import build_messages
from tests.support.api_server import serving_api
from tests.support.faulty_server import CUT, FaultyServer, delta, stream_head
from tests.support.helpers import make_config

KEY = "test-key-0123456789"
CUT_MODEL = "openai-compat-m(max_token=4096)"


@pytest.fixture(scope="module")
def keyed(tmp_path_factory):
    folder = tmp_path_factory.mktemp("keyed")
    config = make_config(folder, DATA_DIR=str(folder / "data"), API_SERVE_KEYS=json.dumps([KEY]), DISCOVER_LOCAL_MODELS="false")
    with serving_api(config) as url:
        yield url, config


def test_a_missing_or_wrong_key_is_openais_authentication_error(keyed):
    url, _ = keyed
    for key in ("wrong-key-0123456789", "none"):
        with pytest.raises(openai.AuthenticationError) as caught:
            openai.OpenAI(base_url=url, api_key=key, max_retries=0).models.list()
        assert caught.value.status_code == 401 and caught.value.code == "invalid_api_key"
        assert KEY not in str(caught.value.body)
    answer = httpx.get(f"{url}/models", headers={"Accept-Language": "zh-CN"})
    assert answer.status_code == 401 and "密钥" in answer.json()["error"]["message"]


def test_the_right_key_lists_the_models_with_their_context_and_kind(keyed):
    url, _ = keyed
    cards = openai.OpenAI(base_url=url, api_key=KEY, max_retries=0).models.list().data
    builtin = next(card for card in cards if card.id == "builtin-gemma3-270m")
    assert builtin.owned_by == "native" and builtin.model_extra["max_model_len"] == 8192


def test_a_model_not_offered_is_model_not_found(keyed):
    url, _ = keyed
    client = openai.OpenAI(base_url=url, api_key=KEY, max_retries=0)
    for model in ("gpt-4o", "openai-compat-m(base_url=http://127.0.0.1:9/v1)", "ollama-qwen2.5:7b"):
        with pytest.raises(openai.NotFoundError) as caught:
            client.chat.completions.create(model=model, messages=[{"role": "user", "content": "hi"}])
        assert caught.value.code == "model_not_found", model


@pytest.mark.parametrize(
    ("body", "param"),
    [
        ({"messages": [{"role": "user", "content": "hi"}], "n": 2}, "n"),
        ({"messages": [{"role": "user", "content": "hi"}], "tools": [{"type": "function", "function": {"name": "f"}}]}, "tools"),
        ({"messages": [{"role": "user", "content": [{"type": "image_url", "image_url": {"url": "x"}}]}]}, "messages"),
        ({"messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "yes"}]}, "messages"),
        ({"messages": [{"role": "user", "content": "hi"}], "temperature": 7}, "temperature"),
        ({"messages": "hi"}, "messages"),
        ({"messages": [{"role": "user", "content": "hi"}], "max_tokens": 10**12}, "max_tokens"),
        ({"messages": [{"role": "user", "content": "hi"}], "max_completion_tokens": 8193}, "max_tokens"),
    ],
)
def test_what_cannot_be_honoured_is_a_bad_request_naming_the_field(keyed, body, param):
    url, _ = keyed
    answer = httpx.post(
        f"{url}/chat/completions", json={"model": "builtin-gemma3-270m", **body}, headers={"Authorization": f"Bearer {KEY}"}
    )
    error = answer.json()["error"]
    assert answer.status_code == 400 and error["type"] == "invalid_request_error" and error["param"] == param, error


def test_json_nested_deeper_than_can_be_read_is_a_bad_request(keyed):
    url, _ = keyed
    body = '{"model": "builtin-gemma3-270m", "messages": ' + "[" * 100_000 + "]" * 100_000 + "}"
    answer = httpx.post(f"{url}/chat/completions", content=body, headers={"Authorization": f"Bearer {KEY}"})
    assert answer.status_code == 400 and "nested too deeply" in answer.json()["error"]["message"]


def test_a_request_beyond_the_bounds_is_refused_before_any_work_in_both_languages(keyed):
    """100,000 messages (13 MB), 5,000,000 characters in a few messages, a body declared or sent beyond 16 MB: each a
    400 naming the bounds, nothing built or asked."""
    url, _ = keyed
    headers = {"Authorization": f"Bearer {KEY}"}
    many = [{"role": "user", "content": f"message {i} " * 10} for i in range(100_000)]
    long = [{"role": "user", "content": "x" * 2_500_000}, {"role": "assistant", "content": "ok"}] * 2
    for messages in (many, long[:-1]):
        answer = httpx.post(
            f"{url}/chat/completions", json={"model": "builtin-gemma3-270m", "messages": messages}, headers=headers, timeout=120
        )
        error = answer.json()["error"]
        assert answer.status_code == 400 and error["param"] == "messages", error
        assert "10,000 messages and 4,000,000 characters" in error["message"]
    chinese = httpx.post(
        f"{url}/chat/completions",
        json={"model": "builtin-gemma3-270m", "messages": many},
        headers={**headers, "Accept-Language": "zh-CN"},
        timeout=120,
    )
    assert "最多 10,000 条消息" in chinese.json()["error"]["message"]
    beyond = b'{"model": "builtin-gemma3-270m", "messages": [{"role": "user", "content": "' + b"y" * 16_000_001 + b'"}]}'
    for path, says in (("chat/completions", "16,000,000 bytes"), ("embeddings", "1,000,000 characters")):
        answer = httpx.post(f"{url}/{path}", content=beyond, headers=headers, timeout=120)
        assert answer.status_code == 400 and says in answer.json()["error"]["message"], answer.text

    def chunks():
        yield b'{"model": "builtin-gemma3-270m", "messages": [{"role": "user", "content": "'
        for _ in range(20):
            yield b"z" * 1_000_000  # sent without a length: read no further than the bound

    answer = httpx.post(f"{url}/chat/completions", content=chunks(), headers=headers, timeout=120)
    assert answer.status_code == 400 and answer.json()["error"]["param"] == "messages"


def test_a_host_beyond_loopback_needs_keys_before_anything_listens(tmp_path):
    private = tmp_path / "config_private.py"
    private.write_text(f'DATA_DIR = "{tmp_path}/data"\n', encoding="utf-8")
    done = subprocess.run(
        [sys.executable, "-m", "request_llms", "serve", "--host", "0.0.0.0", "--port", "9"],
        env={"PATH": "/usr/bin:/bin", "LOCALSCHOLAR_CONFIG": str(private), "LANGUAGE": "en"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2 and "API_SERVE_KEYS" in done.stderr and "Traceback" not in done.stderr


def test_a_connection_cut_mid_answer_is_an_error_event_after_the_text_so_far(tmp_path):
    with FaultyServer([stream_head("text/event-stream"), delta("Paris is"), delta(" the"), CUT]) as upstream:
        config = make_config(
            tmp_path,
            DATA_DIR=str(tmp_path / "data"),
            LOCAL_SERVER_URLS=json.dumps({"openai-compat": f"{upstream.url}/v1"}),
            AVAIL_LLM_MODELS=json.dumps([CUT_MODEL]),
            MAX_RETRY="0",
        )
        with serving_api(config) as url:
            stream = openai.OpenAI(base_url=url, api_key="none", max_retries=0).chat.completions.create(
                model=CUT_MODEL, messages=[{"role": "user", "content": "hi"}], stream=True
            )
            got = []
            with pytest.raises(openai.APIError) as caught:
                for chunk in stream:
                    got.append(chunk.choices[0].delta.content or "")
    assert "".join(got) == "Paris is the"
    assert "broke in the middle" in str(caught.value)


def test_messages_keep_their_roles_down_to_the_messages_sent():
    messages = [
        Message(role="system", content="Be brief."),
        Message(role="assistant", content="Hello."),
        Message(role="user", content=[{"type": "text", "text": "One"}, {"type": "text", "text": " two"}]),
        Message(role="user", content="three"),
        Message(role="assistant", content="ok"),
        Message(role="developer", content="In English."),
        Message(role="user", content="Why?"),
    ]
    turns, system = conversation(messages)
    assert system == "Be brief.\n\nIn English."
    assert [turn["role"] for turn in turns] == ["assistant", "user", "user", "assistant", "user"]
    sent = build_messages(turns, system).messages
    assert sent == [
        {"role": "system", "content": "Be brief.\n\nIn English."},
        {"role": "user", "content": ""},  # templates that want the user first get an empty question
        {"role": "assistant", "content": "Hello."},
        {"role": "user", "content": "One two\n\nthree"},  # one role in a row: one turn
        {"role": "assistant", "content": "ok"},
        {"role": "user", "content": "Why?"},
    ]


def test_a_stop_text_split_over_deltas_is_cut_and_nothing_after_it_is_kept():
    cutter = StopCutter(("END", "\n\n"))
    out = [cutter.feed(part) for part in ["The answer E", "N", "D and more", " text"]]
    assert "".join(out) == "The answer " and cutter.hit
    near = StopCutter(("END",))
    assert near.feed("EN") == "" and near.feed("ding") == "ENding" and near.flush() == "" and not near.hit


def test_a_server_that_is_down_is_503_with_the_fix(tmp_path):
    from tests.support.servers.running import free_port

    config = make_config(
        tmp_path,
        DATA_DIR=str(tmp_path / "data"),
        LOCAL_SERVER_URLS=json.dumps({"llamacpp": f"http://127.0.0.1:{free_port()}/v1"}),
        AVAIL_LLM_MODELS=json.dumps(["llamacpp-gemma-270m"]),
        DISCOVER_LOCAL_MODELS="false",
        MAX_RETRY="0",
    )
    with serving_api(config) as url:
        client = openai.OpenAI(base_url=url, api_key="none", max_retries=0)
        with pytest.raises(openai.InternalServerError) as caught:
            client.chat.completions.create(model="llamacpp-gemma-270m", messages=[{"role": "user", "content": "hi"}], stream=True)
        zh = httpx.post(
            f"{url}/chat/completions",
            json={"model": "llamacpp-gemma-270m", "messages": [{"role": "user", "content": "hi"}]},
            headers={"Accept-Language": "zh-CN,zh;q=0.9"},
        )
    assert caught.value.status_code == 503 and caught.value.code == "model_unavailable"
    assert "llama-server" in caught.value.message and "start it" in caught.value.message
    assert zh.status_code == 503 and "请先启动" in zh.json()["error"]["message"]
