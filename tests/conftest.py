"""Test tiers: a test that needs a real server, a native model or the browser carries the marker `servers`.

Tests that ask for a server fixture get it here, so no such test can be left out of the tier by
mistake; a test that starts such a thing by other means marks itself (`pytestmark = pytest.mark.servers`).
`python -m pytest -m "not servers"` runs the rest, with nothing started.
"""

import pytest

pytest_plugins = ["tests.support.servers.fixtures", "tests.support.plugin_support", "tests.support.webapp"]

SERVER_FIXTURES = {
    "gemma_gguf",
    "llama_server",
    "embedding_llama",
    "ollama_server",
    "vllm_server",
    "thinking_llama",
    "browser",
    "context",
}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if SERVER_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.servers)
