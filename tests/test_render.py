"""Plan rendering: the JSON contract and the text rendered from it, checked by golden files.

Golden files live in tests/golden/. After a deliberate change to the output, regenerate them
with

    CRMFORM_UPDATE_GOLDEN=1 .venv/bin/python -m pytest tests/test_render.py

and review the diff (git diff tests/golden) before committing. Without the variable a
mismatch fails the test.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest
from factories import ACCOUNT, CONTACT, DEAL, fld

from crmform.engine.formats import planfile
from crmform.engine.formats.plan_json import plan_to_json
from crmform.engine.model import (
    DeletedField,
    Desired,
    Field,
    FieldType,
    ObjectKey,
    ObjectSchema,
    ObjectType,
    Plan,
    State,
    Summary,
    replace,
)
from crmform.engine.planner import plan
from crmform.engine.render.text import render_text, summary_line

GOLDEN = Path(__file__).parent / "golden"
UPDATE = os.environ.get("CRMFORM_UPDATE_GOLDEN") == "1"

T = FieldType
APPLIED = "2025-03-01T12:00:00Z"


def mixed_plan() -> Plan:
    state = State(
        "6f1c1d2e-lineage",
        3,
        (
            ObjectSchema(
                ACCOUNT,
                (
                    fld("category", T.PICKLIST, values=["A", "B"], stamp=APPLIED),
                    fld("industry", label="Industry", stamp=APPLIED),
                    fld("legacyId", T.ID, "Legacy ID", stamp=APPLIED),
                    fld("region", stamp=APPLIED),
                    fld("tier", T.PICKLIST, values=["Bronze", "Silver"], stamp=APPLIED),
                ),
            ),
            ObjectSchema(CONTACT, (fld("owner", T.REFERENCE, ref="ACCOUNT", stamp=APPLIED),)),
        ),
    )
    desired = Desired(
        (
            ObjectSchema(
                ACCOUNT,
                (
                    fld("name", label="Account Name"),
                    fld("industry", label="Industry sector"),
                    fld("category", T.STRING),
                    fld("region", protect=True),
                    fld("tier", T.PICKLIST, "Tier level", values=["Silver", "Gold"]),
                    fld("segment", T.PICKLIST, values=["SMB", "Enterprise"]),
                ),
                "schema/accounts.yaml",
            ),
            ObjectSchema(
                CONTACT,
                (
                    fld("owner", T.REFERENCE, ref="USER", protect=True),
                    fld("manager", T.REFERENCE, "Manager", ref="USER", protect=True),
                ),
                "schema/contacts.yaml",
            ),
        )
    )
    return plan(desired, state)


def destroy_plan() -> Plan:
    state = State(
        "6f1c1d2e-lineage",
        8,
        (
            ObjectSchema(ACCOUNT, (fld("amount", stamp=APPLIED), fld("keep", stamp=APPLIED))),
            ObjectSchema(DEAL, (fld("stageNote", stamp=APPLIED),)),
        ),
    )
    desired = Desired((ObjectSchema(ACCOUNT, (fld("amount", T.NUMBER), fld("keep")), "a.yaml"),))
    return plan(desired, state)


def empty_plan() -> Plan:
    objects = (ObjectSchema(ACCOUNT, (fld("name"),), "a.yaml"),)
    return plan(Desired(objects), State("6f1c1d2e-lineage", 2, objects))


def protect_plan() -> Plan:
    state = State("l", 1, (ObjectSchema(ACCOUNT, (fld("a"), fld("b", protect=True))),))
    desired = Desired((ObjectSchema(ACCOUNT, (fld("a", protect=True), fld("b")), "a.yaml"),))
    return plan(desired, state)


def orphan_plan() -> Plan:
    """Nothing deleted outright: a picklist loses a value (may-orphan), and a field crmform
    once deleted is created again (a note)."""
    tier = fld("tier", T.PICKLIST, values=["Bronze", "Silver"], stamp=APPLIED)
    gone = DeletedField(ACCOUNT, "region", T.STRING, "2025-02-01T09:00:00Z")
    state = State("6f1c1d2e-lineage", 4, (ObjectSchema(ACCOUNT, (tier,)),), deleted=(gone,))
    desired = Desired(
        (
            ObjectSchema(
                ACCOUNT, (fld("region"), fld("tier", T.PICKLIST, values=["Silver"])), "a.yaml"
            ),
        )
    )
    return plan(desired, state)


def check_golden(name: str, actual: str) -> None:
    path = GOLDEN / name
    if UPDATE:
        path.parent.mkdir(exist_ok=True)
        path.write_text(actual, encoding="utf-8")
    assert path.is_file(), f"{path} is missing; run with CRMFORM_UPDATE_GOLDEN=1 to create it"
    assert actual == path.read_text(encoding="utf-8")


PLANS = {
    "mixed": mixed_plan,
    "destroy": destroy_plan,
    "empty": empty_plan,
    "protect": protect_plan,
    "orphan": orphan_plan,
}


@pytest.mark.parametrize("name", sorted(PLANS))
def test_text_matches_golden_file(name):
    check_golden(f"plan_{name}.txt", render_text(PLANS[name](), color=False) + "\n")


@pytest.mark.parametrize("name", sorted(PLANS))
def test_json_matches_golden_file(name):
    text = json.dumps(plan_to_json(PLANS[name]()), indent=2, ensure_ascii=False) + "\n"
    check_golden(f"plan_{name}.json", text)


def test_empty_plan_says_so_and_nothing_else():
    assert render_text(empty_plan(), color=False) == "No changes. The schema matches the state."


def test_summary_line_wording():
    counts = Summary(create=2, update=1, replace=1, delete=1)
    assert summary_line(counts) == "Plan: 2 to create, 1 to update, 1 to replace, 1 to delete."
    one = summary_line(replace(counts, protect=1))
    assert one.endswith("1 to delete, 1 protection change (state only).")
    assert summary_line(replace(counts, protect=3)).endswith(", 3 protection changes (state only).")


def test_warning_comes_before_the_details_and_lists_every_destroyed_field():
    text = render_text(destroy_plan(), color=False)
    warning = text.index("WARNING:")
    assert warning < text.index("# gong/")
    block = text[warning : text.index("# gong/")]
    assert "gong/6286478263646/ACCOUNT amount: replace (type STRING -> NUMBER)" in block
    assert "gong/6286478263646/DEAL stageNote: delete (object file removed)" in block
    assert "keep" not in block


def test_no_warning_without_destruction():
    assert "WARNING" not in render_text(protect_plan(), color=False)


def test_colour_codes_appear_only_with_color_true():
    the_plan = mixed_plan()
    plain = render_text(the_plan, color=False)
    coloured = render_text(the_plan, color=True)
    assert "\x1b" not in plain
    assert "\x1b[1;31mWARNING:" in coloured
    assert "\x1b[32m  +\x1b[0m name" in coloured
    assert "\x1b[33m  ~\x1b[0m industry" in coloured
    assert "\x1b[31m-/+\x1b[0m category" in coloured
    # Colour decorates; it never changes the words or the layout.
    assert re.sub(r"\x1b\[[0-9;]*m", "", coloured) == plain


def test_escape_sequences_in_names_and_labels_never_reach_the_terminal():
    hostile = Field("x\x1b[2J", "\x1b[31mred", T.STRING)
    p = plan(Desired((ObjectSchema(ACCOUNT, (hostile,), "a.yaml"),)), State())
    text = render_text(p, color=False)
    assert "\x1b" not in text
    assert '  + x\\u001b[2J (STRING) "\\u001b[31mred"' in text


def test_a_saved_plan_renders_exactly_as_planned():
    planned = mixed_plan()
    saved = planfile.loads(planfile.dumps(planned), "p.plan")
    assert render_text(saved, color=False) == render_text(planned, color=False)


def test_integration_id_is_a_string_and_big_ids_stay_exact():
    big = 2271307570613351879  # a real id from a live tenant: above 2**53
    key = ObjectKey("gong", big, ObjectType.LEAD)
    p = plan(Desired((ObjectSchema(key, (fld("score", T.NUMBER),), "leads.yaml"),)), State())
    change = plan_to_json(p)["changes"][0]
    assert change["integrationId"] == "2271307570613351879"
    assert change["address"] == "gong/2271307570613351879/LEAD"
    # What a JavaScript consumer would do with a number: it would lose the last digits.
    assert int(float(big)) != big
    assert int(json.loads(json.dumps(change))["integrationId"]) == big


def test_picklist_update_carries_values_added_removed_and_reordered():
    changes = {c["uniqueName"]: c for c in plan_to_json(mixed_plan())["changes"]}
    assert changes["tier"]["values"] == {
        "added": ["Gold"],
        "removed": ["Bronze"],
        "reordered": False,
    }
    assert "values" not in changes["industry"]
    assert "values" not in changes["category"]  # a replace, not an update


def test_summary_counts_match_changes():
    doc = plan_to_json(mixed_plan())
    actions = [c["action"] for c in doc["changes"]]
    assert doc["summary"] == {a: actions.count(a) for a in doc["summary"]}
    assert sum(doc["summary"].values()) == len(actions)


def test_changes_that_may_orphan_data_are_listed_apart_from_deletes_with_what_may_be_lost():
    text = render_text(mixed_plan(), color=False)
    lines = text.split("\n")
    deletes = lines.index("The stored values of these 2 fields will be deleted from every record:")
    orphans = lines.index(
        "Data may be orphaned by these 2 changes (Gong does not document the effect):"
    )
    assert deletes < orphans
    assert lines[orphans + 1 : orphans + 3] == [
        '  - gong/6286478263646/ACCOUNT tier: records holding "Bronze" may keep values the field '
        "no longer lists",
        "  - gong/6286478263646/CONTACT owner: references to ACCOUNT may no longer resolve "
        "(referenceTo -> USER)",
    ]
    # Neither may-orphan change is listed among the deletes.
    assert not any("tier" in line or "owner" in line for line in lines[deletes:orphans])


def test_a_plan_that_only_may_orphan_data_says_so_in_its_headline():
    text = render_text(orphan_plan(), color=False)
    assert text.startswith("WARNING: applying this plan may orphan data in Gong.\n")
    assert "deletes data" not in text


def test_the_warning_prints_the_digest_and_how_to_approve_exactly_it():
    for make in (mixed_plan, destroy_plan, orphan_plan):
        the_plan = make()
        digest = the_plan.data_loss_digest
        assert digest is not None
        text = render_text(the_plan, color=False)
        assert (
            f"Approve exactly this data loss (digest {digest}) with `crmform apply "
            f"--auto-approve --approve-data-loss {digest}`, or any with `--allow-destroy`."
        ) in text


def test_no_warning_and_no_digest_when_no_data_is_affected():
    text = render_text(protect_plan(), color=False)
    assert "WARNING" not in text
    assert "--approve-data-loss" not in text


def test_plan_notes_follow_the_summary_line():
    state = State("l", 1, (ObjectSchema(ACCOUNT, (fld("phoneOld", label="Phone"),)),))
    desired = Desired((ObjectSchema(ACCOUNT, (fld("phone", label="Phone"),), "a.yaml"),))
    text = render_text(plan(desired, state), color=False)
    summary, note = text.split("\n")[-2:]
    assert summary.startswith("Plan: 1 to create")
    assert note.startswith(
        "Note: gong/6286478263646/ACCOUNT: phoneOld is deleted and phone created with the same "
        "type and a similar label, but this is not a rename"
    )
    recreated = render_text(orphan_plan(), color=False).split("\n")[-1]
    assert recreated.startswith(
        "Note: gong/6286478263646/ACCOUNT region: crmform deleted a STRING field of this name"
    )


def test_bidirectional_overrides_in_names_and_labels_never_reach_the_terminal():
    hostile = Field("evil\u202etxt", "Label\u202egnp.exe", T.STRING)
    gone = Field("old\u2066x", "Old", T.STRING)
    state = State("l", 1, (ObjectSchema(ACCOUNT, (gone,)),))
    text = render_text(
        plan(Desired((ObjectSchema(ACCOUNT, (hostile,), "a.yaml"),)), state), color=False
    )
    assert "\u202e" not in text
    assert "\u2066" not in text
    assert '  + evil\\u202etxt (STRING) "Label\\u202egnp.exe"' in text
    assert "  - gong/6286478263646/ACCOUNT old\\u2066x: delete" in text
