"""Smoke tests: each real server (tests/support/servers) starts and answers a short chat request."""

from __future__ import annotations

import httpx
import pytest

from tests.support.servers.running import RunningServer

# The first run on a fresh machine provisions inside the fixtures (vLLM: ~4 min install).
pytestmark = pytest.mark.timeout(1200)

QUESTION = [{"role": "user", "content": "What is the capital of France?"}]


def _client(server: RunningServer) -> httpx.Client:
    return httpx.Client(base_url=server.base_url, timeout=120.0, trust_env=False)


def _openai_chat(server: RunningServer) -> str:
    with _client(server) as client:
        response = client.post(
            "/v1/chat/completions",
            json={"model": server.model, "messages": QUESTION, "max_tokens": 16, "temperature": 0},
        )
    response.raise_for_status()
    return response.json()["choices"][0]["message"]["content"]


def test_llama_server_chat(llama_server: RunningServer) -> None:
    assert _openai_chat(llama_server).strip()


def test_llama_server_slots(llama_server: RunningServer) -> None:
    with _client(llama_server) as client:
        response = client.get("/slots")
    response.raise_for_status()
    slots = response.json()
    assert len(slots) == 4
    assert all(slot["n_ctx"] > 0 for slot in slots)


def test_ollama_chat(ollama_server: RunningServer) -> None:
    with _client(ollama_server) as client:
        response = client.post(
            "/api/chat",
            json={
                "model": ollama_server.model,
                "messages": QUESTION,
                "stream": False,
                "options": {"num_predict": 16, "temperature": 0},
            },
        )
    response.raise_for_status()
    body = response.json()
    assert body["done"] is True
    assert body["message"]["content"].strip()


def test_vllm_chat(vllm_server: RunningServer) -> None:
    assert _openai_chat(vllm_server).strip()


def test_vllm_models_report_max_model_len(vllm_server: RunningServer) -> None:
    with _client(vllm_server) as client:
        response = client.get("/v1/models")
    response.raise_for_status()
    (entry,) = response.json()["data"]
    assert entry["id"] == "gemma-270m"
    assert entry["max_model_len"] == 2048
