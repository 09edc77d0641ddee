"""Drift: what changed in the remote outside crmform, and the state brought up to date. Pure.

Gong's GET reliably returns only each field's name, label and type; its documented example
answers null for referenceTo, orderedValueList and lastModified, even on picklists. A null
(None in a RemoteSchema) therefore means "unknown": it is never reported as a change and
never overwrites what the state knows, or every plan would show changes that are not there.

  compare      the state's object against the remote: added, removed, changed fields
  refreshed    the state updated from the remote (remote-known attributes win)
  apply_drift  the same update rebuilt from the drift list alone (a saved plan carries it)
  fingerprint  a hash of one remote schema, so a saved plan can tell the remote moved
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime

from crmform.engine.model import (
    Desired,
    DriftKind,
    Field,
    FieldDrift,
    FieldRef,
    FieldType,
    ObjectKey,
    ObjectSchema,
    Plan,
    RemoteFingerprint,
    State,
    replace,
)
from crmform.engine.planner import plan as make_plan
from crmform.engine.ports import RemoteSchema

__all__ = [
    "ATTRIBUTES",
    "addresses",
    "apply_drift",
    "compare",
    "compare_all",
    "fingerprint",
    "known",
    "merged",
    "plan_refreshed",
    "refreshed",
    "refreshed_object",
    "unreported",
]

# The attributes a drift can name, in Gong's key names and in this (reporting) order.
ATTRIBUTES = ("type", "label", "referenceTo", "orderedValueList")


def addresses(state: State, desired: Desired | None = None) -> tuple[ObjectKey, ...]:
    """Every address in the state or the desired files, sorted: what a refresh reads."""
    keys = {o.key for o in state.objects}
    if desired is not None:
        keys |= {o.key for o in desired.objects}
    return tuple(sorted(keys))


def known(remote: Field) -> Field:
    """A remote field with only what it really states.

    referenceTo counts only on a REFERENCE and orderedValueList only on a PICKLIST (what
    Gong's upload accepts); an empty picklist is unknown too, as Gong never accepts one.
    """
    reference = remote.reference_to if remote.type is FieldType.REFERENCE else None
    values = remote.ordered_value_list if remote.type is FieldType.PICKLIST else None
    return Field(
        remote.unique_name,
        remote.label,
        remote.type,
        reference,
        values or None,
        last_modified=utc_stamp(remote.last_modified),
    )


def utc_stamp(value: str | None) -> str | None:
    """Gong's lastModified in the one form the state keeps (`2020-12-17T13:45:01Z`): an
    offset such as +02:00 is converted to UTC; anything unreadable is unknown (None)."""
    if value is None or (len(value) == 20 and value.endswith("Z") and value[10] == "T"):
        return value
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    if moment.tzinfo is None:
        return None
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _differing(before: Field, after: Field) -> tuple[str, ...]:
    """What the remote (after, already `known`) states differently from the state."""
    found = {
        "type": before.type != after.type,
        "label": before.label != after.label,
        "referenceTo": after.reference_to is not None and after.reference_to != before.reference_to,
        "orderedValueList": after.ordered_value_list is not None
        and after.ordered_value_list != before.ordered_value_list,
    }
    return tuple(a for a in ATTRIBUTES if found[a])


def compare(
    key: ObjectKey, state: ObjectSchema | None, remote: RemoteSchema
) -> tuple[FieldDrift, ...]:
    """The fields of `key` that differ between the state and the remote, by uniqueName.

    A different lastModified alone is no drift: Gong may stamp fields itself, and nothing
    crmform plans depends on it.
    """
    prior = state.by_name() if state is not None else {}
    found: list[FieldDrift] = []
    seen: set[str] = set()
    for f in remote.fields:
        name = f.unique_name
        if name in seen:
            continue  # Gong does not say a GET cannot repeat a name; the first one counts
        seen.add(name)
        before = prior.get(name)
        if before is f:
            continue  # the very field (an upload's read-back reuses the fields it sent)
        if before is None:
            found.append(FieldDrift(key, name, DriftKind.ADDED, None, known(f)))
        elif _may_differ(before, f):
            after = known(f)
            attributes = _differing(before, after)
            if attributes:
                found.append(FieldDrift(key, name, DriftKind.CHANGED, before, after, attributes))
    if not seen.issuperset(prior):
        for name, before in prior.items():
            if name not in seen:
                found.append(FieldDrift(key, name, DriftKind.REMOVED, before, None))
    found.sort(key=_by_name)
    return tuple(found)


def _by_name(item: FieldDrift) -> str:
    return item.unique_name


def _may_differ(before: Field, remote: Field) -> bool:
    """False when `_differing(before, known(remote))` is surely empty, without building the
    `known` field: the check of each field of an apply's read-back and drift checks."""
    kind = remote.type
    if kind != before.type or remote.label != before.label:
        return True
    if kind is FieldType.REFERENCE:
        return remote.reference_to is not None and remote.reference_to != before.reference_to
    if kind is FieldType.PICKLIST:
        values = remote.ordered_value_list
        return bool(values) and values != before.ordered_value_list
    return False


def compare_all(state: State, remotes: Mapping[ObjectKey, RemoteSchema]) -> tuple[FieldDrift, ...]:
    """Drift of every address read, sorted by address, then uniqueName."""
    return tuple(d for key in sorted(remotes) for d in compare(key, state.get(key), remotes[key]))


def merged(before: Field | None, remote: Field) -> Field:
    """The state's field updated from the remote.

    What the remote states wins; what it leaves unknown keeps the state's value (only while
    the type is the same: a picklist's values mean nothing on the STRING it became).
    `protect` is crmform's own and always kept; lastModified is kept unless the remote gives one.
    """
    after = known(remote)
    if before is None:
        return after
    same_type = before.type == after.type
    reference = after.reference_to
    if reference is None and same_type:
        reference = before.reference_to
    values = after.ordered_value_list
    if values is None and same_type:
        values = before.ordered_value_list
    return Field(
        after.unique_name,
        after.label,
        after.type,
        reference,
        values,
        before.protect,
        after.last_modified or before.last_modified,
    )


def refreshed_object(
    key: ObjectKey, state: ObjectSchema | None, remote: RemoteSchema
) -> ObjectSchema:
    """The state's object of `key` updated from the remote: fields the remote lacks leave,
    fields only the remote has join (after the state's, in the remote's order), fields that
    drifted are `merged`; the others stay exactly as the state has them, so that
    `apply_drift` rebuilds the same fields from the drift list alone."""
    prior = state.fields if state is not None else ()
    raw: dict[str, Field] = {}
    for f in remote.fields:
        raw.setdefault(f.unique_name, f)
    kept = [
        merged(f, r) if _may_differ(f, r) and _differing(f, known(r)) else f
        for f in prior
        if (r := raw.get(f.unique_name)) is not None
    ]
    known_names = {f.unique_name for f in prior}
    joined = [merged(None, f) for name, f in raw.items() if name not in known_names]
    return ObjectSchema(key, tuple(kept + joined), state.source if state is not None else None)


def refreshed(state: State, remotes: Mapping[ObjectKey, RemoteSchema]) -> State:
    """The state with every address read replaced by its refreshed object (same serial)."""
    for key in sorted(remotes):
        state = state.with_object(refreshed_object(key, state.get(key), remotes[key]))
    return state


def apply_drift(state: State, drift: Iterable[FieldDrift]) -> State:
    """The refreshed state rebuilt from a drift list (as a saved plan records it).

    Equal to `refreshed` but for the order of fields added remotely (by name here), which
    neither the planner nor Gong depends on.
    """
    by_key: dict[ObjectKey, list[FieldDrift]] = {}
    for item in drift:
        by_key.setdefault(item.key, []).append(item)
    for key, items in sorted(by_key.items()):
        obj = state.get(key)
        fields = {f.unique_name: f for f in (obj.fields if obj is not None else ())}
        for item in items:
            if item.after is None:
                fields.pop(item.unique_name, None)
            else:
                fields[item.unique_name] = merged(
                    fields.get(item.unique_name, item.before), item.after
                )
        source = obj.source if obj is not None else None
        state = state.with_object(ObjectSchema(key, tuple(fields.values()), source))
    return state


def fingerprint(remote: RemoteSchema) -> str:
    """sha256 (hex) of a canonical form of everything the remote said about its fields.

    Field order does not count (nothing in crmform depends on it); any attribute does,
    including lastModified and whether an attribute was null.
    """
    items = sorted(
        json.dumps(
            {
                "uniqueName": f.unique_name,
                "label": f.label,
                "type": f.type.value,
                "referenceTo": f.reference_to,
                "orderedValueList": (
                    list(f.ordered_value_list) if f.ordered_value_list is not None else None
                ),
                "lastModified": f.last_modified,
            },
            sort_keys=True,
            separators=(",", ":"),
            ensure_ascii=True,
        )
        for f in remote.fields
    )
    canonical = json.dumps(
        {"objectType": remote.object_type.value, "fields": items},
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=True,
    )
    import hashlib  # only plans made with --refresh and apply's checks fingerprint

    return hashlib.sha256(canonical.encode("ascii")).hexdigest()


def plan_refreshed(
    desired: Desired, state: State, remotes: Mapping[ObjectKey, RemoteSchema]
) -> Plan:
    """plan(desired, refreshed state), carrying the drift and a fingerprint per address read.

    The plan's prior is the refreshed state (same lineage and serial: refreshing does not
    write state) and its prev_run the stored one.
    """
    made = make_plan(desired, refreshed(state, remotes))
    prints = tuple(RemoteFingerprint(k, fingerprint(remotes[k])) for k in sorted(remotes))
    return replace(
        made,
        drift=compare_all(state, remotes),
        remote=prints,
        prev_run=state,
        unreported=unreported(remotes),
    )


def unreported(remotes: Mapping[ObjectKey, RemoteSchema]) -> tuple[FieldRef, ...]:
    """The picklists and references whose values or target Gong answered null for."""
    found = [
        FieldRef(key, f.unique_name)
        for key, remote in remotes.items()
        for f in remote.fields
        if (f.type is FieldType.PICKLIST and not f.ordered_value_list)
        or (f.type is FieldType.REFERENCE and f.reference_to is None)
    ]
    return tuple(sorted(set(found)))
