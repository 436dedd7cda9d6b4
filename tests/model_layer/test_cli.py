"""A user on the command line: `python -m request_llms list / ask / check / pull`, with exit codes 0, 2, 3 and 130."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys

import pytest

from tests.support.helpers import cli, cli_env
from tests.support.servers.running import free_port

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
QUESTION = "Question: What is the capital of France?\nAnswer:"


def assert_one_clear_line(stderr: str, *words: str) -> None:
    assert "Traceback" not in stderr
    assert 1 <= len(stderr.strip().splitlines()) <= 2, stderr
    for word in words:
        assert word in stderr


def test_ask_streams_the_answer_and_exits_0(tmp_path, llama_server):
    env = cli_env(tmp_path, LOCAL_SERVER_URLS=json.dumps({"llamacpp": f"{llama_server.base_url}/v1"}))
    done = cli(env, "ask", "llamacpp-gemma-270m", QUESTION, "--max-tokens", "12", "--temperature", "0")
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() and done.stdout.endswith("\n")


def test_ask_reads_the_prompt_from_stdin(tmp_path, llama_server):
    env = cli_env(tmp_path, LOCAL_SERVER_URLS=json.dumps({"llamacpp": f"{llama_server.base_url}/v1"}))
    done = subprocess.run(
        [sys.executable, "-m", "request_llms", "ask", "llamacpp-gemma-270m", "-", "--max-tokens", "8"],
        cwd=ROOT, env=env, input=QUESTION, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0 and done.stdout.strip()


def test_ollama_down_is_exit_3_with_ollama_serve(tmp_path):
    done = cli(cli_env(tmp_path, OLLAMA_API_BASE=f"http://127.0.0.1:{free_port()}"), "ask", "ollama-qwen2.5:7b", "hi")
    assert done.returncode == 3
    assert_one_clear_line(done.stderr, "ollama serve")


def test_chinese_locale_gets_the_chinese_line(tmp_path):
    env = cli_env(tmp_path, OLLAMA_API_BASE=f"http://127.0.0.1:{free_port()}", LANG="zh_CN.UTF-8")
    done = cli(env, "ask", "ollama-qwen2.5:7b", "hi")
    assert done.returncode == 3
    assert_one_clear_line(done.stderr, "无法连接", "ollama serve")


def test_a_wrong_ollama_model_name_is_exit_3_with_ollama_pull(tmp_path, ollama_server):
    done = cli(cli_env(tmp_path, OLLAMA_API_BASE=ollama_server.base_url), "ask", "ollama-qwen2.5:7b", "hi")
    assert done.returncode == 3
    assert_one_clear_line(done.stderr, "ollama pull qwen2.5:7b")


@pytest.mark.parametrize(
    "args",
    [
        ("ask", "ollama-qwen(max_token=abc)", "hi"),
        ("ask", "no-such-model", "hi"),
        ("check", "vllm-x(num_ctx=4)"),
    ],
)
def test_bad_input_is_exit_2_naming_the_bad_part(tmp_path, args):
    done = cli(cli_env(tmp_path), *args)
    assert done.returncode == 2
    assert_one_clear_line(done.stderr)


def test_a_bad_option_is_exit_2(tmp_path):
    assert cli(cli_env(tmp_path), "ask", "ollama-x", "hi", "--max-tokens", "many").returncode == 2


def test_a_bad_configuration_value_is_exit_2_naming_the_key(tmp_path):
    done = cli(cli_env(tmp_path, LOCAL_MODEL_DEVICE="gpu"), "list")
    assert done.returncode == 2 and "LOCAL_MODEL_DEVICE" in done.stderr and "Traceback" not in done.stderr


def long_answer(tmp_path, llama_server) -> subprocess.Popen:
    """`ask` for a long story, its stdout and stderr piped to the test."""
    env = cli_env(tmp_path, LOCAL_SERVER_URLS=json.dumps({"llamacpp": f"{llama_server.base_url}/v1"}))
    story = "Write a very long story about a cat who travels around the world."
    return subprocess.Popen(
        [sys.executable, "-m", "request_llms", "ask", "llamacpp-gemma-270m", story, "--max-tokens", "3000"],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip


def test_ctrl_c_mid_answer_stops_the_server_and_exits_130(tmp_path, llama_server):
    proc = long_answer(tmp_path, llama_server)
    assert proc.stdout.read(20)  # the answer has started
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=20)
    assert proc.returncode == 130 and "Traceback" not in err
    assert llama_server.wait_idle(3), "llama-server still generating 3 s after Ctrl-C"


def test_a_reader_that_goes_away_ends_it_quietly_and_stops_the_server(tmp_path, llama_server):
    proc = long_answer(tmp_path, llama_server)
    assert proc.stdout.read(20)  # as `| head -c 20`: read a little, then close the pipe
    proc.stdout.close()
    err = proc.stderr.read()
    assert proc.wait(timeout=20) == 0 and "Traceback" not in err and "BrokenPipe" not in err, err
    assert llama_server.wait_idle(3), "llama-server still generating 3 s after the reader went away"


def test_list_shows_configured_and_discovered_models(tmp_path, ollama_server):
    env = cli_env(tmp_path, OLLAMA_API_BASE=ollama_server.base_url, AVAIL_LLM_MODELS='["gpt-4o-mini", "chatglm4"]')
    done = cli(env, "list", "--json")
    assert done.returncode == 0, done.stderr
    entries = {e["identifier"]: e for e in json.loads(done.stdout)}
    assert entries["ollama-gemma3:270m"]["reachable"] is True and entries["ollama-gemma3:270m"]["source"] == "discovered"
    assert entries["gpt-4o-mini"]["reachable"] is None and "API_KEY" in entries["gpt-4o-mini"]["detail"]
    assert entries["chatglm4"]["reachable"] is False
    table = cli(env, "list")
    assert "ollama-gemma3:270m" in table.stdout and "yes" in table.stdout
    assert "not downloaded — `python -m request_llms pull chatglm4`" in table.stdout
    chinese = cli({**env, "LANGUAGE": "zh"}, "list").stdout
    assert chinese.startswith("模型") and "未下载" in chinese and "not downloaded" not in chinese


def test_check_reports_speed_memory_and_concurrency_for_ollama(tmp_path, ollama_server):
    done = cli(cli_env(tmp_path, OLLAMA_API_BASE=ollama_server.base_url), "check", "ollama-gemma3:270m", "--json", timeout=300)
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert [p["name"] for p in report["probes"]] == ["simple question", "two-turn context", "instruction following"]
    first = report["probes"][0]
    assert first["time_to_first_token"] > 0 and first["tokens_per_second"] > 0 and first["server_tokens_per_second"] > 0
    assert report["concurrency"]["answered"] == 4
    assert report["memory"]["source"] == "ollama /api/ps" and report["memory"]["bytes"] > 100 * 2**20


def test_check_reads_the_memory_of_a_local_llama_server(tmp_path, llama_server):
    env = cli_env(tmp_path, LOCAL_SERVER_URLS=json.dumps({"llamacpp": f"{llama_server.base_url}/v1"}))
    done = cli(env, "check", "llamacpp-gemma-270m", timeout=300)
    assert done.returncode == 0, done.stderr
    assert "Deployment check: llamacpp-gemma-270m" in done.stdout and "Concurrency: 4/4 answered" in done.stdout
    assert "Memory:" in done.stdout


def test_check_refuses_a_burst_beyond_its_bound_before_asking_anything(tmp_path):
    done = cli(cli_env(tmp_path, VLLM_API_BASE=f"http://127.0.0.1:{free_port()}/v1"), "check", "vllm-x", "--concurrency", "3000")
    assert done.returncode == 2 and "1 to 64" in done.stderr and "Traceback" not in done.stderr


def test_check_on_a_dead_server_is_exit_3(tmp_path):
    done = cli(cli_env(tmp_path, VLLM_API_BASE=f"http://127.0.0.1:{free_port()}/v1"), "check", "vllm-gemma-270m")
    assert done.returncode == 3
    assert_one_clear_line(done.stderr, "VLLM_API_BASE")


def test_pull_without_a_network_says_what_failed(tmp_path, ollama_server):
    done = cli(cli_env(tmp_path, OLLAMA_API_BASE=ollama_server.base_url), "pull", "ollama-qwen2.5:0.5b", timeout=120)
    assert done.returncode == 3
    assert "could not download qwen2.5:0.5b" in done.stderr and "Traceback" not in done.stderr


def test_ask_for_an_http_model_imports_no_torch_transformers_or_gradio(tmp_path):
    code = (
        "import sys, runpy\n"
        "sys.argv = ['request_llms', 'ask', 'ollama-x', 'hi']\n"
        "try:\n    runpy.run_module('request_llms', run_name='__main__')\n"
        "except SystemExit:\n    pass\n"
        "print(sorted(m for m in ('torch', 'transformers', 'gradio') if m in sys.modules))\n"
    )
    env = cli_env(tmp_path, OLLAMA_API_BASE=f"http://127.0.0.1:{free_port()}")
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert done.stdout.strip().splitlines()[-1] == "[]"


def test_ask_several_models_at_once_prints_each_answer_under_its_name(tmp_path, llama_server, ollama_server):
    env = cli_env(
        tmp_path,
        OLLAMA_API_BASE=ollama_server.base_url,
        LOCAL_SERVER_URLS=json.dumps({"llamacpp": f"{llama_server.base_url}/v1"}),
    )
    done = cli(env, "ask", "llamacpp-gemma-270m&ollama-gemma3:270m&ollama-missing:1b", QUESTION, "--max-tokens", "8")
    assert done.returncode == 3  # one of the three cannot serve
    out = done.stdout
    assert out.index("── llamacpp-gemma-270m ──") < out.index("── ollama-gemma3:270m ──") < out.index("── ollama-missing:1b ──")
    assert "ollama pull missing:1b" in out
