"""End to end: the CLI drives the real Gong client against the emulator, in process.

The emulator is mounted with httpx.WSGITransport, so every request goes through the real
client (auth, pacing, retries, error mapping) and the emulator's strict rules.
"""

from __future__ import annotations

import json
from pathlib import Path

from emulated import ID, Gong, field


def state_fields(address: str = f"gong/{ID}/ACCOUNT") -> list[str]:
    doc = json.loads(Path("crmform.state.json").read_text())
    return [f["uniqueName"] for f in doc["objects"].get(address, {}).get("fields", [])]


def test_gongs_documented_sequence_cannot_drop_a_field_through_crmform(gong: Gong):
    # 1. fieldA is added.
    gong.write("ACCOUNT", field("fieldA"))
    assert gong.apply("--auto-approve").code == 0
    assert gong.remote() == {"fieldA": "STRING"}
    # 2. fieldB is added; fieldA is kept because crmform sends both.
    gong.write("ACCOUNT", field("fieldA"), field("fieldB"))
    assert gong.apply("--auto-approve").code == 0
    assert [i["uniqueName"] for i in gong.last_upload()] == ["fieldA", "fieldB"]
    # 3. A file with fieldC alone is the documented mistake. crmform never sends it bare: the
    # plan tombstones A and B, which destroys data, so unattended apply refuses to send.
    gong.write("ACCOUNT", field("fieldC"))
    refused = gong.apply("--auto-approve")
    assert refused.code == 1
    assert "Error: The plan deletes or may orphan the data of 2 fields:" in refused.stderr
    assert len(gong.posts()) == 2
    assert gong.remote() == {"fieldA": "STRING", "fieldB": "STRING"}
    # 4. B and C kept, A deleted with isDeleted: only A's data goes.
    gong.write("ACCOUNT", field("fieldB"), field("fieldC"))
    done = gong.apply("--auto-approve", "--allow-destroy")
    assert done.code == 0, done.stderr
    body = gong.last_upload()
    assert [(i["uniqueName"], i.get("isDeleted", False)) for i in body] == [
        ("fieldB", False),
        ("fieldC", False),
        ("fieldA", True),
    ]
    assert gong.remote() == {"fieldB": "STRING", "fieldC": "STRING"}
    assert [(e.unique_name, e.what) for e in gong.emulator.events] == [("fieldA", "deleted")]
    assert state_fields() == ["fieldB", "fieldC"]
    assert "Apply complete: 1 created, 0 updated, 0 replaced, 1 deleted." in done.stderr


def test_type_change_replaces_the_field_and_label_change_updates_in_place(gong: Gong):
    gong.write("ACCOUNT", field("score"), field("name"))
    assert gong.apply("--auto-approve").code == 0
    gong.write("ACCOUNT", field("score", "NUMBER"), field("name", label="Account name"))
    result = gong.apply("--auto-approve", "--allow-destroy")
    assert result.code == 0, result.stderr
    assert "-/+ score: type STRING -> NUMBER (data deleted)" in result.stdout
    assert '~ name: label "Name" -> "Account name"' in result.stdout
    assert gong.remote() == {"score": "NUMBER", "name": "STRING"}
    assert [(e.unique_name, e.what) for e in gong.emulator.events] == [
        ("score", "type STRING -> NUMBER")
    ]
    assert "Apply complete: 0 created, 1 updated, 1 replaced, 0 deleted." in result.stderr


def test_noop_apply_sends_no_request(gong: Gong):
    gong.write("ACCOUNT", field("a"))
    assert gong.apply("--auto-approve").code == 0
    before = len(gong.emulator.requests)
    again = gong.apply("--auto-approve")
    assert again.code == 0
    assert "No changes. The schema matches the state." in again.stdout
    assert len(gong.emulator.requests) == before


def test_four_object_types_with_one_changed_send_one_request(gong: Gong):
    for object_type in ("ACCOUNT", "CONTACT", "DEAL", "LEAD"):
        gong.write(object_type, field("a"))
    assert gong.apply("--auto-approve").code == 0
    assert len(gong.posts()) == 4
    gong.write("DEAL", field("a"), field("b"))
    assert gong.apply("--auto-approve").code == 0
    assert len(gong.posts()) == 5
    assert gong.posts()[-1].query["objectType"] == "DEAL"


def test_partial_failure_keeps_what_was_applied_and_reports_the_rest(gong: Gong):
    for object_type in ("ACCOUNT", "CONTACT", "DEAL"):
        gong.write(object_type, field("a"))
    gong.emulator.fail_next(
        400, method="POST", object_type="CONTACT", errors=("field a is not allowed",)
    )
    failed = gong.apply("--auto-approve")
    assert failed.code == 1
    assert f"gong/{ID}/ACCOUNT: applied in" in failed.stderr
    assert f"gong/{ID}/CONTACT: FAILED after" in failed.stderr
    assert "field a is not allowed" in failed.stderr
    assert f"gong/{ID}/DEAL: not attempted" in failed.stderr
    assert f"Not attempted: gong/{ID}/DEAL." in failed.stderr
    assert gong.cli("state", "list").stdout == f"gong/{ID}/ACCOUNT\n"
    # The state claims nothing the remote lacks, and a rerun completes the job.
    assert gong.apply("--auto-approve").code == 0
    assert gong.cli("state", "list").stdout.split() == [
        f"gong/{ID}/{t}" for t in ("ACCOUNT", "CONTACT", "DEAL")
    ]
    assert gong.remote("CONTACT") == {"a": "STRING"}


def test_saved_plan_is_applied_as_planned_and_refused_once_stale(gong: Gong):
    gong.write("ACCOUNT", field("a"))
    assert gong.cli("plan", gong.dir, "--out", "account.plan").code == 0
    gong.write("ACCOUNT", field("a"), field("b"))  # edits after the review are not applied
    applied = gong.cli("apply", "account.plan", "--auto-approve")
    assert applied.code == 0, applied.stderr
    assert gong.remote() == {"a": "STRING"}

    assert gong.cli("plan", gong.dir, "--out", "second.plan").code == 0
    assert gong.apply("--auto-approve").code == 0  # someone applies in between
    posts = len(gong.posts())
    stale = gong.cli("apply", "second.plan", "--auto-approve")
    assert stale.code == 1
    assert "was made against state serial 2, but the state is now at serial 4" in stale.stderr
    assert len(gong.posts()) == posts


def test_interactive_apply_lists_destroyed_fields_and_needs_exactly_yes(gong: Gong):
    gong.write("ACCOUNT", field("a"), field("b"))
    assert gong.apply("--auto-approve").code == 0
    gong.write("ACCOUNT", field("a"))
    gong.cli.interactive = True
    no = gong.apply(input="y\n")
    assert no.code == 1
    assert "The data of this field will be DELETED in Gong:" in no.stdout
    assert f"  - gong/{ID}/ACCOUNT b (delete)" in no.stdout
    assert "Apply cancelled: the answer was not 'yes'. Nothing was sent." in no.stderr
    assert gong.remote() == {"a": "STRING", "b": "STRING"}
    yes = gong.apply(input="yes\n")
    assert yes.code == 0, yes.stderr
    assert gong.remote() == {"a": "STRING"}


def test_without_a_terminal_apply_needs_auto_approve_and_sends_nothing(gong: Gong):
    gong.write("ACCOUNT", field("a"))
    result = gong.apply()
    assert result.code == 1
    assert "Cannot ask for approval: this is not an interactive terminal." in result.stderr
    assert gong.emulator.requests == []


def test_missing_credentials_fail_before_any_request(gong: Gong):
    gong.write("ACCOUNT", field("a"))
    gong.cli.env = {}
    result = gong.apply("--auto-approve")
    assert result.code == 1
    assert "Error: No Gong credentials: set GONG_ACCESS_KEY and GONG_ACCESS_KEY_SECRET" in (
        result.stderr
    )
    assert gong.emulator.requests == []
    assert not Path("crmform.state.json").exists()


def test_wrong_credentials_name_the_variables_and_never_the_secret(gong: Gong):
    gong.write("ACCOUNT", field("a"))
    gong.cli.env = {"GONG_ACCESS_KEY": "key-1", "GONG_ACCESS_KEY_SECRET": "wrong-secret-123"}
    result = gong.apply("--auto-approve")
    assert result.code == 1
    assert "HTTP 401" in result.stderr
    assert "GONG_ACCESS_KEY/GONG_ACCESS_KEY_SECRET" in result.stderr
    assert "wrong-secret-123" not in result.stderr + result.stdout
    assert not Path("crmform.state.json").exists()


def test_dry_run_prints_exact_bodies_and_sends_nothing(gong: Gong):
    gong.write("ACCOUNT", field("a"))
    result = gong.cli("apply", gong.dir, "--dry-run")
    assert result.code == 0
    assert result.stdout.startswith(
        "POST https://api.gong.io/v2/crm/entity-schema?integrationId=6286478263646"
        "&objectType=ACCOUNT\n"
    )
    body = json.loads(result.stdout.split("\n", 1)[1])
    assert body == [
        {"uniqueName": "a", "label": "A", "type": "STRING", "lastModified": "2026-11-28T12:00:00Z"}
    ]
    assert gong.emulator.requests == []
    assert not Path("crmform.state.json").exists()


def test_apply_refuses_while_another_process_holds_the_lock(gong: Gong):
    from crmform.state.local import LocalState

    gong.write("ACCOUNT", field("a"))
    with LocalState(Path("crmform.state.json")).lock("crmform apply (other)"):
        result = gong.apply("--auto-approve")
    assert result.code == 1
    assert "is locked: lock" in result.stderr
    assert "running `crmform apply (other)`" in result.stderr
    assert gong.emulator.requests == []


def test_invalid_files_send_nothing_and_touch_no_state(gong: Gong):
    gong.write("ACCOUNT", {"uniqueName": "a", "label": "A", "type": "PICKLIST"})
    result = gong.apply("--auto-approve")
    assert result.code == 1
    assert "account.json:1: fields[0] (a): PICKLIST needs orderedValueList" in result.stderr
    assert gong.emulator.requests == []
    assert not Path("crmform.state.json").exists()
