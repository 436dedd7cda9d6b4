"""Who is asking, and which files they may download.

A user is the signed-in name, or, without sign-in, a random id the server gives the browser in an
HttpOnly cookie sealed with a secret that stays on the server (`DATA_DIR/page.secret`). Files the page
hands out (exports, plugin outputs) live in the app's own file cache under `DATA_DIR/files`, in a
folder per user and conversation; `OwnerGate` serves a file there only to its owner and nothing else
in the cache at all (404 for everyone else, so a link reveals nothing).
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import shutil
import uuid
from http.cookies import SimpleCookie
from pathlib import Path
from urllib.parse import parse_qsl, urlencode

from userfiles import data_dir, inside, user_digest, user_dir

FILE_ROUTES = ("/gradio_api/file=", "/gradio_api/file/")  # Gradio serves a file by either spelling
# never used here: its reverse proxy to Hugging Face Spaces, and its deep links (a snapshot of any session whose id
# the asker names, saved for anyone who has the link)
CLOSED_ROUTES = ("/gradio_api/proxy=", "/gradio_api/deep_link")
API_ROUTE = "/v1/"  # the OpenAI-compatible API (request_llms/api)
SHELF = "u"  # files/u/<owner digest>/<conversation>/<random>/<name>


def files_root(config) -> Path:
    """The app's own file cache (Gradio's upload and download folder): inside DATA_DIR, never the system temp."""
    return data_dir(config) / "files"


def just_uploaded(config, path: Path) -> bool:
    """Whether `path` is a file a client has just sent: Gradio's copy of an upload in the file cache, not a file
    offered to someone (those lie on the shelf) nor anything outside the cache, and not a link."""
    root = files_root(config).resolve()
    return not path.is_symlink() and path.is_file() and inside(path, root, strictly=True) and not inside(path, root / SHELF)


def page_secret(config) -> bytes:
    """A random key made once and kept in the data folder (mode 600); no route returns it."""
    path = data_dir(config) / "page.secret"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_hex(32), encoding="utf-8")
        path.chmod(0o600)
    return path.read_text(encoding="utf-8").strip().encode()


def cookie_name(port: int | None) -> str:
    """One cookie per port: browsers share cookies between ports of one host."""
    return f"localscholar-owner-{port or 0}"


def seal(secret: bytes, owner_id: str) -> str:
    return f"{owner_id}.{hmac.new(secret, owner_id.encode(), hashlib.sha256).hexdigest()[:32]}"


def unseal(secret: bytes, value: str | None) -> str | None:
    """The browser id in a cookie value, if this server sealed it."""
    if not value or "." not in value:
        return None
    owner_id = value.split(".", 1)[0]
    if re.fullmatch(r"[0-9a-f]{32}", owner_id) and hmac.compare_digest(seal(secret, owner_id), value):
        return owner_id
    return None


def _port(scope_or_request) -> int | None:
    server = scope_or_request.get("server") if isinstance(scope_or_request, dict) else None
    return server[1] if server else None


def user_of(request, secret: bytes) -> str:
    """Who is asking: the signed-in name, else the browser's sealed id, else (no cookie) this page session."""
    if request is not None and getattr(request, "username", None):
        return f"user:{request.username}"
    inner = getattr(request, "request", None)
    if inner is not None:
        owner_id = unseal(secret, inner.cookies.get(cookie_name(_port(inner.scope))))
        if owner_id:
            return f"browser:{owner_id}"
    return f"session:{getattr(request, 'session_hash', None) or uuid.uuid4().hex}"


def offer(config, user: str, conversation_id: str, paths: list[Path]) -> list[str]:
    """Copies of `paths` where only `user` can download them; deleted with the conversation."""
    folder = files_root(config) / SHELF / user_digest(user) / (conversation_id or "none") / uuid.uuid4().hex
    folder.mkdir(parents=True, exist_ok=True)
    copies = []
    for path in paths:
        target = folder / (re.sub(r"[^\w.\-]+", "_", path.name).lstrip(".") or "file")
        shutil.copyfile(path, target)
        copies.append(str(target))
    return copies


def forget(config, user: str, conversation_id: str) -> None:
    """Delete everything made for this conversation: its exports, its plugin outputs and their download copies."""
    if re.fullmatch(r"[0-9a-f]{32}", conversation_id or ""):
        shutil.rmtree(files_root(config) / SHELF / user_digest(user) / conversation_id, ignore_errors=True)
        for part in ("exports", "outputs"):
            shutil.rmtree(user_dir(config, user, part) / conversation_id, ignore_errors=True)


class OwnerGate:
    """ASGI middleware: gives each browser its sealed id and serves cached files only to their owner."""

    def __init__(self, app, config) -> None:
        self.app = app
        self.root = files_root(config).resolve()
        self.secret = page_secret(config)

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or scope["path"].startswith(API_ROUTE):  # the API has keys, not cookies
            return await self.app(scope, receive, send)
        cookies = SimpleCookie()
        for key, value in scope.get("headers", []):
            if key == b"cookie":
                try:
                    cookies.load(value.decode("latin-1"))
                except Exception:  # a malformed cookie header: treated as none
                    pass
        name = cookie_name(_port(scope))
        owner_id = unseal(self.secret, cookies[name].value if name in cookies else None)
        route = next((prefix for prefix in FILE_ROUTES if scope["path"].startswith(prefix)), None)
        if route is not None and not self._may_read(scope["path"][len(route) :], scope, cookies, owner_id):
            return await _not_found(send)
        if scope["path"].startswith(CLOSED_ROUTES):
            return await _not_found(send)
        if b"deep_link" in scope.get("query_string", b""):  # the page opened at a deep link: opened plainly
            scope = {**scope, "query_string": _without_deep_link(scope["query_string"])}
        if owner_id:
            return await self.app(scope, receive, send)
        sealed = seal(self.secret, uuid.uuid4().hex)

        async def send_with_cookie(message):
            if message["type"] == "http.response.start":
                header = f"{name}={sealed}; Path=/; HttpOnly; SameSite=Lax; Max-Age=31536000"
                message = {**message, "headers": [*message.get("headers", []), (b"set-cookie", header.encode())]}
            await send(message)

        return await self.app(scope, receive, send_with_cookie)

    def _may_read(self, raw: str, scope, cookies: SimpleCookie, owner_id: str | None) -> bool:
        """Outside the file cache Gradio's own rules apply; inside it, only what lies in the asker's own shelf is
        served. `raw` is the path as Gradio's route reads it (already decoded; a relative one from the working folder)."""
        try:
            path = Path(raw).resolve()
        except (OSError, ValueError):
            return False
        if not inside(path, self.root):
            return True
        shelves = [self.root / SHELF / user_digest(user) for user in self._users(scope, cookies, owner_id)]
        return any(inside(path, shelf, strictly=True) for shelf in shelves)  # never Gradio's copies of uploads

    @staticmethod
    def _users(scope, cookies: SimpleCookie, owner_id: str | None) -> list[str]:
        users = [f"browser:{owner_id}"] if owner_id else []
        app = scope.get("app")
        tokens, cookie_id = getattr(app, "tokens", None), getattr(app, "cookie_id", None)
        if tokens and cookie_id:
            for key in (f"access-token-{cookie_id}", f"access-token-unsecure-{cookie_id}"):
                if key in cookies and tokens.get(cookies[key].value):
                    users.append(f"user:{tokens[cookies[key].value]}")
        return users


def _without_deep_link(query: bytes) -> bytes:
    kept = [pair for pair in parse_qsl(query.decode("latin-1"), keep_blank_values=True) if pair[0] != "deep_link"]
    return urlencode(kept).encode("latin-1")


async def _not_found(send) -> None:
    await send({"type": "http.response.start", "status": 404, "headers": [(b"content-type", b"text/plain")]})
    await send({"type": "http.response.body", "body": b"Not found"})
