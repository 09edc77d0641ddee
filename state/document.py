"""The state document: the one JSON layout every backend stores, and its strict reading.

`encode(state)` gives exactly the bytes of the local state file (laid out like
`json.dumps(indent=2)` down to each object's "fields" list, one field per line; see
local.py). `decode(raw)` reads them back and checks everything, as strictly as the schema
files are checked: a key given twice anywhere, an unknown key, an address that is not
exactly `gong/<integration id>/<ACCOUNT|CONTACT|DEAL|LEAD>` (ASCII digits, no leading zero,
at most 2^63-1), a `lastModified` that is not `YYYY-MM-DDTHH:MM:SSZ`, a field type crmform
does not know, a `protect` that is not a boolean, a string with a lone surrogate. Each is an
`UnusableDocument` whose reason names the key; the caller says where the document is and
never rewrites it. `encode` refuses (`UnstorableState`) what `decode` would refuse, so a
backend never stores a state it cannot read back.

The document may carry one more top-level key, "pending": the uploads whose outcome is not
known yet (State.pending), written after "objects" only when there are any, one record per
line: {"address", "digest" (sha256 hex), "started" (a UTC time), "fields" (the object the
state records once Gong shows it)}. They are read as strictly as the objects. So is the
optional "deleted" ledger (State.deleted): {"address", "uniqueName", "type", "deleted" (a
UTC time)} per field crmform deleted, one per line, written only when not empty.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from crmform.engine.formats.codec import deleted_to_json, pending_to_json, state_to_json
from crmform.engine.model import (
    DEFAULT_PROVIDER,
    INTEGRATION_ID_MAX,
    STATE_VERSION,
    DeletedField,
    Field,
    FieldType,
    ObjectKey,
    ObjectSchema,
    ObjectType,
    PendingUpload,
    State,
)
from crmform.state.jsonfile import Unreadable, kind, laid_out_bytes, parse_object

__all__ = [
    "Document",
    "JsonObject",
    "NewerVersion",
    "UnstorableState",
    "UnusableDocument",
    "decode",
    "encode",
    "next_state",
    "storable_objects",
]

JsonObject = Mapping[str, object]

# The document nests objects (1) > one object (2) > its "fields" list (3) > a field.
_FIELDS_DEPTH = 3
_STATE_KEYS = ("version", "lineage", "serial", "objects")
_OPTIONAL_KEYS = ("pending", "deleted")
_FIELD_KEYS = frozenset(
    {"uniqueName", "label", "type", "referenceTo", "orderedValueList", "protect", "lastModified"}
)
_TYPES = {t.name: t for t in FieldType}  # as _field reads it: FieldType.__members__
_STR, _DICT = frozenset({str}), frozenset({dict})  # JSON gives these exact types
_TIMESTAMP = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ")
_DIGEST = re.compile(r"[0-9a-f]{64}")
_ADDRESS = re.compile(r"([^/]*)/([^/]*)/([^/]*)")
_ONE_LINE = json.JSONEncoder(ensure_ascii=False, separators=(", ", ": "))


class UnusableDocument(Exception):
    """A document that cannot be used. The argument completes "The state <where> ...",
    e.g. 'has no "serial" key'."""


class NewerVersion(UnusableDocument):
    """Written by a newer crmform: the fix is an upgrade, not a repair."""

    def __init__(self, version: int) -> None:
        super().__init__(f"has state version {version}")
        self.version = version


class UnstorableState(Exception):
    """A state that would not read back; `message(location)` says what and how to fix it."""

    def __init__(self, what: str, fix: str) -> None:
        super().__init__(what)
        self.what = what
        self.fix = fix

    def message(self, location: str) -> str:
        return (
            f"The state {location} cannot record {self.what}. Nothing was written; "
            f"{self.fix}, then run the command again."
        )


@dataclass(frozen=True, slots=True)
class Document:
    """A decoded document: the state (its pending uploads included)."""

    state: State


# -- encoding ------------------------------------------------------------------------------


def encode(state: State) -> bytes:
    """`state` as the document's bytes.

    `state.objects` must be sorted by address, one per address, as `storable_objects`
    returns them; raises UnstorableState for anything `decode` would refuse.
    """
    for obj in state.objects:
        _check_storable(obj)
    for record in state.pending:
        _check_storable(record.after)
        if not _TIMESTAMP.fullmatch(record.started) or not _DIGEST.fullmatch(record.digest):
            raise UnstorableState("a pending upload", "report this as a crmform bug")
    if not state.lineage:
        raise UnstorableState("a state without a lineage", "report this as a crmform bug")
    for entry in state.deleted:
        if not _TIMESTAMP.fullmatch(entry.deleted):
            raise UnstorableState("the ledger of deleted fields", "report this as a crmform bug")
    data = laid_out_bytes(state_to_json(state), _FIELDS_DEPTH)
    if state.pending:
        data = _with_list(data, "pending", [pending_to_json(r) for r in state.pending])
    if state.deleted:
        data = _with_list(data, "deleted", [deleted_to_json(d) for d in state.deleted])
    return data


def _with_list(data: bytes, name: str, items: Sequence[JsonObject]) -> bytes:
    """`data` with a last top-level key `name` holding `items`, one per line."""
    records = [_ONE_LINE.encode(dict(item)) for item in items]
    listed = "[\n    " + ",\n    ".join(records) + "\n  ]"
    # The laid-out document ends with "\n}\n": the list goes in as its last key.
    return data[:-3] + f',\n  "{name}": {listed}\n}}\n'.encode()


def storable_objects(objects: Sequence[ObjectSchema]) -> tuple[ObjectSchema, ...]:
    """`objects` as reading them back gives them: sorted, one per address, no source.

    Raises UnstorableState for an object that would not read back.
    """
    by_address: dict[str, ObjectSchema] = {}
    for obj in sorted(objects, key=lambda o: o.key):
        _check_storable(obj)
        by_address[obj.key.address] = replace(obj, source=None) if obj.source else obj
    return tuple(by_address.values())


def next_state(state: State) -> State:
    """What a write of `state` stores: the next serial, a fresh lineage for a first write
    that brings none, the objects as they read back."""
    return State(
        state.lineage or str(uuid.uuid4()),
        state.serial + 1,
        storable_objects(state.objects),
        tuple(replace(p, after=storable_objects((p.after,))[0]) for p in state.pending),
        state.deleted,
    )


def _check_storable(obj: ObjectSchema) -> None:
    key = obj.key
    if "/" in key.provider or key.integration_id < 0:
        raise UnstorableState(
            f"the object type {key}: its provider must not contain '/' and its integration "
            "id must be a non-negative integer",
            "fix the integration id or provider",
        )
    if key.provider != DEFAULT_PROVIDER or key.integration_id > INTEGRATION_ID_MAX:
        raise UnstorableState(
            f"the object type {key}: its provider must be {DEFAULT_PROVIDER} and its "
            f"integration id at most {INTEGRATION_ID_MAX}",
            "fix the integration id or provider",
        )
    seen: set[str] = set()
    for f in obj.fields:
        problem = _field_problem(f)
        if problem is None and f.unique_name in seen:
            problem = "it is listed twice"
        if problem is not None:
            raise UnstorableState(
                f"the field {f.unique_name!r} of {key}: {problem}",
                "check what Gong answers for this field (crmform refresh), or report this "
                "as a crmform bug",
            )
        seen.add(f.unique_name)


def _field_problem(f: Field) -> str | None:
    if not f.unique_name:
        return "its uniqueName is empty"
    texts = [f.unique_name, f.label, *(f.ordered_value_list or ())]
    if f.reference_to is not None:
        texts.append(f.reference_to)
    if not all(_utf8(t) for t in texts):
        return "it holds text that is not valid Unicode (a lone surrogate)"
    if f.last_modified is not None and not _TIMESTAMP.fullmatch(f.last_modified):
        return (
            f"its lastModified {f.last_modified[:40]!r} is not a UTC time such as "
            "2020-12-17T13:45:01Z"
        )
    return None


# -- decoding ------------------------------------------------------------------------------
# Trust but verify, in one pass: each object's fields are type-checked while their Fields
# are built (_checked_fields); only an object that pass refuses is read again field by
# field (_field), which words what is wrong. Both accept the same fields (a property test
# in tests/test_state_document.py compares them), so the messages are those of _field.


def decode(raw: bytes) -> Document:
    """The document in `raw`, checked in full; raises UnusableDocument (or NewerVersion)."""
    try:
        doc = parse_object(raw, object_pairs_hook=_no_duplicates)
    except _DuplicateKey as exc:
        raise UnusableDocument(f'has the key "{_short(exc.args[0])}" twice in one object') from exc
    except Unreadable as exc:
        raise UnusableDocument(exc.args[0]) from exc
    version = doc.get("version")
    if isinstance(version, int) and not isinstance(version, bool):
        if version > STATE_VERSION:
            raise NewerVersion(version)
        if version < STATE_VERSION:
            raise UnusableDocument(f'has an unknown "version" {version}')
    # A string holds half a surrogate pair only through a \\u escape: without a backslash
    # in the bytes (the common case, at memchr speed), no text needs that check.
    return _document(doc, b"\\" in raw)


class _DuplicateKey(Exception):
    pass


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out = dict(pairs)
    if len(out) != len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise _DuplicateKey(key)
            seen.add(key)
    return out


def _document(doc: Mapping[str, Any], escapes: bool = True) -> Document:
    """The Document in a parsed `doc`, which it consumes (it empties each object's body)."""
    expected = (
        ("version", "an integer"),
        ("lineage", "a string"),
        ("serial", "an integer"),
        ("objects", "an object"),
    )
    for key, needed in expected:
        if key not in doc:
            raise UnusableDocument(f'has no "{key}" key')
        if kind(doc[key]) != needed:
            raise UnusableDocument(f'has "{key}" set to {kind(doc[key])}, where it needs {needed}')
    for key in doc:
        if key not in _STATE_KEYS and key not in _OPTIONAL_KEYS:
            raise UnusableDocument(f'has an unknown key "{_short(key)}"')
    if not doc["lineage"]:
        raise UnusableDocument('has an empty "lineage"')
    if not _utf8(doc["lineage"]):
        raise UnusableDocument('has a "lineage" that is not valid Unicode')
    if doc["serial"] < 0:
        raise UnusableDocument(f'has a negative "serial" ({doc["serial"]})')
    objects = []
    for address, body in doc["objects"].items():
        obj = _object(address, body, escapes)
        if isinstance(obj, str):
            raise UnusableDocument(f'has a malformed object "{_short(address)}" ({obj})')
        objects.append(obj)
        # Its parsed fields are not needed any more: freed now, the memory they held is
        # reused for the next object's Fields (100,000 fields: ~40 MB off the peak).
        body.clear()
    pending = _pending(doc["pending"], escapes) if "pending" in doc else ()
    deleted = _deleted(doc["deleted"]) if "deleted" in doc else ()
    ordered = tuple(sorted(objects, key=lambda o: o.key))
    return Document(State(doc["lineage"], doc["serial"], ordered, pending, deleted))


def _deleted(value: object) -> tuple[DeletedField, ...]:
    if not isinstance(value, list) or not all(isinstance(r, dict) for r in value):
        needed = "where it needs an array of objects"
        raise UnusableDocument(f'has "deleted" set to {kind(value)}, {needed}')
    entries: dict[tuple[ObjectKey, str], DeletedField] = {}
    for index, item in enumerate(value):
        where = f'has a malformed "deleted" entry [{index}]'
        if set(item) != {"address", "uniqueName", "type", "deleted"}:
            raise UnusableDocument(f"{where} (it needs address, uniqueName, type and deleted)")
        key = _key(item["address"]) if isinstance(item["address"], str) else "not a string"
        if isinstance(key, str):
            raise UnusableDocument(f"{where} (its address: {key})")
        name, type_, when = item["uniqueName"], item["type"], item["deleted"]
        if not isinstance(name, str) or not name or not _utf8(name):
            raise UnusableDocument(f"{where} (its uniqueName must be a non-empty string)")
        if type_ not in FieldType.__members__:
            raise UnusableDocument(f"{where} (its type {_short(str(type_))!r} is unknown)")
        if not isinstance(when, str) or not _TIMESTAMP.fullmatch(when):
            raise UnusableDocument(f"{where} (its deleted time must be a UTC time)")
        entries[(key, name)] = DeletedField(key, name, FieldType(type_), when)
    return tuple(sorted(entries.values()))


def _pending(value: object, escapes: bool = True) -> tuple[PendingUpload, ...]:
    if not isinstance(value, list) or not all(isinstance(r, dict) for r in value):
        needed = "where it needs an array of objects"
        raise UnusableDocument(f'has "pending" set to {kind(value)}, {needed}')
    records: dict[ObjectKey, PendingUpload] = {}
    for index, item in enumerate(value):
        where = f'has a malformed "pending" record [{index}]'
        extra = sorted(set(item) - {"address", "digest", "started", "fields"})
        if extra:
            raise UnusableDocument(f'{where} (unknown key "{_short(extra[0])}")')
        address, digest, started = item.get("address"), item.get("digest"), item.get("started")
        if not isinstance(address, str):
            raise UnusableDocument(f'{where} (its "address" must be a string)')
        if not isinstance(digest, str) or not _DIGEST.fullmatch(digest):
            raise UnusableDocument(f'{where} (its "digest" must be a sha256 in hex)')
        if not isinstance(started, str) or not _TIMESTAMP.fullmatch(started):
            raise UnusableDocument(f'{where} (its "started" must be a UTC time)')
        after = _object(address, {"fields": item.get("fields")}, escapes)
        if isinstance(after, str):
            raise UnusableDocument(f"{where} ({after})")
        if after.key in records:
            raise UnusableDocument(f"{where} (a second record for {_short(address)})")
        records[after.key] = PendingUpload(after.key, digest, started, after)
    return tuple(sorted(records.values(), key=lambda p: p.key))


def _object(address: str, body: object, escapes: bool = True) -> ObjectSchema | str:
    """The object stored under `address`, or what is wrong with it. `escapes`: whether
    its texts may hold a lone surrogate (see decode)."""
    key = _key(address)
    if isinstance(key, str):
        return key
    fields = body.get("fields") if isinstance(body, dict) else None
    if not isinstance(fields, list) or not _DICT.issuperset(map(type, fields)):
        return 'expected an object with a "fields" list of objects'
    assert isinstance(body, dict)
    extra = sorted(k for k in body if k != "fields")
    if extra:
        return f'unknown key "{_short(extra[0])}"'
    built = _checked_fields(fields, escapes)
    if built is not None:
        return ObjectSchema(key, built)
    # Something is wrong: found, and worded, field by field.
    parsed: list[Field] = []
    seen: set[str] = set()
    for index, item in enumerate(fields):
        f = _field(item)
        if isinstance(f, str):
            name = item.get("uniqueName")
            where = f"fields[{index}]" + (f" ({_short(name)})" if isinstance(name, str) else "")
            # These two keep the words of earlier releases, which name no field.
            legacy = f.startswith("a field has no") or f.endswith("is not a valid FieldType")
            return f if legacy else f"{where}: {f}"
        if f.unique_name in seen:
            return f"fields[{index}] ({_short(f.unique_name)}): this uniqueName is listed twice"
        seen.add(f.unique_name)
        parsed.append(f)
    return ObjectSchema(key, tuple(parsed))


def _key(address: str) -> ObjectKey | str:
    shape = _ADDRESS.fullmatch(address)
    digits = shape.group(2) if shape else ""
    if (
        shape is None
        or not digits.isdigit()
        or shape.group(3) not in ObjectType.__members__
        or not shape.group(1)
    ):
        return f"not an address of the form provider/integrationId/OBJECT: {_short(address)!r}"
    provider = shape.group(1)
    if provider != DEFAULT_PROVIDER:
        return f'its provider is "{_short(provider)}"; crmform knows only "{DEFAULT_PROVIDER}"'
    if not digits.isascii():
        return f"its integration id {digits!r} has digits other than ASCII 0-9"
    if len(digits) > 1 and digits.startswith("0"):
        return f'its integration id "{digits}" has a leading zero'
    if len(digits) > 19 or int(digits) > INTEGRATION_ID_MAX:
        return f"its integration id {digits} is larger than {INTEGRATION_ID_MAX}"
    return ObjectKey(provider, int(digits), ObjectType(shape.group(3)))


def _checked_fields(items: list[dict[str, Any]], escapes: bool) -> tuple[Field, ...] | None:
    """The Fields of `items` when every one is usable (as `_field` judges it) and no
    uniqueName is listed twice; None for anything else, which `_field` then words.

    Trust but verify: one type check per key while building, in one loop with no
    generator per field (50,000 fields: ~0.45 s through `_field`, ~0.08 s here). A
    timestamp is matched once however many fields share it.
    """
    built: list[Field] = []
    append = built.append
    names: set[str] = set()
    add_name = names.add
    stamps: dict[str, str] = {}  # each distinct time once, shared by the Fields
    memo: dict[str, str] = {}  # and each distinct picklist value
    shared = memo.setdefault
    keys, is_stamp = _FIELD_KEYS, _TIMESTAMP.fullmatch
    types: dict[Any, FieldType] = _TYPES
    try:
        for item in items:
            if not keys.issuperset(item):
                return None
            # A key missing, a type unknown or unhashable: KeyError, TypeError.
            name, label, field_type = item["uniqueName"], item["label"], types[item["type"]]
            if type(name) is not str or not name or type(label) is not str:
                return None
            get = item.get
            ref, values, modified = get("referenceTo"), get("orderedValueList"), get("lastModified")
            protect = get("protect", False)
            if (ref is not None and type(ref) is not str) or type(protect) is not bool:
                return None
            if values is not None:
                if type(values) is not list or not _STR.issuperset(map(type, values)):
                    return None
                values = tuple(map(shared, values, values))
            if modified is not None:
                known = stamps.get(modified)  # TypeError: unhashable
                if known is None:
                    if type(modified) is not str or not is_stamp(modified):
                        return None
                    stamps[modified] = known = modified
                modified = known
            add_name(name)
            append(Field(name, label, field_type, ref, values, protect, modified))
    except (KeyError, TypeError):
        return None
    if len(names) != len(built):
        return None
    if escapes and not _utf8("".join(_texts(built))):  # UTF-8 refuses every surrogate
        return None
    return tuple(built)


def _texts(fields: list[Field]) -> Iterator[str]:
    for f in fields:
        yield f.unique_name
        yield f.label
        yield from f.ordered_value_list or ()
        if f.reference_to is not None:
            yield f.reference_to


def _field(d: Mapping[str, Any]) -> Field | str:
    """The field in `d`, or what is wrong with it."""
    for key in ("uniqueName", "label", "type"):
        if key not in d:
            return f"a field has no {key!r}"
    unknown = sorted(k for k in d if k not in _FIELD_KEYS)
    if unknown:
        return f'unknown key "{_short(unknown[0])}"'
    name, label, type_, ref, values = (
        d["uniqueName"],
        d["label"],
        d["type"],
        d.get("referenceTo"),
        d.get("orderedValueList"),
    )
    protect, modified = d.get("protect", False), d.get("lastModified")
    if not isinstance(name, str) or not name:
        return '"uniqueName" must be a non-empty string'
    if not isinstance(label, str):
        return f'"label" is {kind(label)}, not a string'
    if not isinstance(type_, str) or type_ not in FieldType.__members__:
        return f"{_short(type_)!r} is not a valid FieldType"
    if ref is not None and not isinstance(ref, str):
        return f'"referenceTo" is {kind(ref)}, not a string'
    if values is not None and not (
        isinstance(values, list) and all(isinstance(v, str) for v in values)
    ):
        return '"orderedValueList" must be a list of strings'
    if not isinstance(protect, bool):
        return f'"protect" is {kind(protect)}, not a boolean'
    if modified is not None and not (isinstance(modified, str) and _TIMESTAMP.fullmatch(modified)):
        shown = _short(modified) if isinstance(modified, str) else kind(modified)
        return f'"lastModified" is {shown!r}, not a UTC time such as 2020-12-17T13:45:01Z'
    texts = [name, label, *(values or ()), *([ref] if ref is not None else [])]
    if not all(_utf8(t) for t in texts):
        return "it holds text that is not valid Unicode (a lone surrogate)"
    return Field(
        unique_name=name,
        label=label,
        type=FieldType(type_),
        reference_to=ref,
        ordered_value_list=tuple(values) if values is not None else None,
        protect=protect,
        last_modified=modified,
    )


def _utf8(text: str) -> bool:
    if text.isascii():
        return True
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _short(value: object, limit: int = 60) -> str:
    """`value` as text cut to `limit` characters, escaped, for quoting in a message."""
    text = value if isinstance(value, str) else repr(value)
    text = text.encode("unicode_escape").decode("ascii") if not text.isprintable() else text
    return text if len(text) <= limit else text[: limit - 1] + "…"
