"""LocalScholar's OpenAI-compatible API: `GET /v1/models`, `POST /v1/chat/completions` for every model it offers,
and `POST /v1/embeddings` for EMBED_MODEL and any offered model that embeds.

`protocol.py` holds the wire shapes, `routes.py` the endpoints (thin: they convert and call `chat()` or
`embed()`; `convert.py` and `embedding.py` do the converting), `failures.py` the one error shape, `access.py`
the keys, `usage.py` the per-key counts. `mount()` adds the routes to the web page's app;
`python -m request_llms serve` runs them alone (`serve.py`).
"""

from __future__ import annotations

from .routes import api_router, mount

__all__ = ["api_router", "mount"]
