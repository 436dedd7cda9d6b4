"""pytest plugin: session-scoped fixtures for the Gemma GGUF and the real servers.

Load it from tests/conftest.py with `pytest_plugins = ["tests.support.servers.fixtures"]`.
Each server starts only when the first test asks for it and stops at session end. A
provisioning or start failure fails the test with the full message; nothing is skipped.
The first vLLM use on a fresh machine installs vLLM (~4 min) unless
`python -m tests.support.servers provision` warmed the cache before.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TypeVar

import pytest

from . import provision, running
from .running import RunningServer

T = TypeVar("T")


def _or_fail(make: Callable[[], T], what: str) -> T:
    try:
        return make()
    except (provision.ProvisionError, running.ServerStartError) as exc:
        message = f"{what}:\n{exc}"
    pytest.fail(message, pytrace=False)


def _serve(start: Callable[[], RunningServer], what: str) -> Iterator[RunningServer]:
    server = _or_fail(start, f"could not start {what}")
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def gemma_gguf() -> Path:
    """Path of the Gemma 3 270M Q4_K_M GGUF in the test cache."""
    return _or_fail(provision.gemma_gguf, "could not provision the gemma GGUF")


@pytest.fixture(scope="session")
def llama_server() -> Iterator[RunningServer]:
    """llama-server (4 slots, 4096 total context), model `gemma-270m`."""
    yield from _serve(running.start_llama_server, "llama-server")


@pytest.fixture(scope="module")
def embedding_llama() -> Iterator[RunningServer]:
    """llama-server with --embeddings --pooling mean and one slot (several make vectors depend on the batch)."""
    args = ["--embeddings", "--pooling", "mean", "--threads", "1"]
    yield from _serve(lambda: running.start_llama_server(parallel=1, extra_args=args), "an embedding llama-server")


@pytest.fixture(scope="session")
def ollama_server() -> Iterator[RunningServer]:
    """Ollama 0.5.4, model `gemma3:270m`, 4 parallel requests."""
    yield from _serve(running.start_ollama, "Ollama")


@pytest.fixture(scope="session")
def vllm_server() -> Iterator[RunningServer]:
    """vLLM on CPU (max_model_len 2048), model `gemma-270m`."""
    yield from _serve(running.start_vllm, "vLLM")


THINKING_GRAMMAR = 'root ::= "<think>" [a-zA-Z ,.]{20,120} "</think>" [a-zA-Z ,.]{10,80}\n'


@pytest.fixture(scope="session")
def thinking_llama() -> Iterator[RunningServer]:
    """llama-server (2 slots, 2048 total context) whose answers a grammar shapes as `<think>...</think>answer`,
    the way a reasoning model without a server-side parser streams them (the tags split over chunks)."""
    grammar = provision.cache_root() / "think.gbnf"
    grammar.write_text(THINKING_GRAMMAR, encoding="utf-8")
    yield from _serve(lambda: running.start_llama_server(parallel=2, ctx=2048, extra_args=["--grammar-file", str(grammar)]),
                      "llama-server with the thinking grammar")  # fmt: skip
