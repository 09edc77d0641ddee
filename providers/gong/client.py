"""The httpx client for Gong's CRM schema API: auth, pacing, retries, clear errors.

Only commands that talk to Gong import this module (it imports httpx at the top).
Reading the answers (fields, errors, requestId, Retry-After) is in parse.py.
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
from crmform.engine.errors import ProviderError
from crmform.engine.model import INTEGRATION_ID_MAX, ObjectType
from crmform.engine.ports import FieldPayload, RemoteSchema, WriteResult
from crmform.providers.gong.parse import (
    error_details,
    parse_selected_fields,
    request_id_of,
    retry_after_seconds,
)
from crmform.providers.gong.settings import SCHEMA_PATH, SCHEMA_SCOPE, GongSettings

__all__ = [
    "SCHEMA_PATH",
    "GongClient",
    "GongSettings",
    "RetryNotice",
    "error_details",
    "parse_selected_fields",
]

BACKOFF_BASE = 0.5
BACKOFF_MAX = 30.0

log = logging.getLogger("crmform.providers.gong")


@dataclass(frozen=True, slots=True)
class RetryNotice:
    """One retry about to happen; str() is the line a CLI prints to stderr."""

    method: str
    path: str
    object_type: ObjectType
    failed_attempt: int
    max_attempts: int
    reason: str
    delay: float

    def __str__(self) -> str:
        return (
            f"retrying {self.method} {self.path} for {self.object_type} after {self.reason} "
            f"in {self.delay:.1f}s (attempt {self.failed_attempt + 1} of {self.max_attempts})"
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

    def describe(self) -> str:
        return f"the schema {self.verb} for {self.object_type} (integration {self.integration_id})"


@dataclass(frozen=True, slots=True)
class _Failure:
    """Why an attempt failed in a way worth retrying."""

    reason: str
    detail: str
    response: httpx.Response | None = None


class GongClient:
    """Gong's CRM schema API behind crmform's Provider protocol.

    `transport`, `sleep`, `clock` and `random` are seams for tests; `on_retry` lets the CLI
    tell the user about waits (every retry is also logged at INFO).
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
            call = _Call("GET", _checked_id(integration_id), each, "read")
            response = self._request(call, None)
            payload = self._json(call, response)
            try:
                fields = parse_selected_fields(payload, each)
            except ValueError as exc:
                raise ProviderError(
                    f"Gong's answer to {call.describe()} is not what crmform expects: {exc}.",
                    request_id=request_id_of(response, payload),
                ) from None
            result[each] = RemoteSchema(each, fields, request_id_of(response, payload))
        return result

    def write_schema(
        self, integration_id: int, object_type: ObjectType, body: Sequence[FieldPayload]
    ) -> WriteResult:
        """POST the complete field list; a retry resends the identical bytes."""
        call = _Call("POST", _checked_id(integration_id), ObjectType(object_type), "upload")
        content = json.dumps([dict(item) for item in body], ensure_ascii=False).encode("utf-8")
        response = self._request(call, content)
        payload: object = None
        if response.content:
            try:
                payload = response.json()
            except ValueError:
                payload = None
        return WriteResult(response.status_code, request_id_of(response, payload))

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
        while True:
            attempt += 1
            self._pace()
            try:
                response = self._client().request(
                    call.method, SCHEMA_PATH, params=call.params, content=content, headers=headers
                )
            except httpx.TimeoutException as exc:
                failure = _Failure(
                    "a timeout", f"no answer within {settings.timeout:g}s ({type(exc).__name__})"
                )
            except httpx.TransportError as exc:
                failure = _Failure(
                    "a connection error",
                    f"could not reach {settings.base_url} ({type(exc).__name__}: {exc}); check "
                    f"{settings.base_url_source} (your tenant's Gong API host) and the network",
                )
            else:
                status = response.status_code
                if response.is_success:
                    return response
                if status != 429 and status < 500:
                    raise self._rejected(call, response)
                failure = _Failure(
                    f"HTTP {status}",
                    f"{call.method} {SCHEMA_PATH} answered HTTP {status}",
                    response,
                )
            delay = self._delay(attempt, failure.response)
            elapsed = self._clock() - started
            if attempt >= settings.max_attempts:
                raise self._exhausted(call, attempt, elapsed, failure, "")
            if self._clock() + delay > deadline:
                limit = f" (the next retry, in {delay:.1f}s, would pass the "
                limit += f"{settings.max_retry_seconds:g}s retry time limit)"
                raise self._exhausted(call, attempt, elapsed, failure, limit)
            notice = RetryNotice(
                call.method,
                SCHEMA_PATH,
                call.object_type,
                attempt,
                settings.max_attempts,
                failure.reason,
                delay,
            )
            log.info("%s", notice)
            if self._on_retry is not None:
                self._on_retry(notice)
            self._sleep(delay)

    def _delay(self, attempt: int, response: httpx.Response | None) -> float:
        """Retry-After when the server gives one (capped), else backoff with full jitter."""
        if response is not None:
            wait = retry_after_seconds(response)
            if wait is not None:
                return min(wait, self._settings.retry_after_cap)
        return self._random() * min(BACKOFF_MAX, BACKOFF_BASE * 2.0 ** (attempt - 1))

    # -- errors -------------------------------------------------------------------------

    def _scrub(self, text: str) -> str:
        """Mask credentials a server might echo back. Our own messages only ever name them;
        very short values are left alone, as masking them would garble the text."""
        for secret in self._settings.secrets():
            if len(secret) >= 8:
                text = text.replace(secret, "***")
        return text

    def _error(self, message: str, response: httpx.Response | None) -> ProviderError:
        if response is None:
            return ProviderError(message)
        errors, request_id, snippet = error_details(self._scrub(response.text))
        if snippet:
            message += f" The response was not JSON: {snippet!r}."
        return ProviderError(
            message,
            status=response.status_code,
            errors=errors,
            request_id=request_id or request_id_of(response, None),
        )

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
            message += (
                f" It redirects to {response.headers['location']}; set "
                f"{settings.base_url_source} to the address Gong expects."
            )
        return self._error(message, response)

    def _exhausted(
        self, call: _Call, attempts: int, elapsed: float, failure: _Failure, limit: str
    ) -> ProviderError:
        tries = f"{attempts} attempt{'s' if attempts != 1 else ''}"
        message = (
            f"Gong did not complete {call.describe()}: gave up after {tries} over "
            f"{elapsed:.1f}s{limit}; last error: {failure.detail}."
        )
        return self._error(message, failure.response)

    def _json(self, call: _Call, response: httpx.Response) -> object:
        try:
            return json.loads(response.content)
        except ValueError:
            snippet = " ".join(self._scrub(response.text).split())[:200]
            raise ProviderError(
                f"Gong answered {call.describe()} with HTTP {response.status_code} but not "
                f"with JSON: {snippet!r}. Check that {self._settings.base_url} "
                f"({self._settings.base_url_source}) is your tenant's Gong API host.",
                status=response.status_code,
            ) from None


def _checked_id(integration_id: int) -> int:
    if isinstance(integration_id, bool) or not isinstance(integration_id, int):
        raise ProviderError(f"A Gong integrationId must be an integer; got {integration_id!r}.")
    if not 0 < integration_id <= INTEGRATION_ID_MAX:
        raise ProviderError(
            f"A Gong integrationId must be a positive 64-bit integer; got {integration_id}."
        )
    return integration_id
