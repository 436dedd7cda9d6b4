"""Small helpers the tests share: a configuration made from a private file's text."""

from __future__ import annotations

from pathlib import Path

from request_llms.config_loader import Config, load_config


def make_config(tmp_path: Path, text: str = "", **environ: str) -> Config:
    """Settings from config.py plus a config_private.py holding `text`, plus `environ`."""
    private = tmp_path / "config_private.py"
    private.write_text(text, encoding="utf-8")
    return load_config(environ=environ, private=private)
