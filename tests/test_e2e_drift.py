"""End to end: drift, refresh and import through the CLI, the real client and the emulator.

Gong's schema changes outside crmform here the way it does in life: `emulator.seed` adds
fields as another tool would, and another client's upload deletes one.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from emulated import ID, Gong, field

from crmform.engine.model import ObjectType

ACCOUNT = f"gong/{ID}/ACCOUNT"


def state_doc(path: str = "crmform.state.json") -> dict:
    return json.loads(Path(path).read_text())


def state_fields(address: str = ACCOUNT) -> list[str]:
    return [f["uniqueName"] for f in state_doc()["objects"].get(address, {}).get("fields", [])]


REGION = '  + region (STRING) "Region": added in Gong'


def test_a_field_added_in_gong_is_seen_stops_apply_and_is_kept_once_refreshed(gong: Gong):
    gong.write("ACCOUNT", field("a"))
    assert gong.cli("apply", gong.dir, "--auto-approve").code == 0
    gong.emulator.seed(ID, "ACCOUNT", [field("region")])

    seen = gong.cli("plan", gong.dir, "--refresh")
    assert seen.code == 0, seen.stderr
    assert seen.stdout.startswith(
        f"Changed outside crmform:\n# {ACCOUNT}\n{REGION}; not in the schema files, so this "
        "plan deletes it and its data; add it to the files to keep it\n\nWARNING"
    )
    assert "  - region (STRING) (data deleted)" in seen.stdout
    as_json = json.loads(gong.cli("plan", gong.dir, "--refresh", "--format", "json").stdout)
    assert [(d["uniqueName"], d["kind"]) for d in as_json["drift"]] == [("region", "added")]
    assert state_doc()["serial"] == 2  # plan --refresh writes nothing

    gong.write("ACCOUNT", field("a"), field("b"))
    before = len(gong.emulator.requests)
    stopped = gong.cli("apply", gong.dir, "--auto-approve")
    assert stopped.code == 1
    assert stopped.stderr.startswith(
        "Reading Gong's schema of 1 object type...\n"
        "Error: Gong's schema changed outside crmform. Nothing was sent.\n"
        f"  {ACCOUNT} region: Gong has this STRING field, but neither the state nor the schema "
        "files know it (it was added outside crmform); Gong rejects an upload that leaves it "
        "out.\nTo resolve: add the fields to the schema files; or run `crmform refresh "
        f"{gong.dir}` to record Gong's schema in the state"
    )
    assert gong.requests(before) == [("GET", "ACCOUNT")]
    assert list(gong.remote()) == ["a", "region"]
    assert state_fields() == ["a"]

    refreshed = gong.cli("refresh", gong.dir)
    assert refreshed.code == 0, refreshed.stderr
    assert refreshed.stdout == (
        f"Changed outside crmform:\n# {ACCOUNT}\n{REGION}\n"
        "Recorded Gong's schema of 1 object type in the state crmform.state.json "
        "(serial 3): 1 added, 0 deleted, 0 changed in Gong.\n"
    )
    assert state_fields() == ["a", "region"]

    gong.write("ACCOUNT", field("a"), field("b"), field("region"))
    applied = gong.cli("apply", gong.dir, "--auto-approve")
    assert applied.code == 0, applied.stderr
    assert [i["uniqueName"] for i in gong.last_upload()] == ["a", "b", "region"]
    assert list(gong.remote()) == ["a", "region", "b"]


def test_a_field_deleted_in_gong_stops_apply_and_refresh_drops_it(gong: Gong):
    gong.write("ACCOUNT", field("a"), field("b"))
    assert gong.cli("apply", gong.dir, "--auto-approve").code == 0
    tombstone = {**field("b"), "isDeleted": True}
    with gong.client() as other_tool:
        other_tool.write_schema(ID, ObjectType.ACCOUNT, [field("a"), tombstone])

    gong.write("ACCOUNT", field("a"), field("b"), field("c"))
    stopped = gong.cli("apply", gong.dir, "--auto-approve")
    assert stopped.code == 1
    assert (
        f"  {ACCOUNT} b: the state records this field, but Gong no longer has it (it was "
        "deleted outside crmform, with its data).\n"
    ) in stopped.stderr
    assert len(gong.posts()) == 2

    refreshed = gong.cli("refresh")  # without DIR: the addresses in state
    assert refreshed.code == 0, refreshed.stderr
    assert f"# {ACCOUNT}\n  - b (STRING): deleted in Gong\n" in refreshed.stdout
    assert "0 added, 1 deleted, 0 changed in Gong." in refreshed.stdout
    assert state_fields() == ["a"]
    replanned = gong.cli("plan", gong.dir)
    assert '  + b (STRING) "B"' in replanned.stdout
    assert gong.cli("apply", gong.dir, "--auto-approve").code == 0
    assert list(gong.remote()) == ["a", "b", "c"]


def test_a_type_changed_in_gong_is_not_silently_replaced(gong: Gong):
    gong.write("ACCOUNT", field("score"), field("a"))
    assert gong.cli("apply", gong.dir, "--auto-approve").code == 0
    gong.emulator.seed(ID, "ACCOUNT", [field("score", "NUMBER")])
    seen = gong.cli("plan", gong.dir, "--refresh")
    assert "  ~ score: type STRING -> NUMBER in Gong\n" in seen.stdout
    assert "-/+ score: type NUMBER -> STRING (data deleted)" in seen.stdout
    gong.write("ACCOUNT", field("score"), field("a", label="Other"))
    stopped = gong.cli("apply", gong.dir, "--auto-approve")
    assert stopped.code == 1
    assert (
        f"  {ACCOUNT} score: Gong has it as NUMBER, but the upload would send STRING, which "
        "replaces the field and deletes its data; the plan did not show that."
    ) in stopped.stderr
    assert len(gong.posts()) == 1
    assert gong.emulator.events == []


def test_apply_reads_every_address_before_the_first_post(gong: Gong):
    for object_type in ("ACCOUNT", "CONTACT"):
        gong.write(object_type, field("a"))
    assert gong.cli("apply", gong.dir, "--auto-approve").code == 0
    gong.emulator.seed(ID, "CONTACT", [field("x")])
    for object_type in ("ACCOUNT", "CONTACT"):
        gong.write(object_type, field("a"), field("b"))
    before, serial = len(gong.emulator.requests), state_doc()["serial"]
    stopped = gong.cli("apply", gong.dir, "--auto-approve")
    assert stopped.code == 1
    assert gong.requests(before) == [("GET", "ACCOUNT"), ("GET", "CONTACT")]
    assert f"gong/{ID}/CONTACT x: Gong has this STRING field" in stopped.stderr
    assert state_doc()["serial"] == serial
    assert list(gong.remote()) == ["a"]


def test_no_refresh_skips_the_reads(gong: Gong):
    gong.write("ACCOUNT", field("a"))
    assert gong.cli("apply", gong.dir, "--auto-approve").code == 0
    gong.write("ACCOUNT", field("a"), field("b"))
    before = len(gong.emulator.requests)
    done = gong.cli("apply", gong.dir, "--auto-approve", "--no-refresh", "--no-verify")
    assert done.code == 0, done.stderr
    assert gong.requests(before) == [("POST", "ACCOUNT")]
    assert "Read Gong's schema" not in done.stderr


def test_plain_plan_stays_offline(gong: Gong):
    gong.write("ACCOUNT", field("a"))
    gong.cli.env = {}
    assert gong.cli("plan", gong.dir).code == 0
    assert gong.emulator.requests == []
    needs = gong.cli("plan", gong.dir, "--refresh")
    assert needs.code == 1
    assert "Error: No Gong credentials" in needs.stderr


def test_a_plan_saved_with_refresh_applies_against_gong_and_is_refused_once_gong_moves(
    gong: Gong,
):
    gong.write("ACCOUNT", field("a"))
    assert gong.cli("apply", gong.dir, "--auto-approve").code == 0
    gong.emulator.seed(ID, "ACCOUNT", [field("region")])
    gong.write("ACCOUNT", field("a"), field("region"), field("b"))
    assert gong.cli("plan", gong.dir, "--refresh", "--out", "keep.plan").code == 0
    shown = gong.cli("show", "keep.plan")
    assert shown.stdout.startswith(f"Changed outside crmform:\n# {ACCOUNT}\n{REGION}\n\n")
    applied = gong.cli("apply", "keep.plan", "--auto-approve")
    assert applied.code == 0, applied.stderr
    assert "unchanged since the plan was made" in applied.stderr
    assert [i["uniqueName"] for i in gong.last_upload()] == ["a", "region", "b"]
    assert state_fields() == ["a", "region", "b"]

    gong.write("ACCOUNT", field("a"), field("region"), field("b"), field("c"))
    assert gong.cli("plan", gong.dir, "--refresh", "--out", "late.plan").code == 0
    gong.emulator.seed(ID, "ACCOUNT", [field("late")])
    posts = len(gong.posts())
    refused = gong.cli("apply", "late.plan", "--auto-approve")
    assert refused.code == 1
    assert refused.stderr == (
        "Reading Gong's schema of 1 object type...\n"
        "Error: The saved plan late.plan was made against Gong's schema as it was then, but it "
        "changed since. Nothing was sent.\n"
        f'  {ACCOUNT} late (STRING) "Late": added in Gong\n'
        f"Run `crmform plan {gong.dir} --refresh --out late.plan` again and review the new "
        "plan.\n"
    )
    assert len(gong.posts()) == posts


def test_import_of_one_object_type_then_plan_reports_no_changes(gong: Gong):
    gong.emulator.seed(
        ID,
        "ACCOUNT",
        [
            field("tier", "PICKLIST", label="on", orderedValueList=["Gold", "1.0", "a: b"]),
            field("owner", "REFERENCE", referenceTo="USER"),
            field("score", "NUMBER", label="yes"),
        ],
    )
    gong.emulator.seed(ID, "DEAL", [field("amount", "CURRENCY")])
    imported = gong.cli(
        "import", "--integration-id", ID, "--object-type", "ACCOUNT", "--write-config", "adopted"
    )
    assert imported.code == 0, imported.stderr
    assert imported.stdout == (
        "Imported Gong's schema into the state crmform.state.json (serial 1):\n"
        f"  {ACCOUNT}: 3 fields\n"
        "Wrote adopted/account.yaml\n"
        "Next: `crmform plan adopted` should report no changes.\n"
    )
    assert gong.requests() == [("GET", "ACCOUNT")]
    assert sorted(p.name for p in Path("adopted").iterdir()) == ["account.yaml"]
    assert gong.cli("plan", "adopted", "--detailed-exitcode").code == 0
    same = gong.cli("plan", "adopted", "--refresh", "--detailed-exitcode")
    assert same.code == 0, same.stdout
    assert same.stdout.startswith("No changes outside crmform: Gong matches the state.\n")


def test_import_of_all_object_types_skips_empty_ones_and_refuses_to_overwrite(gong: Gong):
    gong.emulator.seed(ID, "ACCOUNT", [field("a")])
    gong.emulator.seed(ID, "LEAD", [field("l", "EMAILADDRESS")])
    imported = gong.cli("import", "--integration-id", ID, "--write-config", gong.dir)
    assert imported.code == 0, imported.stderr
    assert imported.stdout.splitlines()[1:5] == [
        f"  {ACCOUNT}: 1 field",
        f"  gong/{ID}/CONTACT: no custom fields in Gong, skipped",
        f"  gong/{ID}/DEAL: no custom fields in Gong, skipped",
        f"  gong/{ID}/LEAD: 1 field",
    ]
    assert gong.requests() == [("GET", t) for t in ("ACCOUNT", "CONTACT", "DEAL", "LEAD")]
    assert gong.cli("plan", gong.dir, "--detailed-exitcode").code == 0

    again = gong.cli("import", "--integration-id", ID)
    assert again.code == 1
    assert again.stderr == (
        f"Error: The state crmform.state.json already records {ACCOUNT}, gong/{ID}/LEAD; "
        "nothing was imported. To update the state from Gong, run `crmform refresh DIR` (it "
        "shows what changed); to adopt Gong's schema anyway, rerun with --force (protect flags "
        "are kept).\n"
    )
    files = gong.cli(
        "import", "--integration-id", ID, "--state", "other.json", "--write-config", gong.dir
    )
    assert files.code == 1
    assert "schema/account.yaml, schema/lead.yaml already exist for the object types" in (
        files.stderr.replace(str(gong.dir.parent) + "/", "")
    )
    assert not Path("other.json").exists()
    assert state_doc()["serial"] == 1
    forced = gong.cli("import", "--integration-id", ID, "--write-config", gong.dir, "--force")
    assert forced.code == 0, forced.stderr
    assert state_doc()["serial"] == 2


@pytest.mark.parametrize("name_key", ["name", "uniqueName", "both"])
def test_gongs_documented_nulls_show_no_drift_and_import_leaves_todos(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name_key: str
):
    monkeypatch.chdir(tmp_path)
    gong = Gong(tmp_path, null_attributes=True, name_key=name_key)
    gong.write(
        "ACCOUNT",
        field("tier", "PICKLIST", orderedValueList=["Gold", "Silver"]),
        field("owner", "REFERENCE", referenceTo="USER"),
    )
    assert gong.cli("apply", gong.dir, "--auto-approve").code == 0
    same = gong.cli("plan", gong.dir, "--refresh", "--detailed-exitcode")
    assert same.code == 0, same.stdout + same.stderr
    assert same.stdout == (
        "No changes outside crmform: Gong matches the state.\n\n"
        "No changes. The schema matches the state.\n"
    )
    refreshed = gong.cli("refresh", gong.dir)
    assert "The state crmform.state.json was not changed (serial 2)." in refreshed.stdout

    imported = gong.cli(
        "import", "--integration-id", ID, "--state", "fresh.json", "--write-config", "adopted"
    )
    assert imported.code == 0, imported.stderr
    assert (
        "Warning: adopted/account.yaml: fill in orderedValueList of the field tier where the "
        "file says TODO (Gong did not return it), then run `crmform plan`."
    ) in imported.stderr
    text = Path("adopted/account.yaml").read_text()
    assert "    # TODO orderedValueList: Gong did not return this picklist's values." in text
    invalid = gong.cli("plan", "adopted", "--state", "fresh.json")
    assert invalid.code == 1
    assert "fields[0] (tier): PICKLIST needs orderedValueList" in invalid.stderr


def test_refresh_with_invalid_files_reads_nothing(gong: Gong):
    gong.write("ACCOUNT", field("a", "PICKLIST"))
    failed = gong.cli("refresh", gong.dir)
    assert failed.code == 1
    assert "PICKLIST needs orderedValueList" in failed.stderr
    assert gong.emulator.requests == []


def test_refresh_with_nothing_to_read_says_what_to_do(gong: Gong):
    result = gong.cli("refresh")
    assert result.code == 0
    assert result.stdout == (
        "Nothing to refresh: the state crmform.state.json records no object types. Pass the "
        "schema directory, or adopt Gong's schema with `crmform import --integration-id N`.\n"
    )
    assert gong.emulator.requests == []


def test_a_refreshed_plan_builds_its_bodies_from_gong_in_dry_runs_and_without_reads(gong: Gong):
    gong.write("ACCOUNT", field("a"))
    assert gong.cli("apply", gong.dir, "--auto-approve").code == 0
    gong.emulator.seed(ID, "ACCOUNT", [field("region")])
    assert gong.cli("plan", gong.dir, "--refresh", "--out", "drop.plan").code == 0
    dry = gong.cli("apply", "drop.plan", "--dry-run")
    assert dry.code == 0, dry.stderr
    body = json.loads(dry.stdout.split("\n", 1)[1])
    assert [(i["uniqueName"], i.get("isDeleted", False)) for i in body] == [
        ("a", False),
        ("region", True),
    ]
    before = len(gong.emulator.requests)
    done = gong.cli(
        "apply", "drop.plan", "--auto-approve", "--allow-destroy", "--no-refresh", "--no-verify"
    )
    assert done.code == 0, done.stderr
    assert gong.requests(before) == [("POST", "ACCOUNT")]
    assert list(gong.remote()) == ["a"]
    assert state_fields() == ["a"]
