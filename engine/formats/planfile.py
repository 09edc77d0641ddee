"""Saved plans: write, read back and verify a plan so `apply` does exactly what was reviewed.

A saved plan is the plan's JSON document (engine/render.py, format_version 1; its
"environment", when one was selected, is what apply checks first) plus:
  "desired"   the full desired snapshot, {address: {"source": file|null, "fields": [...]}},
              so apply needs neither the schema files nor their state at plan time;
  "remote"    only for a plan made with --refresh: {address: sha256 of the remote schema
              read} (engine/drift.py `fingerprint`), so apply can refuse a remote that moved;
              plans saved before this key existed load as plans made without --refresh;
  "prior"     the stored state's objects the plan was made from ({address: {"fields"}}, as
              in the state file), so the loaded plan carries its prior state (for a plan
              made with --refresh, rebuilt from it and the drift) and apply can tell that
              the stored state is still exactly that one;
  "checksum"  sha256 (hex) of the canonical JSON of everything else: keys sorted, compact
              separators, ASCII escapes. Re-indenting the file keeps it valid; editing any
              value does not.
Only text crosses this module's boundary; the caller reads and writes the file.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any

from crmform.engine import words
from crmform.engine.drift import apply_drift
from crmform.engine.errors import PlanError, StalePlanError
from crmform.engine.formats.codec import (
    JsonDict,
    deleted_to_json,
    field_from_json,
    field_to_json,
    objects_from_json,
    objects_to_json,
)
from crmform.engine.formats.plan_json import FORMAT_VERSION, plan_to_json
from crmform.engine.model import (
    Action,
    Change,
    DeletedField,
    Desired,
    DriftKind,
    FieldDrift,
    FieldRef,
    FieldType,
    ObjectKey,
    ObjectSchema,
    Plan,
    Reason,
    RemoteFingerprint,
    State,
    replace,
)
from crmform.engine.planner import notes as planner_notes
from crmform.engine.planner import plan as make_plan

__all__ = ["bound", "check_current", "check_environment", "desired_to_json", "dumps", "loads"]

_RERUN = "Run `crmform plan` again and review the new plan."


def dumps(plan: Plan) -> str:
    doc = plan_to_json(plan)
    doc["desired"] = desired_to_json(plan.desired)
    doc["prior"] = objects_to_json(plan.stored.objects)
    if plan.stored.deleted:
        doc["priorDeleted"] = [deleted_to_json(d) for d in plan.stored.deleted]
    if plan.unreported:
        doc["unreported"] = [[r.key.address, r.unique_name] for r in plan.unreported]
    if plan.drift is not None:
        doc["remote"] = {p.key.address: p.sha256 for p in sorted(plan.remote, key=lambda p: p.key)}
    doc["checksum"] = _checksum(doc)
    return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"


def desired_to_json(desired: Desired) -> JsonDict:
    """Like codec.objects_to_json, plus each object's source file (null when unknown)."""
    return {
        obj.key.address: {
            "source": obj.source,
            "fields": [field_to_json(f) for f in obj.fields],
        }
        for obj in sorted(desired.objects, key=lambda o: o.key)
    }


def loads(text: str, source: str) -> Plan:
    """Parse and verify a saved plan; `source` names the file in every message."""
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise PlanError(
            f"{source} is not a crmform plan: it is not valid JSON ({exc.msg} at line "
            f"{exc.lineno}, column {exc.colno}). {_RERUN}"
        ) from None
    if not isinstance(doc, dict) or "format_version" not in doc:
        raise PlanError(
            f"{source} is not a crmform plan: it has no format_version. "
            "Pass a plan file saved by `crmform plan`."
        )
    version = doc["format_version"]
    is_int = isinstance(version, int) and not isinstance(version, bool)
    if not is_int or version != FORMAT_VERSION:
        newer = is_int and version > FORMAT_VERSION
        why = "was written by a newer crmform" if newer else "has an unknown format"
        raise PlanError(
            f"{source} {why} (plan format {version!r}); this crmform reads plan format "
            f"{FORMAT_VERSION}. Use the crmform that saved it, or run `crmform plan` again."
        )
    if "checksum" not in doc or "desired" not in doc or "prior" not in doc:
        raise PlanError(
            f"{source} is a plan report (JSON output), not a saved plan: it has no checksum "
            f"and no desired snapshot, so it cannot be applied. Save a plan with `crmform plan`."
        )
    if doc["checksum"] != _checksum(doc):
        raise PlanError(
            f"{source} was modified after crmform saved it: its checksum does not match its "
            f"content. Saved plans must not be edited. {_RERUN}"
        )
    try:
        return _plan_from_json(doc)
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise PlanError(
            f"{source} is not a plan this crmform can read, although its checksum matches: "
            f"{exc!r}. {_RERUN}"
        ) from None


def check_environment(plan: Plan, environment: str, source: str) -> None:
    """Refuse a saved plan made for another environment than `environment` (PlanError):
    its changes were computed against another tenant's state."""
    if plan.environment != environment:
        raise PlanError(words.environment_mismatch(source, plan.environment, environment))


def check_current(plan: Plan, state: State, source: str) -> None:
    """Refuse a saved plan whose state moved on since it was made (StalePlanError)."""
    if plan.state_lineage != state.lineage:
        if not plan.state_lineage:
            raise StalePlanError(
                f"The saved plan {source} was made when no state existed yet, but the state "
                f"is now at serial {state.serial}: someone applied since. {_RERUN}"
            )
        raise StalePlanError(
            f"The saved plan {source} was made against state lineage {plan.state_lineage}, "
            f"but the state has lineage {state.lineage or '(none: no state yet)'}: it is a "
            f"different state. {_RERUN}"
        )
    if plan.state_serial != state.serial:
        raise StalePlanError(
            f"The saved plan {source} was made against state serial {plan.state_serial}, but "
            f"the state is now at serial {state.serial}: someone applied since. {_RERUN}"
        )
    # Same lineage and serial should mean the same state; comparing it with the recorded
    # one catches a state edited by hand, re-planning a crmform upgrade that plans
    # differently.
    if state.objects != plan.stored.objects or make_plan(plan.desired, plan.prior).changes != (
        plan.changes
    ):
        raise StalePlanError(
            f"The saved plan {source} no longer matches what crmform would do against the "
            f"state (serial {state.serial}): the state was changed without a new serial, or "
            f"crmform was upgraded since the plan was made. {_RERUN}"
        )


def _checksum(doc: Mapping[str, Any]) -> str:
    body = {k: v for k, v in doc.items() if k != "checksum"}
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return hashlib.sha256(canonical.encode("ascii")).hexdigest()


def _plan_from_json(doc: Mapping[str, Any]) -> Plan:
    state = doc["state"]
    serial = state["serial"]
    if not isinstance(serial, int) or isinstance(serial, bool):
        raise TypeError("state.serial must be an integer")
    objects = []
    for address, body in doc["desired"].items():
        source = body.get("source")
        if source is not None and not isinstance(source, str):
            raise TypeError(f"desired {address}: source must be a string or null")
        fields = tuple(field_from_json(f) for f in body["fields"])
        objects.append(ObjectSchema(ObjectKey.parse(address), fields, source))
    desired = Desired(tuple(sorted(objects, key=lambda o: o.key)))
    changes = tuple(_change_from_json(c, desired) for c in doc["changes"])
    drift = None if "drift" not in doc else tuple(_drift_from_json(d) for d in doc["drift"])
    remote_json = doc.get("remote", {})
    prints = (RemoteFingerprint(ObjectKey.parse(a), str(h)) for a, h in remote_json.items())
    remote = tuple(sorted(prints, key=lambda p: p.key))
    ledger = tuple(sorted(_deleted_from_json(d) for d in doc.get("priorDeleted", [])))
    stored = State(str(state["lineage"]), serial, objects_from_json(doc["prior"]), (), ledger)
    prior = apply_drift(stored, drift) if drift else stored
    prev_run = stored if drift is not None else None
    unreported = tuple(
        sorted(FieldRef(ObjectKey.parse(str(a)), str(n)) for a, n in doc.get("unreported", []))
    )
    notes = planner_notes(changes, prior)
    # Plans saved before environments were recorded load as made without one.
    environment = doc.get("environment", "")
    if not isinstance(environment, str):
        raise TypeError("environment must be a string")
    return Plan(changes, desired, prior, drift, remote, prev_run, unreported, notes, environment)


def _deleted_from_json(d: Mapping[str, Any]) -> DeletedField:
    return DeletedField(
        ObjectKey.parse(str(d["address"])),
        str(d["uniqueName"]),
        FieldType(d["type"]),
        str(d["deleted"]),
    )


def bound(plan: Plan, stored: State, source: str) -> Plan:
    """The saved plan checked against the stored state (check_current), carrying that
    state as its prior: the same objects, plus what the file does not record (pending
    uploads), so the state apply writes keeps them."""
    check_current(plan, stored, source)
    if plan.drift is None:
        return replace(plan, prior=stored)
    return replace(plan, prior=apply_drift(stored, plan.drift), prev_run=stored)


def _drift_from_json(d: Mapping[str, Any]) -> FieldDrift:
    key = ObjectKey.parse(d["address"])
    before = field_from_json(d["before"]) if d["before"] is not None else None
    after = field_from_json(d["after"]) if d["after"] is not None else None
    attributes = tuple(str(a) for a in d["attributes"])
    return FieldDrift(key, str(d["uniqueName"]), DriftKind(d["kind"]), before, after, attributes)


def _change_from_json(c: Mapping[str, Any], desired: Desired) -> Change:
    key = ObjectKey.parse(c["address"])
    if c["integrationId"] != str(key.integration_id) or c["objectType"] != key.object_type:
        raise ValueError(f"change {c['address']}: integrationId/objectType disagree with it")
    before = field_from_json(c["before"]) if c["before"] is not None else None
    after = field_from_json(c["after"]) if c["after"] is not None else None
    action = Action(c["action"])
    return Change(key, str(c["uniqueName"]), action, before, after, _reason(action, key, desired))


def _reason(action: Action, key: ObjectKey, desired: Desired) -> Reason:
    """The reason is not stored as an enum (the JSON has words); it follows from the rest."""
    if action is Action.DELETE:
        return Reason.NOT_IN_FILES if desired.get(key) is not None else Reason.OBJECT_REMOVED
    return _REASONS[action]


_REASONS = {
    Action.CREATE: Reason.NEW_FIELD,
    Action.UPDATE: Reason.ATTRIBUTES_CHANGED,
    Action.REPLACE: Reason.TYPE_CHANGED,
    Action.PROTECT: Reason.PROTECT_CHANGED,
}
