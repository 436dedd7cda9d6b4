"""A user runs `python main.py`: one URL on 127.0.0.1, and the page carries the elements the contract names."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import httpx

from tests.servers.running import free_port

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def test_main_serves_the_page_on_loopback_with_the_contract_ids(tmp_path, ollama_server):
    private = tmp_path / "config_private.py"
    private.write_text(
        f'OLLAMA_API_BASE = "{ollama_server.base_url}"\nDATA_DIR = "{tmp_path / "data"}"\n'
        'CUSTOM_FUNCTIONS = {"我的按钮": {"prefix": "Rewrite: "}}\n',
        encoding="utf-8",
    )
    port = free_port()
    env = {**os.environ, "LOCALSCHOLAR_CONFIG": str(private), "GRADIO_ANALYTICS_ENABLED": "False"}
    proc = subprocess.Popen(
        [sys.executable, "main.py", "--port", str(port)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 120
        config = None
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                config = httpx.get(f"http://127.0.0.1:{port}/config", timeout=2).json()
                break
            except httpx.HTTPError:
                time.sleep(0.5)
        assert config is not None, proc.stdout.read() if proc.poll() is not None else "page did not answer"
        ids = {c.get("props", {}).get("elem_id") for c in config["components"]}
        assert {"model-select", "user-input", "submit-btn", "stop-btn", "chatbot"} <= ids
        dropdown = next(c for c in config["components"] if c.get("props", {}).get("elem_id") == "model-select")
        values = [choice[1] for choice in dropdown["props"]["choices"]]
        assert "builtin-gemma3-270m" in values and "ollama-gemma3:270m" in values
        assert any(c.get("props", {}).get("value") == "我的按钮" for c in config["components"])
        maps = Path(f"/proc/{proc.pid}/maps").read_text()
        assert "libtorch" not in maps and "transformers" not in maps, "the web process loaded torch"
    finally:
        proc.terminate()
        proc.wait(timeout=20)
    output = proc.stdout.read()
    assert output.startswith(f"LocalScholar 本地学术助手: http://127.0.0.1:{port}/") and "0.0.0.0" not in output
