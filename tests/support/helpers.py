"""Small helpers the tests share: a configuration made from a private file's text, and the command line."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from request_llms.config_loader import ROOT, Config, load_config


def make_config(tmp_path: Path, text: str = "", **environ: str) -> Config:
    """Settings from config.py plus a config_private.py holding `text`, plus `environ`."""
    private = tmp_path / "config_private.py"
    private.write_text(text, encoding="utf-8")
    return load_config(environ=environ, private=private)


def cli_env(tmp_path: Path, **settings: str) -> dict[str, str]:
    """The environment of `python -m request_llms` with an empty config_private.py in `tmp_path`, plus `settings`."""
    private = tmp_path / "config_private.py"
    private.touch()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OLLAMA_", "VLLM_", "LOCAL_", "API_"))}
    return {**env, "LOCALSCHOLAR_CONFIG": str(private), "LANG": "C.UTF-8", "PYTHONUNBUFFERED": "1", **settings}


def cli(env: dict[str, str], *args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    """Run `python -m request_llms ARGS` from the repository root."""
    return subprocess.run(
        [sys.executable, "-m", "request_llms", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout
    )
