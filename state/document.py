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

import re
import uuid
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from operator import attrgetter
from sys import intern
from typing import Any

from crmform.engine.formats.codec import deleted_to_json, field_to_json
from crmform.engine.model import (
    DEFAULT_PROVIDER,
    FIELD,
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
    replace,
)
from crmform.state.jsonfile import Unreadable, kind, one_line, parse_object

__all__ = [
    "Document",
    "JsonObject",
    "NewerVersion",
    "UnstorableState",
    "UnusableDocument",
    "decode",
    "encode",
    "next_state",
    "remember_encoded",
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
#
# A write usually changes one object type of several, and an apply writes twice per upload
# (the pending record, then the applied object). So each object's "fields" list is checked
# and encoded once, when first stored, and its bytes are kept (see _fields_bytes) for the
# next writes: a write costs what changed plus copying the bytes of what did not.


def encode(state: State) -> bytes:
    """`state` as the document's bytes.

    `state.objects` must be sorted by address, one per address, as `storable_objects`
    returns them; raises UnstorableState for anything `decode` would refuse.
    """
    objects = [(obj, _fields_bytes(obj)) for obj in state.objects]
    pending = []
    for record in state.pending:
        pending.append((record, _fields_bytes(record.after)))
        if not _TIMESTAMP.fullmatch(record.started) or not _DIGEST.fullmatch(record.digest):
            raise UnstorableState("a pending upload", "report this as a crmform bug")
    if not state.lineage:
        raise UnstorableState("a state without a lineage", "report this as a crmform bug")
    for entry in state.deleted:
        if not _TIMESTAMP.fullmatch(entry.deleted):
            raise UnstorableState("the ledger of deleted fields", "report this as a crmform bug")
    _forget_all_but(obj.fields for obj in (*state.objects, *(r.after for r in state.pending)))
    # Laid out as laid_out_bytes(state_to_json(state), _FIELDS_DEPTH) would lay it out,
    # with the objects' field lines from _fields_bytes (test_state_document holds them equal).
    head = (
        f'{{\n  "version": {one_line(STATE_VERSION)},\n  "lineage": {one_line(state.lineage)},'
        f'\n  "serial": {one_line(state.serial)},\n  "objects": '
    )
    parts = [head.encode()]
    if objects:
        parts.append(b"{\n")
        for index, (obj, body) in enumerate(objects):
            opening = f'    {one_line(obj.key.address)}: {{\n      "fields": '
            parts.append((",\n" + opening if index else opening).encode())
            parts += (b"[\n        ", body, b"\n      ]\n    }") if body else (b"[]\n    }",)
        parts.append(b"\n  }")
    else:
        parts.append(b"{}")
    if pending:
        parts.append(b',\n  "pending": [\n    ')
        for index, (record, body) in enumerate(pending):
            opening = (
                f'{{"address": {one_line(record.key.address)}, '
                f'"digest": {one_line(record.digest)}, "started": {one_line(record.started)}, '
                '"fields": ['
            )
            parts.append((",\n    " + opening if index else opening).encode())
            parts += (body.replace(_LINE_BREAK, b"}, {"), b"]}")
        parts.append(b"\n  ]")
    if state.deleted:
        records = ",\n    ".join(one_line(deleted_to_json(d)) for d in state.deleted)
        parts.append(f',\n  "deleted": [\n    {records}\n  ]'.encode())
    parts.append(b"\n}\n")
    return b"".join(parts)


# Between two field lines of an object: the end of one, the indentation of the next.
_LINE_BREAK = b"},\n" + b"  " * (_FIELDS_DEPTH + 1) + b"{"
_LINE_BREAK_TEXT = _LINE_BREAK.decode()


def storable_objects(objects: Sequence[ObjectSchema]) -> tuple[ObjectSchema, ...]:
    """`objects` as reading them back gives them: sorted, one per address, no source.

    Raises UnstorableState for an object that would not read back.
    """
    by_address: dict[str, ObjectSchema] = {}
    for obj in sorted(objects, key=lambda o: o.key):
        _fields_bytes(obj)  # checks it; the encode that follows finds the bytes made
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


# The field lines of the objects the last encode wrote, by their `fields` tuple (immutable,
# like its Fields; `replace(obj, source=None)` keeps it): id -> (the tuple, the address,
# its lines as UTF-8 joined by _LINE_SEPARATOR). Holding the tuple keeps its id from being
# reused. Each encode drops the entries it did not use, so this holds at most one
# document's lines. Threads may race on it: an entry is used only for its own tuple (or as
# the lines a new version of its object may share), so a race costs an encode, never a
# wrong byte.
_ENCODED: dict[int, tuple[tuple[Field, ...], str, bytes]] = {}
_LINE_SEPARATOR = b",\n" + b"  " * (_FIELDS_DEPTH + 1)  # a newline is never inside a line


def _fields_bytes(obj: ObjectSchema) -> bytes:
    """The field lines of `obj`, checked as `decode` would read them (UnstorableState)."""
    _check_key(obj.key)
    fields = obj.fields
    known = _ENCODED.get(id(fields))
    if known is not None and known[0] is fields:
        return known[2]
    address = obj.key.address
    prior = next((e for e in list(_ENCODED.values()) if e[1] == address), None)
    data = _checked_lines(obj, prior)
    _ENCODED[id(fields)] = (fields, address, data)
    return data


def _forget_all_but(kept: Iterable[tuple[Field, ...]]) -> None:
    keep = {id(fields) for fields in kept}
    for ident in [i for i in _ENCODED if i not in keep]:
        _ENCODED.pop(ident, None)


def _checked_lines(obj: ObjectSchema, prior: tuple[tuple[Field, ...], str, bytes] | None) -> bytes:
    """The field lines of `obj` as UTF-8, after checking its fields in bulk; on any doubt
    the field-by-field check names the first bad field, as it always has. A field equal to
    one of `prior` (the lines of an earlier version of the object) keeps its line."""
    fields = obj.fields
    if not fields:
        return b""
    names = [f.unique_name for f in fields]
    stamps = [f.last_modified for f in fields if f.last_modified is not None]
    # Each stamp exactly 20 characters, so a newline inside one cannot pass as a separator.
    stamps_ok = not stamps or (
        min(map(len, stamps)) == max(map(len, stamps)) == _STAMP_LENGTH
        and _STAMPS.fullmatch("\n".join(stamps)) is not None
    )
    if "" in names or len(set(names)) != len(names) or not stamps_ok:
        _check_storable(obj)
    try:
        if prior is not None and prior[0]:
            old_lines = prior[2].split(_LINE_SEPARATOR)
            if len(old_lines) == len(prior[0]):
                return _SEPARATOR_JOIN(_lines_sharing(fields, prior[0], old_lines))
        return _all_lines(fields).encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate: the check below says in which field
        _check_storable(obj)
        raise


_SEPARATOR_JOIN = _LINE_SEPARATOR.join


def _lines_sharing(
    fields: tuple[Field, ...], old: tuple[Field, ...], old_lines: list[bytes]
) -> list[bytes]:
    """The lines of `fields`, each one taken from `old_lines` where its field is equal."""
    # Most fields are the very ones of `old` (payload.build keeps the state's unchanged
    # fields): looked up by identity in C (`old` is alive, so no id is reused); only the
    # others are matched by name and compared.
    by_id = dict(zip(map(id, old), old_lines, strict=True))
    lines: list[bytes | None] = list(map(by_id.get, map(id, fields)))
    if None in lines:
        position = {f.unique_name: i for i, f in enumerate(old)}
        for index in [i for i, line in enumerate(lines) if line is None]:
            f = fields[index]
            i = position.get(f.unique_name)
            if i is not None and old[i] == f:
                lines[index] = old_lines[i]
            else:
                lines[index] = one_line(field_to_json(f)).encode("utf-8")
    return lines  # type: ignore[return-value]  # no None is left


def _all_lines(fields: tuple[Field, ...]) -> str:
    items = [field_to_json(f) for f in fields]
    # One C-encoder call for all lines: "}, {" separates them unless a text holds it too.
    flat = one_line(items)[1:-1]
    if flat.count("}, {") == len(items) - 1:
        return flat.replace("}, {", _LINE_BREAK_TEXT)
    return _LINE_SEPARATOR.decode().join(one_line(item) for item in items)


def remember_encoded(raw: bytes, state: State) -> None:
    """Keep, for the next encode, the field lines `raw` holds for the objects of `state`,
    the state `decode(raw)` gave, where they are laid out exactly as encode lays them out.

    A backend calls this with the bytes it read and checked, so that its first write after
    a read copies the unchanged objects' lines instead of encoding them again. An object's
    lines are taken only when they match _CANONICAL_LINES, the one spelling json's encoder
    gives each value (no other escapes, key order, spacing), from the object's own key: a
    newline cannot be inside a JSON string, so a line break, four spaces and `"address": {`
    is that key, and what follows decoded to exactly these fields.
    """
    for obj in state.objects:
        fields = obj.fields
        known = _ENCODED.get(id(fields))
        if not fields or (known is not None and known[0] is fields):
            continue
        address = obj.key.address
        opening = f'\n    {one_line(address)}: {{\n      "fields": [\n        '.encode()
        start = raw.find(opening)
        found = _CANONICAL_LINES.match(raw, start + len(opening)) if start >= 0 else None
        if found is None:
            continue
        lines = found.group()
        if lines.count(_LINE_BREAK) == len(fields) - 1:  # it is; a cheap second look
            _ENCODED[id(fields)] = (fields, address, lines)


def _canonical_lines() -> re.Pattern[bytes]:
    # A string as json's encoder writes it with ensure_ascii=False: any character but '"',
    # '\' and U+0000-U+001F as itself (raw holds valid UTF-8: decode read it), those as
    # \" \\ \b \f \n \r \t, the other controls as \u00xx in lower case.
    text = rb'"[^"\\\x00-\x1f]*+(?:\\(?:["\\bfnrt]|u00(?:0[0-7bef]|1[0-9a-f]))[^"\\\x00-\x1f]*+)*+"'
    line = (
        rb'\{"uniqueName": <S>, "label": <S>, "type": "[A-Z]++"(?:, "referenceTo": <S>)?'
        rb'(?:, "orderedValueList": \[(?:<S>(?:, <S>)*+)?\])?, "protect": (?:true|false)'
        rb'(?:, "lastModified": <S>)?\}'
    ).replace(b"<S>", text)
    indent = b"  " * _FIELDS_DEPTH
    return re.compile(line + rb"(?:,\n  " + indent + line + rb")*+(?=\n" + indent + rb"\]\n    \})")


_CANONICAL_LINES = _canonical_lines()


_STAMP_LENGTH = len("2020-12-17T13:45:01Z")
_STAMPS = re.compile(rf"(?:{_TIMESTAMP.pattern}\n)*{_TIMESTAMP.pattern}")


def _check_key(key: ObjectKey) -> None:
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


def _check_storable(obj: ObjectSchema) -> None:
    """Field by field: raises UnstorableState naming the first field that would not read back."""
    _check_key(obj.key)
    seen: set[str] = set()
    for f in obj.fields:
        problem = _field_problem(f)
        if problem is None and f.unique_name in seen:
            problem = "it is listed twice"
        if problem is not None:
            raise UnstorableState(
                f"the field {f.unique_name!r} of {obj.key}: {problem}",
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
    # A string holds half a surrogate pair only through a \\u escape: without a backslash
    # in the bytes (the common case, at memchr speed), no text needs that check.
    escapes = b"\\" in raw
    if not escapes:
        plain = _plain_document(raw)
        if plain is not None:
            return plain
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
    return _document(doc, escapes)


def _plain_document(raw: bytes) -> Document | None:
    """decode's answer for `raw`, which holds no backslash, parsed with no Python hook
    (json's dicts built in C: 50,000 fields ~25 ms less); None when that path doubts it,
    and decode then reads it as it always has, which finds and words any problem.

    Repeated keys are found by counting colons. Without a backslash a string's text is
    what it decodes to, and every colon of a JSON text outside a string ends a key; so the
    text holds (keys written) + (colons in strings) of them, and each count is at least
    what the parsed document keeps: (keys kept) + (colons of the strings whose colons are
    known, `_known_colons`). Equal counts leave no room for a key written twice.

    The keys of the fields' mappings are counted while _checked_fields builds their
    Fields (`tally`), not by a walk of their own: 50,000 parsed mappings are cold memory
    by then, and each walk of them cost ~5 ms (issue 14).
    """
    try:
        doc = parse_object(raw)
    except Unreadable:
        return None
    keys = _key_count(doc)
    version = doc.get("version")
    if keys is None or type(version) is not int or version != STATE_VERSION:
        return None
    tally = [0]  # the keys of the fields' mappings, counted by _checked_fields
    try:
        document = _document(doc, escapes=False, tally=tally)
    except UnusableDocument:
        return None
    if raw.count(b":") != keys + tally[0] + _known_colons(document.state):
        return None
    return document


def _key_count(doc: Mapping[str, Any]) -> int | None:
    """How many keys the mappings of a document shaped as decode accepts hold, but for
    those in its `fields` lists (_document counts those), or None for any other shape: a
    usable document has mappings nowhere else, and _document refuses a `fields` list
    that holds anything but mappings."""
    objects = doc.get("objects")
    if type(objects) is not dict:
        return None
    count = len(doc) + len(objects)
    for body in objects.values():
        if type(body) is not dict:
            return None
        count += len(body)
    for name in ("pending", "deleted"):
        records = doc.get(name, [])
        if type(records) is not list or not _DICT.issuperset(map(type, records)):
            return None
        count += sum(map(len, records))
    return count


def _known_colons(state: State) -> int:
    """The colons of the strings of `state` whose colons are known: the lineage's, and
    two in each time (a lastModified, a pending upload's start, a deletion). The strings
    left out (names, labels, values) can only make the text hold more colons than this."""
    times = len(state.pending) + len(state.deleted)
    for obj in (*state.objects, *(p.after for p in state.pending)):
        fields = obj.fields
        times += len(fields) - list(map(_LAST_MODIFIED, fields)).count(None)
    return state.lineage.count(":") + 2 * times


_LAST_MODIFIED = attrgetter("last_modified")


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


def _document(
    doc: Mapping[str, Any], escapes: bool = True, tally: list[int] | None = None
) -> Document:
    """The Document in a parsed `doc`, which it consumes (it empties each object's body).
    `tally[0]` grows by the keys of the mappings of its `fields` lists."""
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
        obj = _object(address, body, escapes, tally)
        if isinstance(obj, str):
            raise UnusableDocument(f'has a malformed object "{_short(address)}" ({obj})')
        objects.append(obj)
        # Its parsed fields are not needed any more: freed now, the memory they held is
        # reused for the next object's Fields (100,000 fields: ~40 MB off the peak).
        body.clear()
    pending = _pending(doc["pending"], escapes, tally) if "pending" in doc else ()
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


def _pending(
    value: object, escapes: bool = True, tally: list[int] | None = None
) -> tuple[PendingUpload, ...]:
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
        after = _object(address, {"fields": item.get("fields")}, escapes, tally)
        if isinstance(after, str):
            raise UnusableDocument(f"{where} ({after})")
        if after.key in records:
            raise UnusableDocument(f"{where} (a second record for {_short(address)})")
        records[after.key] = PendingUpload(after.key, digest, started, after)
    return tuple(sorted(records.values(), key=lambda p: p.key))


def _object(
    address: str, body: object, escapes: bool = True, tally: list[int] | None = None
) -> ObjectSchema | str:
    """The object stored under `address`, or what is wrong with it. `escapes`: whether
    its texts may hold a lone surrogate (see decode); `tally[0]` grows by the keys of
    its fields' mappings."""
    key = _key(address)
    if isinstance(key, str):
        return key
    fields = body.get("fields") if isinstance(body, dict) else None
    if not isinstance(fields, list):
        return 'expected an object with a "fields" list of objects'
    assert isinstance(body, dict)
    # The one pass first: what it accepts holds mappings only (anything else JSON holds
    # refuses item["uniqueName"]), so the checks below would pass.
    built = _checked_fields(fields, escapes, tally) if len(body) == 1 else None
    if built is not None:
        return ObjectSchema(key, built)
    if not _DICT.issuperset(map(type, fields)):
        return 'expected an object with a "fields" list of objects'
    extra = sorted(k for k in body if k != "fields")
    if extra:
        return f'unknown key "{_short(extra[0])}"'
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
    if tally is not None:
        tally[0] += sum(map(len, fields))
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


def _checked_fields(
    items: list[dict[str, Any]], escapes: bool, tally: list[int] | None = None
) -> tuple[Field, ...] | None:
    """The Fields of `items` when every one is usable (as `_field` judges it) and no
    uniqueName is listed twice; None for anything else, which `_field` then words.
    When it builds them, `tally[0]` grows by the keys the items hold.

    Trust but verify: one type check per key while building, in one loop with no
    generator per field (50,000 fields: ~0.45 s through `_field`, ~0.08 s here). A
    timestamp is matched once however many fields share it.
    """
    built: list[Field] = []
    append = built.append
    names: set[str] = set()
    add_name = names.add
    stamps: dict[str, str] = {}  # each distinct time once, shared by the Fields
    # and each distinct picklist value, interned: the desired files' are the same strings
    # (schema_check.checked_fields), so the planner compares them by identity.
    shared = intern
    is_stamp = _TIMESTAMP.fullmatch
    types: dict[Any, FieldType] = _TYPES
    make = FIELD  # a Field in C, from the tuple of its attributes (model.FIELD)
    keys = 0
    try:
        for item in items:
            # A key missing, a type unknown or unhashable: KeyError, TypeError.
            name, label, field_type = item["uniqueName"], item["label"], types[item["type"]]
            if type(name) is not str or not name or type(label) is not str:
                return None
            # Each optional key of _FIELD_KEYS looked up once, by `in` (no method call, no
            # walk of the keys: 50,000 fields ~6 ms less); a key of any other name is one
            # more than these count.
            size = 3
            ref = values = modified = None
            protect = False
            if "protect" in item:
                protect, size = item["protect"], 4
            if "lastModified" in item:
                modified, size = item["lastModified"], size + 1
            if "referenceTo" in item:
                ref, size = item["referenceTo"], size + 1
            if "orderedValueList" in item:
                values, size = item["orderedValueList"], size + 1
            if size != len(item):
                return None
            keys += size
            if (ref is not None and type(ref) is not str) or type(protect) is not bool:
                return None
            if values is not None:
                if type(values) is not list or not _STR.issuperset(map(type, values)):
                    return None
                values = tuple(map(shared, values))
            if modified is not None:
                known = stamps.get(modified)  # TypeError: unhashable
                if known is None:
                    if type(modified) is not str or not is_stamp(modified):
                        return None
                    stamps[modified] = known = modified
                modified = known
            add_name(name)
            append(make((name, label, field_type, ref, values, protect, modified)))
    except (KeyError, TypeError):
        return None
    if len(names) != len(built):
        return None
    if escapes and not _utf8("".join(_texts(built))):  # UTF-8 refuses every surrogate
        return None
    if tally is not None:
        tally[0] += keys
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
