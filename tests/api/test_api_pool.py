"""The API in front of a pool of two real llama-servers, one killed in the middle of an answer: a whole
(non-streamed) answer is asked again on the other server and arrives complete; a streamed one ends with
an error event that names the server, after the text so far (the openai package as the client)."""

from __future__ import annotations

import os
import signal
import threading
import time

import openai
import pytest

from tests.support.api_server import serving_api
from tests.support.helpers import make_config
from tests.support.servers.running import RunningServer, start_llama_server

pytestmark = pytest.mark.servers

LLAMA = "llamacpp-gemma-270m"
LONG = [{"role": "user", "content": "Write a very long story about a cat who travels around the world."}]


@pytest.fixture
def pool(tmp_path):
    servers = [start_llama_server(parallel=2, ctx=2048, extra_args=["--threads", "1"]) for _ in range(2)]
    urls = [f"{server.base_url}/v1" for server in servers]
    config = make_config(tmp_path, f"LOCAL_SERVER_URLS = {{'llamacpp': {urls!r}}}\nDATA_DIR = {str(tmp_path / 'data')!r}\n")
    with serving_api(config) as url:
        yield openai.OpenAI(base_url=url, api_key="unused", max_retries=0), servers
    for server in servers:
        server.stop()


def kill_the_busy_one(servers: list[RunningServer], killed: list[RunningServer]) -> None:
    """Wait until a server is generating, then kill it (SIGKILL, its whole process group)."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        for server in servers:
            if server.busy_slots():
                time.sleep(0.3)  # some tokens out
                os.killpg(server.process.pid, signal.SIGKILL)
                killed.append(server)
                return
        time.sleep(0.02)


def test_a_whole_answer_cut_on_one_server_arrives_complete_from_the_other(pool):
    client, servers = pool
    killed: list[RunningServer] = []
    threading.Thread(target=kill_the_busy_one, args=(servers, killed), daemon=True).start()
    answer = client.chat.completions.create(model=LLAMA, messages=LONG, max_tokens=120, temperature=0)
    assert killed, "no server was generating"
    assert answer.choices[0].finish_reason == "length"  # the whole 120 tokens, from the server still up
    assert answer.usage.completion_tokens >= 100
    assert len(answer.choices[0].message.content) > 200


def test_a_streamed_answer_cut_on_one_server_ends_with_an_error_naming_it(pool):
    client, servers = pool
    killed: list[RunningServer] = []
    threading.Thread(target=kill_the_busy_one, args=(servers, killed), daemon=True).start()
    text = []
    with pytest.raises(openai.APIError) as caught:
        for chunk in client.chat.completions.create(model=LLAMA, messages=LONG, max_tokens=400, temperature=0, stream=True):
            if chunk.choices and chunk.choices[0].delta.content:
                text.append(chunk.choices[0].delta.content)
    assert killed and "".join(text).strip()
    assert f"{killed[0].base_url}/v1" in str(caught.value) and "another server of the pool" in str(caught.value)
    again = client.chat.completions.create(model=LLAMA, messages=LONG, max_tokens=16, temperature=0)
    assert again.choices[0].message.content.strip()  # the next request goes to the server still up
