"""plan(desired, state) -> Plan: what must change so Gong (and the state) match the files.

Pure: no I/O, no clock, no environment. Linear in the number of fields: one dict per
object, plain comparisons, one sort per object (no deepdiff on this path: 50,000 fields
must plan in well under a second).

How one field is classified (before = state, after = desired):
  only after            create
  only before           delete (Gong gets an isDeleted tombstone; its data is deleted)
  type differs          replace (Gong makes a new field; the old one's data is deleted)
  label, values or referenceTo differ   update (in place, data kept; protect may differ too)
  only protect differs  protect (state only; Gong never sees protect)
  equal                 no change
A replace or delete of a field protected in the state OR in the files is refused, all such
fields at once, in one ProtectedFieldError.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from crmform.engine.errors import PlanError, ProtectedFieldError
from crmform.engine.model import (
    Action,
    Change,
    Desired,
    Field,
    ObjectKey,
    ObjectSchema,
    Plan,
    State,
)

__all__ = [
    "REASON_CREATE",
    "REASON_NOT_IN_FILES",
    "REASON_OBJECT_REMOVED",
    "ValuesDiff",
    "plan",
    "values_diff",
]

REASON_CREATE = "new field"
REASON_NOT_IN_FILES = "not in the schema files"
REASON_OBJECT_REMOVED = "object file removed"


@dataclass(frozen=True, slots=True)
class ValuesDiff:
    """How a picklist's orderedValueList changed. `reordered` compares the kept values only."""

    added: tuple[str, ...]
    removed: tuple[str, ...]
    reordered: bool


def values_diff(before: tuple[str, ...] | None, after: tuple[str, ...] | None) -> ValuesDiff:
    """Added values in their new order, removed values in their old order."""
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


def plan(desired: Desired, state: State) -> Plan:
    """Compare the desired schema with the state; raise ProtectedFieldError or PlanError."""
    wanted = _index(desired.objects, in_state=False)
    applied = _index(state.objects, in_state=True)
    changes: list[Change] = []
    violations: list[str] = []
    for key in sorted(wanted.keys() | applied.keys()):
        desired_obj = wanted.get(key)
        after_fields = _fields_by_name(desired_obj, in_state=False) if desired_obj else {}
        state_obj = applied.get(key)
        before_fields = _fields_by_name(state_obj, in_state=True) if state_obj else {}
        gone_reason = REASON_NOT_IN_FILES if desired_obj else REASON_OBJECT_REMOVED
        for name in sorted(after_fields.keys() | before_fields.keys()):
            change = _classify(
                key, name, before_fields.get(name), after_fields.get(name), gone_reason
            )
            if change is None:
                continue
            if change.destroys_data and _protected(change):
                violations.append(_violation(change, desired_obj.source if desired_obj else None))
            changes.append(change)
    if violations:
        count = len(violations)
        head = (
            f"The plan would delete the data of {count} protected field"
            f"{'s' if count != 1 else ''}; nothing was changed."
        )
        raise ProtectedFieldError("\n".join([head, *(f"  {v}" for v in violations)]))
    return Plan(tuple(changes), desired, state.lineage, state.serial)


def _classify(
    key: ObjectKey, name: str, before: Field | None, after: Field | None, gone_reason: str
) -> Change | None:
    if before is None:
        if after is None:  # unreachable: the name came from one of the two dicts
            return None
        return Change(key, name, Action.CREATE, None, after, REASON_CREATE)
    if after is None:
        return Change(key, name, Action.DELETE, before, None, gone_reason)
    if before.type != after.type:
        return Change(
            key, name, Action.REPLACE, before, after, f"type {before.type} -> {after.type}"
        )
    if not before.same_remote(after):
        return Change(key, name, Action.UPDATE, before, after, _update_reason(before, after))
    if before.protect != after.protect:
        return Change(key, name, Action.PROTECT, before, after, _protect_phrase(before, after))
    return None


def _update_reason(before: Field, after: Field) -> str:
    parts: list[str] = []
    if before.label != after.label:
        parts.append(f"label '{before.label}' -> '{after.label}'")
    if before.ordered_value_list != after.ordered_value_list:
        parts.append(
            _values_phrase(values_diff(before.ordered_value_list, after.ordered_value_list))
        )
    if before.reference_to != after.reference_to:
        parts.append(
            f"referenceTo {before.reference_to or '(unset)'} -> {after.reference_to or '(unset)'}"
        )
    # The state records protect along with the update, so the reason says so too.
    if before.protect != after.protect:
        parts.append(_protect_phrase(before, after))
    return "; ".join(parts)


def _values_phrase(diff: ValuesDiff) -> str:
    words = " ".join([f"+{_word(v)}" for v in diff.added] + [f"-{_word(v)}" for v in diff.removed])
    if diff.reordered:
        words = f"{words}, reordered" if words else "reordered"
    # Empty only when duplicates (or None against an empty list) differ.
    return f"values {words}" if words else "values changed"


def _word(value: str) -> str:
    """A picklist value as a word; quoted when blanks would make `+a b -c` ambiguous."""
    if value and not any(ch.isspace() for ch in value):
        return value
    return f"'{value}'"


def _protect_phrase(before: Field, after: Field) -> str:
    return f"protect {str(before.protect).lower()} -> {str(after.protect).lower()}"


def _protected(change: Change) -> bool:
    # The state's flag counts as much as the file's: removing the entry (or the whole
    # file) must not be a way around the protection.
    return bool(
        (change.before and change.before.protect) or (change.after and change.after.protect)
    )


def _violation(change: Change, source: str | None) -> str:
    where = f"{change.key.address} {change.unique_name}"
    in_file = f" in {source}" if source else ""
    if change.action is Action.REPLACE:
        return (
            f"{where}: the plan would replace it ({change.reason}) but it is protected. "
            f"Set `protect: false` on the field{in_file} (keeping its current type) and "
            "apply that first, then make the change."
        )
    if change.reason == REASON_OBJECT_REMOVED:
        return (
            f"{where}: the plan would delete it ({change.reason}) but it is protected. "
            "Put the object's file back with `protect: false` on this field, apply that "
            "first, then remove it."
        )
    return (
        f"{where}: the plan would delete it ({change.reason}) but it is protected. "
        f"Put the entry back{in_file} with `protect: false`, apply that first, then remove it."
    )


def _index(objects: Iterable[ObjectSchema], *, in_state: bool) -> dict[ObjectKey, ObjectSchema]:
    # The config loader rejects duplicates already; the planner refuses them too, because
    # keeping one silently would plan deletes for the other's fields.
    out: dict[ObjectKey, ObjectSchema] = {}
    for obj in objects:
        seen = out.setdefault(obj.key, obj)
        if seen is not obj:
            if in_state:
                raise PlanError(
                    f"The state records {obj.key.address} twice, so it is damaged. "
                    "Restore the state file from its backup."
                )
            files = " and ".join(sorted({seen.source or "?", obj.source or "?"}))
            raise PlanError(
                f"{obj.key.address} is declared twice (in {files}). "
                "Keep exactly one schema file per integration and object type."
            )
    return out


def _fields_by_name(obj: ObjectSchema, *, in_state: bool) -> dict[str, Field]:
    by_name = obj.by_name()
    if len(by_name) != len(obj.fields):
        dup = _first_duplicate(f.unique_name for f in obj.fields)
        if in_state:
            raise PlanError(
                f"The state records the field {dup} of {obj.key.address} twice, so it is "
                "damaged. Restore the state file from its backup."
            )
        raise PlanError(
            f"{obj.source or 'The schema files'}: {obj.key.address} declares the field {dup} "
            "more than once. Each uniqueName must appear once per object type."
        )
    return by_name


def _first_duplicate(names: Iterable[str]) -> str:
    seen: set[str] = set()
    for name in names:
        if name in seen:
            return name
        seen.add(name)
    return ""
