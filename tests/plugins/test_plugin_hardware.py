"""硬件评估与模型推荐: the machine's facts as the OS reports them, the verdicts they lead to, and the
models a real Ollama has; a stopped Ollama gets one line that says how to start it."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import httpx
import psutil
import pytest

from crazy_functions.hardware_advisor import (
    CPU,
    GIB,
    GPU,
    MODELS,
    NONE,
    PLUGIN,
    hardware_report,
    need_bytes,
    place,
    size_text,
)
from crazy_functions.models.hardware_facts import Gpu, MachineFacts, machine_facts
from request_llms.config_loader import ROOT, get_config
from request_llms.model_spec import parse_model
from tests.support.plugin_support import drive, make_chatbot
from tests.support.servers.running import free_port

MODEL = {model.label: model for model in MODELS}


def _machine(ram_gib: float, gpus: tuple[Gpu, ...] = (), cores: int = 8) -> MachineFacts:
    ram = int(ram_gib * GIB)
    return MachineFacts("Linux", "test CPU", cores, cores, ram, ram, gpus, "nvidia-smi" if gpus else None, False, None, None)


def _row(report: str, name: str) -> list[str]:
    line = next(line for line in report.splitlines() if line.startswith(f"| {name} |"))
    return [cell.strip() for cell in line.strip("|").split("|")]


def _table_identifiers(report: str) -> list[str]:
    rows = [line for line in report.splitlines() if line.startswith("| ") and re.match(r"\| [\w.\- ]+ \| [\d.]+B \|", line)]
    return [identifier for row in rows for identifier in re.findall(r"`([^`]+)`", row)]


@pytest.fixture
def ollama_closed(monkeypatch):
    base = f"http://127.0.0.1:{free_port()}"
    monkeypatch.setenv("OLLAMA_API_BASE", base)
    get_config.cache_clear()
    yield base
    monkeypatch.undo()
    get_config.cache_clear()


def test_machine_facts_match_what_the_os_reports():
    facts = machine_facts()
    assert facts.cpu_cores == os.cpu_count()
    memory = psutil.virtual_memory()
    assert facts.ram_total == memory.total
    assert 0 < facts.ram_available <= facts.ram_total
    assert abs(facts.ram_available - memory.available) < 0.1 * memory.total
    assert facts.disk_free and facts.disk_free > 0
    assert facts.data_folder and Path(facts.data_folder).is_absolute()


def test_machine_facts_never_load_torch():
    code = "import sys; from crazy_functions.models.hardware_facts import machine_facts; machine_facts(); print('torch' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert done.stdout.strip() == "False", done.stderr


def test_the_estimate_is_parameters_times_bytes_plus_the_kv_cache():
    qwen7 = MODEL["Qwen2.5 7B"]
    kv = 2 * 28 * 4 * 128 * 4096 * 2
    assert need_bytes(qwen7, "FP16") == int(7.62e9 * 2 * 1.2 + kv)
    assert need_bytes(qwen7, "INT8") == int(7.62e9 * 1 * 1.2 + kv)
    assert need_bytes(qwen7, "INT4") == int(7.62e9 * 0.5 * 1.2 + kv)


def test_verdicts_follow_the_machine():
    laptop = _machine(16)
    assert place(MODEL["Qwen2.5 32B"], "FP16", laptop) == NONE
    assert place(MODEL["Qwen2.5 7B"], "INT4", laptop) == CPU
    big_gpu = _machine(64, (Gpu("NVIDIA H100", 80 * GIB, 79 * GIB),))
    assert place(MODEL["Qwen2.5 32B"], "FP16", big_gpu) == GPU
    report = hardware_report(big_gpu, None, "http://localhost:11434", "en")
    assert "`vllm-Qwen/Qwen2.5-32B-Instruct`" in _row(report, "Qwen2.5 32B")[-1]
    small_gpu = _machine(32, (Gpu("NVIDIA RTX 3060", 12 * GIB, 11 * GIB),))
    row = _row(hardware_report(small_gpu, None, "http://localhost:11434", "en"), "Qwen2.5 7B")
    assert row[5] == "GPU · up to INT8" and "`ollama-qwen2.5:7b`" in row[-1] and "vllm-" not in row[-1]


def test_the_report_on_this_machine_recommends_cpu_friendly_options(tmp_path, ollama_closed):
    facts = machine_facts()
    if facts.gpus:
        pytest.skip("this machine has a GPU")
    chatbot = make_chatbot(tmp_path, lang="en")
    drive(PLUGIN.run, "", {}, chatbot)
    report = (tmp_path / "out" / "hardware-report.md").read_text(encoding="utf-8")
    assert chatbot.outputs == [tmp_path / "out" / "hardware-report.md"]
    assert report in chatbot[-1][1]
    assert "no NVIDIA GPU found" in report and "Ollama's q4_K_M models on the CPU" in report
    assert f"{facts.cpu_cores}" in report and size_text(facts.ram_total) in report
    if need_bytes(MODEL["Qwen2.5 32B"], "FP16") > facts.ram_available:
        assert _row(report, "Qwen2.5 32B")[2].endswith("❌")
    for name in ("Gemma 3 270M", "Qwen2.5 0.5B"):
        row = _row(report, name)
        assert all(cell.endswith("🟡") for cell in row[2:5]), row
        assert row[5].startswith("CPU (RAM)")
    assert "`ollama-qwen2.5:0.5b`" in _row(report, "Qwen2.5 0.5B")[-1]
    identifiers = _table_identifiers(report)
    assert identifiers and not any(identifier.startswith("vllm-") for identifier in identifiers)
    for identifier in identifiers:
        parse_model(identifier)
    assert f"Ollama is not running ({ollama_closed} cannot be reached)" in report and "`ollama serve`" in report


def test_a_stopped_ollama_is_named_with_its_fix_in_chinese(tmp_path, ollama_closed):
    chatbot = make_chatbot(tmp_path, lang="zh")
    drive(PLUGIN.run, "", {}, chatbot)
    assert f"Ollama 未运行（{ollama_closed} 无法连接）" in chatbot[-1][1] and "`ollama serve`" in chatbot[-1][1]
    assert "## 本机配置" in chatbot[-1][1] and "hardware-report.md" in chatbot[-1][1]


def test_the_models_ollama_has_are_listed_with_their_sizes(ollama_kwargs, ollama_server, tmp_path):
    tags = httpx.get(f"{ollama_server.base_url}/api/tags", timeout=10).json()["models"]
    gemma = next(entry for entry in tags if entry["name"].startswith("gemma3:270m"))
    chatbot = make_chatbot(tmp_path, lang="en")
    drive(PLUGIN.run, "", ollama_kwargs, chatbot)
    report = (tmp_path / "out" / "hardware-report.md").read_text(encoding="utf-8")
    row = _row(report.split("## Models Ollama has", 1)[1], gemma["name"])
    assert row[1] == size_text(gemma["size"]) and row[-1] == f"`ollama-{gemma['name']}`"
    assert "not running" not in report
