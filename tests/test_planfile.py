"""Saved plans: round trip, checksum, stale state, and files that are not plans."""

from __future__ import annotations

import hashlib
import json

import pytest
from factories import fld

from crmform.engine.errors import PlanError, StalePlanError
from crmform.engine.formats.planfile import check_current, dumps, loads
from crmform.engine.model import (
    Desired,
    FieldType,
    ObjectKey,
    ObjectSchema,
    ObjectType,
    Plan,
    State,
)
from crmform.engine.planner import plan

BIG = ObjectKey("gong", 2271307570613351879, ObjectType.ACCOUNT)
DEAL = ObjectKey("gong", 2271307570613351879, ObjectType.DEAL)
LEAD = ObjectKey("gong", 42, ObjectType.LEAD)
FILE = "plans/release.plan"
RERUN = "Run `crmform plan` again and review the new plan."


STATE = State(
    "0b6c-lineage",
    3,
    (
        ObjectSchema(
            BIG,
            (
                fld("amount", label="L", stamp="2025-01-01T00:00:00Z"),
                fld("gone", FieldType.ID, "L", stamp="2025-01-01T00:00:00Z"),
                fld("tier", FieldType.PICKLIST, "L", values=("A", "B")),
            ),
        ),
        ObjectSchema(LEAD, (fld("score", FieldType.NUMBER, "L"),)),
    ),
)
DESIRED = Desired(
    (
        ObjectSchema(
            BIG,
            (
                fld("amount", FieldType.NUMBER),
                fld("tier", FieldType.PICKLIST, values=("B", "C")),
                fld("owner", FieldType.REFERENCE, ref="USER", protect=True),
            ),
            "schema/accounts.yaml",
        ),
        ObjectSchema(DEAL, (fld("stage", label="Stage ✓"),), "schema/deals.yaml"),
        ObjectSchema(LEAD, (), None),
    )
)


@pytest.fixture
def saved() -> Plan:
    return plan(DESIRED, STATE)


def test_round_trip_gives_the_same_plan(saved):
    loaded = loads(dumps(saved), FILE)
    assert loaded == saved
    assert [o.source for o in loaded.desired.objects] == [
        "schema/accounts.yaml",
        "schema/deals.yaml",
        None,
    ]


def test_replanning_the_loaded_desired_against_the_original_state_gives_the_same_changes(saved):
    loaded = loads(dumps(saved), FILE)
    assert len(saved.changes) == 6
    assert plan(loaded.desired, STATE).changes == saved.changes
    check_current(loaded, STATE, FILE)  # nothing raised


def test_the_saved_file_is_json_with_a_checksum_and_exact_ids(saved):
    doc = json.loads(dumps(saved))
    assert doc["format_version"] == 1
    assert len(doc["checksum"]) == 64
    assert doc["changes"][0]["integrationId"] == "2271307570613351879"
    assert doc["desired"]["gong/2271307570613351879/ACCOUNT"]["source"] == "schema/accounts.yaml"


def documented_checksum(doc):
    """sha256 of the canonical JSON (sorted keys, compact) of everything but the checksum."""
    body = {k: v for k, v in doc.items() if k != "checksum"}
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def test_the_checksum_is_the_documented_one(saved):
    doc = json.loads(dumps(saved))
    assert doc["checksum"] == documented_checksum(doc)


def test_reformatting_the_file_keeps_it_valid(saved):
    compact = json.dumps(json.loads(dumps(saved)), separators=(",", ":"))
    assert loads(compact, FILE) == saved


@pytest.mark.parametrize(
    "edit",
    [
        lambda d: d["changes"].pop(),
        lambda d: d["desired"]["gong/2271307570613351879/ACCOUNT"]["fields"][0].update(
            type="STRING"
        ),
        lambda d: d["state"].update(serial=4),
        lambda d: d.update(checksum="0" * 64),
    ],
    ids=["change removed", "desired edited", "serial edited", "checksum replaced"],
)
def test_a_tampered_plan_is_rejected(saved, edit):
    doc = json.loads(dumps(saved))
    edit(doc)
    with pytest.raises(PlanError) as err:
        loads(json.dumps(doc), FILE)
    assert str(err.value) == (
        f"{FILE} was modified after crmform saved it: its checksum does not match its content. "
        f"Saved plans must not be edited. {RERUN}"
    )


def test_a_plan_made_against_an_older_serial_is_stale(saved):
    moved = State(STATE.lineage, 4, STATE.objects)
    with pytest.raises(StalePlanError) as err:
        check_current(loads(dumps(saved), FILE), moved, FILE)
    assert str(err.value) == (
        f"The saved plan {FILE} was made against state serial 3, but the state is now at "
        f"serial 4: someone applied since. {RERUN}"
    )


def test_a_plan_made_against_another_lineage_is_stale(saved):
    other = State("9999-other", 3, STATE.objects)
    with pytest.raises(StalePlanError) as err:
        check_current(saved, other, FILE)
    assert str(err.value) == (
        f"The saved plan {FILE} was made against state lineage 0b6c-lineage, but the state has "
        f"lineage 9999-other: it is a different state. {RERUN}"
    )


def test_a_plan_made_before_any_state_existed_is_stale_once_someone_applied():
    first = plan(DESIRED, State())
    with pytest.raises(StalePlanError) as err:
        check_current(first, STATE, FILE)
    assert str(err.value) == (
        f"The saved plan {FILE} was made when no state existed yet, but the state is now at "
        f"serial 3: someone applied since. {RERUN}"
    )


def test_a_state_changed_without_a_new_serial_is_caught(saved):
    edited = State(STATE.lineage, STATE.serial, STATE.objects[1:])
    with pytest.raises(StalePlanError) as err:
        check_current(saved, edited, FILE)
    assert str(err.value) == (
        f"The saved plan {FILE} no longer matches what crmform would do against the state "
        f"(serial 3): the state was changed without a new serial, or crmform was upgraded "
        f"since the plan was made. {RERUN}"
    )


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "apply everything please",
            f"{FILE} is not a crmform plan: it is not valid JSON (Expecting value at line 1, "
            f"column 1). {RERUN}",
        ),
        (
            '{"version": 1, "lineage": "x", "serial": 3, "objects": {}}',
            f"{FILE} is not a crmform plan: it has no format_version. "
            "Pass a plan file saved by `crmform plan`.",
        ),
        (
            "[1, 2]",
            f"{FILE} is not a crmform plan: it has no format_version. "
            "Pass a plan file saved by `crmform plan`.",
        ),
        (
            '{"format_version": 2, "checksum": "x"}',
            f"{FILE} was written by a newer crmform (plan format 2); this crmform reads plan "
            "format 1. Use the crmform that saved it, or run `crmform plan` again.",
        ),
        (
            '{"format_version": "1"}',
            f"{FILE} has an unknown format (plan format '1'); this crmform reads plan format 1. "
            "Use the crmform that saved it, or run `crmform plan` again.",
        ),
    ],
    ids=["not json", "a state file", "a json list", "newer format", "version as text"],
)
def test_a_file_that_is_not_a_plan_is_rejected_clearly(text, message):
    with pytest.raises(PlanError) as err:
        loads(text, FILE)
    assert str(err.value) == message


def test_a_plan_report_without_checksum_cannot_be_applied(saved):
    from crmform.engine.formats.plan_json import plan_to_json

    with pytest.raises(PlanError) as err:
        loads(json.dumps(plan_to_json(saved)), FILE)
    assert str(err.value) == (
        f"{FILE} is a plan report (JSON output), not a saved plan: it has no checksum and no "
        "desired snapshot, so it cannot be applied. Save a plan with `crmform plan`."
    )


def test_a_checksummed_document_with_bad_content_is_rejected(saved):
    doc = json.loads(dumps(saved))
    doc["changes"][0]["action"] = "explode"
    doc["checksum"] = documented_checksum(doc)
    with pytest.raises(PlanError) as err:
        loads(json.dumps(doc), FILE)
    assert str(err.value).startswith(
        f"{FILE} is not a plan this crmform can read, although its checksum matches: "
        "ValueError(\"'explode' is not a valid Action\")."
    )
