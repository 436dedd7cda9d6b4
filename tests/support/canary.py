"""A TCP listener on 127.0.0.1 for what must never be reached (a server a user must not choose, a remote image
the page must not fetch): it records every connection made to it."""

from __future__ import annotations

import socket
import threading


class Canary:
    """A listener that records every connection made to it: nothing should ever reach it."""

    def __init__(self) -> None:
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.received: list[bytes] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            with conn:
                conn.settimeout(2)
                try:
                    self.received.append(conn.recv(65536))
                except OSError:
                    self.received.append(b"")

    def close(self) -> None:
        self.sock.close()
