"""A Plan as a JSON document: the machine-readable contract, one renderer among others.

Text and Markdown render the typed Plan themselves (engine/render/); nothing parses this
document back except saved plans (engine/formats/planfile.py).

Format version 1 (`crmform plan --json`; saved plans add "desired" and "checksum"):

    {
      "format_version": 1,
      "environment": "production",               # only when one is selected (--env)
      "state": {"lineage": "<uuid or empty>", "serial": 3},
      "changes": [
        {
          "address": "gong/6286478263646/ACCOUNT",
          "integrationId": "6286478263646",      # a STRING: real ids exceed 2**53
          "objectType": "ACCOUNT",
          "uniqueName": "category",
          "action": "create" | "update" | "replace" | "delete" | "protect",
          "before": <field> | null,              # null for create
          "after": <field> | null,               # null for delete
          "destroysData": true | false,          # true for replace and delete
          "dataImpact": "destroys" | "may-orphan" | "none",
                                                 # may-orphan: picklist values removed,
                                                 # referenceTo changed, or values changed
                                                 # where Gong did not report them
          "reason": "type PICKLIST -> STRING",   # engine/words.py's phrase, not for parsing
          "values": {"added": [...], "removed": [...], "reordered": false}
                                                 # only on an update whose values differ
        }
      ],
      "summary": {"create": 0, "update": 0, "replace": 0, "delete": 0, "protect": 0},
      "notes": [{"kind": "recreates-deleted" | "not-a-rename", "address": "...",
                 "uniqueNames": ["old", "new"], "message": "...",
                 "deleted": {"type": "STRING", "when": "..."}}],   # deleted: recreates only
      "dataLoss": {"digest": "3f1c0a9be2d4" | null,   # of the data-affecting set; null: none
                   "destroys": 1, "mayOrphan": 0}
    }

A <field> uses Gong's key names: uniqueName, label, type, referenceTo (REFERENCE only),
orderedValueList (PICKLIST only), protect, and lastModified when the state recorded one
(so only in "before"). Changes are sorted by address, then uniqueName.

A plan made with `crmform plan --refresh` also has a top-level "drift" list, placed before
"changes" (absent when Gong was not read; empty when nothing changed outside crmform):

      "drift": [
        {
          "address": "gong/6286478263646/ACCOUNT",
          "integrationId": "6286478263646",
          "objectType": "ACCOUNT",
          "uniqueName": "region",
          "kind": "added" | "removed" | "changed",
          "attributes": ["type", "label", "referenceTo", "orderedValueList"],
                                                 # what differs; [] unless "changed"
          "before": <field> | null,              # as the state recorded it; null for added
          "after": <remote field> | null         # as Gong reports it; null for removed
        }
      ]

A <remote field> has uniqueName, label and type, and referenceTo, orderedValueList and
lastModified only when Gong stated them (Gong often answers null: unknown, never a change);
it has no protect. Drift items are sorted by address, then uniqueName.

Written as a stream (iter_plan_json): the changes (a batch at a time), drift items and notes
(one at a time) are never held as one document or one string, so a plan of 100,000 changes prints in
about the memory of the plan itself. The bytes are exactly `json.dumps(plan_to_json(plan),
indent=2)`'s (tests/test_plan_stream.py); plan_to_json stays the dict form, for saved plans.

Compatibility: new keys may appear without a version bump; consumers must ignore keys they
do not know. Removing or re-typing a key bumps format_version. A key added here must also be
added to engine/plan.schema.json (strict; tests validate output against it) and to
docs/plan-json.md.
"""

from __future__ import annotations

from collections.abc import Iterator

from crmform.engine import words
from crmform.engine.formats.codec import (
    Items,
    JsonDict,
    built,
    dumps_indented,
    encode_string,
    field_to_json,
    iter_indented,
)
from crmform.engine.model import (
    DESTRUCTIVE_ACTIONS,
    Action,
    Change,
    DataImpact,
    Field,
    FieldDrift,
    FieldType,
    ObjectKey,
    Plan,
    PlanNote,
    values_diff,
)

__all__ = ["FORMAT_VERSION", "change_to_json", "drift_to_json", "iter_plan_json", "plan_to_json"]

FORMAT_VERSION = 1


def _document(plan: Plan) -> dict[str, object]:
    """The plan's top-level keys in order, its long lists left as codec.Items. The one place
    a top-level key is added: plan_to_json and iter_plan_json both follow it."""
    summary = plan.summary
    doc: dict[str, object] = {"format_version": FORMAT_VERSION}
    if plan.environment:  # absent without a selected environment: the output of old
        doc["environment"] = plan.environment
    doc["state"] = {"lineage": plan.state_lineage, "serial": plan.state_serial}
    if plan.drift is not None:
        doc["drift"] = Items(plan.drift, drift_to_json)
    # Each change with the plan's impact for it (which the plan computes, not the change).
    impacts = [plan.impact(c) for c in plan.changes]
    pairs = tuple(zip(plan.changes, impacts, strict=True))
    doc["changes"] = Items(pairs, _change_pair_to_json, _Changes().encode)
    doc["summary"] = {
        "create": summary.create,
        "update": summary.update,
        "replace": summary.replace,
        "delete": summary.delete,
        "protect": summary.protect,
    }
    doc["notes"] = Items(plan.notes, note_to_json)
    destroys = impacts.count(DataImpact.DESTROYS)
    may_orphan = impacts.count(DataImpact.MAY_ORPHAN)
    doc["dataLoss"] = {
        # None when nothing is affected (Plan.data_loss_digest's own answer then), without
        # the digest going over every change's impact once more.
        "digest": plan.data_loss_digest if destroys or may_orphan else None,
        "destroys": destroys,
        "mayOrphan": may_orphan,
    }
    return doc


def plan_to_json(plan: Plan) -> JsonDict:
    """The whole plan as one dict (saved plans add their keys to it)."""
    return built(_document(plan))


def iter_plan_json(plan: Plan) -> Iterator[str]:
    """dumps_indented(plan_to_json(plan)) in pieces, a list item (changes: a batch of them)
    at a time (no newline at the end)."""
    return iter_indented(_document(plan))


def note_to_json(note: PlanNote) -> JsonDict:
    out: JsonDict = {
        "kind": note.kind.value,
        "address": note.key.address,
        "uniqueNames": list(note.names),
        "message": words.note(note),
    }
    if note.deleted is not None:
        out["deleted"] = {"type": note.deleted.type.value, "when": note.deleted.deleted}
    return out


def drift_to_json(drift: FieldDrift) -> JsonDict:
    key = drift.key
    after = None
    if drift.after is not None:
        # protect is crmform's own: Gong never reports it.
        after = {k: v for k, v in field_to_json(drift.after).items() if k != "protect"}
    return {
        "address": key.address,
        "integrationId": str(key.integration_id),
        "objectType": key.object_type.value,
        "uniqueName": drift.unique_name,
        "kind": drift.kind.value,
        "attributes": list(drift.attributes),
        "before": field_to_json(drift.before) if drift.before is not None else None,
        "after": after,
    }


def change_to_json(change: Change, impact: DataImpact | None = None) -> JsonDict:
    key = change.key
    out: JsonDict = {
        "address": key.address,
        "integrationId": str(key.integration_id),
        "objectType": key.object_type.value,
        "uniqueName": change.unique_name,
        "action": change.action.value,
        "before": field_to_json(change.before) if change.before else None,
        "after": field_to_json(change.after) if change.after else None,
        "destroysData": change.destroys_data,
        "dataImpact": (impact or change.impact).value,
        "reason": words.reason(change),
    }
    values = _values(change)
    if values is not None:
        out["values"] = values
    return out


def _values(change: Change) -> JsonDict | None:
    """The "values" of an update whose picklist values differ; None for any other change."""
    before, after = change.before, change.after
    if (
        change.action is Action.UPDATE
        and before is not None
        and after is not None
        and before.ordered_value_list != after.ordered_value_list
    ):
        diff = values_diff(before.ordered_value_list, after.ordered_value_list)
        return {
            "added": list(diff.added),
            "removed": list(diff.removed),
            "reordered": diff.reordered,
        }
    return None


# --- a change as text, at the speed of text ------------------------------------------------
#
# A plan's changes are almost all of its JSON (100,000 creates: 55 of 56 MB), so each is
# written by a template instead of dict + generic encoder (measured there: 0.5 s where
# change_to_json then dumps_indented takes 1.9 s). The templates spell change_to_json's
# and field_to_json's keys in the same order; tests/test_plan_stream.py holds them to
# dumps_indented(change_to_json(...), 2), byte for byte, so a key added there and not here
# fails. Strings go through the C encoder's own escaping (codec.encode_string).
#
# What depends only on the action and the impact (the keys between the fields and the
# reason) is spelled once per pair, and each address's first lines once per address: a
# create then costs its names, its label and its reason (100,000 creates: 0.23 s -> 0.16 s).

_string = encode_string
_BOOL = {True: "true", False: "false"}
_TYPES = {t: _string(t.value) for t in FieldType}
_FIELD = "        "  # a change's fields' keys are 4 levels deep
# `"action": ...` up to the value of "before".
_ACTIONS = {a: f'"action": {_string(a.value)},\n      "before": ' for a in Action}
# After the value of "after", up to the value of "reason": destroysData is the action's
# (Change.destroys_data), dataImpact the plan's.
_TAILS = {
    a: {
        i: (
            f',\n      "destroysData": {_BOOL[a in DESTRUCTIVE_ACTIONS]},'
            f'\n      "dataImpact": {_string(i.value)},\n      "reason": '
        )
        for i in DataImpact
    }
    for a in Action
}
_UPDATE = Action.UPDATE
_reason = words.reason


def _scalar(value: object) -> str:
    # Every field attribute is a string once loaded, but state is read as it was written.
    return _string(value) if type(value) is str else dumps_indented(value, 4)


def _field(f: Field, name: str | None = None) -> str:
    """dumps_indented(field_to_json(f), 3); `name` is f.unique_name already encoded."""
    i = _FIELD
    more = ""
    if f.reference_to is not None:
        more = f',\n{i}"referenceTo": {_scalar(f.reference_to)}'
    values = f.ordered_value_list
    if values is not None:
        if values:
            listed = ",\n          ".join(map(_string, values))
            more += f',\n{i}"orderedValueList": [\n          {listed}\n{i}]'
        else:
            more += f',\n{i}"orderedValueList": []'
    more += f',\n{i}"protect": {_BOOL[f.protect]}'
    if f.last_modified is not None:
        more += f',\n{i}"lastModified": {_scalar(f.last_modified)}'
    return (
        f'{{\n{i}"uniqueName": {name or _string(f.unique_name)},\n{i}"label": {_string(f.label)},'
        f'\n{i}"type": {_TYPES[f.type]}{more}\n      }}'
    )


def _change_pair_to_json(pair: tuple[Change, DataImpact]) -> JsonDict:
    return change_to_json(*pair)


class _Changes:
    """The template of change_to_json, remembering each address's first lines."""

    def __init__(self) -> None:
        self._heads: dict[str, str] = {}
        self._key: ObjectKey | None = None  # the last change's address, and its lines
        self._head = ""

    def _head_of(self, key: ObjectKey) -> str:
        head = self._heads.get(key.address)
        if head is None:
            head = self._heads[key.address] = (
                f'{{\n      "address": {_string(key.address)},'
                f'\n      "integrationId": {_string(str(key.integration_id))},'
                f'\n      "objectType": {_string(key.object_type.value)},'
                '\n      "uniqueName": '
            )
        self._key, self._head = key, head
        return head

    def encode(self, pair: tuple[Change, DataImpact]) -> str:
        """dumps_indented(change_to_json(*pair), 2)."""
        change, impact = pair
        key = change.key
        # Changes come sorted by address: most share the last one's (an identity test, where
        # a dict lookup would hash the key).
        head = self._head if key is self._key else self._head_of(key)
        action = change.action
        before, after = change.before, change.after
        name = change.unique_name
        encoded = _string(name)
        more = ""
        if action is _UPDATE:
            values = _values(change)
            if values is not None:
                more = f',\n      "values": {dumps_indented(values, 3)}'
        if before is None:
            old = "null"
        else:
            old = _field(before, encoded if before.unique_name is name else None)
        if after is None:
            new = "null"
        else:
            new = _field(after, encoded if after.unique_name is name else None)
        return (
            f'{head}{encoded},\n      {_ACTIONS[action]}{old},\n      "after": {new}'
            f"{_TAILS[action][impact]}{_string(_reason(change))}{more}\n    }}"
        )
