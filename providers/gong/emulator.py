"""A local stand-in for Gong's CRM schema API (`/v2/crm/entity-schema`), standard library only.

A WSGI app that follows Gong's documented rules strictly (see shared/gong-api.md): every
upload must list every live field; `isDeleted` removes a field and its data; a new type for
an existing name recreates the field (its data is lost). Used by `crmform emulator`, by CI
dry runs, and in-process by tests through `httpx.WSGITransport(app=emulator)`.

Its field types and reference targets are spelled out here rather than imported from the
engine, so the emulator stays an independent check of the engine's vocabulary.
"""

from __future__ import annotations

import base64
import binascii
import ipaddress
import json
import math
import os
import random as _random
import re
import sys
import tempfile
import threading
import time
import traceback
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from http import HTTPStatus
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server
from wsgiref.types import StartResponse, WSGIEnvironment

__all__ = ["SCHEMA_PATH", "DestroyEvent", "GongEmulator", "RecordedRequest", "serve"]

SCHEMA_PATH = "/v2/crm/entity-schema"
OBJECT_TYPES = ("ACCOUNT", "CONTACT", "DEAL", "LEAD")
FIELD_TYPES = (
    *("DATE", "DATETIME", "NUMBER", "PERCENT", "CURRENCY", "ID", "URL", "STRING"),
    *("BOOLEAN", "PHONENUMBER", "EMAILADDRESS", "PICKLIST", "REFERENCE", "STRINGARRAY"),
)
REFERENCE_TARGETS = (*OBJECT_TYPES, "USER")
INT64_MAX = 2**63 - 1
CONTENT_TYPE = "application/json;charset=UTF-8"
DATA_VERSION = 1

JsonDict = dict[str, Any]
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


@dataclass(slots=True)
class _Fault:
    status: int
    times: int
    method: str | None
    path: str | None
    object_type: str | None
    errors: tuple[str, ...]
    retry_after: int | None
    after_apply: bool

    def matches(self, method: str, path: str, object_type: str | None, after_apply: bool) -> bool:
        return (
            self.times > 0
            and self.after_apply == after_apply
            and self.method in (None, method)
            and self.path in (None, path)
            and self.object_type in (None, object_type)
        )


@dataclass(frozen=True, slots=True)
class _Answer:
    status: int
    body: JsonDict
    headers: tuple[tuple[str, str], ...] = ()


class _Rejected(Exception):
    """Ends handling of one request with a Gong-style error answer."""

    def __init__(
        self, status: int, *errors: str, headers: tuple[tuple[str, str], ...] = ()
    ) -> None:
        super().__init__(status, errors)
        self.status = status
        self.errors = errors
        self.headers = headers


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
    - `rng`/`clock`: seeds or a random.Random for request ids; the clock for rate limiting.
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
        self._lock = threading.RLock()
        self._starts: deque[float] = deque()
        self._faults: list[_Fault] = []
        self._schemas: dict[tuple[int, str], Schema] = {}
        self.requests: list[RecordedRequest] = []
        self.events: list[DestroyEvent] = []
        if self._data_path is not None and self._data_path.exists():
            self._load(self._data_path)

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
        fault = _Fault(
            status,
            times,
            method,
            path,
            object_type,
            tuple(errors) or (HTTPStatus(status).phrase,),
            retry_after,
            after_apply,
        )
        with self._lock:
            self._faults.append(fault)

    def schema(self, integration_id: int, object_type: str) -> list[JsonDict]:
        """The live fields of one object type, in the order they were added."""
        with self._lock:
            stored = self._schemas.get((integration_id, object_type), {})
            return [json.loads(json.dumps(f)) for f in stored.values()]

    def seed(
        self, integration_id: int, object_type: str, fields: Iterable[Mapping[str, Any]]
    ) -> None:
        """Add or replace fields as if created outside crmform (no full-list rule, no events)."""
        items = [dict(f) for f in fields]
        problems, parsed = _validate_items(items)
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
        with self._lock:
            request_id = "".join(self._rng.choices("abcdefghijklmnopqrstuvwxyz0123456789", k=19))
            try:
                answer = self._handle(environ)
            except _Rejected as rejected:
                answer = _Answer(
                    rejected.status, {"errors": list(rejected.errors)}, rejected.headers
                )
            except Exception:
                traceback.print_exc(file=environ.get("wsgi.errors", sys.stderr))
                answer = _Answer(500, {"errors": ["Unexpected error"]})
        body = json.dumps({"requestId": request_id, **answer.body}).encode("utf-8")
        start_response(
            f"{answer.status} {HTTPStatus(answer.status).phrase}",
            [
                ("Content-Type", CONTENT_TYPE),
                ("Content-Length", str(len(body))),
                ("x-traceid", request_id),
                *answer.headers,
            ],
        )
        return [body]

    def _handle(self, environ: WSGIEnvironment) -> _Answer:
        method = str(environ.get("REQUEST_METHOD", "GET")).upper()
        path = str(environ.get("PATH_INFO", ""))
        query = parse_qs(str(environ.get("QUERY_STRING", "")), keep_blank_values=True)
        body = _read_json(environ)
        self.requests.append(
            RecordedRequest(method, path, {k: v[0] for k, v in query.items()}, body)
        )
        self._check_rate()
        object_type = query.get("objectType", [None])[0]
        self._inject(method, path, object_type, after_apply=False)
        self._check_auth(environ)
        if path != SCHEMA_PATH:
            raise _Rejected(404, f"No endpoint {method} {path}")
        if method not in ("GET", "POST"):
            raise _Rejected(
                405, f"Method {method} is not supported", headers=(("Allow", "GET, POST"),)
            )
        integration_id = _integration_id(query)
        types = _object_types(query, required=method == "POST")
        if method == "GET":
            return _Answer(
                200, {"objectTypeToSelectedFields": self._listing(integration_id, types)}
            )
        self._upload(integration_id, types[0], body)
        self._inject(method, path, object_type, after_apply=True)
        return _Answer(self._upload_status, {})

    def _check_rate(self) -> None:
        if self._rate_limit is None:
            return
        now = self._clock()
        while self._starts and self._starts[0] <= now - 1.0:
            self._starts.popleft()
        if len(self._starts) >= self._rate_limit:
            wait = max(1, math.ceil(self._starts[0] + 1.0 - now))
            raise _Rejected(
                429, "API request limit exceeded", headers=(("Retry-After", str(wait)),)
            )
        self._starts.append(now)

    def _inject(
        self, method: str, path: str, object_type: str | None, *, after_apply: bool
    ) -> None:
        for fault in self._faults:
            if fault.matches(method, path, object_type, after_apply):
                fault.times -= 1
                headers = (
                    () if fault.retry_after is None else (("Retry-After", str(fault.retry_after)),)
                )
                raise _Rejected(fault.status, *fault.errors, headers=headers)

    def _check_auth(self, environ: WSGIEnvironment) -> None:
        if self._basic is None and self._bearer is None:
            return
        header = str(environ.get("HTTP_AUTHORIZATION", ""))
        if not header:
            raise _Rejected(401, "Access denied: the request has no Authorization header")
        scheme, _, value = header.partition(" ")
        if scheme.lower() == "basic" and self._basic is not None:
            try:
                given = base64.b64decode(value.strip(), validate=True).decode("utf-8")
            except (binascii.Error, UnicodeDecodeError):
                given = None
            if given == self._basic:
                return
            raise _Rejected(401, "Access denied: invalid access key or access key secret")
        if scheme.lower() == "bearer" and self._bearer is not None:
            if value.strip() == self._bearer:
                return
            raise _Rejected(401, "Access denied: the access token is invalid or expired")
        raise _Rejected(401, f"Access denied: {scheme or 'this'} authorization is not accepted")

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
            raise _Rejected(400, "Malformed request: the body must be a JSON array of fields")
        problems, items = _validate_items(body)
        schema = self._schemas.get((integration_id, object_type), {})
        named = [i for i in body if isinstance(i, dict) and isinstance(i.get("uniqueName"), str)]
        sent = {i["uniqueName"] for i in named}
        missing = [name for name in schema if name not in sent]
        if missing:
            problems.append(
                "You must include all fields in the schema; missing: " + ", ".join(missing)
            )
        if problems:
            raise _Rejected(400, *problems)
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

    # -- persistence ----------------------------------------------------------------------

    def _save(self) -> None:
        if self._data_path is None:
            return
        data: JsonDict = {"version": DATA_VERSION, "schemas": {}}
        for (integration_id, object_type), schema in sorted(self._schemas.items()):
            by_type = data["schemas"].setdefault(str(integration_id), {})
            by_type[object_type] = list(schema.values())
        text = json.dumps(data, indent=2, ensure_ascii=False) + "\n"
        folder = self._data_path.parent
        fd, tmp = tempfile.mkstemp(prefix=f".{self._data_path.name}.", dir=folder)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as out:
                out.write(text)
                out.flush()
                os.fsync(out.fileno())
            os.replace(tmp, self._data_path)
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)

    def _load(self, path: Path) -> None:
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            if data.get("version") != DATA_VERSION:
                raise ValueError(f"unsupported version {data.get('version')!r}")
            for integration_id, by_type in data["schemas"].items():
                for object_type, fields in by_type.items():
                    if object_type not in OBJECT_TYPES:
                        raise ValueError(f"unknown object type {object_type!r}")
                    problems, items = _validate_items(fields)
                    if problems:
                        raise ValueError("; ".join(problems))
                    self._schemas[(int(integration_id), object_type)] = {
                        item["uniqueName"]: {k: v for k, v in item.items() if k != "isDeleted"}
                        for item in items
                    }
        except (OSError, ValueError, TypeError, KeyError, AttributeError) as exc:
            raise ValueError(
                f"Cannot read the emulator data file {path}: {exc}. Fix or delete it."
            ) from exc


# -- request parsing and validation (module level: pure functions of their input) ---------

_LAST_MODIFIED = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(Z|[+-]\d{2}:\d{2})")


def _read_json(environ: WSGIEnvironment) -> object:
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    raw = environ["wsgi.input"].read(length) if length > 0 else b""
    if not raw:
        return None
    try:
        return json.loads(raw)
    except ValueError:
        return raw.decode("utf-8", errors="replace")


def _integration_id(query: dict[str, list[str]]) -> int:
    values = query.get("integrationId", [])
    if len(values) != 1:
        raise _Rejected(400, "Required parameter integrationId must be given exactly once")
    raw = values[0]
    if not raw.isascii() or not raw.isdigit() or not 0 < int(raw) <= INT64_MAX:
        raise _Rejected(400, f"integrationId must be a positive 64-bit integer, not {raw!r}")
    return int(raw)


def _object_types(query: dict[str, list[str]], *, required: bool) -> tuple[str, ...]:
    values = query.get("objectType", [])
    if not values and not required:
        # Gong's docs: a GET without objectType returns the schema of every object type.
        return OBJECT_TYPES
    if len(values) != 1:
        raise _Rejected(400, "Required parameter objectType must be given exactly once")
    if values[0] not in OBJECT_TYPES:
        raise _Rejected(
            400,
            f"objectType must be one of {', '.join(OBJECT_TYPES)} (case-sensitive), "
            f"not {values[0]!r}",
        )
    return (values[0],)


def _validate_items(items: list[Any]) -> tuple[list[str], list[JsonDict]]:
    """Every problem in an upload body, and the items in stored form plus `isDeleted`."""
    problems: list[str] = []
    parsed: list[JsonDict] = []
    seen: set[str] = set()
    for index, item in enumerate(items):
        where = f"fields[{index}]"
        if not isinstance(item, dict):
            problems.append(f"{where}: each field must be a JSON object")
            continue
        name = item.get("uniqueName")
        if not isinstance(name, str) or not name:
            problems.append(f"{where}: uniqueName is required (a non-empty string)")
            continue
        where = f"{where} ({name})"
        if name in seen:
            problems.append(f"{where}: uniqueName {name!r} appears more than once in the body")
        seen.add(name)
        found = _item_problems(item)
        problems.extend(f"{where}: {p}" for p in found)
        if not found:
            parsed.append(_stored(item))
    return problems, parsed


def _item_problems(item: JsonDict) -> list[str]:
    problems: list[str] = []
    label, kind, deleted = item.get("label"), item.get("type"), item.get("isDeleted")
    # UNCERTAIN whether Gong accepts an empty label; it is required, so we demand one.
    if not isinstance(label, str) or not label:
        problems.append("label is required (a non-empty string)")
    if kind not in FIELD_TYPES:
        problems.append(
            f"type must be one of {', '.join(FIELD_TYPES)} (case-sensitive), not {kind!r}"
        )
    if deleted is not None and not isinstance(deleted, bool):
        problems.append(f"isDeleted must be true or false, not {deleted!r}")
    values, target = item.get("orderedValueList"), item.get("referenceTo")
    values_ok = (
        isinstance(values, list) and bool(values) and all(isinstance(v, str) for v in values)
    )
    # Gong's documented delete example omits orderedValueList for a PICKLIST tombstone.
    if kind == "PICKLIST" and not values_ok and (values is not None or deleted is not True):
        problems.append(
            "orderedValueList is required for a PICKLIST (a non-empty array of strings)"
        )
    if (
        kind == "REFERENCE"
        and target not in REFERENCE_TARGETS
        and (target is not None or deleted is not True)
    ):
        problems.append(
            f"referenceTo is required for a REFERENCE, one of {', '.join(REFERENCE_TARGETS)}, "
            f"not {target!r}"
        )
    modified = item.get("lastModified")
    if modified is not None and not _valid_timestamp(modified):
        problems.append(
            "lastModified must be ISO-8601 without milliseconds, such as 2020-12-17T13:45:01Z, "
            f"not {modified!r}"
        )
    return problems


def _valid_timestamp(value: object) -> bool:
    if not isinstance(value, str) or not _LAST_MODIFIED.fullmatch(value):
        return False
    try:
        datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return False
    return True


def _stored(item: JsonDict) -> JsonDict:
    """The attributes Gong keeps for a field (unknown keys dropped), plus `isDeleted`."""
    stored: JsonDict = {"uniqueName": item["uniqueName"], "label": item["label"]}
    stored["type"] = item["type"]
    if item["type"] == "REFERENCE" and item.get("referenceTo") is not None:
        stored["referenceTo"] = item["referenceTo"]
    if item["type"] == "PICKLIST" and item.get("orderedValueList") is not None:
        stored["orderedValueList"] = list(item["orderedValueList"])
    if item.get("lastModified") is not None:
        stored["lastModified"] = item["lastModified"]
    stored["isDeleted"] = item.get("isDeleted") is True
    return stored


# -- serving ------------------------------------------------------------------------------


class _QuietHandler(WSGIRequestHandler):
    verbose = False

    def log_message(self, format: str, *args: Any) -> None:
        if self.verbose:
            super().log_message(format, *args)


class _CountingServer(WSGIServer):
    handled = 0

    def process_request(self, request: Any, client_address: Any) -> None:
        self.handled += 1
        super().process_request(request, client_address)


def serve(
    app: GongEmulator,
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
