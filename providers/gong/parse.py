"""Reading Gong's answers: the live fields of a GET, and what a response says about
itself (its requestId, the errors of a failure, how long Retry-After asks to wait).

No requests and no retries here (client.py does those): a malformed GET answer raises
ValueError saying what is wrong; what cannot be read from a header is None.
"""

from __future__ import annotations

import contextlib
import email.utils
import json
import time

import httpx

from crmform.engine.model import Field, FieldType, ObjectType


def parse_selected_fields(payload: object, object_type: ObjectType) -> tuple[Field, ...]:
    """The live fields of one type from a GET answer; ValueError says what is malformed.

    Reads `uniqueName`, falling back to `name` (Gong's documented example uses `name`);
    skips isDeleted items; null attributes become None ("unknown"); unknown keys are ignored.
    A missing key for the type, or an empty list, means no fields.
    """
    if not isinstance(payload, dict):
        raise ValueError("the body is not a JSON object")
    selected = payload.get("objectTypeToSelectedFields")
    # A missing map is not "no fields": treating it so would plan deleting everything.
    if not isinstance(selected, dict):
        raise ValueError("it has no objectTypeToSelectedFields object")
    items = selected.get(object_type.value)
    if items is None:
        return ()
    if not isinstance(items, list):
        raise ValueError(f"objectTypeToSelectedFields.{object_type} is not a list")
    fields: list[Field] = []
    for index, item in enumerate(items):
        where = f"objectTypeToSelectedFields.{object_type}[{index}]"
        if not isinstance(item, dict):
            raise ValueError(f"{where} is not an object")
        if item.get("isDeleted") is True:
            continue
        fields.append(_field(item, where))
    return tuple(fields)


def _field(item: dict[str, object], where: str) -> Field:
    name = item.get("uniqueName")
    if name is None:
        name = item.get("name")
    if not isinstance(name, str) or not name:
        raise ValueError(f"{where} has neither a uniqueName nor a name")
    where = f"{where} ({name})"
    label, kind = item.get("label"), item.get("type")
    if not isinstance(label, str):
        raise ValueError(f"{where} has no label")
    if not isinstance(kind, str) or kind not in FieldType.__members__:
        raise ValueError(
            f"{where} has type {kind!r}, which crmform does not know; "
            "upgrade crmform or report the new type"
        )
    reference, values, modified = (
        item.get("referenceTo"),
        item.get("orderedValueList"),
        item.get("lastModified"),
    )
    if reference is not None and not isinstance(reference, str):
        raise ValueError(f"{where} has a referenceTo that is not a string")
    if values is not None and not (
        isinstance(values, list) and all(isinstance(v, str) for v in values)
    ):
        raise ValueError(f"{where} has an orderedValueList that is not a list of strings")
    if modified is not None and not isinstance(modified, str):
        raise ValueError(f"{where} has a lastModified that is not a string")
    return Field(
        unique_name=name,
        label=label,
        type=FieldType(kind),
        reference_to=reference,
        ordered_value_list=tuple(values) if values is not None else None,
        last_modified=modified,
    )


def error_details(text: str) -> tuple[tuple[str, ...], str | None, str]:
    """Gong's `errors` strings and `requestId` from an error body, or a short snippet of it."""
    try:
        payload = json.loads(text)
    except ValueError:
        return (), None, " ".join(text.split())[:200]
    if not isinstance(payload, dict):
        return (), None, " ".join(text.split())[:200]
    raw = payload.get("errors")
    errors = tuple(str(e) for e in raw) if isinstance(raw, list) else ()
    request_id = payload.get("requestId")
    return errors, request_id if isinstance(request_id, str) else None, ""


def request_id_of(response: httpx.Response, payload: object) -> str | None:
    if isinstance(payload, dict):
        value = payload.get("requestId")
        if isinstance(value, str):
            return value
    trace: str | None = response.headers.get("x-traceid")
    return trace or None


def retry_after_seconds(response: httpx.Response) -> float | None:
    """Seconds from a Retry-After header: integer seconds or an HTTP date; None if unusable."""
    raw = response.headers.get("retry-after", "").strip()
    if not raw:
        return None
    if raw.isdigit():
        return float(raw)
    try:
        when = email.utils.parsedate_to_datetime(raw)
    except (TypeError, ValueError):
        return None
    # Measure against the server's own Date header when it sends one: no clock skew.
    now = time.time()
    date = response.headers.get("date")
    if date:
        with contextlib.suppress(TypeError, ValueError):
            now = email.utils.parsedate_to_datetime(date).timestamp()
    return max(0.0, when.timestamp() - now)
