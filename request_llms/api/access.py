"""Who may call the API: anyone on this machine when no keys are set; with API_SERVE_KEYS, only a listed key.

A host other than loopback needs keys (`refusal()` says so at start). Keys are compared in constant time and
never logged; a key is known elsewhere only by its fingerprint (the first 12 hex digits of its SHA-256).
"""

from __future__ import annotations

import hashlib
import hmac

from ..text import Text
from .failures import ApiFailure

LOOPBACK = ("127.0.0.1", "localhost", "::1")


def refusal(host: str, config) -> Text | None:
    """Why the API may not listen on `host` with this configuration; None when it may."""
    if host in LOOPBACK or config["API_SERVE_KEYS"]:
        return None
    return Text(
        en=f"The API would be open to every machine that can reach {host}: set API_SERVE_KEYS "
        '(e.g. ["a-long-random-key"]) in config_private.py, or keep --host 127.0.0.1.',
        zh=f"API 将对所有能访问 {host} 的机器开放：请在 config_private.py 中设置 API_SERVE_KEYS"
        '（如 ["a-long-random-key"]），或保持 --host 127.0.0.1。',
    )


def fingerprint(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()[:12]


def caller(authorization: str | None, config) -> str:
    """The caller's key fingerprint ("" with no keys configured); raises ApiFailure(401) for a missing or wrong key."""
    keys = config["API_SERVE_KEYS"]
    if not keys:
        return ""
    scheme, _, given = (authorization or "").partition(" ")
    given = given.strip() if scheme.lower() == "bearer" else ""
    if given and any(hmac.compare_digest(given.encode(), key.encode()) for key in keys):
        return fingerprint(given)
    raise ApiFailure(
        401,
        Text(
            en="Incorrect or missing API key: send one of API_SERVE_KEYS as `Authorization: Bearer KEY`.",
            zh="API 密钥缺失或不正确：请以 `Authorization: Bearer KEY` 发送 API_SERVE_KEYS 中的一个密钥。",
        ),
        code="invalid_api_key",
    )
