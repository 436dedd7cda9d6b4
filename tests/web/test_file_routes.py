"""Every route of Gradio's that names a file by a path is one the owner gate checks, closes, or serves only
Gradio's own bundled files: a route a future Gradio adds fails here until it is judged."""

from __future__ import annotations

import gradio as gr
from gradio.routes import App

from webui.owners import CLOSED_ROUTES, FILE_ROUTES

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
