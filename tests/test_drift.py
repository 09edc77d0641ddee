"""Drift logic (engine/drift.py), its rendering, and saved plans that carry it."""

from __future__ import annotations

import json

import pytest
from factories import ACCOUNT, fld
from hypothesis import given, settings
from hypothesis import strategies as st
from strategies import KEYS, desired_and_state, objects

from crmform.engine import drift
from crmform.engine.errors import PlanError
from crmform.engine.formats.plan_json import plan_to_json
from crmform.engine.formats.planfile import check_current, dumps, loads
from crmform.engine.model import (
    Action,
    Desired,
    DriftKind,
    FieldDrift,
    FieldType,
    ObjectKey,
    ObjectSchema,
    ObjectType,
    Plan,
    State,
)
from crmform.engine.planner import plan
from crmform.engine.ports import RemoteSchema
from crmform.engine.render.text import render_text

T = FieldType
STAMP = "2025-03-01T12:00:00Z"


def remote(*fields, object_type=ObjectType.ACCOUNT):
    return RemoteSchema(object_type, tuple(fields))


def state_of(*fields, key=ACCOUNT):
    return State("lineage-1", 4, (ObjectSchema(key, tuple(fields)),) if fields else ())


# -- compare -------------------------------------------------------------------------------

PICK = fld("tier", T.PICKLIST, values=["Gold", "Silver"], stamp=STAMP)
REF = fld("owner", T.REFERENCE, ref="USER", stamp=STAMP)


@pytest.mark.parametrize(
    ("state_fields", "remote_fields", "expected"),
    [
        pytest.param((fld("a"),), (fld("a"), fld("region")), [("region", "added", ())], id="added"),
        pytest.param((fld("a"), fld("gone")), (fld("a"),), [("gone", "removed", ())], id="removed"),
        pytest.param((fld("a"),), (fld("a", T.NUMBER),), [("a", "changed", ("type",))], id="type"),
        pytest.param(
            (fld("a"),), (fld("a", label="Other"),), [("a", "changed", ("label",))], id="label"
        ),
        pytest.param(
            (PICK,),
            (fld("tier", T.PICKLIST, values=["Gold", "Bronze"]),),
            [("tier", "changed", ("orderedValueList",))],
            id="values stated and different",
        ),
        pytest.param(
            (REF,),
            (fld("owner", T.REFERENCE, ref="ACCOUNT"),),
            [("owner", "changed", ("referenceTo",))],
            id="referenceTo stated and different",
        ),
        pytest.param(
            (PICK, REF),
            (fld("tier", T.PICKLIST), fld("owner", T.REFERENCE)),
            [],
            id="nulls are unknown, not changes",
        ),
        pytest.param((PICK,), (fld("tier", T.PICKLIST, values=[]),), [], id="empty picklist"),
        pytest.param(
            (fld("a"),), (fld("a", ref="USER", values=["x"]),), [], id="keys the type cannot carry"
        ),
        pytest.param(
            (fld("a", stamp=STAMP),), (fld("a", stamp="2026-01-01T00:00:00Z"),), [], id="stamp"
        ),
        pytest.param((fld("a", protect=True),), (fld("a"),), [], id="protect is crmform's own"),
        pytest.param(
            (fld("a"),),
            (fld("a", T.PICKLIST, "New", values=["x"]),),
            [("a", "changed", ("type", "label", "orderedValueList"))],
            id="several attributes in the documented order",
        ),
    ],
)
def test_compare_reports_only_what_the_remote_states(state_fields, remote_fields, expected):
    found = drift.compare(ACCOUNT, state_of(*state_fields).get(ACCOUNT), remote(*remote_fields))
    assert [(d.unique_name, d.kind.value, d.attributes) for d in found] == expected


def test_compare_is_sorted_by_name_and_carries_both_sides():
    found = drift.compare(
        ACCOUNT, ObjectSchema(ACCOUNT, (fld("zeta"), fld("mid"))), remote(fld("mid"), fld("alpha"))
    )
    assert found == (
        FieldDrift(ACCOUNT, "alpha", DriftKind.ADDED, None, fld("alpha")),
        FieldDrift(ACCOUNT, "zeta", DriftKind.REMOVED, fld("zeta"), None),
    )


def test_compare_all_covers_addresses_without_state():
    contact = ObjectKey("gong", 6286478263646, ObjectType.CONTACT)
    found = drift.compare_all(
        State(), {contact: remote(fld("x"), object_type=ObjectType.CONTACT), ACCOUNT: remote()}
    )
    assert [(d.key, d.unique_name, d.kind) for d in found] == [(contact, "x", DriftKind.ADDED)]


# -- refreshed state ---------------------------------------------------------------------


def test_refresh_keeps_what_the_remote_leaves_unknown_and_takes_what_it_states():
    state = state_of(
        fld("tier", T.PICKLIST, "Tier", values=["Gold"], protect=True, stamp=STAMP),
        fld("owner", T.REFERENCE, ref="USER", stamp=STAMP),
        fld("gone"),
    )
    after = drift.refreshed(
        state,
        {
            ACCOUNT: remote(
                fld("new", T.NUMBER, "New"),
                fld("owner", T.REFERENCE, "Owner now", stamp="2026-01-01T00:00:00Z"),
                fld("tier", T.PICKLIST, "Tier"),
            )
        },
    )
    assert after.lineage == "lineage-1"
    assert after.serial == 4
    refreshed = after.get(ACCOUNT)
    assert refreshed is not None
    assert refreshed.fields == (
        fld("tier", T.PICKLIST, "Tier", values=["Gold"], protect=True, stamp=STAMP),
        fld("owner", T.REFERENCE, "Owner now", ref="USER", stamp="2026-01-01T00:00:00Z"),
        fld("new", T.NUMBER, "New"),
    )


def test_refresh_drops_values_that_do_not_fit_a_new_type():
    state = state_of(fld("tier", T.PICKLIST, values=["Gold"], stamp=STAMP))
    after = drift.refreshed(state, {ACCOUNT: remote(fld("tier", T.STRING))})
    refreshed = after.get(ACCOUNT)
    assert refreshed is not None
    assert refreshed.fields == (fld("tier", T.STRING, stamp=STAMP),)


def test_refresh_of_an_emptied_remote_drops_the_address():
    assert drift.refreshed(state_of(fld("a")), {ACCOUNT: remote()}).objects == ()


@settings(max_examples=60, deadline=None)
@given(data=st.data(), pair=desired_and_state())
def test_after_a_refresh_the_same_remote_shows_no_drift_and_apply_drift_plans_the_same(data, pair):
    desired, state = pair
    keys = drift.addresses(state, desired)
    remotes = {
        k: RemoteSchema(k.object_type, data.draw(objects(k, stamped=True)).fields) for k in keys
    }
    updated = drift.refreshed(state, remotes)
    assert drift.compare_all(updated, remotes) == ()
    rebuilt = drift.apply_drift(state, drift.compare_all(state, remotes))
    assert plan(desired, rebuilt).changes == plan(desired, updated).changes
    assert [(o.key, sorted(o.fields, key=lambda f: f.unique_name)) for o in rebuilt.objects] == [
        (o.key, sorted(o.fields, key=lambda f: f.unique_name)) for o in updated.objects
    ]


# -- fingerprints -------------------------------------------------------------------------


def test_fingerprint_ignores_field_order_and_sees_every_attribute():
    base = remote(fld("a"), fld("tier", T.PICKLIST, values=["x"]))
    assert drift.fingerprint(base) == drift.fingerprint(
        remote(fld("tier", T.PICKLIST, values=["x"]), fld("a"))
    )
    variants = [
        remote(fld("a", label="A2"), fld("tier", T.PICKLIST, values=["x"])),
        remote(fld("a"), fld("tier", T.PICKLIST)),
        remote(fld("a", stamp=STAMP), fld("tier", T.PICKLIST, values=["x"])),
        remote(fld("a", T.ID), fld("tier", T.PICKLIST, values=["x"])),
        remote(fld("a")),
        RemoteSchema(ObjectType.DEAL, base.fields),
    ]
    prints = {drift.fingerprint(v) for v in variants}
    assert len(prints) == len(variants)
    assert drift.fingerprint(base) not in prints
    assert len(drift.fingerprint(base)) == 64


# -- plans against the refreshed view ------------------------------------------------------

DESIRED = Desired((ObjectSchema(ACCOUNT, (fld("a"), fld("b")), "schema/account.yaml"),))


@pytest.fixture
def refreshed_plan() -> Plan:
    state = state_of(fld("a", stamp=STAMP), fld("gone", stamp=STAMP))
    return drift.plan_refreshed(DESIRED, state, {ACCOUNT: remote(fld("a"), fld("region"))})


def test_a_refreshed_plan_names_the_stored_state_and_plans_against_gong(refreshed_plan):
    assert (refreshed_plan.state_lineage, refreshed_plan.state_serial) == ("lineage-1", 4)
    assert [(c.unique_name, c.action) for c in refreshed_plan.changes] == [
        ("b", Action.CREATE),
        ("region", Action.DELETE),
    ]
    assert [(d.unique_name, d.kind) for d in refreshed_plan.drift] == [
        ("gone", DriftKind.REMOVED),
        ("region", DriftKind.ADDED),
    ]
    assert [p.key for p in refreshed_plan.remote] == [ACCOUNT]


def test_plan_json_has_drift_only_when_gong_was_read(refreshed_plan):
    doc = plan_to_json(refreshed_plan)
    assert list(doc) == [
        "format_version",
        "state",
        "drift",
        "changes",
        "summary",
        "notes",
        "dataLoss",
    ]
    assert doc["drift"][1] == {
        "address": "gong/6286478263646/ACCOUNT",
        "integrationId": "6286478263646",
        "objectType": "ACCOUNT",
        "uniqueName": "region",
        "kind": "added",
        "attributes": [],
        "before": None,
        "after": {"uniqueName": "region", "label": "Region", "type": "STRING"},
    }
    assert "drift" not in plan_to_json(plan(DESIRED, State()))
    empty = drift.plan_refreshed(DESIRED, State(), {ACCOUNT: remote()})
    assert plan_to_json(empty)["drift"] == []


def test_text_shows_drift_before_the_actions_and_warns_about_deleting_an_added_field(
    refreshed_plan,
):
    text = render_text(refreshed_plan, color=False)
    assert text.split("\n")[:5] == [
        "Changed outside crmform:",
        "# gong/6286478263646/ACCOUNT",
        "  - gone (STRING): deleted in Gong",
        '  + region (STRING) "Region": added in Gong; not in the schema files, so this plan '
        "deletes it and its data; add it to the files to keep it",
        "",
    ]
    assert text.index("Changed outside crmform:") < text.index("WARNING")


def test_text_of_a_refreshed_plan_without_drift_or_changes():
    same = drift.plan_refreshed(
        DESIRED, state_of(fld("a"), fld("b")), {ACCOUNT: remote(fld("a"), fld("b"))}
    )
    assert render_text(same, color=False) == (
        "No changes outside crmform: Gong matches the state.\n\n"
        "No changes. The schema matches the state."
    )


def test_changed_fields_say_what_changed_in_gong():
    state = state_of(fld("a"), fld("tier", T.PICKLIST, values=["Gold", "Silver"]))
    changed = drift.plan_refreshed(
        Desired(
            (ObjectSchema(ACCOUNT, (fld("a", T.NUMBER, "Amount"), state.objects[0].fields[1])),)
        ),
        state,
        {
            ACCOUNT: remote(
                fld("a", T.NUMBER, "Amount"), fld("tier", T.PICKLIST, values=["Gold", "Iron"])
            )
        },
    )
    lines = render_text(changed, color=False).split("\n")
    assert lines[2:4] == [
        '  ~ a: type STRING -> NUMBER; label "A" -> "Amount" in Gong',
        '  ~ tier: values +"Iron" -"Silver" in Gong',
    ]


def test_drift_colours_only_with_color(refreshed_plan):
    assert "\x1b[" in render_text(refreshed_plan, color=True)
    assert "\x1b[" not in render_text(refreshed_plan, color=False)


# -- saved plans --------------------------------------------------------------------------


def test_a_refreshed_plan_round_trips_with_its_drift_and_fingerprints(refreshed_plan):
    text = dumps(refreshed_plan)
    doc = json.loads(text)
    assert doc["remote"] == {ACCOUNT.address: refreshed_plan.remote[0].sha256}
    loaded = loads(text, "p.plan")
    assert loaded == refreshed_plan
    stored = state_of(fld("a", stamp=STAMP), fld("gone", stamp=STAMP))
    check_current(loaded, stored, "p.plan")  # nothing raised


def test_a_plan_saved_before_drift_existed_loads_as_not_refreshed():
    old = plan(DESIRED, State())
    doc = json.loads(dumps(old))
    assert "remote" not in doc
    assert "drift" not in doc
    loaded = loads(json.dumps(doc), "old.plan")
    assert loaded.drift is None
    assert loaded.remote == ()


def test_the_checksum_covers_the_fingerprints(refreshed_plan):
    doc = json.loads(dumps(refreshed_plan))
    doc["remote"][ACCOUNT.address] = "0" * 64
    with pytest.raises(PlanError, match="was modified after crmform saved it"):
        loads(json.dumps(doc), "p.plan")


def test_addresses_are_the_union_of_state_and_files():
    other = ObjectKey("gong", 6286478263646, ObjectType.LEAD)
    state = State("l", 1, (ObjectSchema(other, (fld("x"),)),))
    assert drift.addresses(state, DESIRED) == (ACCOUNT, other)
    assert drift.addresses(state) == (other,)


@given(key=KEYS)
def test_an_empty_remote_and_state_have_no_drift(key):
    assert drift.compare(key, None, RemoteSchema(key.object_type, ())) == ()


@pytest.mark.parametrize(
    ("given", "kept"),
    [
        ("2020-12-17T13:45:01Z", "2020-12-17T13:45:01Z"),
        ("2020-12-17T15:45:01+02:00", "2020-12-17T13:45:01Z"),
        ("2020-12-17T13:45:01.123Z", "2020-12-17T13:45:01Z"),
        ("yesterday", None),
        ("2020-12-17T13:45:01", None),  # no offset: which time is it?
        (None, None),
    ],
)
def test_gongs_last_modified_is_kept_in_the_states_one_form(given, kept):
    # The strict state document accepts only UTC `...Z`; a refresh must never fail to save.
    assert drift.utc_stamp(given) == kept
