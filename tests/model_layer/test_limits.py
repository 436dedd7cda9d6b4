"""Many users at once: each server takes as many requests as PARALLEL_REQUESTS allows, the rest wait in order.

A busy server never holds up a request to another server.
"""

from __future__ import annotations

import threading
import time

import pytest

from request_llms.chat import chat
from request_llms.model_spec import parse_model
from request_llms.request import CancelToken, ChatOptions, Status
from request_llms.runtime import runtime_of
from tests.support.helpers import make_config

LLAMA = "llamacpp-gemma-270m"
OLLAMA = "ollama-gemma3:270m"


@pytest.fixture
def config(tmp_path, llama_server, ollama_server):
    text = (
        f'LOCAL_SERVER_URLS = {{"llamacpp": "{llama_server.base_url}/v1"}}\n'
        f'OLLAMA_API_BASE = "{ollama_server.base_url}"\n'
        'PARALLEL_REQUESTS = {"llamacpp": 1}\n'
    )
    return make_config(tmp_path, text)


def _ask(config, model: str, tokens: int, log: list, name: str, cancel: CancelToken | None = None) -> None:
    stream = chat(
        model, "Tell me about the sea.", options=ChatOptions(max_tokens=tokens, temperature=0), cancel=cancel, config=config
    )
    for event in stream.events():
        log.append((name, time.monotonic(), event))


def _answering(config, tokens: int, log: list, name: str) -> threading.Thread:
    """A request to llama-server on its own thread, returned once its first text has arrived."""
    thread = threading.Thread(target=_ask, args=(config, LLAMA, tokens, log, name))
    thread.start()
    while not any(who == name and isinstance(e, str) for who, _, e in log):
        time.sleep(0.02)
    return thread


def test_a_second_request_waits_its_turn_and_learns_its_place(config):
    log: list = []
    first = _answering(config, 48, log, "first")
    _ask(config, LLAMA, 8, log, "second")
    first.join()
    queued = [e for name, _, e in log if name == "second" and isinstance(e, Status) and e.kind == "queued"]
    assert queued and queued[0].position == 1
    first_done = max(t for name, t, e in log if name == "first")
    second_text = min(t for name, t, e in log if name == "second" and isinstance(e, str))
    assert second_text >= first_done, "the second request was answered before the first finished"


def test_a_busy_server_does_not_hold_up_another_server(config):
    log: list = []
    first = _answering(config, 64, log, "llama")
    _ask(config, OLLAMA, 8, log, "ollama")
    ollama_done = max(t for name, t, e in log if name == "ollama")
    first.join()
    llama_done = max(t for name, t, e in log if name == "llama")
    assert not [e for name, _, e in log if name == "ollama" and isinstance(e, Status)]
    assert ollama_done < llama_done


def test_a_request_cancelled_while_waiting_leaves_the_queue(config):
    log: list = []
    first = _answering(config, 48, log, "first")
    cancel = CancelToken()
    waiting = threading.Thread(target=_ask, args=(config, LLAMA, 8, log, "cancelled", cancel))
    waiting.start()
    while not any(name == "cancelled" for name, _, _ in log):
        time.sleep(0.02)
    cancel.cancel()
    waiting.join(timeout=5)
    assert not waiting.is_alive()
    first.join()
    assert not [e for name, _, e in log if name == "cancelled" and isinstance(e, str)]
    _ask(config, LLAMA, 4, log, "after")  # the gate is free again: no one is left holding a turn
    assert [e for name, _, e in log if name == "after" and isinstance(e, str)]


def test_limits_come_from_the_provider_then_the_kind(tmp_path):
    config = make_config(tmp_path, 'PARALLEL_REQUESTS = {"vllm": 32, "cloud": 2}\n')
    assert runtime_of(config).capacity(parse_model("vllm-qwen")) == 32
    assert runtime_of(config).capacity(parse_model("ollama-qwen")) == 4
    assert runtime_of(config).capacity(parse_model("lmstudio-x")) == 16
    assert runtime_of(config).capacity(parse_model("gpt-4o")) == 2
    assert runtime_of(config).capacity(parse_model("chatglm4")) is None
