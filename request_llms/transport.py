"""HTTP for every backend: shared clients, timeouts, retries that can help, and cancel that closes the socket.

Local servers are reached directly (a system proxy must never stand between the user and
127.0.0.1); cloud APIs go through PROXIES or the environment's proxy. Cancelling shuts the
connection down from any thread, also while waiting for the first byte, so the server stops
generating at once.
"""

from __future__ import annotations

import ipaddress
import json
import socket
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from urllib.parse import urlsplit

import httpx

from .errors import BackendTimeout, LLMError, StreamCut, StreamError, redact
from .request import CancelToken
from .retry import judge_status, wait_before

_clients: dict[tuple, httpx.Client] = {}
_clients_lock = threading.Lock()


class Cancelled(Exception):
    """The request was cancelled; the caller ends its stream quietly."""


def is_local(url: str) -> bool:
    host = urlsplit(url).hostname or ""
    if host in ("localhost", "") or host.endswith(".local"):
        return True
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    return address.is_loopback or address.is_private or address.is_link_local


def client_for(url: str, connect_timeout: float, read_timeout: float, proxy: str = "") -> httpx.Client:
    """One shared client per (direct or proxied, timeouts); local servers never go through a proxy."""
    local = is_local(url)
    plain_http = url.startswith("http://")
    key = (local, plain_http, connect_timeout, read_timeout, "" if local else proxy)
    with _clients_lock:
        if key not in _clients:
            timeout = httpx.Timeout(read_timeout, connect=connect_timeout, pool=connect_timeout)
            if local:
                # A fresh connection per request: connecting on loopback costs well under a millisecond,
                # and it lets cancel reach the socket before the first byte arrives. Plain http needs no
                # TLS context (loading the CA bundle costs ~60 ms).
                _clients[key] = httpx.Client(
                    timeout=timeout,
                    trust_env=False,
                    limits=httpx.Limits(max_keepalive_connections=0),
                    verify=not plain_http,
                )
            else:
                _clients[key] = httpx.Client(timeout=timeout, proxy=proxy or None, trust_env=not proxy)
        return _clients[key]


def _shutdown(stream: object) -> None:
    sock = getattr(stream, "get_extra_info", lambda _name: None)("socket")
    if sock is not None:
        try:
            sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass


@contextmanager
def open_stream(
    client: httpx.Client,
    method: str,
    url: str,
    *,
    json: object,
    headers: dict[str, str],
    cancel: CancelToken,
    unreachable: Callable[[], LLMError],
    status_error: Callable[[int, str], LLMError],
    retries: int,
) -> Iterator[httpx.Response]:
    """Send a streaming request and yield the open response; raise typed errors, `Cancelled` on cancel.

    A refused connection, 408, 409, 429 or 5xx is sent again, up to `retries` more times, before any answer
    has arrived, after the wait of the one retry policy (retry.wait_before, which honours Retry-After).
    """
    for attempt in range(retries + 1):
        if cancel.is_set():
            raise Cancelled
        sockets: list[object] = []

        def trace(event: str, info: dict, sockets: list[object] = sockets) -> None:
            if event == "connection.connect_tcp.complete" and info.get("return_value") is not None:
                sockets.append(info["return_value"])
                if cancel.is_set():
                    _shutdown(info["return_value"])

        unregister = cancel.on_cancel(lambda sockets=sockets: [_shutdown(s) for s in sockets])
        try:
            request = client.build_request(method, url, json=json, headers=headers, extensions={"trace": trace})
            response = client.send(request, stream=True)
        except (httpx.ConnectError, httpx.ConnectTimeout, httpx.UnsupportedProtocol) as exc:
            unregister()
            if cancel.is_set():
                raise Cancelled from None
            error = unreachable()
            error.retryable = not isinstance(exc, httpx.UnsupportedProtocol)
            if error.retryable and attempt < retries:
                if cancel.wait(wait_before(attempt)):
                    raise Cancelled from None
                continue
            raise error from None
        except (httpx.TimeoutException, httpx.TransportError) as exc:
            unregister()
            if cancel.is_set():
                raise Cancelled from None
            if isinstance(exc, httpx.TimeoutException):
                raise _timeout(url) from None
            raise StreamCut(
                en=f"The server at {url} closed the connection before answering ({type(exc).__name__}); try again.",
                zh=f"{url} 的服务在回答前断开了连接（{type(exc).__name__}），请重试。",
            ) from None
        try:
            if response.status_code >= 400:
                error = _status_error(response, status_error)
                if error.retryable and attempt < retries:
                    if cancel.wait(wait_before(attempt, error.retry_after)):
                        raise Cancelled
                    continue
                raise error
            network = response.extensions.get("network_stream")
            if network is not None and network not in sockets:
                sockets.append(network)
                if cancel.is_set():
                    _shutdown(network)
            yield response
            return
        finally:
            unregister()
            response.close()


def _status_error(response: httpx.Response, status_error: Callable[[int, str], LLMError]) -> LLMError:
    """The backend's typed error for an error status, stamped with the data the retry decision uses."""
    body = _read_body(response)
    error = status_error(response.status_code, body)
    error.detail = error.detail or redact(body[:300])
    return judge_status(error, response.status_code, response.headers.get("retry-after"))


@contextmanager
def _reading(cancel: CancelToken, url: str, cut_en: str, cut_zh: str) -> Iterator[None]:
    """Map a failure while a body is read: a timeout to BackendTimeout, a cut to StreamCut, anything after Stop to
    Cancelled. `cut_en`/`cut_zh` end the cut's line."""
    try:
        yield
    except httpx.TimeoutException:
        if cancel.is_set():
            raise Cancelled from None
        raise _timeout(url) from None
    except (httpx.TransportError, httpx.StreamError) as exc:
        if cancel.is_set():
            raise Cancelled from None
        name = type(exc).__name__
        raise StreamCut(
            en=f"The connection to {url} broke {cut_en.format(name=name)}", zh=cut_zh.format(url=url, name=name)
        ) from None
    if cancel.is_set():
        raise Cancelled


def iter_lines(response: httpx.Response, cancel: CancelToken, url: str) -> Iterator[str]:
    """The response's lines as they arrive; a cut connection raises StreamCut, a cancel raises Cancelled."""
    with _reading(
        cancel,
        url,
        "in the middle of the answer ({name}); the text so far is kept.",
        "与 {url} 的连接在回答中途断开（{name}），已保留收到的部分。",
    ):
        for line in response.iter_lines():
            if cancel.is_set():  # lines already buffered are not shown after Stop
                raise Cancelled
            yield line


def read_json(response: httpx.Response, cancel: CancelToken, url: str, who_en: str, who_zh: str) -> dict:
    """The whole body of a JSON answer (an embedding); a cut connection raises StreamCut, a cancel Cancelled."""
    with _reading(cancel, url, "before the answer was complete ({name}).", "与 {url} 的连接在回答完成前断开（{name}）。"):
        body = response.read()
    return json_chunk(body.decode("utf-8", "replace"), who_en, who_zh)


def _timeout(url: str) -> BackendTimeout:
    return BackendTimeout(
        en=f"The server at {url} stopped answering (read timeout); raise READ_TIMEOUT if the model is slow to load.",
        zh=f"{url} 的服务长时间无响应（读取超时）；若模型加载较慢，可调大 READ_TIMEOUT。",
    )


def _read_body(response: httpx.Response) -> str:
    try:
        return response.read()[:4000].decode("utf-8", "replace")
    except httpx.HTTPError:
        return ""


def get_json(
    client: httpx.Client, url: str, headers: dict[str, str] | None = None, timeout: float | None = None, payload: object = None
) -> object:
    """A small GET (or POST when `payload` is given) that returns JSON; raises httpx errors for the caller to judge."""
    kwargs = {"headers": headers or {}}
    if timeout is not None:
        kwargs["timeout"] = httpx.Timeout(timeout, connect=min(timeout, 1.0))
    if payload is None:
        response = client.get(url, **kwargs)
    else:
        response = client.post(url, json=payload, **kwargs)
    response.raise_for_status()
    return response.json()


def json_chunk(text: str, who_en: str, who_zh: str) -> dict:
    """One JSON object of a stream; anything else is a StreamError that keeps the text so far."""
    try:
        chunk = json.loads(text)
    except json.JSONDecodeError:
        chunk = None
    if not isinstance(chunk, dict):
        raise StreamError(
            en=f"{who_en} sent a chunk that is not a JSON object: {text[:120]!r}; the text so far is kept.",
            zh=f"{who_zh}返回了无法解析的数据块：{text[:120]!r}；已保留收到的部分。",
        )
    return chunk
