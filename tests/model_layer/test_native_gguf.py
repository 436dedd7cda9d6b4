"""GGUF models on llama.cpp: the built-in model and a `local-NAME` that names a .gguf file run in a worker whose
own llama-server child lives and dies with it."""

from __future__ import annotations

import json
import os
import re
import signal
import threading
import time

import pytest

from request_llms.chat import chat, complete
from request_llms.errors import WeightsMissing, WorkerCrashed
from request_llms.model_spec import parse_model
from request_llms.native.plan import resolve_plan
from request_llms.request import ChatOptions, Status
from request_llms.runtime import runtime_of
from tests.support.helpers import make_config
from tests.support.servers.provision import cache_root, gemma_gguf

BUILTIN = "builtin-gemma3-270m"
QUESTION = "Question: What is the capital of France?\nAnswer:"
STORY = "Write a very long story about a cat who travels around the world."
CJK = re.compile(r"[\u4e00-\u9fff]")


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:  # a zombie has ended
        with open(f"/proc/{pid}/stat", encoding="utf-8") as stat:
            return stat.read().split(")")[-1].split()[0] != "Z"
    except OSError:
        return False


def gone(pid: int, within: float = 10.0) -> bool:
    deadline = time.monotonic() + within
    while alive(pid) and time.monotonic() < deadline:
        time.sleep(0.1)
    return not alive(pid)


def test_a_gguf_path_that_is_not_there_says_so_before_anything_starts(tmp_path):
    config = make_config(tmp_path, LOCAL_MODEL_PATHS=json.dumps({"mine": str(tmp_path / "missing.gguf")}))
    with pytest.raises(WeightsMissing, match="No GGUF file"):
        resolve_plan(parse_model("local-mine"), config)


def test_the_builtin_model_runs_as_it_is_unless_a_quantisation_or_gpu_is_named(tmp_path):
    config = make_config(tmp_path)
    assert resolve_plan(parse_model(BUILTIN), config).runner == "llamacpp"
    assert resolve_plan(parse_model(f"{BUILTIN}(device=cpu)"), config).runner == "llamacpp"
    assert resolve_plan(parse_model(f"{BUILTIN}(quant=INT8)"), config).runner == "transformers"
    assert resolve_plan(parse_model(f"{BUILTIN}(device=cuda)"), config).runner == "transformers"


@pytest.fixture(scope="module")
def config(tmp_path_factory):
    config = make_config(
        tmp_path_factory.mktemp("gguf"),
        LOCAL_MODEL_CACHE=str(cache_root() / "localscholar-cache"),
        LOCAL_MODEL_PATHS=json.dumps({"gemma-file": str(gemma_gguf())}),
    )
    yield config
    runtime_of(config).backend_for(parse_model(BUILTIN)).shutdown()


@pytest.mark.servers
def test_the_builtin_model_loads_in_seconds_with_progress_in_both_languages(config):
    stream = chat(BUILTIN, QUESTION, options=ChatOptions(temperature=0, max_tokens=12), config=config)
    statuses = [e for e in stream.events() if isinstance(e, Status)]
    loading = [s for s in statuses if s.kind == "loading"]
    assert loading and all(CJK.search(s.zh) and not CJK.search(s.en) for s in loading)
    assert "Paris" in stream.text
    info = next(w.info for p, w in runtime_of(config).backend_for(parse_model(BUILTIN)).workers.items() if p.runner == "llamacpp")
    assert info["quant"] == "GGUF" and "llama.cpp" in info["method"] and info["load_seconds"] < 60


@pytest.mark.servers
def test_a_local_name_pointing_at_a_gguf_file_answers_through_its_chat_endpoint(config):
    stream = chat("local-gemma-file", "Say hello.", options=ChatOptions(temperature=0, max_tokens=8), config=config)
    list(stream.events())
    assert stream.text.strip() and stream.usage.completion_tokens <= 8 and stream.usage.prompt_tokens > 3
    memory = runtime_of(config).backend_for(parse_model("local-gemma-file")).memory(parse_model("local-gemma-file"))
    assert "llama-server" in memory["source"] and memory["bytes"] > 100 * 2**20


@pytest.mark.servers
def test_the_tokens_are_counted_by_the_models_own_tokenizer(config):
    backend = runtime_of(config).backend_for(parse_model(BUILTIN))
    assert backend.count_tokens(parse_model(BUILTIN), "Paris is the capital of France.") == 7


@pytest.mark.servers
def test_a_dead_llama_server_is_a_crash_report_and_the_next_request_starts_afresh(config):
    backend = runtime_of(config).backend_for(parse_model(BUILTIN))
    assert complete(BUILTIN, QUESTION, options=ChatOptions(temperature=0, max_tokens=4), config=config).text.strip()
    worker = next(w for p, w in backend.workers.items() if p.runner == "llamacpp" and p.name == BUILTIN)
    server = worker.info["server_pid"]
    stream = chat(BUILTIN, STORY, options=ChatOptions(max_tokens=400), config=config)
    with pytest.raises(WorkerCrashed) as caught:
        for i, _ in enumerate(stream):
            if i == 2:
                os.kill(server, signal.SIGKILL)
    assert "SIGKILL" in caught.value.en and gone(worker.process.pid)
    assert "Paris" in complete(BUILTIN, QUESTION, options=ChatOptions(temperature=0, max_tokens=8), config=config).text


@pytest.mark.servers
def test_llama_server_ends_with_its_worker_however_the_worker_ends(config):
    backend = runtime_of(config).backend_for(parse_model(BUILTIN))
    assert complete(BUILTIN, QUESTION, options=ChatOptions(temperature=0, max_tokens=4), config=config).text.strip()
    worker = next(w for p, w in backend.workers.items() if p.runner == "llamacpp" and p.name == BUILTIN)
    server = worker.info["server_pid"]
    os.kill(worker.process.pid, signal.SIGKILL)  # no chance to clean up
    assert gone(server)
    assert complete(BUILTIN, QUESTION, options=ChatOptions(temperature=0, max_tokens=4), config=config).text.strip()
    worker = next(w for p, w in backend.workers.items() if p.runner == "llamacpp" and p.name == BUILTIN)
    server = worker.info["server_pid"]
    backend.shutdown()  # the idle unload and the app's exit take this way
    assert gone(server)


def builtin_worker(config):
    backend = runtime_of(config).backend_for(parse_model(BUILTIN))
    assert complete(BUILTIN, QUESTION, options=ChatOptions(temperature=0, max_tokens=4), config=config).text.strip()
    return next(w for p, w in backend.workers.items() if p.runner == "llamacpp" and p.name == BUILTIN)


def ask_in_thread(config, prompt: str, tokens: int) -> tuple[threading.Thread, dict]:
    """The answer (or the error) lands in the dict; its event "talking" is set at the first word."""
    result: dict = {"talking": threading.Event()}

    def ask() -> None:
        stream = chat(BUILTIN, prompt, options=ChatOptions(temperature=0, max_tokens=tokens), config=config)
        try:
            for _ in stream:
                result["talking"].set()
            result["text"] = stream.text
        except Exception as error:  # noqa: BLE001 (the test reads what was raised)
            result["error"] = error

    thread = threading.Thread(target=ask)
    thread.start()
    return thread, result


@pytest.mark.servers
def test_a_request_sent_to_a_worker_that_dies_before_taking_it_up_is_answered_by_a_fresh_worker(config):
    worker = builtin_worker(config)
    os.kill(worker.process.pid, signal.SIGSTOP)  # alive, but reads nothing: the request lies in its pipe
    thread, result = ask_in_thread(config, QUESTION, 8)
    deadline = time.monotonic() + 10
    while not worker.turns and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(0.3)
    os.kill(worker.process.pid, signal.SIGKILL)
    thread.join(60)
    assert "error" not in result and "Paris" in result["text"]
    assert not worker.alive and worker.process.exitcode == -signal.SIGKILL


@pytest.mark.servers
def test_a_request_waiting_behind_one_whose_worker_dies_is_answered_by_a_fresh_worker(config):
    worker = builtin_worker(config)
    first, crashed = ask_in_thread(config, STORY, 400)
    assert crashed["talking"].wait(30)
    second, answered = ask_in_thread(config, QUESTION, 8)
    deadline = time.monotonic() + 10
    while len(worker.turns) < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert len(worker.turns) == 2
    os.kill(worker.process.pid, signal.SIGKILL)
    first.join(60)
    second.join(60)
    assert isinstance(crashed.get("error"), WorkerCrashed) and "SIGKILL" in crashed["error"].en  # it was answering
    assert "error" not in answered and "Paris" in answered["text"]


def environment(pid: int) -> dict[str, str]:
    with open(f"/proc/{pid}/environ", "rb") as found:
        pairs = [item.decode(errors="replace").partition("=") for item in found.read().split(b"\0") if item]
    return {name: value for name, _, value in pairs}


@pytest.mark.servers
def test_llama_server_is_not_handed_the_passive_openmp_waits_the_transformers_worker_sets(config, monkeypatch):
    # the worker makes torch's idle threads wait passively (no spinning beside the page); on two cores the same
    # setting halves llama.cpp's speed, so llama-server starts with OpenMP's own default
    monkeypatch.delenv("OMP_WAIT_POLICY", raising=False)
    backend = runtime_of(config).backend_for(parse_model(BUILTIN))
    backend.shutdown()
    assert complete(BUILTIN, QUESTION, options=ChatOptions(temperature=0, max_tokens=4), config=config).text.strip()
    worker = next(w for p, w in backend.workers.items() if p.runner == "llamacpp" and p.name == BUILTIN)
    seen = environment(worker.info["server_pid"])
    assert "OMP_WAIT_POLICY" not in seen and "PATH" in seen
