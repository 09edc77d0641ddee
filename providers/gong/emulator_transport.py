"""The Gong emulator in process, behind httpx: faults look as a network would show them.

`httpx.WSGITransport(app=emulator)` serves the emulator without sockets, but a dropped
connection or a late answer would reach the client as the emulator's own exceptions. This
transport turns them into what a client meets on a real network: a "server disconnected"
error, or a read timeout (the delayed upload then lands later, by the emulator's clock).
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import partial
from wsgiref.types import StartResponse, WSGIApplication, WSGIEnvironment

import httpx

from crmform.providers.gong.emulator_faults import READ_TIMEOUT_KEY, DroppedConnection, LateAnswer

__all__ = ["EmulatorTransport"]


class EmulatorTransport(httpx.BaseTransport):
    """An httpx transport into a WSGI app (the GongEmulator, or a wrapper of it)."""

    def __init__(self, app: WSGIApplication) -> None:
        self._app = app

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        timeouts = request.extensions.get("timeout", {})
        read_timeout = timeouts.get("read") if isinstance(timeouts, dict) else None
        # One WSGITransport per request, so the timeout travels with its own request only.
        wsgi = httpx.WSGITransport(app=partial(_with_timeout, self._app, read_timeout))
        try:
            return wsgi.handle_request(request)
        except DroppedConnection as dropped:
            raise httpx.RemoteProtocolError(
                "Server disconnected without sending a response.", request=request
            ) from dropped
        except LateAnswer as late:
            raise httpx.ReadTimeout("The read operation timed out", request=request) from late


def _with_timeout(
    app: WSGIApplication,
    read_timeout: float | None,
    environ: WSGIEnvironment,
    start_response: StartResponse,
) -> Iterable[bytes]:
    if read_timeout is not None:
        environ[READ_TIMEOUT_KEY] = read_timeout
    return app(environ, start_response)
