"""Mistakes Gong cannot undo, made visible (issue 10 item 4): reusing a deleted uniqueName,
a delete plus a create that looks like a rename, and import writing a second file."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from emulated import ID, Gong, field


@pytest.fixture
def gong(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Gong:
    monkeypatch.chdir(tmp_path)
    return Gong(tmp_path)


def test_the_state_keeps_a_ledger_of_deleted_fields(gong: Gong):
    gong.write("ACCOUNT", "a", "b")
    assert gong.apply("--auto-approve").code == 0
    gong.write("ACCOUNT", "a")
    assert gong.apply("--auto-approve", "--allow-destroy").code == 0
    ledger = json.loads(Path("crmform.state.json").read_text())["deleted"]
    assert ledger == [
        {
            "address": f"gong/{ID}/ACCOUNT",
            "uniqueName": "b",
            "type": "STRING",
            "deleted": "2026-11-28T12:00:00Z",
        }
    ]
    # Bring it back: the plan says it is a new, empty field.
    gong.write("ACCOUNT", "a", "b")
    text = gong.cli("plan", gong.dir).stdout
    assert f"Note: gong/{ID}/ACCOUNT b: crmform deleted a STRING field of this name" in text
    assert "creating it again makes a new, empty field" in text
    doc = json.loads(gong.cli("plan", gong.dir, "--format", "json").stdout)
    assert [n["kind"] for n in doc["notes"]] == ["recreates-deleted"]
    gong.cli("plan", gong.dir, "--out", "p.plan")
    shown = json.loads(gong.cli("show", "p.plan", "--format", "json").stdout)
    assert shown["notes"] == doc["notes"]


def test_a_delete_and_a_create_that_look_like_a_rename_get_a_note(gong: Gong):
    gong.write("ACCOUNT", field("region", label="Sales region"))
    assert gong.apply("--auto-approve").code == 0
    gong.write("ACCOUNT", field("salesRegion", label="Sales Region"))
    doc = json.loads(gong.cli("plan", gong.dir, "--format", "json").stdout)
    (note,) = doc["notes"]
    assert (note["kind"], note["uniqueNames"]) == ("not-a-rename", ["region", "salesRegion"])
    assert "Gong cannot rename a field" in note["message"]
    # Another type, or an unrelated label, is no rename.
    gong.write("ACCOUNT", field("salesRegion", "NUMBER", label="Sales Region"))
    assert json.loads(gong.cli("plan", gong.dir, "--format", "json").stdout)["notes"] == []


def test_import_never_writes_a_second_file_for_an_object_type(gong: Gong):
    gong.emulator.seed(ID, "CONTACT", [field("a")])
    (gong.dir / "contacts.yaml").write_text(
        f"integrationId: {ID}\nobjectType: CONTACT\nfields:\n"
        "  - {uniqueName: a, label: A, type: STRING}\n"
    )
    refused = gong.cli(
        "import", "--integration-id", ID, "--write-config", gong.dir, "--state", "s.json"
    )
    assert refused.code == 1
    assert "contacts.yaml already exists for the object types being imported" in refused.stderr
    assert not (gong.dir / "contact.yaml").exists()

    forced = gong.cli(
        "import",
        "--integration-id",
        ID,
        "--write-config",
        gong.dir,
        "--state",
        "s.json",
        "--force",
    )
    assert forced.code == 0, forced.stderr
    assert sorted(p.name for p in gong.dir.iterdir()) == ["contacts.yaml"]
    assert f"Next: `crmform plan {gong.dir} --state s.json` should report no changes." in (
        forced.stdout
    )
    assert "No changes." in gong.cli("plan", gong.dir, "--state", "s.json").stdout
