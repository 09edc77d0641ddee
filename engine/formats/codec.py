"""JSON shapes of fields, object schemas and state: the one place that spells their keys.

Used by the state backends and by saved plans. Keys follow Gong's API names.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from crmform.engine.model import (
    STATE_VERSION,
    DeletedField,
    Field,
    FieldType,
    ObjectKey,
    ObjectSchema,
    PendingUpload,
    State,
)

JsonDict = dict[str, Any]


def field_to_json(f: Field) -> JsonDict:
    out: JsonDict = {"uniqueName": f.unique_name, "label": f.label, "type": f.type.value}
    if f.reference_to is not None:
        out["referenceTo"] = f.reference_to
    if f.ordered_value_list is not None:
        out["orderedValueList"] = list(f.ordered_value_list)
    out["protect"] = f.protect
    if f.last_modified is not None:
        out["lastModified"] = f.last_modified
    return out


def field_from_json(d: Mapping[str, Any]) -> Field:
    """Inverse of field_to_json; raises KeyError/ValueError/TypeError on a malformed dict."""
    values = d.get("orderedValueList")
    if values is not None and not isinstance(values, list):
        raise TypeError("orderedValueList must be a list")
    return Field(
        unique_name=str(d["uniqueName"]),
        label=str(d["label"]),
        type=FieldType(d["type"]),
        reference_to=d.get("referenceTo"),
        ordered_value_list=tuple(str(v) for v in values) if values is not None else None,
        protect=bool(d.get("protect", False)),
        last_modified=d.get("lastModified"),
    )


def objects_to_json(objects: tuple[ObjectSchema, ...]) -> JsonDict:
    return {
        obj.key.address: {"fields": [field_to_json(f) for f in obj.fields]}
        for obj in sorted(objects, key=lambda o: o.key)
    }


def objects_from_json(d: Mapping[str, Any]) -> tuple[ObjectSchema, ...]:
    objects = [
        ObjectSchema(ObjectKey.parse(address), tuple(field_from_json(f) for f in body["fields"]))
        for address, body in d.items()
    ]
    return tuple(sorted(objects, key=lambda o: o.key))


def state_to_json(state: State) -> JsonDict:
    return {
        "version": STATE_VERSION,
        "lineage": state.lineage,
        "serial": state.serial,
        "objects": objects_to_json(state.objects),
    }


def pending_to_json(record: PendingUpload) -> JsonDict:
    """One pending upload as the state document's "pending" list holds it."""
    return {
        "address": record.key.address,
        "digest": record.digest,
        "started": record.started,
        "fields": [field_to_json(f) for f in record.after.fields],
    }


def deleted_to_json(entry: DeletedField) -> JsonDict:
    """One entry of the state document's "deleted" ledger."""
    return {
        "address": entry.key.address,
        "uniqueName": entry.unique_name,
        "type": entry.type.value,
        "deleted": entry.deleted,
    }
