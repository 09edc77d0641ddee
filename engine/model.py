"""The vocabulary shared by every layer: fields, object keys, schemas, state, plans.

Only immutable value types live here; this module imports nothing else from crmform but
engine/values.py, their base class (dataclasses' generated code cost most of `crmform
plan`'s start-up; values.py says what each type gets from it).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from enum import StrEnum
from functools import partial
from operator import itemgetter
from typing import Any, NamedTuple, Protocol, Self, TypeVar

from crmform.engine.values import FrozenInstanceError, OrderedValue, Value, _set

__all__ = ["FrozenInstanceError", "replace"]  # model types' replace()


class _Replaceable(Protocol):
    def __replace__(self, /, **changes: Any) -> Self: ...


_R = TypeVar("_R", bound=_Replaceable)


def replace(value: _R, /, **changes: Any) -> _R:
    """A copy of `value` with `changes` (dataclasses.replace, for the model's types: the
    Values, and Field, a NamedTuple)."""
    return value.__replace__(**changes)


DEFAULT_PROVIDER = "gong"
# Gong integration ids are int64; real ones exceed 2**53, so they never pass through a float.
INTEGRATION_ID_MAX = 2**63 - 1


class ObjectType(StrEnum):
    """Gong's CRM object types that carry a custom-field schema (case-sensitive)."""

    ACCOUNT = "ACCOUNT"
    CONTACT = "CONTACT"
    DEAL = "DEAL"
    LEAD = "LEAD"


class FieldType(StrEnum):
    """Gong's field types, exactly as the API spells them."""

    DATE = "DATE"
    DATETIME = "DATETIME"
    NUMBER = "NUMBER"
    PERCENT = "PERCENT"
    CURRENCY = "CURRENCY"
    ID = "ID"
    URL = "URL"
    STRING = "STRING"
    BOOLEAN = "BOOLEAN"
    PHONENUMBER = "PHONENUMBER"
    EMAILADDRESS = "EMAILADDRESS"
    PICKLIST = "PICKLIST"
    REFERENCE = "REFERENCE"
    STRINGARRAY = "STRINGARRAY"


# A REFERENCE field may point at any object type, or at a Gong user.
REFERENCE_TARGETS: tuple[str, ...] = (*(t.value for t in ObjectType), "USER")


class Action(StrEnum):
    """What a plan does to one field. The values are the JSON plan's contract strings."""

    CREATE = "create"
    UPDATE = "update"
    REPLACE = "replace"
    DELETE = "delete"
    # Only `protect` changed: recorded in state, never sent to Gong.
    PROTECT = "protect"


DESTRUCTIVE_ACTIONS = frozenset({Action.REPLACE, Action.DELETE})


class DataImpact(StrEnum):
    """What a change may do to the values stored in Gong's records. The values are the JSON
    plan's contract strings ("dataImpact").

    Gong documents that a type change and a delete destroy a field's data and that a label
    change does not; it does not say what happens to records holding a picklist value the
    upload no longer lists, or to references when referenceTo changes (shared/gong-api.md:
    UNCERTAIN). crmform treats those conservatively, as may-orphan: they need the same
    consent as a delete.
    """

    DESTROYS = "destroys"  # replace, delete
    MAY_ORPHAN = "may-orphan"  # picklist values removed, referenceTo changed
    NONE = "none"


class Reason(StrEnum):
    """Why a change is planned (Terraform's ActionReason). Control flow reads this, never
    prose; the words for people are engine/words.py's."""

    NEW_FIELD = "new-field"  # create
    NOT_IN_FILES = "not-in-files"  # delete: its entry left the object's file
    OBJECT_REMOVED = "object-removed"  # delete: the object's whole file is gone
    TYPE_CHANGED = "type-changed"  # replace
    ATTRIBUTES_CHANGED = "attributes-changed"  # update: label, values or referenceTo
    PROTECT_CHANGED = "protect-changed"  # protect: only crmform's own flag


class Field(NamedTuple):
    """One custom field, as desired in a file or as last applied (in state).

    `reference_to` is set only for REFERENCE, `ordered_value_list` only for PICKLIST.
    `last_modified` is known only for applied fields (state); desired fields leave it None.
    `protect` is crmform's own flag and is never sent to Gong.

    A tuple of its attributes, in this order (issue 14): the readers build 100,000 of them
    for a 50,000-field plan, and `FIELD` (tuple.__new__) builds each in C, with no Python
    __init__ (100,000 in a micro-benchmark: ~60 ms -> ~24 ms); the planner compares them as
    tuples, in C too. It keeps what a Value gives: equality and hash (among Fields: as
    tuples; equal to a plain tuple of the same attributes, as any NamedTuple), repr,
    immutability (FrozenInstanceError), copy, pickle and `replace()`. Nothing encodes one
    generically: every writer names its attributes (formats/codec.py's field_to_json), so
    a Field is never written as a JSON array.
    """

    unique_name: str
    label: str
    type: FieldType
    reference_to: str | None = None
    ordered_value_list: tuple[str, ...] | None = None
    protect: bool = False
    last_modified: str | None = None

    def same_remote(self, other: Field) -> bool:
        """True when Gong would see no difference between the two (ignores protect, time)."""
        return self[1:5] == other[1:5]

    def __setattr__(self, name: str, value: object) -> None:
        raise FrozenInstanceError(f"cannot assign to field {name!r}")

    def __delattr__(self, name: str) -> None:
        raise FrozenInstanceError(f"cannot delete field {name!r}")

    def __replace__(self, /, **changes: Any) -> Field:
        kwargs: dict[str, Any] = dict(zip(self._fields, self, strict=True))
        kwargs.update(changes)
        return Field(**kwargs)  # an unknown name: TypeError, as a Value's replace() raises


# Builds a Field from a tuple of its 7 attributes in C: FIELD((name, label, type, None,
# None, False, None)); `map(FIELD, zip(...))` builds many with no Python call per field.
FIELD: Callable[[Iterable[Any]], Field] = partial(tuple.__new__, Field)
UNIQUE_NAME = itemgetter(0)  # a Field's unique_name, in C (map(UNIQUE_NAME, fields))
# FieldType by its value, for readers that build many Fields: a dict lookup costs a
# twentieth of calling the enum (FieldType("DATE")).
FIELD_TYPES_BY_VALUE: dict[str, FieldType] = {t.value: t for t in FieldType}


class ObjectKey(Value):
    """One schema on the remote side: a provider, an integration and an object type.

    Equality, hashing and ordering follow the address string, so plans sort the same way
    everywhere.
    """

    __slots__ = ("address", "integration_id", "object_type", "provider")
    _repr_fields = ("provider", "integration_id", "object_type")
    _init_fields = _repr_fields
    address: str
    provider: str
    integration_id: int
    object_type: ObjectType

    def __init__(self, provider: str, integration_id: int, object_type: ObjectType | str) -> None:
        _set(self, "provider", provider)
        _set(self, "integration_id", integration_id)
        _set(self, "object_type", ObjectType(object_type))
        _set(self, "address", f"{provider}/{integration_id}/{object_type}")

    def __eq__(self, other: object) -> bool:
        if isinstance(other, ObjectKey):
            return self.address == other.address
        return NotImplemented

    def __hash__(self) -> int:
        return hash(self.address)

    def __lt__(self, other: object) -> bool:
        if isinstance(other, ObjectKey):
            return self.address < other.address
        return NotImplemented

    def __le__(self, other: object) -> bool:
        if isinstance(other, ObjectKey):
            return self.address <= other.address
        return NotImplemented

    def __gt__(self, other: object) -> bool:
        if isinstance(other, ObjectKey):
            return self.address > other.address
        return NotImplemented

    def __ge__(self, other: object) -> bool:
        if isinstance(other, ObjectKey):
            return self.address >= other.address
        return NotImplemented

    @classmethod
    def parse(cls, address: str) -> ObjectKey:
        """Inverse of `.address`; raises ValueError for anything malformed."""
        parts = address.split("/")
        if len(parts) != 3 or not parts[1].isdigit():
            raise ValueError(
                f"not an address of the form provider/integrationId/OBJECT: {address!r}"
            )
        return cls(parts[0], int(parts[1]), ObjectType(parts[2]))

    def __str__(self) -> str:
        return self.address


class ObjectSchema(Value):
    """The custom fields of one object type. `source` names the file it came from, if any."""

    __slots__ = ("fields", "key", "source")
    key: ObjectKey
    fields: tuple[Field, ...]
    source: str | None

    def __init__(
        self,
        key: ObjectKey,
        fields: tuple[Field, ...],
        source: str | None = None,
    ) -> None:
        _set(self, "key", key)
        _set(self, "fields", fields)
        _set(self, "source", source)

    def by_name(self) -> dict[str, Field]:
        fields = self.fields
        return dict(zip(map(UNIQUE_NAME, fields), fields, strict=True))  # in C


class Desired(Value):
    """Everything the schema files ask for, one ObjectSchema per address, sorted by address."""

    __slots__ = ("objects",)
    objects: tuple[ObjectSchema, ...]

    def __init__(self, objects: tuple[ObjectSchema, ...] = ()) -> None:
        _set(self, "objects", objects)

    def get(self, key: ObjectKey) -> ObjectSchema | None:
        for obj in self.objects:
            if obj.key == key:
                return obj
        return None


STATE_VERSION = 1


class PendingUpload(Value):
    """An upload crmform sent (or was about to send) whose outcome is not known yet.

    It is recorded in the state, durably, before the POST, and cleared once Gong's answer
    is a definite success or a definite rejection. One that survives (a timeout, a dropped
    connection, a 5xx, a kill) is settled by the next command that touches `key`, by
    reading Gong: `after` is the object the state records once Gong shows it, `digest` the
    sha256 of the exact body, `started` when it was sent (Gong's timestamp form).
    """

    __slots__ = ("after", "digest", "key", "started")
    key: ObjectKey
    digest: str
    started: str
    after: ObjectSchema

    def __init__(self, key: ObjectKey, digest: str, started: str, after: ObjectSchema) -> None:
        _set(self, "key", key)
        _set(self, "digest", digest)
        _set(self, "started", started)
        _set(self, "after", after)


class DeletedField(OrderedValue):
    """A field crmform deleted in Gong (an accepted isDeleted tombstone), kept in the state's
    ledger: re-creating its uniqueName makes a new, empty field; the old data is gone."""

    __slots__ = ("deleted", "key", "type", "unique_name")
    key: ObjectKey
    unique_name: str
    type: FieldType
    deleted: str  # when, in Gong's timestamp form

    def __init__(self, key: ObjectKey, unique_name: str, type: FieldType, deleted: str) -> None:
        _set(self, "key", key)
        _set(self, "unique_name", unique_name)
        _set(self, "type", type)
        _set(self, "deleted", deleted)


class State(Value):
    """What crmform last applied. `lineage` is fixed at creation; `serial` grows per write.

    A state that was never written has `serial == 0` and an empty `lineage`. `pending`
    holds the uploads whose outcome is not known yet, one per address at most; `deleted`
    the ledger of fields crmform deleted, latest per name, sorted.
    """

    __slots__ = ("deleted", "lineage", "objects", "pending", "serial")
    lineage: str
    serial: int
    objects: tuple[ObjectSchema, ...]
    pending: tuple[PendingUpload, ...]
    deleted: tuple[DeletedField, ...]

    def __init__(
        self,
        lineage: str = "",
        serial: int = 0,
        objects: tuple[ObjectSchema, ...] = (),
        pending: tuple[PendingUpload, ...] = (),
        deleted: tuple[DeletedField, ...] = (),
    ) -> None:
        _set(self, "lineage", lineage)
        _set(self, "serial", serial)
        _set(self, "objects", objects)
        _set(self, "pending", pending)
        _set(self, "deleted", deleted)

    def get(self, key: ObjectKey) -> ObjectSchema | None:
        for obj in self.objects:
            if obj.key == key:
                return obj
        return None

    def with_object(self, obj: ObjectSchema) -> State:
        """A copy with `obj` replacing its address (dropped when it has no fields left)."""
        kept = [o for o in self.objects if o.key != obj.key]
        if obj.fields:
            kept.append(obj)
        return replace(self, objects=tuple(sorted(kept, key=lambda o: o.key)))

    def pending_for(self, key: ObjectKey) -> PendingUpload | None:
        for record in self.pending:
            if record.key == key:
                return record
        return None

    def with_pending(self, record: PendingUpload) -> State:
        """A copy recording `record` (replacing any earlier one for its address)."""
        kept = [p for p in self.pending if p.key != record.key]
        return replace(self, pending=tuple(sorted([*kept, record], key=lambda p: p.key)))

    def without_pending(self, key: ObjectKey) -> State:
        return replace(self, pending=tuple(p for p in self.pending if p.key != key))

    def with_deleted(self, gone: Iterable[DeletedField]) -> State:
        """A copy whose ledger records `gone` (replacing earlier entries of the same names)."""
        ledger = {(d.key, d.unique_name): d for d in self.deleted}
        ledger.update({(d.key, d.unique_name): d for d in gone})
        return replace(self, deleted=tuple(sorted(ledger.values())))

    def applied(self, after: ObjectSchema, when: str) -> State:
        """A copy recording that Gong now has `after` for its address (uploaded at `when`):
        the object, the ledger entries of the fields it no longer has, no pending record."""
        kept = {f.unique_name for f in after.fields}
        prior = self.get(after.key)
        gone = [
            DeletedField(after.key, f.unique_name, f.type, when)
            for f in (prior.fields if prior is not None else ())
            if f.unique_name not in kept
        ]
        return self.with_object(after).without_pending(after.key).with_deleted(gone)

    def deleted_field(self, key: ObjectKey, name: str) -> DeletedField | None:
        for entry in self.deleted:
            if entry.key == key and entry.unique_name == name:
                return entry
        return None


class Change(Value):
    """One planned action on one field.

    before/after by action (as Terraform's plans/changes.go documents its own):
      create   before=None,             after=desired field
      update   before=state field,      after=desired field (label, values or target differ)
      replace  before=state field,      after=desired field (type differs; old data deleted)
      delete   before=state field,      after=None (sent as an isDeleted tombstone)
      protect  before=state field,      after=desired field (only `protect` differs)
    `reason` says why, as an enum; engine/words.py words it for people.
    """

    __slots__ = ("action", "after", "before", "key", "reason", "unique_name")
    key: ObjectKey
    unique_name: str
    action: Action
    before: Field | None
    after: Field | None
    reason: Reason

    def __init__(
        self,
        key: ObjectKey,
        unique_name: str,
        action: Action,
        before: Field | None,
        after: Field | None,
        reason: Reason,
    ) -> None:
        _set(self, "key", key)
        _set(self, "unique_name", unique_name)
        _set(self, "action", action)
        _set(self, "before", before)
        _set(self, "after", after)
        _set(self, "reason", reason)

    @property
    def destroys_data(self) -> bool:
        return self.action in DESTRUCTIVE_ACTIONS

    @property
    def impact(self) -> DataImpact:
        """The data impact the change shows by itself (Plan.impact adds what Gong did not
        report)."""
        if self.action in DESTRUCTIVE_ACTIONS:
            return DataImpact.DESTROYS
        before, after = self.before, self.after
        if self.action is Action.UPDATE and before is not None and after is not None:
            if before.reference_to != after.reference_to:
                return DataImpact.MAY_ORPHAN
            if values_removed(before.ordered_value_list, after.ordered_value_list):
                return DataImpact.MAY_ORPHAN
        return DataImpact.NONE

    @property
    def touches_remote(self) -> bool:
        return self.action is not Action.PROTECT


class ValuesDiff(Value):
    """How a picklist's orderedValueList changed. `reordered` compares the kept values only."""

    __slots__ = ("added", "removed", "reordered")
    added: tuple[str, ...]
    removed: tuple[str, ...]
    reordered: bool

    def __init__(self, added: tuple[str, ...], removed: tuple[str, ...], reordered: bool) -> None:
        _set(self, "added", added)
        _set(self, "removed", removed)
        _set(self, "reordered", reordered)


def values_diff(before: tuple[str, ...] | None, after: tuple[str, ...] | None) -> ValuesDiff:
    """How a picklist's values changed: added values in their new order, removed values in
    their old order."""
    old = before or ()
    new = after or ()
    old_set, new_set = set(old), set(new)
    kept_old = [v for v in old if v in new_set]
    kept_new = [v for v in new if v in old_set]
    return ValuesDiff(
        added=tuple(v for v in new if v not in old_set),
        removed=tuple(v for v in old if v not in new_set),
        reordered=kept_old != kept_new,
    )


def values_removed(before: tuple[str, ...] | None, after: tuple[str, ...] | None) -> bool:
    """Whether `values_diff(before, after).removed` would hold any value, without building
    the diff (Change.impact asks it of every update)."""
    return bool(before) and not set(before or ()).issubset(after or ())


class DriftKind(StrEnum):
    """How a field in the remote differs from the state. Values are the JSON contract."""

    ADDED = "added"  # in the remote, not in the state
    REMOVED = "removed"  # in the state, not in the remote
    CHANGED = "changed"  # in both; `attributes` says what differs


class FieldDrift(Value):
    """One field changed outside crmform: the state (before) against the remote (after).

      added    before=None,         after=remote field
      removed  before=state field,  after=None
      changed  before=state field,  after=remote field
    `attributes` names what differs, in Gong's key names (type, label, referenceTo,
    orderedValueList), only among what the remote states: an attribute the remote leaves
    null is unknown, never a change. Empty unless the kind is `changed`.
    """

    __slots__ = ("after", "attributes", "before", "key", "kind", "unique_name")
    key: ObjectKey
    unique_name: str
    kind: DriftKind
    before: Field | None
    after: Field | None
    attributes: tuple[str, ...]

    def __init__(
        self,
        key: ObjectKey,
        unique_name: str,
        kind: DriftKind,
        before: Field | None,
        after: Field | None,
        attributes: tuple[str, ...] = (),
    ) -> None:
        _set(self, "key", key)
        _set(self, "unique_name", unique_name)
        _set(self, "kind", kind)
        _set(self, "before", before)
        _set(self, "after", after)
        _set(self, "attributes", attributes)


class NoteKind(StrEnum):
    """Something a plan reader must know that no single change says. JSON contract values."""

    RECREATES_DELETED = "recreates-deleted"  # a create of a uniqueName crmform deleted
    NOT_A_RENAME = "not-a-rename"  # a delete and a create that look like a rename


class PlanNote(Value):
    """`names`: the recreated field's name, or (deleted, created) for NOT_A_RENAME.
    `deleted` is the ledger entry of a recreated field."""

    __slots__ = ("deleted", "key", "kind", "names")
    kind: NoteKind
    key: ObjectKey
    names: tuple[str, ...]
    deleted: DeletedField | None

    def __init__(
        self,
        kind: NoteKind,
        key: ObjectKey,
        names: tuple[str, ...],
        deleted: DeletedField | None = None,
    ) -> None:
        _set(self, "kind", kind)
        _set(self, "key", key)
        _set(self, "names", names)
        _set(self, "deleted", deleted)


class FieldRef(OrderedValue):
    """One field of one object type."""

    __slots__ = ("key", "unique_name")
    key: ObjectKey
    unique_name: str

    def __init__(self, key: ObjectKey, unique_name: str) -> None:
        _set(self, "key", key)
        _set(self, "unique_name", unique_name)


class RemoteFingerprint(Value):
    """The sha256 (hex) of one address's remote schema as read for a plan."""

    __slots__ = ("key", "sha256")
    key: ObjectKey
    sha256: str

    def __init__(self, key: ObjectKey, sha256: str) -> None:
        _set(self, "key", key)
        _set(self, "sha256", sha256)


class Summary(Value):
    __slots__ = ("create", "delete", "protect", "replace", "update")
    create: int
    update: int
    replace: int
    delete: int
    protect: int

    def __init__(
        self,
        create: int = 0,
        update: int = 0,
        replace: int = 0,
        delete: int = 0,
        protect: int = 0,
    ) -> None:
        _set(self, "create", create)
        _set(self, "update", update)
        _set(self, "replace", replace)
        _set(self, "delete", delete)
        _set(self, "protect", protect)

    @property
    def total(self) -> int:
        return self.create + self.update + self.replace + self.delete + self.protect


class Plan(Value):
    """The changes that would make the remote (and state) match the desired files.

    `changes` are sorted by (address, uniqueName). The plan carries the states it was
    made against (Terraform's PriorState and PrevRunState), so apply, dry-run and show use
    exactly the snapshot that was planned and nobody rebuilds it:
      prior     the state the changes were computed against;
      prev_run  the stored state as read, when it differs from `prior`: a plan made with
                `--refresh` (engine/drift.py) is computed against the stored state updated
                from the remote. None means the same as `prior`.
    `drift` lists what changed outside crmform (None: the remote was not read) and
    `remote` fingerprints every remote schema read, so applying it later can refuse a
    remote that moved since. `unreported` names the picklists and references whose values
    or target Gong answered null for when it was read: a change to them may remove what was
    added in Gong outside crmform. `environment` names the crmform.toml environment
    ([env.<name>]) the plan targets, "" when none was selected: outputs name it, and a
    saved plan is applied only under the same one.
    """

    __slots__ = (
        "changes",
        "desired",
        "drift",
        "environment",
        "notes",
        "prev_run",
        "prior",
        "remote",
        "unreported",
    )
    changes: tuple[Change, ...]
    desired: Desired
    prior: State
    drift: tuple[FieldDrift, ...] | None
    remote: tuple[RemoteFingerprint, ...]
    prev_run: State | None
    unreported: tuple[FieldRef, ...]
    notes: tuple[PlanNote, ...]
    environment: str

    def __init__(
        self,
        changes: tuple[Change, ...],
        desired: Desired,
        prior: State,
        drift: tuple[FieldDrift, ...] | None = None,
        remote: tuple[RemoteFingerprint, ...] = (),
        prev_run: State | None = None,
        unreported: tuple[FieldRef, ...] = (),
        notes: tuple[PlanNote, ...] = (),
        environment: str = "",
    ) -> None:
        _set(self, "changes", changes)
        _set(self, "desired", desired)
        _set(self, "prior", prior)
        _set(self, "drift", drift)
        _set(self, "remote", remote)
        _set(self, "prev_run", prev_run)
        _set(self, "unreported", unreported)
        _set(self, "notes", notes)
        _set(self, "environment", environment)

    @property
    def stored(self) -> State:
        """The stored state this plan was made from (before any refresh)."""
        return self.prev_run if self.prev_run is not None else self.prior

    @property
    def state_lineage(self) -> str:
        return self.prior.lineage

    @property
    def state_serial(self) -> int:
        return self.prior.serial

    @property
    def summary(self) -> Summary:
        counts = {a: 0 for a in Action}
        for change in self.changes:
            counts[change.action] += 1
        return Summary(
            create=counts[Action.CREATE],
            update=counts[Action.UPDATE],
            replace=counts[Action.REPLACE],
            delete=counts[Action.DELETE],
            protect=counts[Action.PROTECT],
        )

    @property
    def is_empty(self) -> bool:
        return not self.changes

    @property
    def destructive(self) -> tuple[Change, ...]:
        return tuple(c for c in self.changes if c.destroys_data)

    def impact(self, change: Change) -> DataImpact:
        own = change.impact
        if own is not DataImpact.NONE or change.action is not Action.UPDATE:
            return own
        before, after = change.before, change.after
        if FieldRef(change.key, change.unique_name) in self.unreported and (
            before is not None
            and after is not None
            and (
                before.ordered_value_list != after.ordered_value_list
                or before.reference_to != after.reference_to
            )
        ):
            return DataImpact.MAY_ORPHAN
        return DataImpact.NONE

    @property
    def data_affecting(self) -> tuple[Change, ...]:
        """Every change that destroys or may orphan data: what needs explicit consent."""
        return tuple(c for c in self.changes if self.impact(c) is not DataImpact.NONE)

    @property
    def data_loss_digest(self) -> str | None:
        """A short digest of exactly the data-affecting set (None when there is none), so
        `apply --approve-data-loss DIGEST` approves this loss and not any other: the same
        fields with the same impact and the same before and after give the same digest."""
        impact = self.impact
        affected = [(c, found) for c in self.changes if (found := impact(c)) is not DataImpact.NONE]
        if not affected:
            return None
        import hashlib  # only plans that affect data pay for them
        import json

        # One encoder for all items: json.dumps with these options builds one per call.
        encode = json.JSONEncoder(ensure_ascii=True, separators=(",", ":")).encode
        items = sorted(
            encode(
                [
                    c.key.address,
                    c.unique_name,
                    c.action.value,
                    found.value,
                    _remote_view(c.before),
                    _remote_view(c.after),
                ]
            )
            for c, found in affected
        )
        return hashlib.sha256("\n".join(items).encode("ascii")).hexdigest()[:DIGEST_CHARS]

    def changed_keys(self) -> tuple[ObjectKey, ...]:
        """Addresses with at least one change, in order."""
        seen: dict[ObjectKey, None] = {}
        for change in self.changes:
            seen.setdefault(change.key)
        return tuple(seen)

    def changes_for(self, key: ObjectKey) -> Iterator[Change]:
        return (c for c in self.changes if c.key == key)


# 12 hex characters: short enough to type in a pull-request comment, long enough that two
# different data-affecting sets of one repository do not collide by chance.
DIGEST_CHARS = 12


def _remote_view(f: Field | None) -> list[object] | None:
    if f is None:
        return None
    values = list(f.ordered_value_list) if f.ordered_value_list is not None else None
    return [f.type.value, f.reference_to, values]
