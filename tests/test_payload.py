"""The upload body: complete by construction, stamped correctly, and the state it leaves."""

from __future__ import annotations

from hypothesis import given, settings
from strategies import desired_and_state

from crmform.engine import planner
from crmform.engine.model import Desired, Field, FieldType, ObjectKey, ObjectSchema, State
from crmform.engine.payload import build, outcome, uploads

KEY = ObjectKey("gong", 6286478263646, "ACCOUNT")
NOW = "2026-11-28T12:00:00Z"
OLD = "2026-01-01T00:00:00Z"


def field(name: str, label: str = "L", kind: FieldType = FieldType.STRING, **kw: object) -> Field:
    return Field(name, label, kind, **kw)  # type: ignore[arg-type]


def test_unchanged_fields_keep_their_stored_timestamp_and_changed_ones_get_now():
    state = ObjectSchema(KEY, (field("a", last_modified=OLD), field("b", last_modified=OLD)))
    desired = ObjectSchema(KEY, (field("a"), field("b", label="New")))
    upload = build(KEY, desired, state, NOW)
    assert upload.body == (
        {"uniqueName": "a", "label": "L", "type": "STRING", "lastModified": OLD},
        {"uniqueName": "b", "label": "New", "type": "STRING", "lastModified": NOW},
    )
    assert [f.last_modified for f in upload.after.fields] == [OLD, NOW]


def test_removed_field_is_sent_as_tombstone_without_picklist_values():
    picklist = field("tier", "Tier", FieldType.PICKLIST, ordered_value_list=("Gold",))
    upload = build(KEY, ObjectSchema(KEY, ()), ObjectSchema(KEY, (picklist,)), NOW)
    assert upload.body == (
        {
            "uniqueName": "tier",
            "label": "Tier",
            "type": "PICKLIST",
            "isDeleted": True,
            "lastModified": NOW,
        },
    )
    assert upload.after.fields == ()


def test_type_change_is_sent_as_the_field_with_its_new_type():
    state = ObjectSchema(KEY, (field("score", last_modified=OLD),))
    desired = ObjectSchema(KEY, (field("score", kind=FieldType.NUMBER),))
    (item,) = build(KEY, desired, state, NOW).body
    assert item == {"uniqueName": "score", "label": "L", "type": "NUMBER", "lastModified": NOW}


def test_protect_only_change_sends_nothing_but_records_protect():
    state = ObjectSchema(KEY, (field("a", last_modified=OLD),))
    desired = ObjectSchema(KEY, (field("a", protect=True),))
    upload = build(KEY, desired, state, NOW)
    assert not upload.sends
    assert upload.body == ()
    assert upload.after.fields == (field("a", protect=True, last_modified=OLD),)


def test_reference_and_picklist_attributes_are_sent():
    desired = ObjectSchema(
        KEY,
        (
            field("parent", "Main Account", FieldType.REFERENCE, reference_to="ACCOUNT"),
            field("cat", "Category", FieldType.PICKLIST, ordered_value_list=("A", "B")),
        ),
    )
    body = build(KEY, desired, None, NOW).body
    assert body[0]["referenceTo"] == "ACCOUNT"
    assert body[1]["orderedValueList"] == ["A", "B"]
    assert all("protect" not in item for item in body)


@settings(max_examples=300, deadline=None)
@given(desired_and_state())
def test_every_field_live_in_state_is_in_the_body_of_its_upload(case: tuple):
    desired, state = case
    for upload in uploads(planner.plan(desired, state), state, NOW):
        if not upload.sends:
            continue
        sent = [item["uniqueName"] for item in upload.body]
        assert len(sent) == len(set(sent)), "a field is sent twice"
        prior = state.get(upload.key)
        for f in prior.fields if prior else ():
            assert f.unique_name in sent, f"{f.unique_name} would be dropped"
        wanted = desired.get(upload.key)
        alive = {i["uniqueName"] for i in upload.body if not i.get("isDeleted")}
        assert alive == {f.unique_name for f in wanted.fields} if wanted else alive == set()


@settings(max_examples=300, deadline=None)
@given(desired_and_state())
def test_planning_again_after_the_outcome_gives_no_changes(case: tuple):
    desired, state = case
    after = outcome(planner.plan(desired, state), state, NOW)
    assert planner.plan(desired, after).is_empty


def test_outcome_drops_an_address_whose_fields_are_all_deleted():
    state = State("x", 1, (ObjectSchema(KEY, (field("a", last_modified=OLD),)),))

    after = outcome(planner.plan(Desired(()), state), state, NOW)
    assert after.objects == ()
