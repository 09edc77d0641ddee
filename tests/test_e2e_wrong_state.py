"""A missing or wrong state must not overwrite Gong (issue 10 item 2)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from emulated import Gong, field


@pytest.fixture
def gong(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Gong:
    monkeypatch.chdir(tmp_path)
    g = Gong(tmp_path)
    g.write("ACCOUNT", "a", "b")
    assert g.apply("--auto-approve").code == 0
    # Someone relabels a field in Gong; then a user points at a state that is not there.
    g.emulator.seed(6286478263646, "ACCOUNT", [field("a", label="Renamed in Gong"), field("b")])
    return g


def test_apply_with_a_wrong_state_stops_before_overwriting_what_gong_has(gong: Gong):
    posts = len(gong.posts())
    done = gong.apply("--state", "typo.json", "--auto-approve")

    assert done.code == 1
    assert "No state at typo.json: planning as if nothing was ever applied" in done.stderr
    assert "The plan creates 2 fields that Gong already has. Nothing was sent." in done.stderr
    assert "gong/6286478263646/ACCOUNT a: the plan creates this field" in done.stderr
    assert "crmform import --integration-id 6286478263646 --object-type ACCOUNT" in done.stderr
    assert "crmform plan --refresh" in done.stderr
    assert len(gong.posts()) == posts
    assert gong.emulator.schema(6286478263646, "ACCOUNT")[0]["label"] == "Renamed in Gong"
    assert not Path("typo.json").exists()


@pytest.mark.parametrize("fmt", ["text", "json", "markdown"])
def test_plan_says_when_the_state_does_not_exist_in_every_format(gong: Gong, fmt: str):
    done = gong.cli("plan", gong.dir, "--state", "typo.json", "--format", fmt)
    assert done.code == 0
    assert "No state at typo.json" in done.stderr
    if fmt == "json":
        assert json.loads(done.stdout)["state"] == {"lineage": "", "serial": 0}


def test_a_refreshed_plan_plans_fields_gong_has_against_gong_not_as_creates(gong: Gong):
    done = gong.cli("plan", gong.dir, "--state", "typo.json", "--refresh", "--format", "json")
    assert done.code == 0, done.stderr
    plan = json.loads(done.stdout)
    assert [(c["uniqueName"], c["action"]) for c in plan["changes"]] == [("a", "update")]
    assert plan["summary"]["create"] == 0


@pytest.mark.parametrize("command", [("state", "list"), ("state", "show")])
def test_state_commands_on_a_missing_state_say_so_and_fail(gong: Gong, command):
    done = gong.cli(*command, "--state", "typo.json")
    assert done.code == 1
    assert "No state at typo.json" in done.stderr
