"""Command line: `python -m tests.support.servers provision` or `python -m tests.support.servers up`.

provision  builds every cached artefact (GGUF, Ollama runtime, HF folder, vLLM and GPT Academic venvs),
           printing each step and its time; CI runs it to warm the cache up front.
up         starts llama-server, Ollama and vLLM, prints their URLs and models, and keeps
           them running until Ctrl-C.
"""

from __future__ import annotations

import argparse
import signal
import sys
import time
from collections.abc import Callable
from pathlib import Path

from . import provision, running

STEPS: list[tuple[str, Callable[[], Path]]] = [
    ("gemma GGUF", provision.gemma_gguf),
    ("Ollama runtime", provision.ollama_runtime),
    ("gemma Hugging Face folder", provision.gemma_hf_folder),
    ("vLLM venv", provision.vllm_python),
    ("GPT Academic venv", provision.gpt_academic_python),
]


def provision_all() -> int:
    provision.say(f"cache: {provision.cache_root()}")
    total = time.monotonic()
    for label, step in STEPS:
        started = time.monotonic()
        provision.say(f"{label}: start")
        try:
            path = step()
        except provision.ProvisionError as exc:
            provision.say(f"{label}: FAILED\n{exc}")
            return 1
        provision.say(f"{label}: ready in {time.monotonic() - started:.2f} s: {path}")
    provision.say(f"all ready in {time.monotonic() - total:.2f} s")
    return 0


def up() -> int:
    try:
        servers = running.start_all()
    except (provision.ProvisionError, running.ServerStartError) as exc:
        provision.say(f"FAILED\n{exc}")
        return 1
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    try:
        for server in servers:
            print(
                f"{server.name:13} {server.base_url}  model={server.model}  "
                f"started in {server.startup_s:.1f} s  log={server.log_path}",
                flush=True,
            )
        print("Running; press Ctrl-C to stop them.", flush=True)
        while all(server.running for server in servers):
            time.sleep(1)
        dead = [server.name for server in servers if not server.running]
        provision.say(f"stopped by itself: {', '.join(dead)}")
        return 1
    except KeyboardInterrupt:
        return 0
    finally:
        for server in servers:
            server.stop()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.support.servers", description=__doc__)
    parser.add_argument("command", choices=["provision", "up"])
    args = parser.parse_args(argv)
    return provision_all() if args.command == "provision" else up()


if __name__ == "__main__":
    sys.exit(main())
