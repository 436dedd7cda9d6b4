"""Pools in the configuration and routing among their servers, with nothing started: each server's real gate
holds the load, and closed ports on 127.0.0.1 refuse like a server that went away."""

from __future__ import annotations

import json
import time
from dataclasses import replace

import pytest

from request_llms.backends.base import CancelToken
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
from request_llms.limits import gate_for, parallel_for, waiting_for
from request_llms.model_spec import parse_model
from request_llms.pools import COOL_FIRST, STICKY_MARGIN, is_server_failure, pools_of
from request_llms.registry import backend_for, check_allowed
from tests.support.helpers import cli, cli_env, make_config
from tests.support.servers.running import free_port

MODEL = "vllm-qwen"


def closed_urls(count: int) -> list[str]:
    """Addresses where nothing listens (and, being new, with gates no other test has used)."""
    return [f"http://127.0.0.1:{free_port()}/v1" for _ in range(count)]


def pool_config(tmp_path, urls: list[str], **environ: str):
    return make_config(tmp_path, f"VLLM_API_BASE = {urls!r}\nPARALLEL_REQUESTS = {{'vllm': 2}}\n", **environ)


def hold(config, url: str, count: int) -> list:
    """Take `count` turns at the gate of `url` (requests in flight there); returns the gate to leave later."""
    spec = replace(parse_model(MODEL), route=url)
    gate = gate_for(spec, config)
    for _ in range(count):
        turn = gate.wait_turn(CancelToken(), "test")
        with pytest.raises(StopIteration):
            next(turn)  # a free slot: the turn is taken at once
    return [gate] * count


def release(gates: list) -> None:
    for gate in gates:
        gate.leave()


# ---- configuration


def test_every_server_setting_takes_a_list_a_joined_string_or_one_url(tmp_path):
    a, b = "http://10.0.0.1:11434", "http://10.0.0.2:11434"
    listed = make_config(tmp_path, f"OLLAMA_API_BASE = {[a, b + '/']!r}\n")
    assert backend_for(parse_model("ollama-qwen"), listed).pool(parse_model("ollama-qwen")) == [a, b]
    joined = make_config(tmp_path, OLLAMA_API_BASE=f"{a}, {b}")
    assert backend_for(parse_model("ollama-qwen"), joined).pool(parse_model("ollama-qwen")) == [a, b]
    env_json = make_config(tmp_path, VLLM_API_BASE=f'["{a}/v1", "{b}/v1"]')
    assert backend_for(parse_model(MODEL), env_json).pool(parse_model(MODEL)) == [f"{a}/v1", f"{b}/v1"]
    presets = make_config(tmp_path, f"LOCAL_SERVER_URLS = {{'lmstudio': ['{a}/v1', '{b}/v1'], 'jan': '{a}/v1'}}\n")
    assert backend_for(parse_model("lmstudio-m"), presets).pool(parse_model("lmstudio-m")) == [f"{a}/v1", f"{b}/v1"]
    assert backend_for(parse_model("jan-m"), presets).pool(parse_model("jan-m")) == [f"{a}/v1"]
    one = make_config(tmp_path)
    assert backend_for(parse_model("ollama-qwen"), one).pool(parse_model("ollama-qwen")) == ["http://localhost:11434"]


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
    assert backend_for(spec, config).pool(spec) == ["http://10.0.0.1:9000/v1", "http://10.0.0.2:9000/v1"]
    assert check_allowed(spec.text, config) == (spec,)
    with pytest.raises(Exception, match="base_url"):
        check_allowed('openai-compat-m(base_url="http://10.0.0.1:9000/v1, http://10.9.9.9:1/v1")', config)


# ---- routing


def test_the_least_busy_server_gets_the_request_and_equal_ones_take_turns(tmp_path):
    urls = closed_urls(3)
    config = pool_config(tmp_path, urls)
    spec, backend, pools = parse_model(MODEL), backend_for(parse_model(MODEL), config), pools_of(config)
    held = hold(config, urls[0], 2) + hold(config, urls[1], 1)
    try:
        assert pools.pick(backend, spec, urls, [], None) == urls[2]
        assert pools.pick(backend, spec, urls, [urls[2]], None) == urls[1]  # the next try skips the one tried
    finally:
        release(held)
    assert {pools.pick(backend, spec, urls, [], None) for _ in range(3)} == set(urls)
    assert parallel_for(spec, config) == 6  # a plugin sends as many pieces at once as the pool takes
    assert waiting_for(spec, config) == 0


def test_a_conversation_keeps_its_server_until_it_is_busier_by_the_margin(tmp_path):
    urls = closed_urls(2)
    config = pool_config(tmp_path, urls)
    spec, backend, pools = parse_model(MODEL), backend_for(parse_model(MODEL), config), pools_of(config)
    first = pools.pick(backend, spec, urls, [], "conversation-1")
    other = next(url for url in urls if url != first)
    assert STICKY_MARGIN == 0.5
    held = hold(config, first, 0)
    try:
        assert [pools.pick(backend, spec, urls, [], "conversation-1") for _ in range(4)] == [first] * 4
        held = hold(config, first, 1)  # half its two slots busy, the other idle: 0.5 is not below the margin
        assert pools.pick(backend, spec, urls, [], "conversation-1") == other
        assert pools.pick(backend, spec, urls, [], "conversation-1") == other  # and it stays there now
    finally:
        release(held)


def test_a_failed_server_rests_longer_each_time_and_the_rest_take_its_requests(tmp_path):
    urls = closed_urls(2)
    config = pool_config(tmp_path, urls)
    spec, backend, pools = parse_model(MODEL), backend_for(parse_model(MODEL), config), pools_of(config)
    down = BackendUnreachable(en="down", zh="不可用")
    assert pools.failed(backend, spec, urls[0], down)
    health = pools.health(urls[0])
    assert health.failures == 1 and COOL_FIRST - 0.5 < health.until - time.monotonic() <= COOL_FIRST
    assert pools.failed(backend, spec, urls[0], down)  # a request already under way when it went down
    assert health.failures == 1
    assert [pools.pick(backend, spec, urls, [], None) for _ in range(4)] == [urls[1]] * 4
    assert parallel_for(spec, config) == 2  # a resting server's slots are not counted
    health.until = time.monotonic() - 1  # its rest is over, and it fails again
    assert pools.failed(backend, spec, urls[0], down)
    assert health.failures == 2 and health.until - time.monotonic() > COOL_FIRST
    pools.failed(backend, spec, urls[1], down)
    assert pools.pick(backend, spec, urls, [], None) == urls[1]  # all resting: the one back first is tried
    lines = pools.lines(backend, spec, urls, {})
    assert [line.state for line in lines] == ["resting", "resting"]
    assert "暂停中" in lines[0].text("zh") and "resting" in lines[0].text("en")


def test_a_server_without_the_model_is_left_out_for_that_model_only(tmp_path):
    urls = closed_urls(2)
    config = pool_config(tmp_path, urls)
    spec, backend, pools = parse_model(MODEL), backend_for(parse_model(MODEL), config), pools_of(config)
    pools.note_models(urls[0], spec.model, has=False)
    assert {pools.pick(backend, spec, urls, [], None) for _ in range(4)} == {urls[1]}
    other = parse_model("vllm-llama")
    assert {pools.pick(backend, other, urls, [], None) for _ in range(4)} == set(urls)
    assert pools.lines(backend, spec, urls, {urls[1]: True})[0].state == "missing"
    pools.note_models(urls[0], spec.model, has=True)
    assert {pools.pick(backend, spec, urls, [], None) for _ in range(4)} == set(urls)


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
    for url in urls:
        pools_of(config).note_models(url, "qwen", has=False)
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
    assert time.monotonic() - started >= 0.5  # a wait between the rounds, as the transport waits for one server
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
