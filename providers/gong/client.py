"""The httpx client for Gong's CRM schema API: auth, pacing, retries, clear errors.

Only commands that talk to Gong import this module (it imports httpx at the top).
What goes in and out as JSON is wire.py's; what a response says about itself, parse.py's.

A write has three possible ends: accepted (a 2xx carrying Gong's JSON with a requestId),
rejected (a 4xx: Gong said no, nothing changed), or uncertain (UncertainOutcomeError): the
request may have reached Gong and been applied, or may still be, without Gong's answer
saying so. Uncertain are a timeout or a broken connection after the request went out, a
5xx, and a 2xx that is not Gong's answer (a proxy's or a captive portal's page).
"""

from __future__ import annotations

import json
import logging
import random as _random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from types import TracebackType

import httpx

from crmform import __version__
from crmform.engine.errors import ProviderError, UncertainOutcomeError
from crmform.engine.model import ObjectType
from crmform.engine.ports import FieldWrite, RemoteSchema, RequestPreview, WriteResult
from crmform.providers.gong.parse import error_details, request_id_of, retry_after_seconds
from crmform.providers.gong.preview import GongPreview
from crmform.providers.gong.settings import (
    FLAG_MAX_RETRY_SECONDS,
    SCHEMA_PATH,
    SCHEMA_SCOPE,
    GongSettings,
    checked_id,
)
from crmform.providers.gong.wire import decode_listing, encode_body

__all__ = ["SCHEMA_PATH", "GongClient", "GongSettings", "RetryNotice"]

BACKOFF_BASE = 0.5
BACKOFF_MAX = 30.0
SNIPPET_MAX = 200  # characters of a body that is not Gong's JSON, in an error message
CAME_BACK_MAX = 80  # characters of it in `what_came_back`

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


@dataclass(frozen=True, slots=True)
class _Call:
    """One logical request: what it is for, so every message can say so."""

    method: str
    integration_id: int
    object_type: ObjectType
    verb: str

    @property
    def params(self) -> dict[str, str]:
        # int64 ids exceed 2**53: always formatted from the int, never through a float.
        return {"integrationId": str(self.integration_id), "objectType": self.object_type.value}

    @property
    def target(self) -> str:
        """Path and query, for log lines (they carry no secret)."""
        return f"{SCHEMA_PATH}?integrationId={self.integration_id}&objectType={self.object_type}"

    def describe(self) -> str:
        return f"the schema {self.verb} for {self.object_type} (integration {self.integration_id})"


@dataclass(frozen=True, slots=True)
class _Failure:
    """Why an attempt failed in a way worth retrying; `reached` when Gong may have got it."""

    reason: str
    detail: str
    came_back: str
    reached: bool
    response: httpx.Response | None = None


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
        self._transport = transport
        self._sleep = sleep
        self._clock = clock
        self._random = random
        self._on_retry = on_retry
        self._http: httpx.Client | None = None
        self._last_start: float | None = None

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
            call = _Call("GET", checked_id(integration_id), each, "read")
            response = self._request(call, None)
            payload = self._json(call, response)
            request_id = self._scrub_id(request_id_of(response, payload))
            try:
                fields, extra = decode_listing(payload, each)
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
        call = _Call("POST", checked_id(integration_id), ObjectType(object_type), "upload")
        response = self._request(call, encode_body(writes))
        payload = _json_or_none(response)
        request_id = payload.get("requestId") if isinstance(payload, dict) else None
        if not isinstance(request_id, str) or not request_id.strip():
            raise self._not_gongs_answer(call, response)
        return WriteResult(response.status_code, self._scrub_id(request_id))

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

    def _request(self, call: _Call, content: bytes | None) -> httpx.Response:
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
                raise self._exhausted(call, attempt, elapsed, failure, "", may_have_landed)
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
                raise self._exhausted(call, attempt, elapsed, failure, limit, may_have_landed)
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
        self, call: _Call, content: bytes | None, headers: dict[str, str], sent: float
    ) -> httpx.Response | _Failure:
        """One HTTP request: the response to return, or why it is worth retrying. A 4xx
        other than 429 is Gong's definite no, raised at once."""
        settings = self._settings
        try:
            response = self._client().request(
                call.method, SCHEMA_PATH, params=call.params, content=content, headers=headers
            )
        except httpx.TimeoutException as exc:
            self._log(call, type(exc).__name__, sent, None)
            return _Failure(
                "a timeout",
                f"no answer within {settings.timeout:g}s ({type(exc).__name__})",
                f"no answer within {settings.timeout:g}s ({type(exc).__name__})",
                isinstance(exc, _MAY_HAVE_REACHED),
            )
        except httpx.TransportError as exc:
            self._log(call, type(exc).__name__, sent, None)
            cause = self._scrub_short(f"{type(exc).__name__}: {exc}", SNIPPET_MAX)
            return _Failure(
                "a connection error",
                f"could not reach {settings.base_url} ({cause}); check "
                f"{settings.base_url_source} (your tenant's Gong API host) and the network",
                f"the connection failed ({self._scrub_short(cause, CAME_BACK_MAX)})",
                isinstance(exc, _MAY_HAVE_REACHED),
            )
        status = response.status_code
        self._log(call, str(status), sent, response)
        if response.is_success:
            return response
        if status != 429 and status < 500:
            raise self._rejected(call, response)
        return _Failure(
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

    def _log(self, call: _Call, outcome: str, sent: float, response: httpx.Response | None) -> None:
        """One DEBUG line per HTTP request: method, path and query, status (or the failure),
        time taken and requestId. Never a header, never a body."""
        if not log.isEnabledFor(logging.DEBUG):
            return
        took = self._clock() - sent
        request_id = None
        if response is not None:
            request_id = request_id_of(response, None)
            if request_id is None and len(response.content) <= 65536:
                request_id = request_id_of(response, _json_or_none(response))
        shown = self._scrub_short(request_id, CAME_BACK_MAX) if request_id else "none"
        log.debug(
            "%s %s -> %s in %.3fs (requestId %s)", call.method, call.target, outcome, took, shown
        )

    # -- errors -------------------------------------------------------------------------

    def _scrub_short(self, text: str, limit: int) -> str:
        """Text from outside (a server, a network error) as a message may quote it: secrets
        masked first, then whitespace collapsed and cut to `limit` characters."""
        flat = " ".join(self._settings.scrub(text).split())
        return flat if len(flat) <= limit else flat[: limit - 3] + "..."

    def _scrub_id(self, request_id: str | None) -> str | None:
        return self._scrub_short(request_id, CAME_BACK_MAX) if request_id else None

    def _scrubbed(self, value: object) -> str:
        """One entry of Gong's `errors`, secrets masked in every string inside it before it
        is encoded (encoding first would escape a secret's quotes and backslashes)."""
        if isinstance(value, str):
            return self._settings.scrub(value)
        return json.dumps(_scrub_tree(value, self._settings.scrub), ensure_ascii=False)

    def _error(
        self,
        message: str,
        response: httpx.Response | None,
        *,
        uncertain: bool = False,
        came_back: str = "",
    ) -> ProviderError:
        errors: tuple[str, ...] = ()
        status = request_id = None
        if response is not None:
            raw_errors, raw_id, text = error_details(response.text)
            errors = tuple(self._scrubbed(e) for e in raw_errors)
            if text.strip():
                message += f" The response was not JSON: {self._scrub_short(text, SNIPPET_MAX)!r}."
            status = response.status_code
            request_id = self._scrub_id(raw_id or request_id_of(response, None))
        if uncertain:
            return UncertainOutcomeError(
                message,
                status=status,
                errors=errors,
                request_id=request_id,
                what_came_back=came_back,
            )
        return ProviderError(message, status=status, errors=errors, request_id=request_id)

    def _rejected(self, call: _Call, response: httpx.Response) -> ProviderError:
        settings = self._settings
        status = response.status_code
        message = (
            f"Gong rejected {call.describe()}: {call.method} {SCHEMA_PATH} answered HTTP {status}."
        )
        if status in (401, 403):
            if settings.auth_kind == "bearer":
                message += (
                    f" Check {settings.credential_source}: the token needs scope {SCHEMA_SCOPE} "
                    f"and your tenant's base URL (api_base_url_for_customer) in "
                    f"{settings.base_url_source}."
                )
            else:
                message += (
                    f" Check {settings.credential_source}: the access key and its secret must "
                    f"be valid for {settings.base_url}."
                )
        elif status == 404:
            message += (
                f" Check that {settings.base_url} is your tenant's Gong API host "
                f"({settings.base_url_source}), and that the CRM API is enabled for your Gong plan."
            )
        elif 300 <= status < 400 and response.headers.get("location"):
            location = self._scrub_short(response.headers["location"], SNIPPET_MAX)
            message += (
                f" It redirects to {location}; set {settings.base_url_source} to the address "
                "Gong expects."
            )
        return self._error(message, response)

    def _exhausted(
        self,
        call: _Call,
        attempts: int,
        elapsed: float,
        failure: _Failure,
        limit: str,
        may_have_landed: bool,
    ) -> ProviderError:
        tries = f"{attempts} attempt{'s' if attempts != 1 else ''}"
        message = (
            f"Gong did not complete {call.describe()}: gave up after {tries} over "
            f"{elapsed:.1f}s{limit}; last error: {failure.detail}."
        )
        return self._error(
            message, failure.response, uncertain=may_have_landed, came_back=failure.came_back
        )

    def _not_gongs_answer(self, call: _Call, response: httpx.Response) -> UncertainOutcomeError:
        """A 2xx without Gong's JSON: something else answered (a proxy, a captive portal),
        and whether Gong got the upload is unknown."""
        settings = self._settings
        kind = response.headers.get("content-type", "").split(";")[0].strip() or "no type"
        text = response.text
        if not text.strip():
            came_back = f"HTTP {response.status_code} with an empty body ({kind})"
        else:
            came_back = (
                f"HTTP {response.status_code} {self._scrub_short(kind, 40)}: "
                f"{self._scrub_short(text, CAME_BACK_MAX)!r}"
            )
        what = call.describe()
        return UncertainOutcomeError(
            f"{what[0].upper()}{what[1:]} was answered, but not by Gong: {came_back}; Gong "
            "answers an upload with JSON carrying a requestId. A proxy or a captive portal on "
            f"the way to {settings.base_url} ({settings.base_url_source}) may have answered "
            "in Gong's place; check the network.",
            status=response.status_code,
            request_id=self._scrub_id(request_id_of(response, None)),
            what_came_back=came_back,
        )

    def _json(self, call: _Call, response: httpx.Response) -> object:
        try:
            return json.loads(response.content)
        except ValueError:
            snippet = self._scrub_short(response.text, SNIPPET_MAX)
            raise ProviderError(
                f"Gong answered {call.describe()} with HTTP {response.status_code} but not "
                f"with JSON: {snippet!r}. Check that {self._settings.base_url} "
                f"({self._settings.base_url_source}) is your tenant's Gong API host.",
                status=response.status_code,
            ) from None


def _json_or_none(response: httpx.Response) -> object:
    if not response.content:
        return None
    try:
        return json.loads(response.content)
    except ValueError:
        return None


def _scrub_tree(value: object, scrub: Callable[[str], str]) -> object:
    if isinstance(value, str):
        return scrub(value)
    if isinstance(value, list):
        return [_scrub_tree(v, scrub) for v in value]
    if isinstance(value, dict):
        return {scrub(str(k)): _scrub_tree(v, scrub) for k, v in value.items()}
    return value
