"""Every route of Gradio's that names a file by a path is one the owner gate checks, closes, or serves only
Gradio's own bundled files: a route a future Gradio adds fails here until it is judged."""

from __future__ import annotations

import asyncio
import threading

import gradio as gr
from gradio.routes import App

from tests.support.helpers import make_config
from webui.owners import CLOSED_ROUTES, FILE_ROUTES, OwnerGate

GRADIOS_OWN_FILES = ("/svelte/", "/static/", "/assets/")  # its page's bundled scripts, styles and fonts


def _paths(routes) -> list[str]:
    found = []
    for route in routes:
        inner = getattr(route, "original_router", None)
        found += _paths(inner.routes) if inner is not None else [getattr(route, "path", "")]
    return found


def test_every_route_that_takes_a_path_is_gated_closed_or_gradios_own():
    with gr.Blocks() as demo:
        gr.Markdown("x")
    taking_a_path = [path for path in _paths(App.create_app(demo).routes) if ":path}" in path]
    assert len(taking_a_path) >= 5  # the walk reached the routers Gradio includes
    unjudged = [path for path in taking_a_path if not path.startswith(FILE_ROUTES + CLOSED_ROUTES + GRADIOS_OWN_FILES)]
    assert unjudged == []


def test_a_deep_link_is_closed_and_a_page_opened_at_one_opens_plainly(tmp_path):
    """Gradio's deep links (a snapshot of the session whose id the asker names) are never made or opened."""
    seen: list[dict] = []

    async def app(scope, receive, send):
        seen.append(scope)
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"page"})

    gate = OwnerGate(app, make_config(tmp_path, DATA_DIR=str(tmp_path / "data")))

    def get(path: str, query: bytes) -> int:
        sent: list[dict] = []

        async def send(message):
            sent.append(message)

        scope = {"type": "http", "path": path, "query_string": query, "headers": [], "server": ("127.0.0.1", 7860)}
        # a thread of its own: the browser tests' driver may already run an event loop in this one
        runner = threading.Thread(target=asyncio.run, args=(gate(scope, None, send),))
        runner.start()
        runner.join(10)
        return sent[0]["status"]

    assert get("/gradio_api/deep_link", b"session_hash=someone-elses") == 404 and not seen
    assert get("/", b"deep_link=abc123&lang=zh") == 200
    assert seen[-1]["query_string"] == b"lang=zh"
