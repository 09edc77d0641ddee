"""`plan --format json` (and apply's) is written as a stream, and its bytes are the document's.

iter_plan_json writes each change from a template (engine/formats/plan_json.py); these
tests hold it to dumps_indented(plan_to_json(plan)), i.e. json.dumps(..., indent=2), for
every kind of change, drift and note, so a key added to the dict form and not to the
template (or the other way round) fails here.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import Cli
from factories import ACCOUNT, CONTACT, DEAL, fld
from hypothesis import given, settings
from hypothesis import strategies as st
from strategies import desired_and_state, objects
from test_render import PLANS

from crmform.engine import drift
from crmform.engine.applier import AddressResult, ApplyResult, Outcome
from crmform.engine.errors import ProtectedFieldError, ProviderError, StateError
from crmform.engine.formats.apply_json import apply_result_to_json, iter_apply_json
from crmform.engine.formats.codec import dumps_indented
from crmform.engine.formats.plan_json import iter_plan_json, plan_to_json
from crmform.engine.model import Desired, Field, FieldType, ObjectSchema, Plan, State, replace
from crmform.engine.planner import plan
from crmform.engine.ports import RemoteSchema

T = FieldType


def streamed(the_plan: Plan) -> str:
    return "".join(iter_plan_json(the_plan))


@pytest.mark.parametrize("name", sorted(PLANS))
def test_the_golden_plans_stream_as_their_documents(name):
    the_plan = PLANS[name]()
    assert streamed(the_plan) == json.dumps(plan_to_json(the_plan), indent=2)


@settings(max_examples=150, deadline=None)
@given(desired_and_state())
def test_any_plan_streams_exactly_as_its_document(case):
    desired, state = case
    try:
        the_plan = plan(desired, state)
    except ProtectedFieldError:  # pragma: no cover - strategies make no protected fields
        return
    assert streamed(the_plan) == dumps_indented(plan_to_json(the_plan))


@settings(max_examples=60, deadline=None)
@given(data=st.data(), pair=desired_and_state())
def test_a_refreshed_plan_with_drift_streams_exactly_as_its_document(data, pair):
    desired, state = pair
    remotes = {
        k: RemoteSchema(k.object_type, data.draw(objects(k, stamped=True)).fields)
        for k in drift.addresses(state, desired)
    }
    try:
        the_plan = drift.plan_refreshed(desired, state, remotes)
    except ProtectedFieldError:  # pragma: no cover
        return
    assert streamed(the_plan) == dumps_indented(plan_to_json(the_plan))


def _state(*fields: Field) -> State:
    return State("lineage-1", 2, (ObjectSchema(ACCOUNT, fields),))


def test_every_string_is_escaped_as_the_encoder_escapes_it():
    odd = 'quote " back \\ newline \n tab \t nul \x00 esc \x1b ü 😀 \u202e'
    before = fld("tier", T.PICKLIST, odd, values=[odd, "b"], stamp=odd)
    after = fld("tier", T.PICKLIST, odd + "!", values=["b", odd, "c"])
    ref = fld("owner", T.REFERENCE, odd, ref="USER")
    desired = Desired((ObjectSchema(ACCOUNT, (after, fld(odd, T.STRING, odd), ref)),))
    the_plan = plan(desired, _state(before))
    assert {c.unique_name for c in the_plan.changes} == {"tier", odd, "owner"}
    text = streamed(the_plan)
    assert text.isascii()
    assert text == json.dumps(plan_to_json(the_plan), indent=2)


def test_values_the_state_holds_in_another_json_type_are_written_as_json_writes_them():
    # The state is read as written: a hand-edited file may hold a number where a string goes.
    odd = replace(fld("region", stamp="x"), last_modified=12345)
    odd = replace(odd, reference_to=["ACCOUNT", {"a": 1}])
    the_plan = plan(Desired(()), _state(odd))
    assert streamed(the_plan) == json.dumps(plan_to_json(the_plan), indent=2)


def test_the_changes_come_a_few_at_a_time_never_as_one_document():
    fields = tuple(fld(f"f{i}") for i in range(1000))
    the_plan = plan(Desired((ObjectSchema(ACCOUNT, fields),)), State())
    pieces = list(iter_plan_json(the_plan))
    whole = "".join(pieces)
    # Each piece holds at most a batch of changes (codec._BATCH), whatever the plan's size.
    assert max(map(len, pieces)) < len(whole) / 10
    assert max(piece.count('"action": ') for piece in pieces) < 100


def test_the_cli_prints_the_json_plan_byte_for_byte(cli: Cli, tmp_path: Path):
    doc = {
        "integrationId": "6286478263646",
        "objectType": "ACCOUNT",
        "fields": [
            {"uniqueName": f"field_{i}", "label": f"Field «{i}»", "type": "STRING"}
            for i in range(3000)
        ],
    }
    (tmp_path / "account.json").write_text(json.dumps(doc), encoding="utf-8")
    result = cli("plan", tmp_path, "--format", "json")
    assert result.code == 0
    shown = cli("plan", tmp_path, "--format", "json", "--out", "p.plan")
    assert shown.stdout == result.stdout
    assert len(result.stdout) > 1 << 17  # written in more than one write
    saved = cli("show", "p.plan", "--format", "json")
    assert saved.stdout == result.stdout
    loaded = json.loads(result.stdout)
    assert len(loaded["changes"]) == 3000
    assert result.stdout == json.dumps(loaded, indent=2) + "\n"


def test_the_apply_result_streams_exactly_as_its_document():
    the_plan = PLANS["mixed"]()
    refused = ProviderError(
        'Gong refused it: "quoted" \x1b ü', status=400, errors=("a", "b"), request_id="r-9"
    )
    for results in [
        (
            AddressResult(ACCOUNT, Outcome.APPLIED, 0.41234, "req-1"),
            AddressResult(CONTACT, Outcome.FAILED, 0.2, error=refused),
            AddressResult(DEAL, Outcome.UNCERTAIN, error=StateError("not saved"), request_id="x"),
        ),
        (),
    ]:
        result = ApplyResult(results, State("lin", 4), the_plan)
        text = "".join(iter_apply_json(result))
        assert text == json.dumps(apply_result_to_json(result), indent=2)
