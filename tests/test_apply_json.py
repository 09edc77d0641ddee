"""`crmform apply --format json` end to end against the emulator: one JSON document on stdout.

The emulator is mounted in process (httpx.WSGITransport), as in test_e2e_apply.
"""

from __future__ import annotations

import json

import jsonschema
import pytest
from emulated import ID, Gong

from crmform.engine.formats.schemas import output_schema_text

RESULT = jsonschema.Draft202012Validator(json.loads(output_schema_text("apply-result")))


def result_of(stdout: str) -> dict:
    doc = json.loads(stdout)  # the whole of stdout is one document
    assert list(RESULT.iter_errors(doc)) == []
    return doc


def test_json_result_on_stdout_and_plan_and_progress_on_stderr(gong: Gong):
    gong.write("ACCOUNT", "a", "b")
    done = gong.cli("apply", gong.dir, "--auto-approve", "--format", "json")
    assert done.code == 0, done.stderr
    doc = result_of(done.stdout)
    assert doc["ok"] is True
    assert doc["state"]["serial"] == 2  # pending, then applied
    assert doc["outcomes"] == {
        "applied": 1,
        "state-only": 0,
        "failed": 0,
        "uncertain": 0,
        "not-attempted": 0,
    }
    assert doc["summary"] == {"create": 2, "update": 0, "replace": 0, "delete": 0, "protect": 0}
    (account,) = doc["results"]
    assert account["address"] == f"gong/{ID}/ACCOUNT"
    assert account["outcome"] == "applied"
    assert account["requestId"]
    assert f"applied in {account['seconds']:.1f}s, requestId {account['requestId']}" in (
        done.stderr
    )
    assert account["changes"] == [
        {"uniqueName": "a", "action": "create"},
        {"uniqueName": "b", "action": "create"},
    ]
    assert "  + a (STRING)" in done.stderr
    assert "Apply complete: 2 created" in done.stderr
    assert "+ a" not in done.stdout


def test_failure_reports_status_gongs_errors_and_what_was_not_attempted(gong: Gong):
    for object_type in ("ACCOUNT", "CONTACT", "DEAL"):
        gong.write(object_type, "a")
    gong.emulator.fail_next(
        400, method="POST", object_type="CONTACT", errors=("field a is not allowed",)
    )
    failed = gong.cli("apply", gong.dir, "--auto-approve", "--format", "json")
    assert failed.code == 1
    doc = result_of(failed.stdout)
    assert doc["ok"] is False
    assert [(r["objectType"], r["outcome"]) for r in doc["results"]] == [
        ("ACCOUNT", "applied"),
        ("CONTACT", "failed"),
        ("DEAL", "not-attempted"),
    ]
    error = doc["results"][1]["error"]
    assert error["status"] == 400
    assert error["errors"] == ["field a is not allowed"]
    assert error["requestId"]
    assert error["requestId"] in error["message"]
    assert doc["results"][2]["error"] is None
    # ACCOUNT pending, ACCOUNT applied with CONTACT pending, CONTACT's record cleared.
    assert doc["state"]["serial"] == 3
    assert doc["summary"]["create"] == 1
    assert "Apply failed at gong/6286478263646/CONTACT." in failed.stderr


def test_no_changes_is_an_empty_successful_result(gong: Gong):
    gong.write("ACCOUNT", "a")
    assert gong.cli("apply", gong.dir, "--auto-approve").code == 0
    again = gong.cli("apply", gong.dir, "--auto-approve", "--format", "json")
    assert again.code == 0
    doc = result_of(again.stdout)
    assert (doc["ok"], doc["results"], doc["state"]["serial"]) == (True, [], 2)
    assert "No changes. The schema matches the state." in again.stderr


def test_saved_plan_applied_with_json_from_the_environment(
    gong: Gong, monkeypatch: pytest.MonkeyPatch
):
    gong.write("ACCOUNT", "a")
    assert gong.cli("plan", gong.dir, "--out", "reviewed.plan").code == 0
    monkeypatch.setenv("CRMFORM_FORMAT", "json")
    monkeypatch.setenv("CRMFORM_AUTO_APPROVE", "true")
    done = gong.cli("apply", "reviewed.plan")
    assert done.code == 0, done.stderr
    assert result_of(done.stdout)["results"][0]["outcome"] == "applied"


def test_json_needs_auto_approve_and_sends_nothing(gong: Gong):
    gong.write("ACCOUNT", "a")
    gong.cli.interactive = True
    refused = gong.cli("apply", gong.dir, "--format", "json", input="yes\n")
    assert refused.code == 1
    assert refused.stdout == ""
    assert "Error: --format json needs --auto-approve" in refused.stderr
    assert gong.emulator.requests == []


def test_json_does_not_combine_with_dry_run(gong: Gong):
    gong.write("ACCOUNT", "a")
    refused = gong.cli("apply", gong.dir, "--dry-run", "--auto-approve", "--format", "json")
    assert refused.code == 1
    assert refused.stdout == ""
    assert "Error: --dry-run prints the requests as text" in refused.stderr


def test_refusal_before_any_upload_leaves_stdout_empty(gong: Gong):
    gong.write("ACCOUNT", "a", "b")
    assert gong.cli("apply", gong.dir, "--auto-approve").code == 0
    gong.write("ACCOUNT", "a")
    refused = gong.cli("apply", gong.dir, "--auto-approve", "--format", "json")
    assert refused.code == 1
    assert refused.stdout == ""
    assert "Error: The plan deletes or may orphan the data of 1 field:" in refused.stderr
    assert len(gong.posts()) == 1
