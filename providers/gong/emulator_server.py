"""Serving the Gong emulator over HTTP: loopback only unless asked, and bounded by request
count and time so that tests and CI never leave a server running.

Standard library only (wsgiref); `crmform emulator` and the subprocess tests use it.

Requests are served each in its own thread, so that a delayed request (a fault rule) does
not hold up the others, as Gong's servers would not. Ctrl-C and SIGTERM stop the server
between requests, never inside one: a signal that interrupted wsgiref while it wrote an
answer would be swallowed by wsgiref's own error handling, and the server would run on.
"""

from __future__ import annotations

import contextlib
import errno
import selectors
import signal
import socket
import threading
import time
from collections.abc import Callable, Iterator
from socketserver import ThreadingMixIn
from types import FrameType
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer
from wsgiref.types import WSGIApplication

from crmform.providers.gong.settings import is_loopback

__all__ = ["AddressInUse", "RemoteHostRefused", "display_host", "serve"]


class RemoteHostRefused(ValueError):
    """The host is not a loopback address and remote hosts were not allowed."""


class AddressInUse(OSError):
    """Something already listens on that host and port."""

    def __init__(self, host: str, port: int) -> None:
        super().__init__(errno.EADDRINUSE, f"{display_host(host)}:{port} is already in use")
        self.host = host
        self.port = port


class _QuietHandler(WSGIRequestHandler):
    verbose = False

    def log_message(self, format: str, *args: Any) -> None:
        if self.verbose:
            super().log_message(format, *args)


class _Server(ThreadingMixIn, WSGIServer):
    # Threads are joined on close (bounded: every fault delay is), so the count is final.
    daemon_threads = False
    block_on_close = True
    handled = 0

    def process_request(self, request: Any, client_address: Any) -> None:
        self.handled += 1
        super().process_request(request, client_address)


class _Server6(_Server):
    address_family = socket.AF_INET6


def serve(
    app: WSGIApplication,
    host: str = "127.0.0.1",
    port: int = 8765,
    *,
    max_requests: int | None = None,
    max_seconds: float | None = None,
    ready: Callable[[int], None] | None = None,
    verbose: bool = False,
    allow_remote: bool = False,
) -> int:
    """Serve `app` over HTTP until the bounds are reached, Ctrl-C or SIGTERM; returns the
    number of requests handled (all answered: in-flight ones finish first).

    `ready(port)` is called once listening, with the actual port (useful with port 0).
    Only loopback addresses unless `allow_remote`: an emulator accepts any schema upload.
    Raises RemoteHostRefused, AddressInUse, or OSError when it cannot listen.
    """
    bind = host.strip("[]")
    if not allow_remote and not is_loopback(bind):
        raise RemoteHostRefused(
            f"Refusing to serve the Gong emulator on {host}: it is not a loopback address, "
            "and the emulator accepts any upload from anyone who reaches it. Use 127.0.0.1 "
            "(or ::1), or allow remote hosts explicitly."
        )
    server_class = _Server6 if ":" in bind else _Server
    handler = type("_Handler", (_QuietHandler,), {"verbose": verbose})
    try:
        server = server_class((bind, port), handler)
    except OSError as error:
        if error.errno == errno.EADDRINUSE:
            raise AddressInUse(host, port) from error
        raise
    server.set_app(app)
    deadline = None if max_seconds is None else time.monotonic() + max_seconds
    try:
        with _stop_signals() as stop, selectors.DefaultSelector() as selector:
            selector.register(server.socket, selectors.EVENT_READ)
            selector.register(stop.wakeup, selectors.EVENT_READ)
            if ready is not None:
                ready(server.server_address[1])
            while not stop.requested and (max_requests is None or server.handled < max_requests):
                timeout = None if deadline is None else deadline - time.monotonic()
                if timeout is not None and timeout <= 0:
                    break
                events = selector.select(timeout)
                if stop.requested:
                    break
                if any(key.fileobj is stop.wakeup for key, _ in events):
                    stop.drain()  # another signal's byte: not a stop, so do not spin on it
                if any(key.fileobj is server.socket for key, _ in events):
                    server.timeout = 0  # readable: accept without blocking
                    server.handle_request()
    finally:
        server.server_close()
    return server.handled


def display_host(host: str) -> str:
    """The host as it reads in a URL: an IPv6 address in brackets."""
    bare = host.strip("[]")
    return f"[{bare}]" if ":" in bare else bare


class _Stop:
    """Set by Ctrl-C or SIGTERM; `wakeup` becomes readable then, ending the wait."""

    def __init__(self) -> None:
        self.requested = False
        self._reader, self._writer = socket.socketpair()
        self._reader.setblocking(False)
        self._writer.setblocking(False)

    @property
    def wakeup(self) -> socket.socket:
        return self._reader

    @property
    def signal_fd(self) -> int:
        """Where signal.set_wakeup_fd writes (non-blocking, as it requires)."""
        return self._writer.fileno()

    def request(self, signum: int, frame: FrameType | None) -> None:
        self.requested = True
        with contextlib.suppress(OSError):
            self._writer.send(b"\0")

    def drain(self) -> None:
        with contextlib.suppress(OSError):
            while self._reader.recv(512):
                pass

    def close(self) -> None:
        self._reader.close()
        self._writer.close()


@contextlib.contextmanager
def _stop_signals() -> Iterator[_Stop]:
    """While serving, Ctrl-C and SIGTERM ask the loop to stop instead of raising. Only the
    main thread can take signals; elsewhere (tests) the bounds end the loop. A SIGINT that
    was ignored when we started (a background job) stays ignored."""
    stop = _Stop()
    previous: dict[int, Any] = {}
    wakeup_fd = None
    if threading.current_thread() is threading.main_thread():
        for signum in (signal.SIGINT.value, signal.SIGTERM.value):
            current = signal.getsignal(signum)
            if signum == signal.SIGINT and current == signal.SIG_IGN:
                continue
            previous[signum] = signal.signal(signum, stop.request)
        # A signal the kernel hands to another thread (one serving a request, say) does not
        # interrupt the main thread's select, and Python runs handlers only in the main
        # thread: without a wakeup fd the loop would sleep on until its deadline. The C-level
        # handler writes the signal number here from whichever thread received it.
        wakeup_fd = signal.set_wakeup_fd(stop.signal_fd, warn_on_full_buffer=False)
    try:
        yield stop
    finally:
        if wakeup_fd is not None:
            signal.set_wakeup_fd(wakeup_fd)
        for signum, handler in previous.items():
            signal.signal(signum, handler)
        stop.close()
