"""A local stand-in for Gong's CRM schema API (`/v2/crm/entity-schema`), standard library only.

A WSGI app that follows Gong's documented rules strictly (see shared/gong-api.md): every
upload must list every live field; `isDeleted` removes a field and its data; a new type for
an existing name recreates the field (its data is lost). Used by `crmform emulator`, by CI
dry runs, and in-process by tests through `httpx.WSGITransport(app=emulator)`.

Its parts: emulator_rules (what a request may say, and the vocabulary it checks against),
emulator_server (`serve`, over HTTP); this module is the app and its state.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import json
import math
import os
import random as _random
import sys
import threading
import time
import traceback
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from http import HTTPStatus
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs
from wsgiref.types import StartResponse, WSGIEnvironment

from crmform.providers.gong.emulator_faults import (
    NOT_JSON_PAGE,
    READ_TIMEOUT_KEY,
    DroppedConnection,
    Fault,
    FaultKind,
    LateAnswer,
    RandomFaults,
)
from crmform.providers.gong.emulator_rules import (
    FIELD_TYPES,
    OBJECT_TYPES,
    REFERENCE_TARGETS,
    JsonDict,
    Rejected,
    read_integration_id,
    read_json,
    read_object_types,
    validate_items,
)
from crmform.providers.gong.emulator_server import serve
from crmform.providers.gong.emulator_store import check_data_path, load, save

# The vocabulary is spelled out in emulator_rules and stays importable from here.
__all__ = [
    "FIELD_TYPES",
    "OBJECT_TYPES",
    "REFERENCE_TARGETS",
    "SCHEMA_PATH",
    "DestroyEvent",
    "GongEmulator",
    "RecordedRequest",
    "serve",
]

SCHEMA_PATH = "/v2/crm/entity-schema"
CONTENT_TYPE = "application/json;charset=UTF-8"

Schema = dict[str, JsonDict]  # uniqueName -> stored field, in the order fields were added


@dataclass(frozen=True, slots=True)
class RecordedRequest:
    """One request as received. `body` is the parsed JSON, or the raw text if it was not JSON."""

    method: str
    path: str
    query: dict[str, str]
    body: object


@dataclass(frozen=True, slots=True)
class DestroyEvent:
    """An upload that destroyed a field's data: `what` is "deleted" or "type X -> Y"."""

    integration_id: int
    object_type: str
    unique_name: str
    what: str


@dataclass(frozen=True, slots=True)
class _Answer:
    """An answer: Gong's JSON `body` (the requestId is added), or a `page` of HTML instead."""

    status: int
    body: JsonDict
    headers: tuple[tuple[str, str], ...] = ()
    page: str | None = None


@dataclass(frozen=True, slots=True)
class _Incoming:
    """What the emulator reads of one request, once (a late landing replays it)."""

    method: str
    path: str
    query: dict[str, list[str]]
    body: object
    authorization: str

    @classmethod
    def read(cls, environ: WSGIEnvironment) -> _Incoming:
        return cls(
            str(environ.get("REQUEST_METHOD", "GET")).upper(),
            str(environ.get("PATH_INFO", "")),
            parse_qs(str(environ.get("QUERY_STRING", "")), keep_blank_values=True),
            read_json(environ),
            str(environ.get("HTTP_AUTHORIZATION", "")),
        )

    @property
    def object_type(self) -> str | None:
        return self.query.get("objectType", [None])[0]

    def recorded(self) -> RecordedRequest:
        return RecordedRequest(
            self.method, self.path, {k: v[0] for k, v in self.query.items()}, self.body
        )


class _Garbled(Exception):
    """Ends handling with a page that is not Gong's JSON."""

    def __init__(self, status: int) -> None:
        super().__init__(status)
        self.status = status


class GongEmulator:
    """The WSGI app. All options are keyword-only; every one defaults to the lenient choice.

    - `access_key`+`secret` (Basic) and/or `bearer`: require those credentials (else 401).
    - `rate_limit`: at most this many requests in any one-second window (else 429).
    - `name_key`: the key GETs use for a field's name: "name" (Gong's documented example),
      "uniqueName" (Gong's schema) or "both".
    - `null_attributes`: GETs answer null referenceTo/orderedValueList/lastModified, as
      Gong's documented example does even for PICKLIST fields.
    - `upload_status`: 201 (the spec) or 200 (what a live tenant answered).
    - `data_path`: keep the schema in this JSON file (loaded now, rewritten atomically).
    - `rng`/`clock`/`sleep`: seeds or a random.Random for request ids; the clock for rate
      limiting and late landings; how a delay fault waits.

    Faults (see emulator_faults): `fail_next`, `drop_next`, `garble_next`, `delay_next`,
    `add_fault` and `fail_randomly`; `land_late` lands uploads whose delay has passed.
    """

    def __init__(
        self,
        *,
        access_key: str | None = None,
        secret: str | None = None,
        bearer: str | None = None,
        rate_limit: float | None = None,
        name_key: str = "name",
        null_attributes: bool = False,
        upload_status: int = 201,
        data_path: str | os.PathLike[str] | None = None,
        rng: _random.Random | int | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if (access_key is None) != (secret is None):
            raise ValueError("access_key and secret go together")
        if name_key not in ("name", "uniqueName", "both"):
            raise ValueError(f"name_key must be 'name', 'uniqueName' or 'both', not {name_key!r}")
        if upload_status not in (200, 201):
            raise ValueError(f"upload_status must be 200 or 201, not {upload_status}")
        if rate_limit is not None and not rate_limit > 0:
            raise ValueError(f"rate_limit must be greater than 0, not {rate_limit}")
        self._basic = None if access_key is None else f"{access_key}:{secret}"
        self._bearer = bearer
        self._rate_limit = rate_limit
        self._name_key = name_key
        self._null_attributes = null_attributes
        self._upload_status = upload_status
        self._data_path = Path(data_path) if data_path is not None else None
        self._rng = rng if isinstance(rng, _random.Random) else _random.Random(rng)
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.RLock()
        self._starts: deque[float] = deque()
        self._faults: list[Fault] = []
        self._random_faults: RandomFaults | None = None
        self._late: list[tuple[float, _Incoming]] = []
        self._schemas: dict[tuple[int, str], Schema] = {}
        self.requests: list[RecordedRequest] = []
        self.events: list[DestroyEvent] = []
        if self._data_path is not None:
            check_data_path(self._data_path)
            if self._data_path.exists():
                self._schemas = load(self._data_path)

    # -- test and CLI helpers -----------------------------------------------------------

    def fail_next(
        self,
        status: int,
        times: int = 1,
        *,
        method: str | None = None,
        path: str | None = None,
        object_type: str | None = None,
        errors: Iterable[str] = (),
        retry_after: int | None = None,
        after_apply: bool = False,
    ) -> None:
        """Answer the next `times` matching requests with `status` and a Gong-style body.

        Filters (None matches anything) pick requests by method, path and objectType.
        With `after_apply`, a POST is carried out first and only its answer replaced: an
        ambiguous failure, as when a connection drops after Gong saved the schema.
        """
        self.add_fault(
            Fault(
                FaultKind.STATUS,
                times,
                status,
                method,
                path,
                object_type,
                tuple(errors),
                retry_after,
                after_apply,
            )
        )

    def drop_next(
        self,
        times: int = 1,
        *,
        method: str | None = None,
        object_type: str | None = None,
        after_apply: bool = False,
    ) -> None:
        """Close the connection of the next `times` matching requests without an answer
        (after carrying out an upload, with `after_apply`)."""
        self.add_fault(
            Fault(
                FaultKind.DROP,
                times,
                method=method,
                object_type=object_type,
                after_apply=after_apply,
            )
        )

    def garble_next(
        self,
        times: int = 1,
        *,
        status: int = 200,
        method: str | None = None,
        object_type: str | None = None,
        after_apply: bool = False,
    ) -> None:
        """Answer the next `times` matching requests with `status` and an HTML page instead
        of Gong's JSON, as a captive portal or a proxy would (after carrying out an upload,
        with `after_apply`)."""
        self.add_fault(
            Fault(
                FaultKind.NOT_JSON,
                times,
                status,
                method,
                object_type=object_type,
                after_apply=after_apply,
            )
        )

    def delay_next(
        self,
        seconds: float,
        times: int = 1,
        *,
        method: str | None = None,
        object_type: str | None = None,
    ) -> None:
        """Handle the next `times` matching requests `seconds` late. Longer than the client's
        timeout, an upload lands after the client gave up: over HTTP the server waits (other
        requests are served meanwhile); in process (EmulatorTransport) the client gets its
        timeout at once and the upload lands once the emulator's clock passed the delay."""
        self.add_fault(
            Fault(FaultKind.DELAY, times, method=method, object_type=object_type, seconds=seconds)
        )

    def add_fault(self, fault: Fault) -> None:
        """Add a rule (see emulator_faults.parse_fault for rules written as words)."""
        with self._lock:
            self._faults.append(fault)

    def fail_randomly(
        self, seed: int, rate: float, limit: int, *, method: str | None = "POST"
    ) -> None:
        """Seeded, bounded random faults on requests matching `method` (see RandomFaults)."""
        with self._lock:
            self._random_faults = RandomFaults(seed, rate, limit, method)

    def land_late(self, *, all_of_them: bool = False) -> int:
        """Land the delayed uploads whose time has come (every one, with `all_of_them`);
        returns how many landed. Every request, and `schema`, does this first."""
        with self._lock:
            return self._land_due(all_of_them)

    def schema(self, integration_id: int, object_type: str) -> list[JsonDict]:
        """The live fields of one object type, in the order they were added."""
        with self._lock:
            self._land_due()
            stored = self._schemas.get((integration_id, object_type), {})
            return [json.loads(json.dumps(f)) for f in stored.values()]

    def seed(
        self, integration_id: int, object_type: str, fields: Iterable[Mapping[str, Any]]
    ) -> None:
        """Add or replace fields as if created outside crmform (no full-list rule, no events)."""
        items = [dict(f) for f in fields]
        problems, parsed = validate_items(items)
        if problems or object_type not in OBJECT_TYPES:
            raise ValueError("; ".join(problems) or f"unknown object type {object_type!r}")
        with self._lock:
            schema = self._schemas.setdefault((integration_id, object_type), {})
            for item in parsed:
                if not item.pop("isDeleted"):
                    schema[item["uniqueName"]] = item
            self._save()

    # -- WSGI -----------------------------------------------------------------------------

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> list[bytes]:
        incoming = _Incoming.read(environ)
        with self._lock:
            self._land_due()
            request_id = "".join(self._rng.choices("abcdefghijklmnopqrstuvwxyz0123456789", k=19))
            self.requests.append(incoming.recorded())
        try:
            answer = self._answer(incoming, environ.get(READ_TIMEOUT_KEY))
        except Rejected as rejected:
            answer = _Answer(rejected.status, {"errors": list(rejected.errors)}, rejected.headers)
        except _Garbled as garbled:
            answer = _Answer(garbled.status, {}, page=NOT_JSON_PAGE)
        except (DroppedConnection, LateAnswer):
            raise
        except Exception:
            traceback.print_exc(file=environ.get("wsgi.errors", sys.stderr))
            answer = _Answer(500, {"errors": ["Unexpected error"]})
        if answer.page is not None:
            body, kind = answer.page.encode("utf-8"), "text/html;charset=UTF-8"
            headers: list[tuple[str, str]] = []
        else:
            body = json.dumps({"requestId": request_id, **answer.body}).encode("utf-8")
            kind, headers = CONTENT_TYPE, [("x-traceid", request_id)]
        start_response(
            f"{answer.status} {HTTPStatus(answer.status).phrase}",
            [
                ("Content-Type", kind),
                ("Content-Length", str(len(body))),
                *headers,
                *answer.headers,
            ],
        )
        return [body]

    def _answer(self, incoming: _Incoming, read_timeout: object) -> _Answer:
        with self._lock:
            self._check_rate()
            fault = self._take(incoming, after_apply=False)
        if fault is not None and fault.kind is FaultKind.DELAY:
            if isinstance(read_timeout, int | float) and fault.seconds > read_timeout:
                due = self._clock() + fault.seconds
                with self._lock:
                    self._late.append((due, incoming))
                raise LateAnswer(due)
            self._sleep(fault.seconds)  # outside the lock: other requests go on meanwhile
            fault = None
        with self._lock:
            if fault is not None:
                _fire(fault)
            return self._handle(incoming)

    def _handle(self, incoming: _Incoming, *, late: bool = False) -> _Answer:
        """Gong's rules; `late` for a delayed upload landing (no after-apply rule fires)."""
        method, path = incoming.method, incoming.path
        self._check_auth(incoming.authorization)
        if path != SCHEMA_PATH:
            raise Rejected(404, f"No endpoint {method} {path}")
        if method not in ("GET", "POST"):
            raise Rejected(
                405, f"Method {method} is not supported", headers=(("Allow", "GET, POST"),)
            )
        integration_id = read_integration_id(incoming.query)
        types = read_object_types(incoming.query, required=method == "POST")
        if method == "GET":
            return _Answer(
                200, {"objectTypeToSelectedFields": self._listing(integration_id, types)}
            )
        self._upload(integration_id, types[0], incoming.body)
        fault = None if late else self._take(incoming, after_apply=True)
        if fault is not None:
            _fire(fault)
        return _Answer(self._upload_status, {})

    def _take(self, incoming: _Incoming, *, after_apply: bool) -> Fault | None:
        """The rule that fires for this request at this point, if any (counted down)."""
        method, path, object_type = incoming.method, incoming.path, incoming.object_type
        for fault in self._faults:
            if fault.matches(method, path, object_type, after_apply):
                fault.times -= 1
                return fault
        if after_apply or self._random_faults is None:
            return None
        drawn = self._random_faults.draw(method)
        if drawn is not None and drawn.after_apply:
            # Fires once this very request was carried out.
            drawn.method, drawn.path, drawn.object_type = method, path, object_type
            self._faults.append(drawn)
            return None
        return drawn

    def _land_due(self, all_of_them: bool = False) -> int:
        now = self._clock()
        due = [(t, i) for t, i in self._late if all_of_them or t <= now]
        if not due:
            return 0
        self._late = [(t, i) for t, i in self._late if not (all_of_them or t <= now)]
        for _, incoming in sorted(due, key=lambda pair: pair[0]):
            # As Gong would, late: a landing it rejects changes nothing, and nobody hears.
            with contextlib.suppress(Rejected):
                self._handle(incoming, late=True)
        return len(due)

    def _check_rate(self) -> None:
        if self._rate_limit is None:
            return
        now = self._clock()
        while self._starts and self._starts[0] <= now - 1.0:
            self._starts.popleft()
        if len(self._starts) >= self._rate_limit:
            wait = max(1, math.ceil(self._starts[0] + 1.0 - now))
            raise Rejected(429, "API request limit exceeded", headers=(("Retry-After", str(wait)),))
        self._starts.append(now)

    def _check_auth(self, header: str) -> None:
        if self._basic is None and self._bearer is None:
            return
        if not header:
            raise Rejected(401, "Access denied: the request has no Authorization header")
        scheme, _, value = header.partition(" ")
        if scheme.lower() == "basic" and self._basic is not None:
            try:
                given = base64.b64decode(value.strip(), validate=True).decode("utf-8")
            except (binascii.Error, UnicodeDecodeError):
                given = None
            if given == self._basic:
                return
            raise Rejected(401, "Access denied: invalid access key or access key secret")
        if scheme.lower() == "bearer" and self._bearer is not None:
            if value.strip() == self._bearer:
                return
            raise Rejected(401, "Access denied: the access token is invalid or expired")
        raise Rejected(401, f"Access denied: {scheme or 'this'} authorization is not accepted")

    # -- the schema rules -----------------------------------------------------------------

    def _listing(self, integration_id: int, types: tuple[str, ...]) -> dict[str, list[JsonDict]]:
        listing: dict[str, list[JsonDict]] = {}
        for object_type in types:
            stored = self._schemas.get((integration_id, object_type), {})
            listing[object_type] = [self._shown(f) for f in stored.values()]
        return listing

    def _shown(self, stored: JsonDict) -> JsonDict:
        """A field in Gong's documented GET shape."""
        item: JsonDict = {}
        if self._name_key in ("name", "both"):
            item["name"] = stored["uniqueName"]
        if self._name_key in ("uniqueName", "both"):
            item["uniqueName"] = stored["uniqueName"]
        item.update(label=stored["label"], type=stored["type"], isDeleted=False)
        for key in ("lastModified", "referenceTo", "orderedValueList"):
            item[key] = None if self._null_attributes else stored.get(key)
        return item

    def _upload(self, integration_id: int, object_type: str, body: object) -> None:
        """Validate the whole body first, then apply it: a rejected upload changes nothing."""
        if not isinstance(body, list):
            raise Rejected(400, "Malformed request: the body must be a JSON array of fields")
        problems, items = validate_items(body)
        schema = self._schemas.get((integration_id, object_type), {})
        named = [i for i in body if isinstance(i, dict) and isinstance(i.get("uniqueName"), str)]
        sent = {i["uniqueName"] for i in named}
        missing = [name for name in schema if name not in sent]
        if missing:
            problems.append(
                "You must include all fields in the schema; missing: " + ", ".join(missing)
            )
        if problems:
            raise Rejected(400, *problems)
        schema = self._schemas.setdefault((integration_id, object_type), {})
        for item in items:
            name = item["uniqueName"]
            old = schema.get(name)
            if item.pop("isDeleted"):
                # UNCERTAIN for real Gong: a tombstone for a field it does not have. Accepting
                # it keeps a retry after an ambiguous failure (Gong applied, we saw an error)
                # from failing on the second try.
                if old is not None:
                    del schema[name]
                    self._event(integration_id, object_type, name, "deleted")
                continue
            if old is not None and old["type"] != item["type"]:
                self._event(
                    integration_id, object_type, name, f"type {old['type']} -> {item['type']}"
                )
            schema[name] = item
        if not schema:
            del self._schemas[(integration_id, object_type)]
        self._save()

    def _event(self, integration_id: int, object_type: str, name: str, what: str) -> None:
        self.events.append(DestroyEvent(integration_id, object_type, name, what))

    def _save(self) -> None:
        if self._data_path is not None:
            save(self._data_path, self._schemas)


def _fire(fault: Fault) -> None:
    """Carry out a rule that ends the request: an error, a dropped connection, a page."""
    if fault.kind is FaultKind.DROP:
        raise DroppedConnection("the emulator dropped the connection (a fault rule)")
    if fault.kind is FaultKind.NOT_JSON:
        raise _Garbled(fault.status)
    headers = () if fault.retry_after is None else (("Retry-After", str(fault.retry_after)),)
    raise Rejected(fault.status, *fault.errors, headers=headers)
