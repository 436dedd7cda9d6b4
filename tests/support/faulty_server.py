"""A deliberately broken HTTP server, for faults no real server can be made to produce on demand:
a malformed chunk, a connection cut in the middle of an answer, a rate limit, a server that never answers.

Each connection gets the next scripted reply: a list of byte strings to send, where `CUT` closes the
socket without finishing the response and `HANG` keeps it open, silent, until the server stops.
"""

from __future__ import annotations

import json
import socket
import threading

CUT = object()
HANG = object()


def chunked(body: bytes) -> bytes:
    return b"%x\r\n%s\r\n" % (len(body), body)


def stream_head(content_type: str) -> bytes:
    return f"HTTP/1.1 200 OK\r\nContent-Type: {content_type}\r\nTransfer-Encoding: chunked\r\n\r\n".encode()


def sse(data: dict | str) -> bytes:
    text = data if isinstance(data, str) else json.dumps(data)
    return chunked(f"data: {text}\n\n".encode())


def delta(text: str) -> bytes:
    return sse({"choices": [{"index": 0, "delta": {"content": text}, "finish_reason": None}]})


def plain(status: int, body: dict, headers: str = "") -> bytes:
    data = json.dumps(body).encode()
    return (
        f"HTTP/1.1 {status} X\r\nContent-Type: application/json\r\nContent-Length: {len(data)}\r\n{headers}\r\n".encode() + data
    )


class FaultyServer:
    """Serves scripted replies on 127.0.0.1; `requests` records each request body it got."""

    def __init__(self, *replies: list) -> None:
        self.replies = list(replies)
        self.requests: list[dict] = []
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.stopped = threading.Event()
        self.peer_closed = threading.Event()
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _read_request(self, conn: socket.socket) -> None:
        data = b""
        while b"\r\n\r\n" not in data:
            data += conn.recv(65536)
        head, body = data.split(b"\r\n\r\n", 1)
        length = next((int(line.split(b":")[1]) for line in head.split(b"\r\n") if line.lower().startswith(b"content-length")), 0)
        while len(body) < length:
            body += conn.recv(65536)
        self.requests.append(json.loads(body) if body else {})

    def _serve(self) -> None:
        while not self.stopped.is_set() and self.replies:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            with conn:
                self._read_request(conn)
                for part in self.replies.pop(0):
                    if part is CUT:
                        conn.shutdown(socket.SHUT_RDWR)
                        break
                    if part is HANG:
                        conn.settimeout(0.05)
                        while not self.stopped.is_set():
                            try:
                                if conn.recv(1) == b"":
                                    self.peer_closed.set()
                                    break
                            except TimeoutError:
                                continue
                        break
                    conn.sendall(part)

    def close(self) -> None:
        self.stopped.set()
        try:
            self.sock.shutdown(socket.SHUT_RDWR)  # wakes the accept() of a server with replies left
        except OSError:
            pass
        self.sock.close()
        self.thread.join(timeout=5)

    def __enter__(self) -> FaultyServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
