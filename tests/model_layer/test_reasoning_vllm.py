"""`reasoning` from a real vLLM: a tiny Qwen3-style model (random weights, tokens `<think>` and `</think>` of its
own, a template that opens the thought) served with vLLM's reasoning parser, so the server sends the thought
apart from the answer, and `think=false` reaches the template as `enable_thinking`."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from request_llms.chat import complete
from request_llms.request import ChatOptions
from tests.support.helpers import make_config
from tests.support.servers import running
from tests.support.servers.provision import cache_root

pytestmark = pytest.mark.servers  # starts vLLM
ROOT = Path(__file__).resolve().parents[2]
MODEL = "vllm-gemma-270m(max_token=1024)"  # the served name start_vllm gives any model


@pytest.fixture(scope="module")
def reasoning_vllm():
    folder = cache_root() / "tiny-models" / "qwen3"
    build = f"from tests.support import native_models as m; m.qwen3_thinking_model({str(folder)!r})"
    done = subprocess.run([sys.executable, "-c", build], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    server = running.start_vllm(max_model_len=1024, extra_args=["--model", str(folder), "--reasoning-parser", "deepseek_r1"])
    yield server
    server.stop()  # vLLM idles at ~40% CPU


def test_vllm_sends_the_thought_apart_and_it_never_reaches_the_answer(reasoning_vllm, tmp_path):
    config = make_config(tmp_path, LOCAL_SERVER_URLS=f'{{"vllm": "{reasoning_vllm.base_url}/v1"}}')
    thinking = complete(MODEL, "hi", options=ChatOptions(temperature=0, max_tokens=12), config=config)
    assert thinking.thinking and thinking.text == "", "the model's thought reached the answer"
    plain = complete(MODEL, "hi", options=ChatOptions(temperature=0, max_tokens=12, think="false"), config=config)
    assert plain.text and plain.thinking == "", "enable_thinking=false did not reach the template"
