"""The upload body: complete by construction, stamped correctly, and the state it leaves."""

from __future__ import annotations

from factories import ACCOUNT, applied, fld
from hypothesis import given, settings
from strategies import desired_and_state

from crmform.engine import planner
from crmform.engine.model import Desired, FieldType, ObjectSchema, State
from crmform.engine.payload import Upload, build, uploads
from crmform.providers.gong.wire import encode_item

NOW = "2026-11-28T12:00:00Z"
OLD = "2026-01-01T00:00:00Z"


def sent(upload: Upload) -> tuple[dict, ...]:
    """The upload's items as Gong receives them (the engine's writes, encoded by wire.py)."""
    return tuple(encode_item(w) for w in upload.body)


def test_unchanged_fields_keep_their_stored_timestamp_and_changed_ones_get_now():
    state = ObjectSchema(ACCOUNT, (fld("a", label="L", stamp=OLD), fld("b", label="L", stamp=OLD)))
    desired = ObjectSchema(ACCOUNT, (fld("a", label="L"), fld("b", label="New")))
    upload = build(ACCOUNT, desired, state, NOW)
    assert sent(upload) == (
        {"uniqueName": "a", "label": "L", "type": "STRING", "lastModified": OLD},
        {"uniqueName": "b", "label": "New", "type": "STRING", "lastModified": NOW},
    )
    assert [f.last_modified for f in upload.after.fields] == [OLD, NOW]


def test_removed_field_is_sent_as_tombstone_without_picklist_values():
    picklist = fld("tier", FieldType.PICKLIST, values=("Gold",))
    upload = build(ACCOUNT, ObjectSchema(ACCOUNT, ()), ObjectSchema(ACCOUNT, (picklist,)), NOW)
    assert sent(upload) == (
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
    state = ObjectSchema(ACCOUNT, (fld("score", label="L", stamp=OLD),))
    desired = ObjectSchema(ACCOUNT, (fld("score", FieldType.NUMBER, "L"),))
    (item,) = sent(build(ACCOUNT, desired, state, NOW))
    assert item == {"uniqueName": "score", "label": "L", "type": "NUMBER", "lastModified": NOW}


def test_protect_only_change_sends_nothing_but_records_protect():
    state = ObjectSchema(ACCOUNT, (fld("a", label="L", stamp=OLD),))
    desired = ObjectSchema(ACCOUNT, (fld("a", label="L", protect=True),))
    upload = build(ACCOUNT, desired, state, NOW)
    assert not upload.sends
    assert upload.body == ()
    assert upload.after.fields == (fld("a", label="L", protect=True, stamp=OLD),)


def test_reference_and_picklist_attributes_are_sent():
    desired = ObjectSchema(
        ACCOUNT,
        (
            fld("parent", FieldType.REFERENCE, "Main Account", ref="ACCOUNT"),
            fld("cat", FieldType.PICKLIST, "Category", values=("A", "B")),
        ),
    )
    body = sent(build(ACCOUNT, desired, None, NOW))
    assert body[0]["referenceTo"] == "ACCOUNT"
    assert body[1]["orderedValueList"] == ["A", "B"]
    assert all("protect" not in item for item in body)


@settings(max_examples=300, deadline=None)
@given(desired_and_state())
def test_every_field_live_in_state_is_in_the_body_of_its_upload(case: tuple):
    desired, state = case
    for upload in uploads(planner.plan(desired, state), NOW):
        if not upload.sends:
            continue
        names = [item["uniqueName"] for item in sent(upload)]
        assert len(names) == len(set(names)), "a field is sent twice"
        prior = state.get(upload.key)
        for f in prior.fields if prior else ():
            assert f.unique_name in names, f"{f.unique_name} would be dropped"
        wanted = desired.get(upload.key)
        alive = {i["uniqueName"] for i in sent(upload) if not i.get("isDeleted")}
        assert alive == {f.unique_name for f in wanted.fields} if wanted else alive == set()


@settings(max_examples=300, deadline=None)
@given(desired_and_state())
def test_planning_again_after_the_outcome_gives_no_changes(case: tuple):
    desired, state = case
    after = applied(planner.plan(desired, state), NOW)
    assert planner.plan(desired, after).is_empty


def test_outcome_drops_an_address_whose_fields_are_all_deleted():
    state = State("x", 1, (ObjectSchema(ACCOUNT, (fld("a", label="L", stamp=OLD),)),))

    after = applied(planner.plan(Desired(()), state), NOW)
    assert after.objects == ()
