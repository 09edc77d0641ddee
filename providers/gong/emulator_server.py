"""Serving the Gong emulator over HTTP: loopback only unless asked, and bounded by request
count and time so that tests and CI never leave a server running.

Standard library only (wsgiref); `crmform emulator` and the subprocess tests use it.
"""

from __future__ import annotations

import ipaddress
import sys
import time
from collections.abc import Callable
from typing import Any
from wsgiref.handlers import SimpleHandler
from wsgiref.simple_server import ServerHandler, WSGIRequestHandler, WSGIServer, make_server
from wsgiref.types import WSGIApplication


class _Handler(ServerHandler):
    def handle_error(self) -> None:
        # wsgiref's run() catches everything, Ctrl-C and SIGTERM included, and answers 500:
        # a stop signal that arrives while a response is being written would be swallowed
        # and the server would go on serving. Let the stop through to serve().
        if isinstance(sys.exc_info()[1], KeyboardInterrupt):
            raise
        super().handle_error()

    def close(self) -> None:
        if getattr(self, "status", None) is None:  # stopped before answering: nothing to log
            SimpleHandler.close(self)
            return
        super().close()


class _QuietHandler(WSGIRequestHandler):
    verbose = False

    def log_message(self, format: str, *args: Any) -> None:
        if self.verbose:
            super().log_message(format, *args)

    def handle(self) -> None:
        # WSGIRequestHandler.handle, with a handler that lets a stop signal through.
        self.raw_requestline = self.rfile.readline(65537)
        if len(self.raw_requestline) > 65536:
            self.requestline = self.request_version = self.command = ""
            self.send_error(414)
            return
        if not self.parse_request():
            return
        handler = _Handler(
            self.rfile,
            self.wfile,  # type: ignore[arg-type]  # typeshed: BufferedIOBase, wsgiref: IO
            self.get_stderr(),
            self.get_environ(),
            multithread=False,
        )
        handler.request_handler = self  # type: ignore[attr-defined]
        handler.run(self.server.get_app())  # type: ignore[attr-defined]


class _CountingServer(WSGIServer):
    handled = 0

    def process_request(self, request: Any, client_address: Any) -> None:
        self.handled += 1
        super().process_request(request, client_address)


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
    """Serve `app` over HTTP until the bounds are reached or Ctrl-C; returns requests handled.

    `ready(port)` is called once listening, with the actual port (useful with port 0).
    Only loopback addresses unless `allow_remote`: an emulator accepts any schema upload.
    """
    if not allow_remote and not _is_loopback(host):
        raise ValueError(
            f"Refusing to serve the Gong emulator on {host}: it is not a loopback address. "
            "Use 127.0.0.1 (or ::1), or allow remote hosts explicitly."
        )
    handler = type("_Handler", (_QuietHandler,), {"verbose": verbose})
    server = make_server(host, port, app, server_class=_CountingServer, handler_class=handler)
    deadline = None if max_seconds is None else time.monotonic() + max_seconds
    try:
        if ready is not None:
            ready(server.server_address[1])
        while max_requests is None or server.handled < max_requests:
            if deadline is not None:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    break
                server.timeout = remaining
            server.handle_request()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return server.handled


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False
