"""Every change's data impact, and consent that covers it (issue 10 item 1)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from emulated import Gong, field
from factories import ACCOUNT, fld

from crmform.engine import planner
from crmform.engine.model import DataImpact, Desired, FieldType, ObjectSchema, State


def plan_of(before, after):
    state = State("l", 1, (ObjectSchema(ACCOUNT, (before,)),))
    return planner.plan(Desired((ObjectSchema(ACCOUNT, (after,)),)), state)


PICK = FieldType.PICKLIST
REF = FieldType.REFERENCE


@pytest.mark.parametrize(
    ("before", "after", "impact"),
    [
        (fld("a", PICK, values=["x", "y"]), fld("a", PICK, values=["x"]), DataImpact.MAY_ORPHAN),
        (fld("a", PICK, values=["x"]), fld("a", PICK, values=["x", "y"]), DataImpact.NONE),
        (fld("a", PICK, values=["x", "y"]), fld("a", PICK, values=["y", "x"]), DataImpact.NONE),
        (fld("a", REF, ref="ACCOUNT"), fld("a", REF, ref="CONTACT"), DataImpact.MAY_ORPHAN),
        (fld("a"), fld("a", label="New"), DataImpact.NONE),
        (fld("a"), fld("a", FieldType.NUMBER), DataImpact.DESTROYS),
    ],
    ids=["values removed", "values added", "reordered", "referenceTo", "label", "type"],
)
def test_each_change_is_classified(before, after, impact):
    (change,) = plan_of(before, after).changes
    assert change.impact is impact


def test_the_digest_names_exactly_the_data_affecting_set():
    removed = plan_of(fld("a", PICK, values=["x", "y"]), fld("a", PICK, values=["x"]))
    other = plan_of(fld("a", PICK, values=["x", "y"]), fld("a", PICK, values=["y"]))
    assert removed.data_loss_digest is not None
    assert len(removed.data_loss_digest) == 12
    assert removed.data_loss_digest != other.data_loss_digest
    same = plan_of(fld("a", PICK, values=["x", "y"]), fld("a", PICK, "Relabelled", values=["x"]))
    assert same.data_loss_digest == removed.data_loss_digest  # a label keeps the data
    assert plan_of(fld("a"), fld("a", label="New")).data_loss_digest is None


@pytest.fixture
def gong(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Gong:
    monkeypatch.chdir(tmp_path)
    g = Gong(tmp_path)
    g.write("ACCOUNT", field("tier", "PICKLIST", orderedValueList=["Gold", "Silver", "Bronze"]))
    assert g.apply("--auto-approve").code == 0
    g.write("ACCOUNT", field("tier", "PICKLIST", orderedValueList=["Gold", "Silver"]))
    return g


def test_removing_a_picklist_value_needs_consent_unattended(gong: Gong):
    posts = len(gong.posts())
    refused = gong.apply("--auto-approve")
    assert refused.code == 1
    assert "deletes or may orphan the data of 1 field: gong/6286478263646/ACCOUNT tier" in (
        refused.stderr
    )
    assert len(gong.posts()) == posts


def test_the_json_plan_carries_the_impact_and_the_digest(gong: Gong):
    doc = json.loads(gong.cli("plan", gong.dir, "--format", "json").stdout)
    (change,) = doc["changes"]
    assert change["dataImpact"] == "may-orphan"
    assert change["destroysData"] is False
    assert doc["dataLoss"]["mayOrphan"] == 1
    assert len(doc["dataLoss"]["digest"]) == 12


def test_approve_data_loss_applies_only_the_plan_with_that_digest(gong: Gong):
    digest = json.loads(gong.cli("plan", gong.dir, "--format", "json").stdout)["dataLoss"]
    wrong = gong.apply("--auto-approve", "--approve-data-loss", "000000000000")
    assert wrong.code == 1
    assert f"does not match this plan: its digest is {digest['digest']}" in wrong.stderr

    # The files change after approval: the same digest no longer covers them.
    gong.write("ACCOUNT", field("tier", "PICKLIST", orderedValueList=["Gold"]))
    moved = gong.apply("--auto-approve", "--approve-data-loss", digest["digest"])
    assert moved.code == 1
    assert "does not match this plan" in moved.stderr

    gong.write("ACCOUNT", field("tier", "PICKLIST", orderedValueList=["Gold", "Silver"]))
    done = gong.apply("--auto-approve", "--approve-data-loss", digest["digest"])
    assert done.code == 0, done.stderr
    assert gong.last_upload()[0]["orderedValueList"] == ["Gold", "Silver"]


def test_the_prompt_lists_every_field_that_may_lose_data(gong: Gong):
    gong.cli.interactive = True
    done = gong.apply(input="no\n")
    assert done.code == 1
    assert "Data may be orphaned by this change" in done.stdout
    assert 'gong/6286478263646/ACCOUNT tier: records holding "Bronze"' in done.stdout


def test_values_gong_did_not_report_make_any_values_change_may_orphan(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.chdir(tmp_path)
    gong = Gong(tmp_path, null_attributes=True)
    gong.write("ACCOUNT", field("tier", "PICKLIST", orderedValueList=["Gold"]))
    assert gong.apply("--auto-approve").code == 0
    gong.write("ACCOUNT", field("tier", "PICKLIST", orderedValueList=["Gold", "Silver"]))

    offline = json.loads(gong.cli("plan", gong.dir, "--format", "json").stdout)
    assert offline["changes"][0]["dataImpact"] == "none"  # only values added, as far as known
    refreshed = gong.cli("plan", gong.dir, "--refresh", "--format", "json")
    doc = json.loads(refreshed.stdout)
    assert doc["changes"][0]["dataImpact"] == "may-orphan"
    gong.cli("plan", gong.dir, "--refresh", "--out", "p.plan")
    assert gong.cli("show", "p.plan", "--format", "json").stdout == refreshed.stdout


def test_apply_warns_when_gong_reports_attributes_an_upload_would_not_send(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.chdir(tmp_path)
    gong = Gong(tmp_path)
    emulator = gong.emulator

    def with_formula(environ, start_response):
        # Gong may add attributes to its answers without notice (gong-api.md).
        chunks = emulator(environ, start_response)
        if environ["REQUEST_METHOD"] != "GET":
            return chunks
        doc = json.loads(b"".join(chunks))
        for items in doc.get("objectTypeToSelectedFields", {}).values():
            for item in items:
                item["formula"] = "=ARR*12"
        return [json.dumps(doc).encode()]

    gong.app = with_formula
    gong.write("ACCOUNT", "a")
    assert gong.apply("--auto-approve").code == 0
    gong.write("ACCOUNT", field("a", label="New"))
    done = gong.apply("--auto-approve")
    assert done.code == 0, done.stderr
    assert (
        "Warning: Gong reports attributes crmform does not manage for "
        "gong/6286478263646/ACCOUNT a (formula)" in done.stderr
    )
