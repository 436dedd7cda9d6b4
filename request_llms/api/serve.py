"""`python -m request_llms serve [--host H] [--port P]`: the API alone, without the web page."""

from __future__ import annotations

import sys

import uvicorn
from fastapi import FastAPI

from ..text import Text
from .access import refusal
from .routes import api_router

DEFAULT_PORT = 8000


def serve(config, host: str, port: int) -> int:
    """Serve the API until Ctrl-C; 2 when the host needs keys that are not set, 3 when the port is taken."""
    refused = refusal(host, config)
    if refused is not None:
        print(refused.text(config.lang), file=sys.stderr)
        return 2
    shown = f"[{host}]" if ":" in host else host

    class Announced(uvicorn.Server):
        async def startup(self, sockets=None) -> None:
            await super().startup(sockets)
            if self.started:  # listening: the line scripts may wait for
                print(f"LocalScholar API: http://{shown}:{port}/v1", flush=True)

    server = Announced(uvicorn.Config(api_app(config), host=host, port=port, log_level="warning", access_log=False))
    try:
        server.run()
    except SystemExit:  # uvicorn exits 1 when it cannot bind
        taken = Text(
            en=f"Cannot listen on {host}:{port}: another program uses the port; try --port {port + 1}.",
            zh=f"无法在 {host}:{port} 上监听：端口已被占用，可改用 --port {port + 1}。",
        )
        print(taken.text(config.lang), file=sys.stderr)
        return 3
    return 0


def api_app(config):
    """The API as an ASGI app of its own."""
    app = FastAPI(title="LocalScholar API", docs_url=None, redoc_url=None, openapi_url=None)
    app.include_router(api_router(config))
    return app
