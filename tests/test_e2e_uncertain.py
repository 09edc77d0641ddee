"""Uploads whose outcome is unknown (issue 11 item 1), end to end against the emulator: the
state records them as pending, the next apply settles them by reading Gong, and no other
upload goes to that object type while one may still land."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from emulated import Gong, field

from crmform.providers.gong.settings import DEFAULT_MAX_ATTEMPTS

ALWAYS = DEFAULT_MAX_ATTEMPTS  # every try of one upload fails, and no later one


@pytest.fixture
def gong(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Gong:
    monkeypatch.chdir(tmp_path)
    return Gong(tmp_path)


def stored() -> dict:
    return json.loads(Path("crmform.state.json").read_text(encoding="utf-8"))


def fields_in_state(object_type: str = "ACCOUNT") -> list[str]:
    objects = stored()["objects"]
    body = objects.get(f"gong/6286478263646/{object_type}", {"fields": []})
    return [f["uniqueName"] for f in body["fields"]]


def test_a_delete_gong_applied_but_answered_500_is_settled_by_the_next_apply(gong: Gong):
    gong.write("ACCOUNT", "a", "b")
    assert gong.apply("--auto-approve").code == 0
    gong.write("ACCOUNT", "a")
    gong.emulator.fail_next(500, ALWAYS, method="POST", after_apply=True)
    failed = gong.apply("--auto-approve", "--allow-destroy")

    assert failed.code == 1
    assert "OUTCOME UNKNOWN" in failed.stderr
    assert gong.remote() == {"a": "STRING"}  # Gong did delete it
    assert fields_in_state() == ["a", "b"]  # the state claims nothing it does not know
    assert [p["address"] for p in stored()["pending"]] == ["gong/6286478263646/ACCOUNT"]
    offline = gong.cli("plan", gong.dir)
    assert "Warning: The upload to gong/6286478263646/ACCOUNT sent at" in offline.stderr
    assert "has no known outcome" in offline.stderr

    again = gong.apply("--auto-approve", "--allow-destroy")
    assert again.code == 0, again.stderr
    assert "shows in Gong: recorded as applied" in again.stderr
    assert "deleted outside crmform" not in again.stderr + again.stdout
    assert "No changes." in again.stdout
    assert fields_in_state() == ["a"]
    assert "pending" not in stored()
    assert "No changes." in gong.cli("plan", gong.dir).stdout


def test_a_create_whose_answer_was_lost_is_recognised_as_crmforms_own(gong: Gong):
    gong.write("ACCOUNT", "a")
    gong.emulator.fail_next(502, ALWAYS, method="POST", after_apply=True)
    assert gong.apply("--auto-approve").code == 1
    assert gong.remote() == {"a": "STRING"}

    sent = len(gong.posts())
    refreshed = gong.cli("plan", gong.dir, "--refresh")
    assert refreshed.code == 0, refreshed.stderr
    assert "No changes outside crmform" in refreshed.stdout
    assert "No changes." in refreshed.stdout
    again = gong.apply("--auto-approve")
    assert again.code == 0, again.stderr
    assert fields_in_state() == ["a"]
    assert len(gong.posts()) == sent  # settled by reading, nothing sent again


def test_no_other_upload_goes_out_while_one_may_still_land(gong: Gong):
    gong.write("ACCOUNT", "a")
    assert gong.apply("--auto-approve").code == 0
    # A label change times out (Gong has not applied it; it may still, later).
    gong.write("ACCOUNT", field("a", label="New label"))
    gong.emulator.fail_next(504, ALWAYS, method="POST")
    assert gong.apply("--auto-approve").code == 1
    posts = len(gong.posts())

    # Someone now changes the type and approves deleting the data.
    gong.write("ACCOUNT", field("a", "NUMBER"))
    refused = gong.apply("--auto-approve", "--allow-destroy")
    assert refused.code == 1
    assert "may still be applied by Gong" in refused.stderr
    assert "does not show in Gong (yet)" in refused.stderr
    assert "--discard-pending" in refused.stderr
    assert len(gong.posts()) == posts  # nothing sent
    assert gong.remote() == {"a": "STRING"}

    went = gong.apply("--auto-approve", "--allow-destroy", "--discard-pending")
    assert went.code == 0, went.stderr
    assert "dropped the record of the upload" in went.stderr
    assert gong.remote() == {"a": "NUMBER"}
    assert "pending" not in stored()


def test_the_same_upload_may_be_sent_again_and_settles_it(gong: Gong):
    gong.write("ACCOUNT", "a")
    assert gong.apply("--auto-approve").code == 0
    gong.write("ACCOUNT", field("a", label="New label"))
    gong.emulator.fail_next(504, ALWAYS, method="POST")
    assert gong.apply("--auto-approve").code == 1

    again = gong.apply("--auto-approve")
    assert again.code == 0, again.stderr
    assert gong.emulator.schema(6286478263646, "ACCOUNT")[0]["label"] == "New label"
    assert "pending" not in stored()


def test_refresh_records_what_gong_has_and_settles_the_pending_upload(gong: Gong):
    gong.write("ACCOUNT", "a")
    gong.emulator.fail_next(500, ALWAYS, method="POST", after_apply=True)
    assert gong.apply("--auto-approve").code == 1

    assert gong.cli("refresh", gong.dir).code == 0
    assert fields_in_state() == ["a"]
    assert "pending" not in stored()


def test_refresh_keeps_a_last_modified_gong_gave_with_an_offset(gong: Gong):
    gong.write("ACCOUNT", "a")
    assert gong.apply("--auto-approve").code == 0
    gong.emulator.seed(
        6286478263646, "ACCOUNT", [field("a", lastModified="2026-11-28T14:00:00+02:00")]
    )
    done = gong.cli("refresh", gong.dir)
    assert done.code == 0, done.stderr
    (recorded,) = stored()["objects"]["gong/6286478263646/ACCOUNT"]["fields"]
    assert recorded["lastModified"] == "2026-11-28T12:00:00Z"
