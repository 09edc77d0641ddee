"""The httpx client for Gong's CRM schema API: auth, pacing, retries, clear errors.

Only commands that talk to Gong import this module (it imports httpx at the top).
What goes in and out as JSON is wire.py's; what a response says about itself, parse.py's;
the words of its errors, failures.py's.

A write has three possible ends: accepted (a 2xx carrying Gong's JSON with a requestId),
rejected (a 4xx: Gong said no, nothing changed), or uncertain (UncertainOutcomeError): the
request may have reached Gong and been applied, or may still be, without Gong's answer
saying so. Uncertain are a timeout or a broken connection after the request went out, a
5xx, and a 2xx that is not Gong's answer (a proxy's or a captive portal's page).
"""

from __future__ import annotations

import logging
import random as _random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from types import TracebackType

import httpx

from crmform import __version__
from crmform.engine.errors import ProviderError
from crmform.engine.model import ObjectType
from crmform.engine.ports import FieldWrite, RemoteSchema, RequestPreview, WriteResult
from crmform.providers.gong.failures import (
    CAME_BACK_MAX,
    SNIPPET_MAX,
    Call,
    Explainer,
    Failure,
    json_or_none,
)
from crmform.providers.gong.parse import request_id_of, retry_after_seconds
from crmform.providers.gong.preview import GongPreview
from crmform.providers.gong.settings import (
    FLAG_MAX_RETRY_SECONDS,
    SCHEMA_PATH,
    GongSettings,
    checked_id,
)
from crmform.providers.gong.wire import Sent, decode_listing, encode_upload

__all__ = ["SCHEMA_PATH", "GongClient", "GongSettings", "RetryNotice"]

BACKOFF_BASE = 0.5
BACKOFF_MAX = 30.0

log = logging.getLogger("crmform.gong")

# Failures after which the request may have reached Gong (it was sent, or partly sent, and
# no answer came); a failure to connect, or a request never written, cannot have.
_MAY_HAVE_REACHED = (
    httpx.ReadTimeout,
    httpx.WriteTimeout,
    httpx.ReadError,
    httpx.WriteError,
    httpx.CloseError,
    httpx.RemoteProtocolError,
)


@dataclass(frozen=True, slots=True)
class RetryNotice:
    """One retry about to happen, after waiting `delay` seconds; str() is the line a CLI
    prints to stderr. `retry_after` is True when Gong asked for that wait (Retry-After)."""

    method: str
    path: str
    object_type: ObjectType
    failed_attempt: int
    max_attempts: int
    reason: str
    delay: float
    retry_after: bool = False

    def __str__(self) -> str:
        asked = "the wait Gong asked for; " if self.retry_after else ""
        return (
            f"retrying {self.method} {self.path} for {self.object_type} after {self.reason} "
            f"in {self.delay:.1f}s ({asked}attempt {self.failed_attempt + 1} of "
            f"{self.max_attempts})"
        )


_READ = httpx.ByteStream(b"")


def _unbind(response: httpx.Response) -> None:
    """Break the reference cycle httpx makes of every response.

    httpx.Client binds a response's stream to the response (Response -> BoundSyncStream ->
    Response), so the response, its request and both bodies (a GET answer is megabytes at
    10,000 fields) live until the cycle collector runs, and the CLI keeps that collector
    off (crmform/cli.py). By now the body has been read and the stream closed: an empty
    stream in its place lets each exchange be freed as soon as it is dropped.
    """
    response.stream = _READ


class GongClient:
    """Gong's CRM schema API behind crmform's Provider port (and WritePreviewer).

    `transport`, `sleep`, `clock` and `random` are seams for tests; `on_retry` lets the CLI
    tell the user about waits, with their length (every retry is also logged at INFO, and
    every HTTP request at DEBUG on the `crmform.gong` logger, never with a header).
    """

    name: str = "gong"

    def __init__(
        self,
        settings: GongSettings,
        *,
        transport: httpx.BaseTransport | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
        random: Callable[[], float] = _random.random,
        on_retry: Callable[[RetryNotice], None] | None = None,
    ) -> None:
        self._settings = settings
        self._say = Explainer(settings)
        self._transport = transport
        self._sleep = sleep
        self._clock = clock
        self._random = random
        self._on_retry = on_retry
        self._http: httpx.Client | None = None
        self._last_start: float | None = None
        # What the last accepted upload sent, for the read-back GET of its object type.
        self._sent: dict[tuple[int, ObjectType], Sent] = {}
        # An upload encoded ahead (prepare_write): its address, its writes and their bytes.
        self._prepared: tuple[tuple[int, ObjectType], Sequence[FieldWrite], bytes, Sent] | None
        self._prepared = None

    def __repr__(self) -> str:
        return f"GongClient({self._settings!r})"

    @property
    def settings(self) -> GongSettings:
        return self._settings

    def close(self) -> None:
        if self._http is not None:
            self._http.close()
            self._http = None

    def __enter__(self) -> GongClient:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # -- Provider -------------------------------------------------------------------------

    def read_schema(
        self, integration_id: int, object_type: ObjectType | None = None
    ) -> dict[ObjectType, RemoteSchema]:
        """One GET per object type (objectType is always sent: the spec contradicts itself)."""
        types = list(ObjectType) if object_type is None else [ObjectType(object_type)]
        result: dict[ObjectType, RemoteSchema] = {}
        for each in types:
            call = Call("GET", checked_id(integration_id), each, "read")
            sent = self._sent.pop((call.integration_id, each), None)
            response = self._request(call, None)
            payload = self._say.json_body(call, response)
            request_id = self._say.scrub_id(request_id_of(response, payload))
            try:
                fields, extra = decode_listing(payload, each, sent)
            except ValueError as exc:
                raise ProviderError(
                    f"Gong's answer to {call.describe()} is not what crmform expects: "
                    f"{self._settings.scrub(str(exc))}. Nothing was read from it.",
                    status=response.status_code,
                    request_id=request_id,
                ) from None
            result[each] = RemoteSchema(each, fields, request_id, extra)
        return result

    def write_schema(
        self, integration_id: int, object_type: ObjectType, writes: Sequence[FieldWrite]
    ) -> WriteResult:
        """POST the complete field list; a retry resends the identical bytes."""
        call = Call("POST", checked_id(integration_id), ObjectType(object_type), "upload")
        self._sent.clear()
        prepared, self._prepared = self._prepared, None
        address = (call.integration_id, call.object_type)
        if prepared is not None and prepared[0] == address and prepared[1] is writes:
            body, sent = prepared[2], prepared[3]  # the same bytes encoding gives
        else:
            body, sent = encode_upload(writes)
        response = self._request(call, body)
        payload = json_or_none(response)
        request_id = payload.get("requestId") if isinstance(payload, dict) else None
        if not isinstance(request_id, str) or not request_id.strip():
            raise self._say.not_gongs_answer(call, response)
        # Only an accepted upload: the read-back then mostly lists exactly what it sent.
        self._sent = {(call.integration_id, call.object_type): sent}
        return WriteResult(response.status_code, self._say.scrub_id(request_id))

    def prepare_write(
        self, integration_id: int, object_type: ObjectType, writes: Sequence[FieldWrite]
    ) -> None:
        """Encode the upload `write_schema` is about to be given, ahead of time: apply calls
        this in a pause between requests (the pacing wait), so that the next POST leaves
        as soon as its slot comes. Only the last one prepared is kept (one body, megabytes
        at 10,000 fields), and only used for these very `writes`."""
        key = (checked_id(integration_id), ObjectType(object_type))
        self._prepared = None  # the old body goes before the new one is made
        body, sent = encode_upload(writes)
        self._prepared = (key, writes, body, sent)

    def preview_write(
        self, integration_id: int, object_type: ObjectType, writes: Sequence[FieldWrite]
    ) -> RequestPreview:
        settings = self._settings
        preview = GongPreview(settings.base_url, settings.base_url_source)
        return preview.preview_write(integration_id, object_type, writes)

    # -- transport, pacing and retries ----------------------------------------------------

    def _client(self) -> httpx.Client:
        if self._http is None:
            self._http = httpx.Client(
                base_url=self._settings.base_url,
                transport=self._transport,
                timeout=self._settings.timeout,
                follow_redirects=False,
                headers={"User-Agent": f"crmform/{__version__}", "Accept": "application/json"},
            )
        return self._http

    def _pace(self) -> None:
        """Space request starts (retries included) at least 1/rate seconds apart."""
        if self._last_start is not None:
            wait = self._last_start + 1.0 / self._settings.rate - self._clock()
            if wait > 0:
                self._sleep(wait)
        self._last_start = self._clock()

    def _request(self, call: Call, content: bytes | None) -> httpx.Response:
        settings = self._settings
        headers = {"Authorization": settings.authorization()}
        if content is not None:
            headers["Content-Type"] = "application/json"
        started = self._clock()
        deadline = started + settings.max_retry_seconds
        attempt = 0
        # Once any attempt of a POST may have reached Gong, only a definite answer (a 2xx or
        # a 4xx) to a later one ends the uncertainty: the body is identical every time.
        may_have_landed = False
        while True:
            attempt += 1
            self._pace()
            sent = self._clock()
            failure = self._attempt(call, content, headers, sent)
            if isinstance(failure, httpx.Response):
                return failure
            may_have_landed = may_have_landed or (call.method == "POST" and failure.reached)
            delay, asked = self._delay(attempt, failure.response)
            elapsed = self._clock() - started
            if attempt >= settings.max_attempts:
                raise self._say.exhausted(call, attempt, elapsed, failure, "", may_have_landed)
            if self._clock() + delay > deadline:
                left = max(0.0, deadline - self._clock())
                if asked:
                    limit = (
                        f" (Gong asked to wait {delay:.1f}s before trying again (Retry-After), "
                        f"more than the {left:.1f}s left of the {settings.max_retry_seconds:g}s "
                        f"retry time limit; to wait that long, raise {FLAG_MAX_RETRY_SECONDS})"
                    )
                else:
                    limit = f" (the next retry, in {delay:.1f}s, would pass the "
                    limit += f"{settings.max_retry_seconds:g}s retry time limit)"
                raise self._say.exhausted(call, attempt, elapsed, failure, limit, may_have_landed)
            notice = RetryNotice(
                call.method,
                SCHEMA_PATH,
                call.object_type,
                attempt,
                settings.max_attempts,
                failure.reason,
                delay,
                asked,
            )
            log.info("%s", notice)
            if self._on_retry is not None:
                self._on_retry(notice)
            self._sleep(delay)

    def _attempt(
        self, call: Call, content: bytes | None, headers: dict[str, str], sent: float
    ) -> httpx.Response | Failure:
        """One HTTP request: the response to return, or why it is worth retrying. A 4xx
        other than 429 is Gong's definite no, raised at once."""
        settings = self._settings
        try:
            response = self._client().request(
                call.method, SCHEMA_PATH, params=call.params, content=content, headers=headers
            )
            _unbind(response)
        except httpx.TimeoutException as exc:
            self._log(call, type(exc).__name__, sent, None)
            return Failure(
                "a timeout",
                f"no answer within {settings.timeout:g}s ({type(exc).__name__})",
                f"no answer within {settings.timeout:g}s ({type(exc).__name__})",
                isinstance(exc, _MAY_HAVE_REACHED),
            )
        except httpx.TransportError as exc:
            self._log(call, type(exc).__name__, sent, None)
            cause = self._say.scrub_short(f"{type(exc).__name__}: {exc}", SNIPPET_MAX)
            return Failure(
                "a connection error",
                f"could not reach {settings.base_url} ({cause}); check "
                f"{settings.base_url_source} (your tenant's Gong API host) and the network",
                f"the connection failed ({self._say.scrub_short(cause, CAME_BACK_MAX)})",
                isinstance(exc, _MAY_HAVE_REACHED),
            )
        status = response.status_code
        self._log(call, str(status), sent, response)
        if response.is_success:
            return response
        if status != 429 and status < 500:
            raise self._say.rejected(call, response)
        return Failure(
            f"HTTP {status}",
            f"{call.method} {SCHEMA_PATH} answered HTTP {status}",
            f"HTTP {status}",
            status >= 500,
            response,
        )

    def _delay(self, attempt: int, response: httpx.Response | None) -> tuple[float, bool]:
        """Retry-After in full when the server gives one (True), else backoff with full
        jitter (False). Waiting less than Gong asked for would only earn another 429."""
        if response is not None:
            wait = retry_after_seconds(response)
            if wait is not None:
                return wait, True
        return self._random() * min(BACKOFF_MAX, BACKOFF_BASE * 2.0 ** (attempt - 1)), False

    def _log(self, call: Call, outcome: str, sent: float, response: httpx.Response | None) -> None:
        """One DEBUG line per HTTP request: method, path and query, status (or the failure),
        time taken and requestId. Never a header, never a body."""
        if not log.isEnabledFor(logging.DEBUG):
            return
        took = self._clock() - sent
        request_id = None
        if response is not None:
            request_id = request_id_of(response, None)
            if request_id is None and len(response.content) <= 65536:
                request_id = request_id_of(response, json_or_none(response))
        shown = self._say.scrub_short(request_id, CAME_BACK_MAX) if request_id else "none"
        log.debug(
            "%s %s -> %s in %.3fs (requestId %s)", call.method, call.target, outcome, took, shown
        )
