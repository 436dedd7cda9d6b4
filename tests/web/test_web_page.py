"""A user runs `python main.py`: one URL on 127.0.0.1, and the page carries the elements the contract names."""

from __future__ import annotations

from pathlib import Path

import httpx

from tests.support.webapp import running_app


def test_main_serves_the_page_on_loopback_with_the_contract_ids(tmp_path, ollama_server):
    settings = {"OLLAMA_API_BASE": ollama_server.base_url, "CUSTOM_FUNCTIONS": {"我的按钮": {"prefix": "Rewrite: "}}}
    with running_app(tmp_path, settings) as app:
        config = httpx.get(app.url + "config", timeout=5).json()
        ids = {c.get("props", {}).get("elem_id") for c in config["components"]}
        assert {"model-select", "user-input", "submit-btn", "stop-btn", "chatbot"} <= ids
        dropdown = next(c for c in config["components"] if c.get("props", {}).get("elem_id") == "model-select")
        values = [choice[1] for choice in dropdown["props"]["choices"]]
        assert "builtin-gemma3-270m" in values and "ollama-gemma3:270m" in values
        assert any(c.get("props", {}).get("value") == "我的按钮" for c in config["components"])
        maps = Path(f"/proc/{app.proc.pid}/maps").read_text()
        assert "libtorch" not in maps and "transformers" not in maps, "the web process loaded torch"
        connections = Path("/proc/net/tcp").read_text() + Path("/proc/net/tcp6").read_text()
        listening = [line.split()[1] for line in connections.splitlines()[1:] if line.split()[3] == "0A"]
        assert f"0100007F:{app.port:04X}" in listening, "the page does not listen on 127.0.0.1"
        assert not [a for a in listening if a.endswith(f":{app.port:04X}") and not a.startswith("0100007F")]
    output = app.log.read_text(encoding="utf-8")
    assert output.startswith(f"LocalScholar 本地学术助手: http://127.0.0.1:{app.port}/") and "0.0.0.0" not in output
