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

Compatibility: new keys may appear without a version bump; consumers must ignore keys they
do not know. Removing or re-typing a key bumps format_version. A key added here must also be
added to engine/plan.schema.json (strict; tests validate output against it) and to
docs/plan-json.md.
"""

from __future__ import annotations

from crmform.engine import words
from crmform.engine.formats.codec import JsonDict, field_to_json
from crmform.engine.model import Action, Change, DataImpact, FieldDrift, Plan, PlanNote, values_diff

__all__ = ["FORMAT_VERSION", "change_to_json", "drift_to_json", "plan_to_json"]

FORMAT_VERSION = 1


def plan_to_json(plan: Plan) -> JsonDict:
    summary = plan.summary
    doc: JsonDict = {"format_version": FORMAT_VERSION}
    if plan.environment:  # absent without a selected environment: the output of old
        doc["environment"] = plan.environment
    doc["state"] = {"lineage": plan.state_lineage, "serial": plan.state_serial}
    if plan.drift is not None:
        doc["drift"] = [drift_to_json(d) for d in plan.drift]
    doc["changes"] = [change_to_json(c, plan.impact(c)) for c in plan.changes]
    doc["summary"] = {
        "create": summary.create,
        "update": summary.update,
        "replace": summary.replace,
        "delete": summary.delete,
        "protect": summary.protect,
    }
    doc["notes"] = [note_to_json(n) for n in plan.notes]
    impacts = [plan.impact(c) for c in plan.changes]
    doc["dataLoss"] = {
        "digest": plan.data_loss_digest,
        "destroys": impacts.count(DataImpact.DESTROYS),
        "mayOrphan": impacts.count(DataImpact.MAY_ORPHAN),
    }
    return doc


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
    before, after = change.before, change.after
    if (
        change.action is Action.UPDATE
        and before is not None
        and after is not None
        and before.ordered_value_list != after.ordered_value_list
    ):
        diff = values_diff(before.ordered_value_list, after.ordered_value_list)
        out["values"] = {
            "added": list(diff.added),
            "removed": list(diff.removed),
            "reordered": diff.reordered,
        }
    return out
