"""LocalScholar's OpenAI-compatible API: `GET /v1/models` and `POST /v1/chat/completions` for every model it offers.

`protocol.py` holds the wire shapes, `routes.py` the two endpoints (thin: they convert and call `chat()`),
`failures.py` the one error shape, `access.py` the keys, `usage.py` the per-key counts. `mount()` adds the
routes to the web page's app; `python -m request_llms serve` runs them alone (`serve.py`).
"""

from __future__ import annotations

from .routes import api_router, mount

__all__ = ["api_router", "mount"]
