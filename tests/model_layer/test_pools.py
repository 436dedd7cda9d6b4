"""Pools in the configuration and routing among their servers, with nothing started: each server's real gate
holds the load, and closed ports on 127.0.0.1 refuse like a server that went away."""

from __future__ import annotations

import json
import time

import pytest

from request_llms.chat import chat
from request_llms.errors import (
    AuthFailed,
    BackendUnreachable,
    ConfigError,
    ContextTooLong,
    ModelNotFound,
    ServerError,
    StreamCut,
)
from request_llms.model_spec import parse_model
from request_llms.pools import STICKY_MARGIN
from request_llms.registry import check_allowed
from request_llms.request import CancelToken
from request_llms.retry import FIRST_WAIT, JITTER, is_server_failure
from request_llms.runtime import runtime_of
from request_llms.servers import COOL_FIRST
from tests.support.helpers import cli, cli_env, make_config
from tests.support.servers.running import free_port

MODEL = "vllm-qwen"


def closed_urls(count: int) -> list[str]:
    """Addresses where nothing listens (and, being new, with gates no other test has used)."""
    return [f"http://127.0.0.1:{free_port()}/v1" for _ in range(count)]


def pool_config(tmp_path, urls: list[str], **environ: str):
    return make_config(tmp_path, f"VLLM_API_BASE = {urls!r}\nPARALLEL_REQUESTS = {{'vllm': 2}}\n", **environ)


def servers_of(config, model: str = MODEL) -> list:
    """The servers of `model` in the runtime of `config`, in configured order."""
    spec = parse_model(model)
    return runtime_of(config).backend_for(spec).servers(spec)


def urls_of(config, model: str) -> list[str]:
    return [server.url for server in servers_of(config, model)]


def hold(config, url: str, count: int) -> list:
    """Take `count` turns at the gate of `url` (requests in flight there); returns the gate to leave later."""
    server = next(server for server in servers_of(config) if server.url == url)
    gate = runtime_of(config).gate(parse_model(MODEL), server)
    for _ in range(count):
        turn = gate.wait_turn(CancelToken(), "test")
        with pytest.raises(StopIteration):
            next(turn)  # a free slot: the turn is taken at once
    return [gate] * count


def release(gates: list) -> None:
    for gate in gates:
        gate.leave()


class Picker:
    """Routing's choice among the servers of a pool, by URL, as `chat()` asks for it."""

    def __init__(self, config, model: str = MODEL) -> None:
        self.runtime, self.spec = runtime_of(config), parse_model(model)
        self.servers = servers_of(config, model)

    def __call__(self, tried: list[str] = (), affinity: str | None = None) -> str | None:
        skipped = [server for server in self.servers if server.url in tried]
        chosen = self.runtime.router.pick(self.spec, self.servers, skipped, affinity)
        return chosen.url if chosen else None

    def server(self, url: str):
        return next(server for server in self.servers if server.url == url)


# ---- configuration


def test_every_server_setting_takes_a_list_a_joined_string_or_one_url(tmp_path):
    a, b = "http://10.0.0.1:11434", "http://10.0.0.2:11434"
    listed = make_config(tmp_path, f"OLLAMA_API_BASE = {[a, b + '/']!r}\n")
    assert urls_of(listed, "ollama-qwen") == [a, b]
    joined = make_config(tmp_path, OLLAMA_API_BASE=f"{a}, {b}")
    assert urls_of(joined, "ollama-qwen") == [a, b]
    env_json = make_config(tmp_path, VLLM_API_BASE=f'["{a}/v1", "{b}/v1"]')
    assert urls_of(env_json, MODEL) == [f"{a}/v1", f"{b}/v1"]
    presets = make_config(tmp_path, f"LOCAL_SERVER_URLS = {{'lmstudio': ['{a}/v1', '{b}/v1'], 'jan': '{a}/v1'}}\n")
    assert urls_of(presets, "lmstudio-m") == [f"{a}/v1", f"{b}/v1"]
    assert urls_of(presets, "jan-m") == [f"{a}/v1"]
    one = make_config(tmp_path)
    assert urls_of(one, "ollama-qwen") == ["http://localhost:11434"]


@pytest.mark.parametrize(
    "line",
    [
        'OLLAMA_API_BASE = ["http://10.0.0.1:11434", 5]\n',
        'OLLAMA_API_BASE = ["ftp://10.0.0.1"]\n',
        "OLLAMA_API_BASE = []\n",
        'LOCAL_SERVER_URLS = {"vllm": ["http://a:1/v1", "not a url"]}\n',
    ],
)
def test_a_bad_server_list_stops_with_the_key_and_the_fix(tmp_path, line):
    with pytest.raises(ConfigError) as caught:
        make_config(tmp_path, line)
    key = line.split(" ")[0]
    assert key in caught.value.en and key in caught.value.zh
    assert "list" in caught.value.en


def test_an_identifier_names_a_pool_in_quotes_and_only_the_configuration_may(tmp_path):
    spec = parse_model('openai-compat-m(base_url="http://10.0.0.1:9000/v1, http://10.0.0.2:9000/v1/")')
    assert spec.base_url == "http://10.0.0.1:9000/v1,http://10.0.0.2:9000/v1"
    assert parse_model(spec.text) == spec
    config = make_config(tmp_path, f"AVAIL_LLM_MODELS = [{spec.text!r}]\n")
    assert urls_of(config, spec.text) == ["http://10.0.0.1:9000/v1", "http://10.0.0.2:9000/v1"]
    assert check_allowed(spec.text, config) == (spec,)
    with pytest.raises(Exception, match="base_url"):
        check_allowed('openai-compat-m(base_url="http://10.0.0.1:9000/v1, http://10.9.9.9:1/v1")', config)


# ---- routing


def test_the_least_busy_server_gets_the_request_and_equal_ones_take_turns(tmp_path):
    urls = closed_urls(3)
    config = pool_config(tmp_path, urls)
    spec, pick = parse_model(MODEL), Picker(config)
    held = hold(config, urls[0], 2) + hold(config, urls[1], 1)
    try:
        assert pick() == urls[2]
        assert pick([urls[2]]) == urls[1]  # the next try skips the one tried
    finally:
        release(held)
    assert {pick() for _ in range(3)} == set(urls)
    assert runtime_of(config).capacity(spec) == 6  # a plugin sends as many pieces at once as the pool takes
    assert runtime_of(config).waiting(spec) == 0


def test_requests_routed_at_one_moment_count_at_their_gates_before_they_reach_them(tmp_path):
    """Requests picked while none has reached a gate yet (each first reads its server's slots) spread by the
    picks themselves; a request that never comes gives its count back."""
    urls = closed_urls(2)
    config = pool_config(tmp_path, urls)
    spec, pick = parse_model(MODEL), Picker(config)
    router = runtime_of(config).router
    held = hold(config, urls[0], 1)
    try:
        chosen = [router.pick(spec, pick.servers, [], None, expect=True) for _ in range(5)]
        counts = {url: sum(server.url == url for server in chosen) for url in urls}
        assert counts == {urls[0]: 2, urls[1]: 3}, counts  # 1 held + 2 routed against 3 routed: without the count, 0 + 5
        assert pick.server(urls[0]).gate.load == pick.server(urls[1]).gate.load == 1.5
        for server in chosen:
            server.gate.unexpect()
        assert pick.server(urls[0]).gate.load == 0.5 and pick.server(urls[1]).gate.load == 0
    finally:
        release(held)


def test_failed_and_stopped_requests_of_a_pool_leave_nothing_counted_at_its_gates(tmp_path):
    urls = closed_urls(2)
    config = pool_config(tmp_path, urls, MAX_RETRY="3")
    for _ in range(3):
        with pytest.raises(BackendUnreachable):
            list(chat(MODEL, "hello", config=config))
    stopped = CancelToken()
    stopped.cancel()
    list(chat(MODEL, "hello", config=config, cancel=stopped))
    assert [server.gate.load for server in servers_of(config)] == [0, 0]


def test_a_conversation_keeps_its_server_until_it_is_busier_by_the_margin(tmp_path):
    urls = closed_urls(2)
    config = pool_config(tmp_path, urls)
    pick = Picker(config)
    first = pick(affinity="conversation-1")
    other = next(url for url in urls if url != first)
    assert STICKY_MARGIN == 0.5
    held = hold(config, first, 0)
    try:
        assert [pick(affinity="conversation-1") for _ in range(4)] == [first] * 4
        held = hold(config, first, 1)  # half its two slots busy, the other idle: 0.5 is not below the margin
        assert pick(affinity="conversation-1") == other
        assert pick(affinity="conversation-1") == other  # and it stays there now
    finally:
        release(held)


def test_a_failed_server_rests_longer_each_time_and_the_rest_take_its_requests(tmp_path):
    urls = closed_urls(2)
    config = pool_config(tmp_path, urls)
    runtime, spec, pick = runtime_of(config), parse_model(MODEL), Picker(config)
    backend, router, first, second = runtime.backend_for(spec), runtime.router, pick.server(urls[0]), pick.server(urls[1])
    down = BackendUnreachable(en="down", zh="不可用")
    assert router.failed(backend, spec, first, down)
    assert first.failures == 1 and COOL_FIRST - 0.5 < first.until - time.monotonic() <= COOL_FIRST
    assert router.failed(backend, spec, first, down)  # a request already under way when it went down
    assert first.failures == 1
    assert [pick() for _ in range(4)] == [urls[1]] * 4
    assert runtime.capacity(spec) == 2  # a resting server's slots are not counted
    first.until = time.monotonic() - 1  # its rest is over, and it fails again
    assert router.failed(backend, spec, first, down)
    assert first.failures == 2 and first.until - time.monotonic() > COOL_FIRST
    router.failed(backend, spec, second, down)
    assert pick() == urls[1]  # all resting: the one back first is tried
    lines = [server.line(spec.model, None) for server in pick.servers]
    assert [line.state for line in lines] == ["resting", "resting"]
    assert "暂停中" in lines[0].text("zh") and "resting" in lines[0].text("en")


def test_a_server_without_the_model_is_left_out_for_that_model_only(tmp_path):
    urls = closed_urls(2)
    config = pool_config(tmp_path, urls)
    spec, pick, other = parse_model(MODEL), Picker(config), Picker(config, "vllm-llama")
    pick.server(urls[0]).note_model(spec.model, has=False)
    assert {pick() for _ in range(4)} == {urls[1]}
    assert {other() for _ in range(4)} == set(urls)
    assert pick.server(urls[0]).line(spec.model, None).state == "missing"
    pick.server(urls[0]).note_model(spec.model, has=True)
    assert {pick() for _ in range(4)} == set(urls)


def test_choosing_a_server_asks_nothing_over_the_network(tmp_path):
    """A llama-server pool whose slots were never read: picking reads the gates as they are, sending nothing."""
    urls = closed_urls(2)
    config = make_config(tmp_path, f"LOCAL_SERVER_URLS = {{'llamacpp': {urls!r}}}\n")
    pick = Picker(config, "llamacpp-m")
    for _ in range(4):
        assert pick() in urls
    assert all(server.learned_at == 0 and server.slots is None for server in pick.servers)
    assert runtime_of(config).capacity(parse_model("llamacpp-m")) == 8  # four each, as configured, until they say
    runtime_of(config).learn(parse_model("llamacpp-m"))  # asking is a call of its own
    assert all(server.learned_at > 0 for server in pick.servers)


def test_two_runtimes_of_settings_that_name_one_server_share_no_gate(tmp_path):
    urls = closed_urls(1)
    (tmp_path / "one").mkdir(), (tmp_path / "two").mkdir()
    one, two = pool_config(tmp_path / "one", urls), pool_config(tmp_path / "two", urls)
    first, second = servers_of(one)[0], servers_of(two)[0]
    assert first.url == second.url and first is not second and first.gate is not second.gate
    held = hold(one, urls[0], 2)
    try:
        assert first.gate.active == 2 and second.gate.active == 0
    finally:
        release(held)


def test_only_the_servers_own_failures_move_a_request():
    assert is_server_failure(BackendUnreachable(en="x", zh="x"))
    assert is_server_failure(StreamCut(en="x", zh="x"))
    assert is_server_failure(ServerError(en="x", zh="x", status=503))
    assert not is_server_failure(ServerError(en="x", zh="x", status=400))
    assert not is_server_failure(ContextTooLong(en="x", zh="x"))
    assert not is_server_failure(AuthFailed(en="x", zh="x", status=401))


def test_a_pool_that_does_not_answer_names_every_server_it_tried(tmp_path):
    urls = closed_urls(3)
    stream = chat(MODEL, "hello", config=pool_config(tmp_path, urls, MAX_RETRY="1"))
    with pytest.raises(BackendUnreachable) as caught:
        list(stream)
    tried = [url for url in urls if url in caught.value.en]
    assert len(tried) == 2  # MAX_RETRY 1: the first server and one more, never a third
    assert "The pool's servers failed 2 time(s)" in caught.value.en and "池中的服务共失败 2 次" in caught.value.zh
    assert stream.skipped == tried[:1] or stream.skipped == tried[1:]
    assert stream.pooled

    alone = chat(MODEL, "hello", config=pool_config(tmp_path, urls[:1], MAX_RETRY="0"))
    with pytest.raises(BackendUnreachable) as caught:
        list(alone)
    assert "pool" not in caught.value.en and not alone.pooled


def test_a_pool_where_no_server_has_the_model_says_so_without_asking(tmp_path):
    urls = closed_urls(2)
    config = pool_config(tmp_path, urls)
    for server in servers_of(config):
        server.note_model("qwen", has=False)
    stream = chat(MODEL, "hello", config=config)
    with pytest.raises(ModelNotFound) as caught:
        list(stream)
    assert "None of the 2 servers of the pool has qwen" in caught.value.en and "2 个服务都没有 qwen" in caught.value.zh
    assert stream.skipped == []


def test_a_pool_whose_servers_all_failed_waits_and_tries_them_again_within_max_retry(tmp_path):
    urls = closed_urls(2)
    stream = chat(MODEL, "hello", config=pool_config(tmp_path, urls, MAX_RETRY="3"))
    started = time.monotonic()
    with pytest.raises(BackendUnreachable) as caught:
        list(stream)
    assert "failed 4 time(s)" in caught.value.en and all(url in caught.value.en for url in urls)
    assert time.monotonic() - started >= 2 * FIRST_WAIT * (1 - JITTER)  # waits between the rounds, as for one server
    assert len(stream.skipped) == 3 and set(stream.skipped) == set(urls)  # the fourth failure ends the request


def test_stop_while_a_pool_waits_between_rounds_ends_quietly(tmp_path):
    urls = closed_urls(2)
    cancel = CancelToken()
    stream = chat(MODEL, "hello", cancel=cancel, config=pool_config(tmp_path, urls, MAX_RETRY="5"))
    started = time.monotonic()
    for _ in stream.events():
        if len(stream.skipped) == 2:  # both failed once: the wait before the next round begins
            cancel.cancel()
    assert stream.text == "" and stream.cancelled and len(stream.skipped) == 2
    assert time.monotonic() - started < 0.5


def test_list_says_each_line_in_the_language_of_the_setting(tmp_path):
    closed = closed_urls(2)
    env = cli_env(
        tmp_path,
        LANGUAGE="zh",
        LOCAL_SERVER_URLS=json.dumps({"llamacpp": closed}),
        AVAIL_LLM_MODELS=json.dumps(["builtin-gemma3-270m", "llamacpp-m", "builtin-gemma3-270m&llamacpp-m"]),
    )
    shown = cli(env, "list").stdout
    assert "内置的小型演示模型" in shown and "tiny built-in" not in shown
    assert "服务未启动" in shown and f"└ {closed[0]}  无法连接" in shown
    english = cli({**env, "LANGUAGE": "en"}, "list").stdout
    assert "tiny built-in demo model" in english and f"└ {closed[1]}  down" in english
