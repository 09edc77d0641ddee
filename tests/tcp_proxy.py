"""A loopback TCP relay that cuts a connection when the client sends a given byte pattern:
the network failing in the middle of a state write, for real, without touching the server.

`cut="before"` closes both sides without forwarding the chunk that holds the pattern (the
server never sees the request); `cut="after"` forwards it, waits until the server answers
(or 2 s), then closes both sides without relaying that answer (the server did the work, the
client never learns it). Only the first match is cut unless `times` says otherwise.
Listens on 127.0.0.1 only; every connection and the relay itself stop with `close()`.
"""

from __future__ import annotations

import contextlib
import select
import socket
import threading
from typing import Literal

Cut = Literal["before", "after"]


class TcpProxy:
    def __init__(self, upstream_port: int) -> None:
        self.upstream_port = upstream_port
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = int(self._listener.getsockname()[1])
        self._pattern: bytes | None = None
        self._cut: Cut = "before"
        self._times = 0
        self.cuts = 0
        self._lock = threading.Lock()
        self._sockets: list[socket.socket] = []
        self._closed = threading.Event()
        threading.Thread(target=self._accept, daemon=True).start()

    def cut_on(self, pattern: bytes, cut: Cut, times: int = 1) -> None:
        with self._lock:
            self._pattern, self._cut, self._times = pattern, cut, times

    def close(self) -> None:
        self._closed.set()
        with contextlib.suppress(OSError):
            self._listener.close()
        with self._lock:
            for sock in self._sockets:
                with contextlib.suppress(OSError):
                    sock.close()

    def _accept(self) -> None:
        while not self._closed.is_set():
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            try:
                server = socket.create_connection(("127.0.0.1", self.upstream_port), timeout=5)
            except OSError:
                client.close()
                continue
            with self._lock:
                self._sockets += [client, server]
            threading.Thread(target=self._relay, args=(client, server), daemon=True).start()

    def _match(self, chunk: bytes) -> Cut | None:
        with self._lock:
            if self._pattern is None or self._times <= 0 or self._pattern not in chunk:
                return None
            self._times -= 1
            self.cuts += 1
            return self._cut

    def _relay(self, client: socket.socket, server: socket.socket) -> None:
        try:
            while not self._closed.is_set():
                ready, _, _ = select.select([client, server], [], [], 0.5)
                for sock in ready:
                    chunk = sock.recv(65536)
                    if not chunk:
                        return
                    if sock is client:
                        cut = self._match(chunk)
                        if cut == "before":
                            return
                        server.sendall(chunk)
                        if cut == "after":
                            select.select([server], [], [], 2)
                            return
                    else:
                        client.sendall(chunk)
        except OSError:
            return
        finally:
            for sock in (client, server):
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)
                sock.close()
