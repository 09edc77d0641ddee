"""JSON shapes of fields, object schemas and state: the one place that spells their keys.

Used by the state backends and by saved plans. Keys follow Gong's API names.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping, Sequence
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
from crmform.engine.values import Value, _set

JsonDict = dict[str, Any]


def dumps_indented(doc: object, level: int = 0) -> str:
    """`json.dumps(doc, indent=2)`, byte for byte, at the C encoder's speed.

    With `level`, the text `doc` has nested that many containers deep in an indented
    document (its inner lines indented by 2 * `level` more spaces), so a document can be
    written piece by piece (engine/formats/plan_json.py streams a plan's changes so).

    `indent` makes the standard library fall back to its pure-Python encoder (measured: a
    50,000-create plan's JSON 0.5 s to encode where the C encoder takes 0.15 s). Here each
    container is one C-encoder call whose item separator carries the newline and this
    level's indentation; a nested non-empty container stands in as a placeholder string,
    rendered the same way one level deeper and put in its place. Keys must be strings, as
    in every document crmform writes.
    """
    try:
        return _render(doc, level)
    except _Collision:  # a string in `doc` is the placeholder itself
        # Newlines in the output are all layout: strings have theirs escaped.
        return json.dumps(doc, indent=2).replace("\n", "\n" + "  " * level)


# A string as JSON, ASCII only: the C encoder's own escaping (as dumps_indented writes it).
encode_string: Callable[[str], str] = json.encoder.encode_basestring_ascii


class Items(Value):
    """A document's list, item by item, for documents too large to build whole: `to_json`
    gives an item's value, `encode` (when set, for speed) its text as it stands two levels
    deep, exactly dumps_indented(to_json(item), 2)."""

    __slots__ = ("encode", "items", "to_json")
    items: Sequence[Any]
    to_json: Callable[[Any], object]
    encode: Callable[[Any], str] | None

    def __init__(
        self,
        items: Sequence[Any],
        to_json: Callable[[Any], object],
        encode: Callable[[Any], str] | None = None,
    ) -> None:
        _set(self, "items", items)
        _set(self, "to_json", to_json)
        _set(self, "encode", encode)


def built(doc: Mapping[str, object]) -> JsonDict:
    """The document with each Items value made a list."""
    return {
        key: [value.to_json(item) for item in value.items] if isinstance(value, Items) else value
        for key, value in doc.items()
    }


def iter_indented(doc: Mapping[str, object]) -> Iterator[str]:
    """dumps_indented(built(doc)) in pieces: an Items value one item at a time (with
    `encode`, a batch of items), so neither the document nor its text is ever held whole
    (no newline at the end)."""
    if not doc:
        yield "{}"
        return
    separator = "{\n  "
    for key, value in doc.items():
        yield f"{separator}{encode_string(key)}: "
        separator = ",\n  "
        if not isinstance(value, Items):
            yield dumps_indented(value, 1)
        elif not value.items:
            yield "[]"
        elif value.encode is None:
            between = "[\n    "
            for item in value.items:
                yield between + dumps_indented(value.to_json(item), 2)
                between = ",\n    "
            yield "\n  ]"
        else:
            # A batch of items a piece: one join and one yield per _BATCH items, where one
            # each costs a tenth of what encoding a plan's change does.
            items, encode = value.items, value.encode
            between = "[\n    "
            for start in range(0, len(items), _BATCH):
                yield between + ",\n    ".join(map(encode, items[start : start + _BATCH]))
                between = ",\n    "
            yield "\n  ]"
    yield "\n}"


# Items encoded a piece (Items.encode): a plan's changes are about 560 characters each.
_BATCH = 64


class _Collision(Exception):
    pass


_Encode = Callable[[object, int], Sequence[str]]
_LEVELS: list[_Encode] = []
_HOLE = "\x00"  # a stand-in for a nested container; encoded, it reads "\u0000"
_HOLE_JSON = '"\\u0000"'


def _level(level: int) -> _Encode:
    """The C encoder itself (JSONEncoder.encode would build one per call), separating
    items at `level`."""
    while len(_LEVELS) <= level:
        separator = ",\n" + "  " * len(_LEVELS)
        default = json.JSONEncoder().default
        _LEVELS.append(
            json.encoder.c_make_encoder(  # type: ignore[attr-defined]
                None,
                default,
                json.encoder.encode_basestring_ascii,
                None,
                ": ",
                separator,
                False,
                False,
                True,
            )
        )
    return _LEVELS[level]


_CONTAINERS = (dict, list)


def _render(value: object, level: int) -> str:
    kind = type(value)
    if kind not in _CONTAINERS or not value:
        return "".join(_level(0)(value, 0))
    if kind is dict:
        mapping: dict[object, object] = value  # type: ignore[assignment]
        inner = [v for v in mapping.values() if type(v) in _CONTAINERS and v]
        if inner:
            value = {k: _HOLE if type(v) in _CONTAINERS and v else v for k, v in mapping.items()}
    else:
        items: list[object] = value  # type: ignore[assignment]
        inner = [v for v in items if type(v) in _CONTAINERS and v]
        if inner:
            value = [_HOLE if type(v) in _CONTAINERS and v else v for v in items]
    flat = "".join(_level(level + 1)(value, 0))
    body = "\n" + "  " * (level + 1) + flat[1:-1] + "\n" + "  " * level
    if inner:
        pieces = body.split(_HOLE_JSON)
        if len(pieces) != len(inner) + 1:
            raise _Collision
        out = [pieces[0]]
        for v, rest in zip(inner, pieces[1:], strict=True):
            out.append(_render(v, level + 1))
            out.append(rest)
        body = "".join(out)
    return flat[0] + body + flat[-1]


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
