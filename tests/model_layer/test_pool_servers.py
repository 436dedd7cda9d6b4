"""A pool of real llama-servers on 127.0.0.1 behind one model: requests spread by load, a server killed in the
middle of a plugin loses no piece, it is back in the pool once it restarts, a chat cut mid-answer keeps its
text and names the server, and a server without the model is left out. Each test starts its own servers
(it kills them)."""

from __future__ import annotations

import json
import os
import signal
import threading
import time
from collections import Counter

import pytest

from crazy_functions.runtime.parallel import DONE, Piece, ask_in_parallel
from crazy_functions.runtime.session import PluginChatbot
from request_llms.chat import chat
from request_llms.errors import LLMError
from request_llms.listing import list_models
from request_llms.request import ChatOptions
from request_llms.runtime import runtime_of
from tests.support.helpers import cli, cli_env, make_config
from tests.support.servers.running import RunningServer, free_port, start_llama_server
from webui.figures import figures

pytestmark = pytest.mark.servers

MODEL = "llamacpp-gemma-270m"
SHORT = ChatOptions(temperature=0, max_tokens=24)


def start(**kwargs) -> RunningServer:
    return start_llama_server(parallel=2, ctx=2048, extra_args=["--threads", "1", "--threads-batch", "1"], **kwargs)


@pytest.fixture
def pair():
    servers = [start(), start()]
    yield servers
    for server in servers:
        server.stop()


def pool_config(tmp_path, servers: list[RunningServer], *extra: str, **environ: str):
    urls = [f"{server.base_url}/v1" if isinstance(server, RunningServer) else server for server in servers]
    return make_config(tmp_path, f"LOCAL_SERVER_URLS = {{'llamacpp': {urls!r}}}\n" + "".join(extra), **environ)


def kill(server: RunningServer) -> None:
    os.killpg(server.process.pid, signal.SIGKILL)
    server.process.wait()


def ask_at_once(config, count: int, **kwargs) -> list:
    streams, threads = [], []

    def ask(i: int) -> None:
        stream = chat(MODEL, f"Name a colour. ({i})", options=SHORT, config=config, **kwargs)
        streams.append(stream)
        for _ in stream:
            pass

    for i in range(count):
        threads.append(threading.Thread(target=ask, args=(i,)))
        threads[-1].start()
    for thread in threads:
        thread.join(120)
    return streams


def test_requests_spread_over_the_pool_by_load(tmp_path, pair):
    config = pool_config(tmp_path, pair)
    streams = ask_at_once(config, 8)
    used = Counter(stream.server for stream in streams)
    assert set(used) == {f"{server.base_url}/v1" for server in pair}
    assert min(used.values()) >= 3, used  # four slots in all: neither server is left idle while the other queues
    assert all(stream.text.strip() for stream in streams)


def test_a_plugin_loses_no_piece_when_a_server_dies_and_the_server_is_used_again_once_restarted(tmp_path, pair):
    config = pool_config(tmp_path, pair)
    victim = pair[1]
    victim_url = f"{victim.base_url}/v1"
    pieces = [Piece(f"Write two sentences about the number {i}.", max_tokens=48) for i in range(8)]
    chatbot = PluginChatbot(lang="en", config=config)

    def killer() -> None:
        deadline = time.monotonic() + 60
        while victim.busy_slots() == 0 and time.monotonic() < deadline:  # killed while it is answering
            time.sleep(0.02)
        kill(victim)

    threading.Thread(target=killer, daemon=True).start()
    asking = ask_in_parallel(chatbot, [], pieces, {"llm_model": MODEL, "temperature": 0})
    with pytest.raises(StopIteration) as end:
        while True:
            next(asking)
    done = end.value.value
    assert [piece.state for piece in done] == [DONE] * 8, [(p.state, p.error) for p in done]
    assert all(piece.answer.strip() for piece in done)
    health = runtime_of(config).servers.known(victim_url)
    assert health.failures >= 1 and health.reason is not None

    again = start(port=victim.port)
    try:
        deadline = time.monotonic() + 40  # the probe finds it back within its rest (2 s, 4 s, ... while it was down)
        while runtime_of(config).servers.known(victim_url).failures and time.monotonic() < deadline:
            time.sleep(0.2)
        assert runtime_of(config).servers.known(victim_url).failures == 0
        used = Counter(stream.server for stream in ask_at_once(config, 6))
        assert used[victim_url] >= 2, used
    finally:
        again.stop()


def test_a_chat_cut_mid_answer_keeps_its_text_names_the_server_and_the_next_goes_elsewhere(tmp_path, pair):
    config = pool_config(tmp_path, pair)
    stream = chat(MODEL, "Tell a long story about a lighthouse.", options=ChatOptions(temperature=0, max_tokens=400),
                  config=config, affinity="conversation-1")  # fmt: skip
    deltas = iter(stream)
    first = next(deltas)
    answering = next(server for server in pair if f"{server.base_url}/v1" == stream.server)
    kill(answering)
    with pytest.raises(LLMError) as caught:
        for _ in deltas:
            pass
    assert caught.value.partial.startswith(first) and caught.value.partial == stream.text
    assert stream.server in caught.value.en and stream.server in caught.value.zh
    assert "another server of the pool" in caught.value.en and "池中的其他服务" in caught.value.zh

    after = chat(MODEL, "And then?", options=SHORT, config=config, affinity="conversation-1")
    assert "".join(after).strip()
    assert after.server != stream.server
    line = figures(after, "en")
    assert f"server {after.server}" in line and f"服务 {after.server}" in figures(after, "zh")


def test_a_request_that_found_its_server_gone_is_answered_by_another(tmp_path, pair):
    gone = f"http://127.0.0.1:{free_port()}/v1"
    config = pool_config(tmp_path, [gone, pair[0]])
    streams = ask_at_once(config, 4)
    assert {stream.server for stream in streams} == {f"{pair[0].base_url}/v1"}
    assert any(stream.skipped == [gone] for stream in streams)
    assert "after" in figures(next(s for s in streams if s.skipped), "en")
    note = runtime_of(config).catalog.note(MODEL, "en")  # the page's note: the rest as it is now, not as discovery saw it
    assert f"{gone}  resting" in note and f"{pair[0].base_url}/v1  ready" in note


def test_a_server_without_the_model_is_left_out_with_a_notice(tmp_path, pair):
    other = start(alias="another-model")
    try:
        urls = [f"{other.base_url}/v1", f"{pair[0].base_url}/v1"]
        fresh = pool_config(tmp_path, [other, pair[0]])
        answered = chat(MODEL, "Hello", options=SHORT, config=fresh)
        assert "".join(answered).strip() or answered.usage
        assert answered.server == urls[1]  # one went to the server without the model, was told 404, and moved

        config = pool_config(tmp_path, [other, pair[0]], f"AVAIL_LLM_MODELS = [{MODEL!r}]\n")
        entry = next(e for e in list_models(runtime_of(config).backends) if e.identifier == MODEL)
        assert entry.reachable and entry.problem is None
        assert [(line.url, line.state) for line in entry.servers] == [(urls[0], "missing"), (urls[1], "ready")]
        assert f"without this model: {urls[0]}" in entry.detail
        assert {stream.server for stream in ask_at_once(config, 4)} == {urls[1]}
        note = runtime_of(config).catalog.note(MODEL, "zh")
        assert "服务池：2 个服务，1 个可用" in note and "没有此模型" in note
        assert "lacks the model" in runtime_of(config).catalog.note(MODEL, "en")
    finally:
        other.stop()


def test_list_and_check_show_each_server_of_the_pool(tmp_path, pair):
    gone = f"http://127.0.0.1:{free_port()}/v1"
    up = f"{pair[0].base_url}/v1"
    env = cli_env(tmp_path, LOCAL_SERVER_URLS=json.dumps({"llamacpp": [up, gone]}), LANGUAGE="en")
    listed = cli(env, "list")
    assert listed.returncode == 0, listed.stderr
    row = next(line for line in listed.stdout.splitlines() if line.startswith(MODEL))
    assert "pool of 2 servers, 1 ready" in row
    assert f"└ {up}  ready" in listed.stdout and f"└ {gone}  down" in listed.stdout
    shown = json.loads(cli(env, "list", "--json").stdout)
    servers = next(e for e in shown if e["identifier"] == MODEL)["servers"]
    assert [(s["url"], s["state"]) for s in servers] == [(up, "ready"), (gone, "down")]

    checked = cli(env, "check", MODEL, "--concurrency", "1", "--json", timeout=300)
    assert checked.returncode == 0, checked.stderr
    pool, first, second = json.loads(checked.stdout)
    assert pool["pool"] == [up, gone] and pool["probes"][0]["answer"] and not pool["probes"][0]["error"]
    assert first["server"] == up and first["probes"] and not first["error"]
    assert second["server"] == gone and "not running" in second["error"]["en"] and not second["probes"]
    zh = cli({**env, "LANGUAGE": "zh"}, "check", MODEL, "--concurrency", "1", timeout=300)
    assert f"部署验证: {MODEL} @ {gone}" in zh.stdout and "服务池，2 个服务" in zh.stdout


def test_an_ollama_pool_answers_from_the_server_that_is_up(tmp_path, ollama_server):
    gone = f"http://127.0.0.1:{free_port()}"
    config = make_config(tmp_path, OLLAMA_API_BASE=json.dumps([gone, ollama_server.base_url]))
    streams = [chat("ollama-gemma3:270m", "Name a fruit.", options=SHORT, config=config) for _ in range(3)]
    for stream in streams:
        assert "".join(stream).strip()
    assert {stream.server for stream in streams} == {ollama_server.base_url}
    assert [stream.skipped for stream in streams].count([gone]) == 1  # then it rests, and nobody is sent there
    entry = next(e for e in list_models(runtime_of(config).backends) if e.identifier == "ollama-gemma3:270m")
    assert [(line.url, line.state) for line in entry.servers] == [(gone, "resting"), (ollama_server.base_url, "ready")]


def test_a_pool_named_by_base_url_in_the_configuration_is_listed_and_answers(tmp_path, pair):
    gone = f"http://127.0.0.1:{free_port()}/v1"
    identifier = f'openai-compat-gemma-270m(base_url="{pair[0].base_url}/v1, {gone}")'
    config = make_config(tmp_path, f"AVAIL_LLM_MODELS = [{identifier!r}]\nDISCOVER_LOCAL_MODELS = True\n")
    entries = list_models(runtime_of(config).backends)
    entry = next(e for e in entries if e.identifier == identifier)
    assert entry.reachable and [line.state for line in entry.servers] == ["ready", "down"]
    assert [e.identifier for e in entries].count(identifier) == 1
    assert not any(e.source == "discovered" and "gemma-270m" in e.identifier for e in entries)  # no URL-less twin
    answered = chat(runtime_of(config).catalog.allowed(identifier)[0], "Hello", options=SHORT, config=config)
    assert "".join(answered).strip() and answered.server == f"{pair[0].base_url}/v1"
