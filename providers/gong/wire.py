"""Gong's JSON <-> crmform's Field, both directions: the items of an upload body, and the
fields of a GET answer.

Upload items are Gong's `GenericSchemaFieldRequest` (shared/gong-api.md §1); a tombstone
sends only uniqueName, label, type, isDeleted and lastModified, as Gong's documented delete
example does (no orderedValueList, no referenceTo). GET answers are
`ListSelectedFieldsResponse` (§2): `uniqueName`, or `name` in Gong's documented example;
nulls mean "unknown"; attributes crmform does not model are kept, not dropped.

Pure: no requests, no retries (client.py). A malformed answer raises ValueError saying what
was asked and what came, never an empty schema: "no fields" read from an answer that left
the object type out would plan deleting every field.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from itertools import repeat

from crmform.engine.model import FIELD, FIELD_TYPES_BY_VALUE, Field, FieldType, ObjectType
from crmform.engine.ports import Extra, FieldWrite

__all__ = [
    "Listing",
    "Sent",
    "decode_listing",
    "encode_body",
    "encode_item",
    "encode_upload",
    "preview_body",
]

# A JSON value of an upload item (str, bool or a list of strings).
Item = dict[str, "str | bool | list[str]"]

# What a GET answer says of one object type: its live fields, and per field (uniqueName)
# the attributes crmform does not model.
Listing = tuple[tuple[Field, ...], tuple[tuple[str, Extra], ...]]


# What an upload sent: per uniqueName of a live field, the Field a GET item listing exactly
# that field decodes to (the field sent; for a protected one, its copy with protect False,
# as protect is never sent). See `encode_upload`.
Sent = dict[str, Field]


# The keys of a GET item that crmform reads; every other key is kept as an extra attribute.
_MODELLED = frozenset(
    {"uniqueName", "name", "label", "type", "referenceTo", "orderedValueList", "lastModified"}
    | {"isDeleted"}
)
_SHOWN_MAX = 60


def encode_item(write: FieldWrite) -> Item:
    """One upload item, keys in the order Gong documents them."""
    f = write.field
    item: Item = {"uniqueName": f.unique_name, "label": f.label, "type": f.type.value}
    if write.deleted:
        item["isDeleted"] = True
    else:
        if f.reference_to is not None:
            item["referenceTo"] = f.reference_to
        if f.ordered_value_list is not None:
            item["orderedValueList"] = list(f.ordered_value_list)
    if f.last_modified is not None:
        item["lastModified"] = f.last_modified
    return item


def encode_body(writes: Sequence[FieldWrite]) -> bytes:
    """The exact bytes of an upload: a bare JSON array, UTF-8, encoded once by the C encoder
    (a retry resends these bytes). The items are `encode_item`'s, built inline: a body has
    one per field, tens of thousands (a FieldType is a str, and a tuple a JSON array, to
    the encoder)."""
    return encode_upload(writes)[0]


def encode_upload(writes: Sequence[FieldWrite]) -> tuple[bytes, Sent]:
    """`encode_body`'s bytes, and what they sent (`Sent`): the read-back GET after an upload
    lists mostly exactly these fields, and `decode_listing` then takes the Fields sent
    instead of building them again (and the read-back's compare finds them identical)."""
    items: list[dict[str, object]] = []
    append = items.append
    sent: Sent = {}
    for write in writes:
        f = write.field
        item: dict[str, object] = {"uniqueName": f.unique_name, "label": f.label, "type": f.type}
        if write.deleted:
            item["isDeleted"] = True
        else:
            if f.reference_to is not None:
                item["referenceTo"] = f.reference_to
            if f.ordered_value_list is not None:
                item["orderedValueList"] = f.ordered_value_list
            sent[f.unique_name] = _unprotected(f) if f.protect else f
        if f.last_modified is not None:
            item["lastModified"] = f.last_modified
        append(item)
    # Fresh dicts and lists only: no cycle to look for.
    body = json.dumps(items, ensure_ascii=False, check_circular=False).encode("utf-8")
    return body, sent


def _unprotected(f: Field) -> Field:
    return Field(
        f.unique_name, f.label, f.type, f.reference_to, f.ordered_value_list, False, f.last_modified
    )


def preview_body(writes: Sequence[FieldWrite]) -> str:
    """The same JSON value as `encode_body`, indented for a person to read (dry runs)."""
    return json.dumps([encode_item(w) for w in writes], indent=2)


def decode_listing(payload: object, object_type: ObjectType, sent: Sent | None = None) -> Listing:
    """The live fields of `object_type` in a GET answer; ValueError says what is malformed.

    The type must be in the answer with a list (possibly empty): a missing or null entry is
    a malformed answer. isDeleted items are skipped; null attributes become None. With
    `sent` (what the upload just before this read sent), an item that lists exactly the
    attributes of the Field sent under its name (as decoding it would give them, in any
    key spelling Gong uses) is that Field, which is exactly the Field it decodes to.
    """
    if not isinstance(payload, dict):
        raise ValueError(f"the body is {_kind(payload)}, not a JSON object")
    selected = payload.get("objectTypeToSelectedFields")
    # A missing map is not "no fields": treating it so would plan deleting everything.
    if not isinstance(selected, dict):
        raise ValueError("it has no objectTypeToSelectedFields object")
    where = f"objectTypeToSelectedFields.{object_type}"
    if object_type.value not in selected:
        listed = ", ".join(_shown(str(k)) for k in list(selected)[:8])
        has = f"it lists only {listed}" if listed else "it is empty"
        raise ValueError(f"objectTypeToSelectedFields has no {object_type} entry ({has})")
    items = selected[object_type.value]
    if not isinstance(items, list):
        raise ValueError(f"{where} is {_kind(items)}, not a list of fields")
    fields: list[Field] = []
    extras: list[tuple[str, Extra]] = []
    append = fields.append
    by_value = FIELD_TYPES_BY_VALUE.get
    modelled = _MODELLED.issuperset
    for index, item in enumerate(items):
        # The common case in one pass of plain checks; anything unusual takes _field, which
        # raises with a message naming the item (its checks are the same).
        if not isinstance(item, dict):
            raise ValueError(f"{where}[{index}] is {_kind(item)}, not an object")
        get = item.get
        if get("isDeleted") is True:
            continue
        name = get("uniqueName")
        if name is None:
            name = get("name")
        label, kind = get("label"), get("type")
        reference, values, modified = (
            get("referenceTo"),
            get("orderedValueList"),
            get("lastModified"),
        )
        plain = modelled(item)
        if sent is not None and plain and type(name) is str:
            # The field sent, when the item lists exactly what it decodes to (each
            # attribute as decoding it gives it: a missing or null one is None).
            f = sent.get(name)
            if (
                f is not None
                and label == f.label
                and kind == f.type
                and reference == f.reference_to
                and modified == f.last_modified
                and (
                    values is None
                    if (sent_values := f.ordered_value_list) is None
                    else type(values) is list and tuple(values) == sent_values
                )
            ):
                append(f)
                continue
        field_type = by_value(kind) if isinstance(kind, str) else None
        if (
            isinstance(name, str)
            and name
            and isinstance(label, str)
            and field_type is not None
            and (reference is None or isinstance(reference, str))
            and (modified is None or isinstance(modified, str))
            and (values is None or _strings(values))
        ):
            value_list = tuple(values) if values is not None else None
            field = FIELD((name, label, field_type, reference, value_list, False, modified))
        else:
            field = _field(item, f"{where}[{index}]")
        append(field)
        if not plain:
            extra = tuple(
                sorted(
                    (str(k), json.dumps(v, sort_keys=True, ensure_ascii=False))
                    for k, v in item.items()
                    if k not in _MODELLED
                )
            )
            extras.append((field.unique_name, extra))
    return tuple(fields), tuple(extras)


def _strings(values: object) -> bool:
    """A list of strings."""
    return isinstance(values, list) and all(map(isinstance, values, repeat(str)))


def _field(item: dict[str, object], where: str) -> Field:
    name = item.get("uniqueName")
    if name is None:
        name = item.get("name")
    if not isinstance(name, str) or not name:
        raise ValueError(f"{where} has neither a uniqueName nor a name")
    where = f"{where} ({_shown(name)})"
    label, kind = item.get("label"), item.get("type")
    if not isinstance(label, str):
        raise ValueError(f"{where} has no label")
    if not isinstance(kind, str) or kind not in FieldType.__members__:
        shown = repr(_shown(kind)) if isinstance(kind, str) else _kind(kind)
        raise ValueError(
            f"{where} has type {shown}, which crmform does not know; "
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


def _kind(value: object) -> str:
    """What JSON value this is, in words (never the value itself: it may be huge)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a JSON array"
    return "a JSON object"


def _shown(text: str) -> str:
    """A name from Gong's answer as it may appear in a message: escaped and cut short."""
    escaped = "".join(c if c.isprintable() else c.encode("unicode_escape").decode() for c in text)
    return escaped if len(escaped) <= _SHOWN_MAX else escaped[: _SHOWN_MAX - 3] + "..."
