"""The schema records are checked against, per object type, and which one a file gets.

`record_schemas` derives it from the schema files (Desired), the state, or both. With only
one of them every field is taken as applied. With both, a field is classified as a plan
would (the state is what Gong has, the files what it will have after the next apply):

    in both, same type     applied: values are checked
    only in the files      NOT_APPLIED: Gong does not display its values yet
    only in the state      TOMBSTONED: the next apply deletes it, with its values
    type differs           TYPE_CHANGE: the next apply replaces it, deleting its values;
                           values are checked against the new type
    PICKLIST values only in the files are not applied yet either.

`resolve` picks the schema of one record file (records carry no object type: it is a query
parameter of the upload):

    1. --object-type T, if given;
    2. else the object type the file's name names: a word of the name (split at anything
       but letters, any case) is account(s), contact(s), deal(s) or lead(s), and exactly
       one type is named, e.g. `accounts.ldjson`, `2026-05-deals.jsonl`;
    3. else the only object type of the schema, if it has exactly one;
    4. else an error asking for --object-type.
Then the integration: the only one with that object type, or --integration-id.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from crmform.engine.errors import CrmformError
from crmform.engine.model import (
    Desired,
    Field,
    FieldType,
    ObjectKey,
    ObjectSchema,
    ObjectType,
    State,
)
from crmform.engine.records.standard import UNCHECKED_OBJECT_TYPES

__all__ = [
    "Pending",
    "PendingField",
    "RecordCheckError",
    "RecordSchema",
    "record_schemas",
    "resolve",
    "type_from_file_name",
]


class RecordCheckError(CrmformError):
    """The records cannot be checked as asked (no schema for them, an ambiguous type)."""


class Pending(StrEnum):
    NOT_APPLIED = "not-applied"
    TOMBSTONED = "tombstoned"
    TYPE_CHANGE = "type-change"


@dataclass(frozen=True, slots=True)
class PendingField:
    """A field the next apply changes so that its values would be lost or ignored.

    `field` is the field as the schema files have it (NOT_APPLIED, TYPE_CHANGE) or as the
    state has it (TOMBSTONED); `applied_type` is the state's type for a TYPE_CHANGE.
    """

    field: Field
    reason: Pending
    applied_type: FieldType | None = None


@dataclass(frozen=True, slots=True)
class RecordSchema:
    """What the records of one object type are checked against.

    `fields` are the applied fields; `pending` the ones a coming apply changes;
    `pending_values` the PICKLIST values in the files but not yet applied, per field name.
    """

    key: ObjectKey
    fields: tuple[Field, ...]
    pending: tuple[PendingField, ...] = ()
    pending_values: tuple[tuple[str, tuple[str, ...]], ...] = ()


def record_schemas(desired: Desired | None, state: State | None) -> tuple[RecordSchema, ...]:
    """One RecordSchema per address of the files and/or the state, sorted by address."""
    if desired is None and state is None:
        raise ValueError("record_schemas needs the schema files, the state, or both")
    wanted = {o.key: o for o in desired.objects} if desired is not None else {}
    applied = {o.key: o for o in state.objects} if state is not None else {}
    if desired is None or state is None:
        only = wanted or applied
        return tuple(RecordSchema(key, only[key].fields) for key in sorted(only))
    return tuple(
        _compare(key, wanted.get(key), applied.get(key)) for key in sorted(wanted | applied)
    )


def _compare(
    key: ObjectKey, desired: ObjectSchema | None, state: ObjectSchema | None
) -> RecordSchema:
    after = desired.by_name() if desired is not None else {}
    before = state.by_name() if state is not None else {}
    fields: list[Field] = []
    pending: list[PendingField] = []
    pending_values: list[tuple[str, tuple[str, ...]]] = []
    for name in sorted(after.keys() | before.keys()):
        new, old = after.get(name), before.get(name)
        if new is None and old is not None:
            pending.append(PendingField(old, Pending.TOMBSTONED))
        elif new is not None and old is None:
            pending.append(PendingField(new, Pending.NOT_APPLIED))
        elif new is not None and old is not None and new.type != old.type:
            pending.append(PendingField(new, Pending.TYPE_CHANGE, old.type))
        elif new is not None and old is not None:
            if new.type is FieldType.PICKLIST:
                have = set(old.ordered_value_list or ())
                values = new.ordered_value_list or ()
                live = tuple(v for v in values if v in have)
                waiting = tuple(v for v in values if v not in have)
                if waiting:
                    pending_values.append((name, waiting))
                new = Field(new.unique_name, new.label, new.type, None, live)
            fields.append(new)
    return RecordSchema(key, tuple(fields), tuple(pending), tuple(pending_values))


_TYPE_WORDS = {word: t for t in ObjectType for word in (t.value.lower(), f"{t.value.lower()}s")}
_WORD_SPLIT = re.compile(r"[^a-z]+")


def type_from_file_name(name: str) -> ObjectType | None:
    """The object type a file's name names, e.g. `accounts-2026.ldjson` -> ACCOUNT; None
    when it names none or several."""
    stem = name.rsplit("/", 1)[-1].split(".", 1)[0].lower()
    named = {_TYPE_WORDS[w] for w in _WORD_SPLIT.split(stem) if w in _TYPE_WORDS}
    return named.pop() if len(named) == 1 else None


def resolve(
    schemas: Sequence[RecordSchema],
    file_name: str,
    source: str,
    object_type: str | None = None,
    integration_id: int | None = None,
) -> RecordSchema:
    """The schema for the records in `file_name` (see the module docstring). `source` names
    where the schemas came from, for the messages (e.g. "the state crmform.state.json")."""
    if integration_id is not None:
        schemas = [s for s in schemas if s.key.integration_id == integration_id]
    managed = sorted({s.key.object_type for s in schemas})
    if object_type is not None:
        how = "given with --object-type"
    else:
        from_name = type_from_file_name(file_name)
        if from_name is not None:
            object_type, how = from_name.value, "named by the file's name"
        elif len(managed) == 1:
            object_type, how = managed[0].value, "the only object type of the schema"
        else:
            raise RecordCheckError(_ambiguous(file_name, source, managed))
    if object_type in UNCHECKED_OBJECT_TYPES:
        raise RecordCheckError(
            f"{object_type} records ({file_name}) have no custom fields in Gong's schema API, "
            "so crmform has no schema to check them against; it checks ACCOUNT, CONTACT, "
            "DEAL and LEAD files."
        )
    matches = [s for s in schemas if s.key.object_type.value == object_type]
    if not matches:
        has = ", ".join(managed) if managed else "no object types"
        within = f" for integration {integration_id}" if integration_id is not None else ""
        raise RecordCheckError(
            f"{source} has no {object_type} schema{within} ({how}, for {file_name}); it has "
            f"{has}. Check records only for object types crmform manages, or pass "
            "--object-type if the file's name misleads."
        )
    if len(matches) > 1:
        ids = ", ".join(str(s.key.integration_id) for s in matches)
        raise RecordCheckError(
            f"{source} has a {object_type} schema for several integrations ({ids}); pass "
            "--integration-id to say which one the records of "
            f"{file_name} are for."
        )
    return matches[0]


def _ambiguous(file_name: str, source: str, managed: Sequence[ObjectType]) -> str:
    if not managed:
        return f"{source} has no object types, so there is nothing to check {file_name} against."
    return (
        f"Cannot tell the object type of the records in {file_name}: {source} has "
        f"{', '.join(managed)}. Pass --object-type, or name the file after its object type "
        "(e.g. accounts.ldjson)."
    )
