"""Real clients against LocalScholar's API with real models behind it: the openai package (sync, async, streaming),
LangChain's ChatOpenAI, curl; llama-server, a thinking model, the built-in native model; the API on the page's
own port; a client that goes away; a queue that is full."""

from __future__ import annotations

import asyncio
import json
import subprocess
import time

import httpx
import openai
import pytest
from langchain_openai import ChatOpenAI

from request_llms.chat import chat
from request_llms.model_spec import parse_model
from request_llms.request import ChatOptions, Status
from request_llms.runtime import runtime_of
from tests.support.api_server import serving_api
from tests.support.helpers import make_config
from tests.support.servers.provision import cache_root
from tests.support.webapp import open_page, running_app

pytestmark = pytest.mark.servers

LLAMA = "llamacpp-gemma-270m"
QUESTION = [{"role": "user", "content": "What is the capital of France? Answer in one word."}]
LONG = [{"role": "user", "content": "Write a very long story about a cat who travels around the world."}]


@pytest.fixture(scope="module")
def api(llama_server, tmp_path_factory):
    folder = tmp_path_factory.mktemp("api")
    config = make_config(
        folder,
        DATA_DIR=str(folder / "data"),
        LOCAL_SERVER_URLS=json.dumps({"llamacpp": f"{llama_server.base_url}/v1"}),
        AVAIL_LLM_MODELS=json.dumps([LLAMA, "builtin-gemma3-270m"]),
        LOCAL_MODEL_CACHE=str(cache_root() / "localscholar-cache"),
    )
    with serving_api(config) as url:
        yield url, config
    runtime_of(config).backend_for(parse_model("builtin-gemma3-270m")).shutdown()


def direct(llama_server, messages, **extra) -> dict:
    body = {"model": "gemma-270m", "messages": messages, "temperature": 0, **extra}
    return httpx.post(f"{llama_server.base_url}/v1/chat/completions", json=body, timeout=120).json()


def test_the_openai_package_gets_the_answer_llama_server_gives(api, llama_server):
    url, _ = api
    answer = openai.OpenAI(base_url=url, api_key="none").chat.completions.create(
        model=LLAMA, messages=QUESTION, temperature=0, max_tokens=12
    )
    straight = direct(llama_server, QUESTION, max_tokens=12)
    assert answer.choices[0].message.content == straight["choices"][0]["message"]["content"] != ""
    assert answer.usage.prompt_tokens == straight["usage"]["prompt_tokens"]
    assert answer.usage.completion_tokens == straight["usage"]["completion_tokens"]
    assert answer.choices[0].finish_reason == straight["choices"][0]["finish_reason"]


def test_streaming_with_usage_and_a_length_limit(api):
    url, _ = api
    chunks = list(
        openai.OpenAI(base_url=url, api_key="none").chat.completions.create(
            model=LLAMA,
            messages=LONG,
            temperature=0,
            max_completion_tokens=20,
            stream=True,
            stream_options={"include_usage": True},
        )
    )
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    finishes = [c.choices[0].finish_reason for c in chunks if c.choices and c.choices[0].finish_reason]
    assert len(text) > 20 and finishes == ["length"]
    assert chunks[-1].choices == [] and chunks[-1].usage.completion_tokens == 20


def test_the_async_client_asks_three_at_once(api):
    url, _ = api

    async def ask_three():
        client = openai.AsyncOpenAI(base_url=url, api_key="none")
        asks = [client.chat.completions.create(model=LLAMA, messages=QUESTION, temperature=0, max_tokens=8) for _ in range(3)]
        return await asyncio.gather(*asks)

    answers = asyncio.run(ask_three())
    assert len({a.choices[0].message.content for a in answers}) == 1 and answers[0].choices[0].message.content


def test_a_stop_text_ends_the_answer_before_it(api, llama_server):
    url, _ = api
    whole = direct(llama_server, LONG, max_tokens=40)["choices"][0]["message"]["content"]
    stop = whole.split()[4]  # a word well inside the answer
    answer = openai.OpenAI(base_url=url, api_key="none").chat.completions.create(
        model=LLAMA, messages=LONG, temperature=0, max_tokens=40, stop=[stop]
    )
    assert answer.choices[0].message.content == whole[: whole.index(stop)]
    assert answer.choices[0].finish_reason == "stop"


def test_a_prompt_over_the_window_is_context_length_exceeded_with_both_numbers(api):
    url, _ = api
    history = [{"role": "user", "content": "word " * 800}, {"role": "assistant", "content": "ok"}] * 3
    with pytest.raises(openai.BadRequestError) as caught:
        openai.OpenAI(base_url=url, api_key="none").chat.completions.create(
            model=LLAMA, messages=[*history, *QUESTION], stream=True
        )
    assert caught.value.code == "context_length_exceeded"
    assert "maximum context length is" in caught.value.message and "resulted in" in caught.value.message


def test_langchain_invokes_and_streams(api, llama_server):
    url, _ = api
    model = ChatOpenAI(base_url=url, api_key="none", model=LLAMA, temperature=0, max_tokens=12)
    straight = direct(llama_server, QUESTION, max_tokens=12)["choices"][0]["message"]["content"]
    assert model.invoke(QUESTION[0]["content"]).content == straight
    pieces = [chunk.content for chunk in model.stream(QUESTION[0]["content"])]
    assert len([p for p in pieces if p]) > 2 and "".join(pieces) == straight


def test_curl_with_a_plain_request_body(api):
    url, _ = api
    body = {
        "model": LLAMA,
        "messages": [{"role": "system", "content": "You are a helpful assistant."}, *QUESTION],
        "temperature": 0.7,
        "top_p": 0.8,
        "max_tokens": 16,
    }
    done = subprocess.run(
        ["curl", "-sS", f"{url}/chat/completions", "-H", "Content-Type: application/json", "-d", json.dumps(body)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    answer = json.loads(done.stdout)
    assert answer["object"] == "chat.completion" and answer["choices"][0]["message"]["content"].strip()


def test_the_builtin_native_model_answers_behind_the_api(api):
    url, _ = api
    client = openai.OpenAI(base_url=url, api_key="none")
    messages = [{"role": "user", "content": "What is the capital of France?"}]
    answer = client.chat.completions.create(model="builtin-gemma3-270m", messages=messages, temperature=0, max_tokens=8)
    assert "Paris" in answer.choices[0].message.content and answer.usage.prompt_tokens > 5
    card = next(c for c in client.models.list().data if c.id == "builtin-gemma3-270m")
    assert card.owned_by == "native" and card.model_extra["max_model_len"] == 8192


def test_a_busy_native_model_queues_the_pages_request_behind_the_apis(api):
    url, config = api
    story = {"role": "user", "content": "Write a very long story about a cat who travels around the world."}
    body = {"model": "builtin-gemma3-270m", "messages": [story], "max_tokens": 200, "temperature": 0, "stream": True}
    with httpx.Client(timeout=120) as client, client.stream("POST", f"{url}/chat/completions", json=body) as answering:
        lines = filter(None, answering.iter_lines())
        while not (line := next(lines)).startswith("data:") or '"content": ""' in line:
            pass  # loading comments and the role chunk: wait until the worker answers the API's request
        page = chat(
            "builtin-gemma3-270m",
            "What is the capital of Japan?",
            options=ChatOptions(temperature=0, max_tokens=8),
            config=config,
        )
        events = page.events()
        first = next(events)
        assert isinstance(first, Status) and first.kind == "queued" and first.position == 1
        rest = "".join(e for e in events if isinstance(e, str))
        assert "data: [DONE]" in list(lines)  # the API's answer was finished first
    assert "Tokyo" in rest


def test_a_client_that_goes_away_stops_the_server_at_once(api, llama_server):
    url, _ = api
    with httpx.Client(timeout=60) as client:
        body = {"model": LLAMA, "messages": LONG, "max_tokens": 900, "stream": True}  # the slot holds 1024
        with client.stream("POST", f"{url}/chat/completions", json=body) as answer:
            lines = answer.iter_lines()
            for _ in range(6):
                next(lines)
            assert llama_server.busy_slots() == 1
    assert llama_server.wait_idle(timeout=3.0)


def test_a_full_queue_is_429_and_the_first_requests_are_still_answered(llama_server, tmp_path):
    config = make_config(
        tmp_path,
        DATA_DIR=str(tmp_path / "data"),
        LOCAL_SERVER_URLS=json.dumps({"llamacpp": f"{llama_server.base_url}/v1"}),
        AVAIL_LLM_MODELS=json.dumps([LLAMA]),
        PARALLEL_REQUESTS=json.dumps({"llamacpp": 1}),
        API_MAX_WAITING="1",
    )
    with serving_api(config) as url, httpx.Client(timeout=120) as client:
        body = {"model": LLAMA, "messages": LONG, "max_tokens": 300, "temperature": 0, "stream": True}
        with client.stream("POST", f"{url}/chat/completions", json=body) as first:
            lines = first.iter_lines()
            next(lines)  # answering: the gate's one place is taken
            waiting = httpx.Client(timeout=120)
            second = waiting.send(waiting.build_request("POST", f"{url}/chat/completions", json=body), stream=True)
            second_lines = filter(None, second.iter_lines())  # kept: a closed iterator would hang up
            heard = [next(second_lines), next(second_lines)]
            assert heard[1].startswith(": Waiting"), heard  # after the role chunk, a comment while it waits its turn
            third = client.post(f"{url}/chat/completions", json={**body, "stream": False})
            assert third.status_code == 429 and third.json()["error"]["code"] == "rate_limit_exceeded"
            assert "data: [DONE]" in list(lines)
        assert "data: [DONE]" in list(second_lines)
        second.close()
        waiting.close()


def test_a_thinking_model_sends_its_thought_as_reasoning_content(thinking_llama, tmp_path):
    config = make_config(
        tmp_path, DATA_DIR=str(tmp_path / "data"), LOCAL_SERVER_URLS=json.dumps({"llamacpp": f"{thinking_llama.base_url}/v1"})
    )
    with serving_api(config) as url:
        client = openai.OpenAI(base_url=url, api_key="none")
        whole = client.chat.completions.create(model=LLAMA, messages=QUESTION, temperature=0, max_tokens=160)
        chunks = list(client.chat.completions.create(model=LLAMA, messages=QUESTION, temperature=0, max_tokens=160, stream=True))
    message = whole.choices[0].message
    assert len(message.model_extra["reasoning_content"]) >= 20 and "think>" not in (message.content or "")
    thought = "".join(c.choices[0].delta.model_extra.get("reasoning_content") or "" for c in chunks if c.choices)
    said = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert len(thought) >= 20 and "think>" not in said + thought


def test_the_page_serves_the_api_on_its_own_port_and_counts_its_use_in_settings(llama_server, tmp_path, context):
    settings = {"LOCAL_SERVER_URLS": {"llamacpp": f"{llama_server.base_url}/v1"}, "AVAIL_LLM_MODELS": [LLAMA]}
    with running_app(tmp_path, settings) as app:
        client = openai.OpenAI(base_url=app.url.rstrip("/") + "/v1", api_key="none")
        assert LLAMA in [card.id for card in client.models.list().data]
        started = time.monotonic()
        answer = client.chat.completions.create(model=LLAMA, messages=QUESTION, temperature=0, max_tokens=8)
        assert answer.choices[0].message.content and time.monotonic() - started < 60
        assert "set-cookie" not in httpx.get(app.url.rstrip("/") + "/v1/models").headers
        page = open_page(context, app.url)
        page.get_by_text("参数与系统提示").click()
        usage = page.locator("#api-usage")
        usage.get_by_text("API 用量").wait_for(timeout=15000)
        row = f"| {answer.usage.prompt_tokens} | {answer.usage.completion_tokens} |"
        assert "（无密钥，本机）" in usage.inner_text() and "/v1" in usage.inner_text()
        assert str(answer.usage.prompt_tokens) in usage.inner_text(), (row, usage.inner_text())


def test_serve_runs_the_api_alone_until_interrupted(tmp_path):
    import os
    import signal
    import sys

    from tests.support.servers.running import free_port

    private = tmp_path / "config_private.py"
    private.write_text(f'DATA_DIR = "{tmp_path}/data"\nDISCOVER_LOCAL_MODELS = False\n', encoding="utf-8")
    port = free_port()
    env = {**os.environ, "LOCALSCHOLAR_CONFIG": str(private)}
    serving = subprocess.Popen(
        [sys.executable, "-m", "request_llms", "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert serving.stdout.readline().strip() == f"LocalScholar API: http://127.0.0.1:{port}/v1"
        cards = httpx.get(f"http://127.0.0.1:{port}/v1/models", timeout=30).json()["data"]
        assert [card["id"] for card in cards if "chat" in card["capabilities"]] == ["builtin-gemma3-270m"]
        assert httpx.get(f"http://127.0.0.1:{port}/", timeout=30).status_code == 404  # no page: the API only
    finally:
        serving.send_signal(signal.SIGINT)
        code = serving.wait(timeout=30)
    said = serving.stderr.read()
    assert code == 130 and "Traceback" not in said  # the command line's exit after Ctrl-C
