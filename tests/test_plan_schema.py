"""The shipped JSON Schemas of crmform's machine output, and output checked against them."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
from factories import ACCOUNT, CONTACT, DEAL
from hypothesis import given, settings
from strategies import desired_and_state
from test_render import destroy_plan, empty_plan, mixed_plan, protect_plan

from crmform.engine.applier import AddressResult, ApplyResult, Outcome
from crmform.engine.errors import ProtectedFieldError, ProviderError, StateError
from crmform.engine.formats import planfile
from crmform.engine.formats.apply_json import apply_result_to_json
from crmform.engine.formats.plan_json import plan_to_json
from crmform.engine.formats.schemas import OUTPUT_SCHEMAS, output_schema_text
from crmform.engine.model import (
    REFERENCE_TARGETS,
    Action,
    FieldType,
    ObjectType,
    State,
)
from crmform.engine.planner import plan

PLAN_SCHEMA = json.loads(output_schema_text("plan"))
APPLY_SCHEMA = json.loads(output_schema_text("apply-result"))
PLAN = jsonschema.Draft202012Validator(PLAN_SCHEMA)
APPLY = jsonschema.Draft202012Validator(APPLY_SCHEMA)


def errors(validator: jsonschema.Draft202012Validator, doc: object) -> list[str]:
    return sorted(f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(doc))


@pytest.mark.parametrize("schema", [PLAN_SCHEMA, APPLY_SCHEMA])
def test_shipped_schemas_are_valid_draft_2020_12(schema):
    jsonschema.Draft202012Validator.check_schema(schema)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"


def test_schemas_are_package_data_next_to_the_formats():
    engine = Path(__file__).resolve().parent.parent / "engine" / "formats"
    for name in OUTPUT_SCHEMAS.values():
        assert (engine / name).is_file()


def test_schema_enums_match_the_model():
    defs = PLAN_SCHEMA["$defs"]
    assert defs["fieldType"]["enum"] == [t.value for t in FieldType]
    assert defs["objectType"]["enum"] == [t.value for t in ObjectType]
    assert defs["referenceTarget"]["enum"] == list(REFERENCE_TARGETS)
    assert defs["change"]["properties"]["action"]["enum"] == [a.value for a in Action]
    result = APPLY_SCHEMA["$defs"]["result"]["properties"]
    assert result["outcome"]["enum"] == [o.value for o in Outcome]


@pytest.mark.parametrize("make", [mixed_plan, destroy_plan, empty_plan, protect_plan])
def test_plan_json_and_saved_plans_validate(make):
    the_plan = make()
    assert errors(PLAN, plan_to_json(the_plan)) == []
    assert errors(PLAN, json.loads(planfile.dumps(the_plan))) == []


@settings(max_examples=150, deadline=None)
@given(desired_and_state())
def test_any_plan_validates(case):
    desired, state = case
    try:
        the_plan = plan(desired, state)
    except ProtectedFieldError:  # pragma: no cover - strategies make no protected fields
        return
    assert errors(PLAN, plan_to_json(the_plan)) == []
    assert errors(PLAN, json.loads(planfile.dumps(the_plan))) == []


DRIFT = [
    {
        "address": "gong/6286478263646/ACCOUNT",
        "integrationId": "6286478263646",
        "objectType": "ACCOUNT",
        "uniqueName": "region",
        "kind": "added",
        "attributes": [],
        "before": None,
        "after": {"uniqueName": "region", "label": "Region", "type": "STRING"},
    },
    {
        "address": "gong/6286478263646/ACCOUNT",
        "integrationId": "6286478263646",
        "objectType": "ACCOUNT",
        "uniqueName": "tier",
        "kind": "changed",
        "attributes": ["label"],
        "before": {"uniqueName": "tier", "label": "Tier", "type": "STRING", "protect": False},
        "after": {"uniqueName": "tier", "label": "Level", "type": "STRING"},
    },
]


def test_the_optional_drift_list_validates_and_is_checked():
    doc = {**plan_to_json(mixed_plan()), "drift": DRIFT}
    assert errors(PLAN, doc) == []
    assert errors(PLAN, {**doc, "drift": []}) == []
    bad = json.loads(json.dumps(DRIFT))
    bad[1]["attributes"] = []
    assert errors(PLAN, {**doc, "drift": bad}) == [
        "['drift', 1, 'attributes']: [] should be non-empty"
    ]


def test_the_schema_catches_a_broken_contract():
    doc = plan_to_json(destroy_plan())
    number_id = json.loads(json.dumps(doc))
    number_id["changes"][0]["integrationId"] = 6286478263646
    assert errors(PLAN, number_id) == [
        "['changes', 0, 'integrationId']: 6286478263646 is not of type 'string'"
    ]
    harmless_delete = json.loads(json.dumps(doc))
    harmless_delete["changes"][1]["destroysData"] = False
    assert errors(PLAN, harmless_delete) == ["['changes', 1, 'destroysData']: True was expected"]
    unknown_key = {**doc, "extra": 1}
    assert errors(PLAN, unknown_key) == [
        "[]: Additional properties are not allowed ('extra' was unexpected)"
    ]


def test_apply_result_json_validates_for_every_outcome():
    the_plan = mixed_plan()
    refused = ProviderError(
        "Gong refused the upload for gong/6286478263646/CONTACT (HTTP 400).",
        status=400,
        errors=("field owner is not allowed",),
        request_id="req-9",
    )
    lagging = StateError("Gong accepted the upload, but saving the state failed.")
    result = ApplyResult(
        (
            AddressResult(ACCOUNT, Outcome.APPLIED, 0.41234, "req-1"),
            AddressResult(CONTACT, Outcome.FAILED, 0.2, error=refused),
            AddressResult(DEAL, Outcome.NOT_ATTEMPTED),
        ),
        State("lin", 4),
        the_plan,
    )
    doc = apply_result_to_json(result)
    assert errors(APPLY, doc) == []
    assert doc["ok"] is False
    assert doc["state"] == {"lineage": "lin", "serial": 4}
    assert doc["outcomes"] == {
        "applied": 1,
        "state-only": 0,
        "failed": 1,
        "uncertain": 0,
        "not-attempted": 1,
    }
    assert doc["summary"] == {"create": 2, "update": 2, "replace": 1, "delete": 1, "protect": 1}
    applied, failed, skipped = doc["results"]
    assert applied["requestId"] == "req-1"
    assert applied["seconds"] == 0.412
    assert {"uniqueName": "category", "action": "replace"} in applied["changes"]
    assert failed["error"] == {
        "message": str(refused),
        "status": 400,
        "errors": ["field owner is not allowed"],
        "requestId": "req-9",
    }
    assert skipped == {
        "address": "gong/6286478263646/DEAL",
        "integrationId": "6286478263646",
        "objectType": "DEAL",
        "outcome": "not-attempted",
        "requestId": None,
        "seconds": 0.0,
        "changes": [],
        "error": None,
    }
    lag = ApplyResult(
        (AddressResult(ACCOUNT, Outcome.FAILED, 0.1, "req-2", lagging),), State("lin", 3), the_plan
    )
    lag_doc = apply_result_to_json(lag)
    assert errors(APPLY, lag_doc) == []
    assert lag_doc["results"][0]["error"]["requestId"] == "req-2"
    assert lag_doc["results"][0]["error"]["status"] is None


def test_apply_result_schema_requires_an_error_exactly_on_failure():
    result = ApplyResult(
        (AddressResult(ACCOUNT, Outcome.APPLIED, 0.1, "r"),), State("l", 1), mixed_plan()
    )
    doc = apply_result_to_json(result)
    doc["results"][0]["outcome"] = "failed"
    assert errors(APPLY, doc) == ["['results', 0, 'error']: None is not of type 'object'"]


def test_a_plan_with_real_drift_items_validates():
    from crmform.engine.model import DriftKind, Field, FieldDrift, Plan

    base = mixed_plan()
    gone = Field("region", "Region", FieldType.STRING)
    added = Field("score", "Score", FieldType.NUMBER, last_modified="2026-01-02T03:04:05Z")
    relabelled = Field("tier", "Level", FieldType.PICKLIST, ordered_value_list=("A",))
    drift = (
        FieldDrift(ACCOUNT, "region", DriftKind.REMOVED, gone, None),
        FieldDrift(ACCOUNT, "score", DriftKind.ADDED, None, added),
        FieldDrift(
            ACCOUNT,
            "tier",
            DriftKind.CHANGED,
            Field("tier", "Tier", FieldType.PICKLIST, ordered_value_list=("A", "B")),
            relabelled,
            ("label", "orderedValueList"),
        ),
    )
    refreshed = Plan(base.changes, base.desired, base.prior, drift)
    doc = plan_to_json(refreshed)
    assert [d["kind"] for d in doc["drift"]] == ["removed", "added", "changed"]
    assert errors(PLAN, doc) == []
    assert errors(PLAN, json.loads(planfile.dumps(refreshed))) == []
