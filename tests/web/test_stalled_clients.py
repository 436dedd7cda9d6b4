"""Clients that stop reading while their request waits its turn at a server (the connection stays open: not a
closed tab) on the page and on the API, against `python main.py` and a real one-slot llama-server: the server's
queue goes on for everyone else."""

from __future__ import annotations

import threading
import time
import uuid

import httpx
import pytest

from tests.support.servers.running import start_llama_server
from tests.support.webapp import LLAMA, running_app

pytestmark = pytest.mark.servers


def _busy(server) -> bool:
    slots = httpx.get(f"{server.base_url}/slots", timeout=5).json()
    return any(slot.get("is_processing") for slot in slots)


def _stalled_page_request(url: str, send_index: int, question: str) -> httpx.Response:
    """Joins Gradio's queue with a chat request, opens the stream of its events, reads its first line and then
    reads no more (the response is returned open)."""
    session = uuid.uuid4().hex[:11]
    body = {
        "data": [question, LLAMA, 0.0, 1.0, 16, "", None, "en"],
        "fn_index": send_index,
        "session_hash": session,
        "event_data": None,
        "trigger_id": None,
    }
    assert httpx.post(f"{url}gradio_api/queue/join", json=body, timeout=10).status_code == 200
    client = httpx.Client(timeout=None)
    stream = client.send(
        client.build_request("GET", f"{url}gradio_api/queue/data", params={"session_hash": session}), stream=True
    )
    next(stream.iter_lines())
    return stream


def test_clients_that_stop_reading_while_they_wait_do_not_hold_the_queue(tmp_path):
    server = start_llama_server(parallel=1, ctx=2048, extra_args=["--threads", "1", "--ignore-eos"])
    settings = {
        "AVAIL_LLM_MODELS": [LLAMA],
        "LLM_MODEL": LLAMA,
        "LOCAL_SERVER_URLS": {"llamacpp": f"{server.base_url}/v1"},
        "PARALLEL_REQUESTS": {"llamacpp": 1},
    }
    try:
        with running_app(tmp_path, settings) as app:
            config = httpx.get(f"{app.url}config", timeout=10).json()
            send_index = next(dep.get("id", i) for i, dep in enumerate(config["dependencies"]) if dep.get("api_name") == "send")
            api = f"{app.url}v1/chat/completions"
            long = {"model": LLAMA, "messages": [{"role": "user", "content": "Count."}], "max_tokens": 160}
            holder = threading.Thread(target=lambda: httpx.post(api, json=long, timeout=120), daemon=True)
            holder.start()  # the one place is taken
            deadline = time.monotonic() + 30
            while not _busy(server) and time.monotonic() < deadline:
                time.sleep(0.05)
            stalled = [_stalled_page_request(app.url, send_index, "Say one word.")]
            api_client = httpx.Client(timeout=None)
            body = {**long, "max_tokens": 8, "stream": True}
            stalled.append(api_client.send(api_client.build_request("POST", api, json=body), stream=True))  # never read

            began = time.monotonic()
            answer = httpx.post(api, json={**long, "max_tokens": 8}, timeout=150)
            waited = time.monotonic() - began
            assert answer.status_code == 200 and answer.json()["choices"][0]["message"]["content"], answer.text
            for response in stalled:
                response.close()
            log = app.log.read_text(encoding="utf-8")
            assert "Traceback" not in log, log[-3000:]
    finally:
        server.stop()
    assert waited < 120, waited  # the queue went on: without passing over the stalled, this request waits for ever
