"""plan(desired, state) -> Plan: what must change so Gong (and the state) match the files.

Pure: no I/O, no clock, no environment. Linear in the number of fields: one dict per
object, plain comparisons, no deepdiff (50,000 fields must plan in well under a second).
The fields that did not change are ruled out in one loop of attribute reads
(`_candidates`); only the names that remain are sorted and classified.

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

from collections.abc import Iterable, Sequence
from itertools import compress, repeat
from operator import itemgetter, ne
from typing import TYPE_CHECKING

from crmform.engine import words
from crmform.engine.errors import PlanError, ProtectedFieldError
from crmform.engine.model import (
    Action,
    Change,
    Desired,
    Field,
    FieldType,
    NoteKind,
    ObjectKey,
    ObjectSchema,
    Plan,
    PlanNote,
    Reason,
    State,
)

if TYPE_CHECKING:
    from difflib import SequenceMatcher

__all__ = ["plan"]


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
        gone_reason = Reason.NOT_IN_FILES if desired_obj else Reason.OBJECT_REMOVED
        for name in sorted(_candidates(after_fields, before_fields)):
            change = _classify(
                key, name, before_fields.get(name), after_fields.get(name), gone_reason
            )
            if change is None:
                continue
            if change.destroys_data and _protected(change):
                violations.append(
                    words.protected_violation(change, desired_obj.source if desired_obj else None)
                )
            changes.append(change)
    if violations:
        count = len(violations)
        head = (
            f"The plan would delete the data of {count} protected field{'s' if count != 1 else ''}:"
        )
        raise ProtectedFieldError("\n".join([head, *(f"  {v}" for v in violations)]))
    return Plan(tuple(changes), desired, state, notes=notes(changes, state))


# Labels at least this similar (difflib's ratio) make a delete and a create look like a rename.
RENAME_SIMILARITY = 0.8


def notes(changes: Sequence[Change], state: State) -> tuple[PlanNote, ...]:
    """What the changes together mean that none says alone: a create that reuses the
    uniqueName of a field crmform deleted (a new, empty field), and a delete plus a create
    of the same type and a similar label in one object type (Gong cannot rename a field)."""
    found: list[PlanNote] = []
    by_key: dict[ObjectKey, list[Change]] = {}
    for change in changes:
        by_key.setdefault(change.key, []).append(change)
    for key, group in by_key.items():
        creates = [c for c in group if c.action is Action.CREATE and c.after is not None]
        deletes = [c for c in group if c.action is Action.DELETE and c.before is not None]
        for c in creates:
            gone = state.deleted_field(key, c.unique_name)
            if gone is not None:
                found.append(PlanNote(NoteKind.RECREATES_DELETED, key, (c.unique_name,), gone))
        found += [
            PlanNote(NoteKind.NOT_A_RENAME, key, (d.unique_name, c.unique_name))
            for d, c in _renames(deletes, creates)
        ]
    return tuple(found)


# Past this many (delete, create) pairs of one type, only equal labels are compared: the
# similarity check is quadratic, and planning must stay linear at 50,000 fields.
_MAX_SIMILARITY_PAIRS = 10_000


def _renames(deletes: list[Change], creates: list[Change]) -> list[tuple[Change, Change]]:
    if not deletes or not creates:
        return []  # no pair to compare, and difflib is not imported
    by_type: dict[FieldType, list[Change]] = {}
    exact: dict[tuple[FieldType, str], list[Change]] = {}
    for c in creates:
        assert c.after is not None
        by_type.setdefault(c.after.type, []).append(c)
        exact.setdefault((c.after.type, c.after.label.casefold()), []).append(c)
    deleted_of: dict[FieldType, list[Change]] = {}
    labels_of: dict[FieldType, list[str]] = {}
    for d in deletes:
        assert d.before is not None
        deleted_of.setdefault(d.before.type, []).append(d)
        labels_of.setdefault(d.before.type, []).append(d.before.label.casefold())
    from difflib import SequenceMatcher

    pairs: list[tuple[Change, Change]] = []
    matcher = SequenceMatcher(None)
    for kind, olds in deleted_of.items():
        news = by_type.get(kind, [])
        labels = labels_of[kind]
        if len(olds) * len(news) > _MAX_SIMILARITY_PAIRS:
            for d, label in zip(olds, labels, strict=True):
                pairs += [(d, c) for c in exact.get((kind, label), [])]
            continue
        # Each created label is difflib's second sequence once, for all the deleted labels
        # of its type: SequenceMatcher indexes its second sequence, so it is kept while
        # the first changes. The pairs come out in the order of the deletes, then creates.
        similar: list[list[Change]] = [[] for _ in olds]
        for c in news:
            assert c.after is not None
            new = c.after.label.casefold()
            matcher.set_seq2(new)
            for found, label in zip(similar, labels, strict=True):
                if new == label or _similar(matcher, label):
                    found.append(c)
        for d, found in zip(olds, similar, strict=True):
            pairs += [(d, c) for c in found]
    return pairs


def _similar(matcher: SequenceMatcher[str], label: str) -> bool:
    """Whether `label` is like the matcher's second sequence (set by the caller).

    ratio() >= quick_ratio() >= real_quick_ratio(): the cheap upper bounds rule out most
    pairs before the full match (50,000 fields, 3,852 pairs: notes 67 ms -> 13 ms)."""
    matcher.set_seq1(label)
    return (
        matcher.real_quick_ratio() >= RENAME_SIMILARITY
        and matcher.quick_ratio() >= RENAME_SIMILARITY
        and matcher.ratio() >= RENAME_SIMILARITY
    )


def _classify(
    key: ObjectKey, name: str, before: Field | None, after: Field | None, gone_reason: Reason
) -> Change | None:
    if before is None:
        if after is None:  # unreachable: the name came from one of the two dicts
            return None
        return Change(key, name, Action.CREATE, None, after, Reason.NEW_FIELD)
    if after is None:
        return Change(key, name, Action.DELETE, before, None, gone_reason)
    if before.type != after.type:
        return Change(key, name, Action.REPLACE, before, after, Reason.TYPE_CHANGED)
    if not before.same_remote(after):
        return Change(key, name, Action.UPDATE, before, after, Reason.ATTRIBUTES_CHANGED)
    if before.protect != after.protect:
        return Change(key, name, Action.PROTECT, before, after, Reason.PROTECT_CHANGED)
    return None


def _candidates(after: dict[str, Field], before: dict[str, Field]) -> set[str]:
    """The names _classify may find a change for: those on one side only, and those on
    both whose compared attributes differ (it returns None exactly when type, label,
    referenceTo, values and protect are all equal). The fields that did not change, nearly
    all of them in a plan of a large schema, are ruled out here with no Python code per
    field: a Field is a tuple, so its compared attributes are one slice of it, and the
    slices are compared in C (issue 14; 50,000 fields: ~16 ms a field at a time in Python,
    ~6 ms so). A name missing from `before` meets _ABSENT, which equals no slice."""
    if not after or not before:
        return set(after or before)
    olds = map(before.get, after, repeat(_ABSENT))
    differ = map(ne, map(_COMPARED, after.values()), map(_COMPARED, olds))
    found = set(compress(after, differ))
    found.update(before.keys() - after.keys())
    return found


# A Field's attributes that _classify compares: label, type, referenceTo, values, protect.
_COMPARED = itemgetter(slice(1, 6))
# Stands in for a field `before` does not have: its slice, (), equals no Field's.
_ABSENT: tuple[()] = ()


def _protected(change: Change) -> bool:
    # The state's flag counts as much as the file's: removing the entry (or the whole
    # file) must not be a way around the protection.
    return bool(
        (change.before and change.before.protect) or (change.after and change.after.protect)
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
