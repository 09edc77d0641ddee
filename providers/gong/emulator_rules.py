"""What the Gong emulator accepts: Gong's documented request and field rules, as functions
of the request alone, without the emulator's state (see shared/gong-api.md).

A request Gong would refuse raises Rejected with Gong-style error strings; an upload
body is checked whole, so every problem is reported at once.

Its field types and reference targets are spelled out here rather than imported from the
engine, so the emulator stays an independent check of the engine's vocabulary.
"""

from __future__ import annotations

import json
import re
from datetime import datetime
from typing import Any
from wsgiref.types import WSGIEnvironment

OBJECT_TYPES = ("ACCOUNT", "CONTACT", "DEAL", "LEAD")
FIELD_TYPES = (
    *("DATE", "DATETIME", "NUMBER", "PERCENT", "CURRENCY", "ID", "URL", "STRING"),
    *("BOOLEAN", "PHONENUMBER", "EMAILADDRESS", "PICKLIST", "REFERENCE", "STRINGARRAY"),
)
REFERENCE_TARGETS = (*OBJECT_TYPES, "USER")
INT64_MAX = 2**63 - 1

JsonDict = dict[str, Any]


class Rejected(Exception):
    """Ends handling of one request with a Gong-style error answer."""

    def __init__(
        self, status: int, *errors: str, headers: tuple[tuple[str, str], ...] = ()
    ) -> None:
        super().__init__(status, errors)
        self.status = status
        self.errors = errors
        self.headers = headers


_LAST_MODIFIED = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(Z|[+-]\d{2}:\d{2})")


def read_json(environ: WSGIEnvironment) -> object:
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


def read_integration_id(query: dict[str, list[str]]) -> int:
    values = query.get("integrationId", [])
    if len(values) != 1:
        raise Rejected(400, "Required parameter integrationId must be given exactly once")
    raw = values[0]
    if not raw.isascii() or not raw.isdigit() or not 0 < int(raw) <= INT64_MAX:
        raise Rejected(400, f"integrationId must be a positive 64-bit integer, not {raw!r}")
    return int(raw)


def read_object_types(query: dict[str, list[str]], *, required: bool) -> tuple[str, ...]:
    values = query.get("objectType", [])
    if not values and not required:
        # Gong's docs: a GET without objectType returns the schema of every object type.
        return OBJECT_TYPES
    if len(values) != 1:
        raise Rejected(400, "Required parameter objectType must be given exactly once")
    if values[0] not in OBJECT_TYPES:
        raise Rejected(
            400,
            f"objectType must be one of {', '.join(OBJECT_TYPES)} (case-sensitive), "
            f"not {values[0]!r}",
        )
    return (values[0],)


def validate_items(items: list[Any]) -> tuple[list[str], list[JsonDict]]:
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
