"""LocalScholar's API (request_llms/api) served by uvicorn in a thread of the test process, on a free port."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import uvicorn

from request_llms.api.serve import api_app
from tests.support.servers.running import free_port


@contextmanager
def serving_api(config) -> Iterator[str]:
    """The base URL (`http://127.0.0.1:PORT/v1`) of the API on `config`, until the block ends."""
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(api_app(config), host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True, name="test-api")
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError(f"the API did not start on port {port}")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}/v1"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
