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

from crmform.engine.formats.plan_json import plan_to_json
from crmform.engine.model import (
    Desired,
    Field,
    FieldType,
    ObjectKey,
    ObjectSchema,
    ObjectType,
    Plan,
    State,
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


def check_golden(name: str, actual: str) -> None:
    path = GOLDEN / name
    if UPDATE:
        path.parent.mkdir(exist_ok=True)
        path.write_text(actual, encoding="utf-8")
    assert path.is_file(), f"{path} is missing; run with CRMFORM_UPDATE_GOLDEN=1 to create it"
    assert actual == path.read_text(encoding="utf-8")


PLANS = {"mixed": mixed_plan, "destroy": destroy_plan, "empty": empty_plan, "protect": protect_plan}


@pytest.mark.parametrize("name", sorted(PLANS))
def test_text_matches_golden_file(name):
    check_golden(f"plan_{name}.txt", render_text(plan_to_json(PLANS[name]()), color=False) + "\n")


@pytest.mark.parametrize("name", sorted(PLANS))
def test_json_matches_golden_file(name):
    text = json.dumps(plan_to_json(PLANS[name]()), indent=2, ensure_ascii=False) + "\n"
    check_golden(f"plan_{name}.json", text)


def test_empty_plan_says_so_and_nothing_else():
    assert render_text(plan_to_json(empty_plan()), color=False) == (
        "No changes. The schema matches the state."
    )


def test_summary_line_wording():
    counts = {"create": 2, "update": 1, "replace": 1, "delete": 1, "protect": 0}
    assert summary_line(counts) == "Plan: 2 to create, 1 to update, 1 to replace, 1 to delete."
    one = summary_line({**counts, "protect": 1})
    assert one.endswith("1 to delete, 1 protection change (state only).")
    assert summary_line({**counts, "protect": 3}).endswith(", 3 protection changes (state only).")


def test_warning_comes_before_the_details_and_lists_every_destroyed_field():
    text = render_text(plan_to_json(destroy_plan()), color=False)
    warning = text.index("WARNING:")
    assert warning < text.index("# gong/")
    block = text[warning : text.index("# gong/")]
    assert "gong/6286478263646/ACCOUNT amount: replace (type STRING -> NUMBER)" in block
    assert "gong/6286478263646/DEAL stageNote: delete (object file removed)" in block
    assert "keep" not in block


def test_no_warning_without_destruction():
    assert "WARNING" not in render_text(plan_to_json(protect_plan()), color=False)


def test_colour_codes_appear_only_with_color_true():
    doc = plan_to_json(mixed_plan())
    plain = render_text(doc, color=False)
    coloured = render_text(doc, color=True)
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
    text = render_text(plan_to_json(p), color=False)
    assert "\x1b" not in text
    assert '  + x\\u001b[2J (STRING) "\\u001b[31mred"' in text


def test_text_renders_the_same_from_a_saved_json_document():
    doc = plan_to_json(mixed_plan())
    reloaded = json.loads(json.dumps(doc))
    assert render_text(reloaded, color=False) == render_text(doc, color=False)


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
