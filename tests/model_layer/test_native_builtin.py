"""A newcomer with nothing configured: the built-in Gemma 3 270M answers offline, in a worker process
that streams, stops when asked, survives being killed, and keeps requests in order."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time

import pytest

from request_llms.chat import chat, complete
from request_llms.errors import ConfigError, NoGPU, WorkerCrashed
from request_llms.request import CancelToken, ChatOptions, Status
from request_llms.runtime import runtime_of
from tests.support.helpers import make_config
from tests.support.servers.provision import cache_root

pytestmark = pytest.mark.servers  # native models run in worker processes

MODEL = "builtin-gemma3-270m"
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
QUESTION = "Question: What is the capital of France?\nAnswer:"
STORY = "Write a very long story about a cat who travels around the world."


@pytest.fixture(scope="module")
def config(tmp_path_factory):
    config = make_config(tmp_path_factory.mktemp("native"), LOCAL_MODEL_CACHE=str(cache_root() / "localscholar-cache"))
    yield config
    runtime_of(config).backend_for(chat_spec()).shutdown()


def chat_spec():
    from request_llms.model_spec import parse_model

    return parse_model(MODEL)


def test_the_builtin_model_answers_on_topic_with_loading_progress(config):
    stream = chat(MODEL, QUESTION, options=ChatOptions(temperature=0, max_tokens=12), config=config)
    events = list(stream.events())
    statuses = [e for e in events if isinstance(e, Status)]
    assert statuses and statuses[0].kind == "loading" and "正在加载模型" in statuses[0].zh
    assert "Paris" in stream.text
    assert stream.usage.prompt_tokens > 5 and stream.usage.completion_tokens <= 12


def test_a_plain_question_gets_the_completion_form_and_stays_on_topic(config):
    assert (
        "Tokyo"
        in complete(MODEL, "What is the capital of Japan?", options=ChatOptions(temperature=0, max_tokens=10), config=config).text
    )


def test_cancel_stops_generation_within_a_token_or_two(config):
    cancel = CancelToken()
    stream = chat(MODEL, STORY, options=ChatOptions(max_tokens=400), cancel=cancel, config=config)
    received = []
    for delta in stream:
        received.append(delta)
        if len(received) == 3:
            cancelled_at = time.perf_counter()
            cancel.cancel()
    stopped_after = time.perf_counter() - cancelled_at
    assert len(received) == 3 and stream.cancelled
    assert stopped_after < 2.0  # the worker finished its current token and stopped
    assert "Paris" in complete(MODEL, QUESTION, options=ChatOptions(temperature=0, max_tokens=8), config=config).text


def test_a_killed_worker_is_a_typed_error_at_once_and_the_next_request_restarts_it(config):
    worker = next(iter(runtime_of(config).backend_for(chat_spec()).workers.values()))
    stream = chat(MODEL, STORY, options=ChatOptions(max_tokens=400), config=config)
    with pytest.raises(WorkerCrashed) as caught:
        for i, _ in enumerate(stream):
            if i == 2:
                killed_at = time.perf_counter()
                os.kill(worker.process.pid, signal.SIGKILL)
    assert time.perf_counter() - killed_at < 2.0
    assert "SIGKILL" in caught.value.en and caught.value.partial
    assert "Paris" in complete(MODEL, QUESTION, options=ChatOptions(temperature=0, max_tokens=8), config=config).text


def test_two_requests_at_once_are_answered_in_order_and_the_second_learns_its_place(config):
    results: dict[str, object] = {}

    def ask(name: str, prompt: str, tokens: int) -> None:
        stream = chat(MODEL, prompt, options=ChatOptions(temperature=0, max_tokens=tokens), config=config)
        events = list(stream.events())
        results[name] = (stream, [e for e in events if isinstance(e, Status)], time.perf_counter())

    first = threading.Thread(target=ask, args=("first", STORY, 200))  # long enough to keep the second waiting
    first.start()
    time.sleep(0.3)
    second = threading.Thread(target=ask, args=("second", QUESTION, 30))
    second.start()
    first.join(120)
    second.join(120)
    assert results["first"][0].text and "Paris" in results["second"][0].text
    assert results["first"][2] < results["second"][2]
    assert any(s.kind == "queued" and s.position == 1 for s in results["second"][1])
    assert results["second"][1][-1].kind == "running"
    second = results["second"][0]
    assert second.wait_seconds > 1.0 and second.time_to_first_token < second.wait_seconds  # queueing is not counted as TTFT


def test_a_gpu_asked_for_on_a_machine_without_one_says_use_cpu(config):
    with pytest.raises(NoGPU) as caught:
        list(chat(f"{MODEL}(device=cuda)", QUESTION, config=config))
    assert '"cpu"' in caught.value.en and caught.value.exit_code == 3


def test_int8_or_int4_on_mps_is_refused_before_loading(config):
    with pytest.raises(ConfigError, match="mps"):
        list(chat(f"{MODEL}(device=mps, quant=INT4)", QUESTION, config=config))


@pytest.mark.parametrize("quant", ["FP16", "INT8", "INT4"])
def test_every_quantisation_loads_and_answers_on_cpu(config, quant):
    stream = complete(
        f"{MODEL}(quant={quant}, device=cpu)", QUESTION, options=ChatOptions(temperature=0, max_tokens=8), config=config
    )
    assert stream.text.strip()
    worker = runtime_of(config).backend_for(chat_spec()).workers
    info = next(w.info for p, w in worker.items() if (p.quant, p.device) == (quant, "cpu"))
    methods = {"FP16": "bfloat16", "INT8": "dynamic int8 (Linear layers)", "INT4": "bitsandbytes 4-bit NF4"}
    assert info["device"] == "cpu" and info["quant"] == quant and info["method"] == methods[quant]


def test_the_converted_copy_skips_control_and_image_tokens_in_answers(config):
    from tokenizers import Tokenizer

    converted = f"{MODEL}(quant=FP16, device=cpu)"
    assert complete(converted, QUESTION, options=ChatOptions(temperature=0, max_tokens=4), config=config).text.strip()
    tokenizer = Tokenizer.from_file(str(cache_root() / "localscholar-cache" / "builtin" / "gemma3-270m" / "tokenizer.json"))
    hidden = [tokenizer.token_to_id(name) for name in ("<start_of_image>", "<end_of_turn>", "<unused0>", "<end_of_image>")]
    hello = tokenizer.encode("Hello", add_special_tokens=False).ids
    assert None not in hidden and tokenizer.decode(hello + hidden + hello, skip_special_tokens=True) == "HelloHello"


def test_the_command_line_process_never_imports_torch_for_a_native_model(config):
    code = (
        "import sys, runpy\n"
        f"sys.argv = ['request_llms', 'ask', '{MODEL}', 'Question: 2+2?\\nAnswer:', '--max-tokens', '4']\n"
        "try:\n    runpy.run_module('request_llms', run_name='__main__')\n"
        "except SystemExit:\n    pass\n"
        "print(sorted(m for m in ('torch', 'transformers', 'gradio') if m in sys.modules))\n"
    )
    env = {**os.environ, "LOCAL_MODEL_CACHE": config["LOCAL_MODEL_CACHE"], "LOCALSCHOLAR_CONFIG": os.devnull}
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    lines = done.stdout.strip().splitlines()
    assert len(lines) >= 2 and lines[0].strip(), done.stderr[-1000:]  # the answer arrived
    assert lines[-1] == "[]"


def cli(env: dict[str, str], *args: str, timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "request_llms", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout
    )


def test_the_default_model_answers_the_readme_question_from_the_command_line(config):
    env = {**os.environ, "LOCAL_MODEL_CACHE": config["LOCAL_MODEL_CACHE"], "LOCALSCHOLAR_CONFIG": os.devnull}
    done = cli(env, "ask", config["LLM_MODEL"], QUESTION, "--temperature", "0", "--max-tokens", "16")
    assert done.returncode == 0 and "Paris" in done.stdout
    assert "Loading builtin-gemma3-270m" in done.stderr and "Traceback" not in done.stderr


def test_check_reports_the_workers_memory_and_load_time(config):
    env = {**os.environ, "LOCAL_MODEL_CACHE": config["LOCAL_MODEL_CACHE"], "LOCALSCHOLAR_CONFIG": os.devnull}
    done = cli(env, "check", MODEL, "--json", "--concurrency", "2")
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["probes"][0]["passed"]  # "Paris"
    assert report["memory"]["bytes"] > 200 * 2**20 and report["memory"]["load_seconds"] > 0
    assert report["concurrency"]["answered"] == 2


def test_pull_offline_fails_fast_with_the_fix(tmp_path):
    # A closed local port stands in for the hub, so the test means "no network" on any machine.
    from tests.support.servers.running import free_port

    closed = f"http://127.0.0.1:{free_port()}"
    env = {
        **os.environ,
        "LOCALSCHOLAR_CONFIG": os.devnull,
        "CHATGLM_LOCAL_MODEL_PATH": str(tmp_path / "glm"),
        "MODELSCOPE_DOMAIN": closed,
    }
    started = time.monotonic()
    done = cli(env, "pull", "chatglm4", timeout=60)
    assert time.monotonic() - started < 30
    assert done.returncode == 3 and "Cannot reach ModelScope" in done.stderr and "MODEL_DOWNLOAD_SOURCE" in done.stderr


def test_pull_reports_what_the_hub_said(tmp_path):
    # A plain local web server with no models stands in for a hub mirror (HF_ENDPOINT), so the real download code runs.
    server = subprocess.Popen(
        [sys.executable, "-m", "http.server", "--bind", "127.0.0.1", "0"], cwd=tmp_path, stdout=subprocess.PIPE, text=True
    )
    try:
        port = int(server.stdout.readline().split("port ")[1].split(" ")[0])
        env = {
            **os.environ,
            "LOCALSCHOLAR_CONFIG": os.devnull,
            "MODEL_DOWNLOAD_SOURCE": "huggingface",
            "HF_ENDPOINT": f"http://127.0.0.1:{port}",
            "QWEN_LOCAL_MODEL_PATH": str(tmp_path / "qwen"),
            "HF_HUB_ETAG_TIMEOUT": "5",
        }
        done = cli(env, "pull", "qwen-local", timeout=120)
    finally:
        server.terminate()
        server.wait()
    assert done.returncode == 3, done.stdout + done.stderr
    assert "Downloading Qwen/Qwen2.5-7B-Instruct from Hugging Face failed" in done.stderr and "Traceback" not in done.stderr


def test_the_worker_counts_tokens_with_the_models_own_tokenizer_even_while_it_answers(config, tmp_path, llama_server):
    from request_llms.model_spec import parse_model
    from request_llms.tokens import counter_for

    text = "Large language models can summarise papers. 大模型可以总结论文。" * 20
    native = counter_for(chat_spec(), config)
    assert native.exact and native.source == "native tokenizer"
    llama_config = make_config(tmp_path, f'LOCAL_SERVER_URLS = {{"llamacpp": "{llama_server.base_url}/v1"}}\n')
    served = counter_for(parse_model("llamacpp-gemma-270m"), llama_config)
    assert abs(native(text) - served(text)) <= 2  # the same Gemma tokenizer, as Hugging Face and as GGUF
    cancel = CancelToken()
    stream = chat(MODEL, STORY, options=ChatOptions(max_tokens=200), cancel=cancel, config=config)
    pieces = []
    for delta in stream:
        pieces.append(delta)
        if len(pieces) == 5:
            counts = [native(text) for _ in range(3)]  # answered beside the generation, not after it
            assert len(set(counts)) == 1
        if len(pieces) == 10:
            cancel.cancel()
    assert len(pieces) >= 10, "the answer did not go on after the counts"
