"""`crmform check-records` through the in-process CLI: exit codes, the three formats, the
cap, and every way the input can be wrong without a traceback."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path

import jsonschema
import pytest
from conftest import Cli
from factories import ACCOUNT, CONTACT, fld

from crmform.engine.formats.schemas import output_schema_text
from crmform.engine.model import FieldType, ObjectSchema, State
from crmform.engine.records import Code
from crmform.state.local import LocalState

REPORT = jsonschema.Draft202012Validator(json.loads(output_schema_text("check-records")))
DOCS = Path(__file__).resolve().parent.parent / "docs" / "check-records-json.md"
GOOD = {"objectId": "acc-1", "modifiedDate": "2024-03-01T12:00:00Z", "tier": "Gold"}
ACCOUNT_YAML = """\
integrationId: 6286478263646
objectType: ACCOUNT
fields:
  - {uniqueName: tier, label: Tier, type: PICKLIST, orderedValueList: [Gold, Silver]}
  - {uniqueName: revenue, label: Revenue, type: CURRENCY}
"""


def write_state(*objects: ObjectSchema, path: str = "crmform.state.json") -> None:
    LocalState(Path(path)).write(State(objects=objects))


def write_records(name: str, *records: Mapping[str, object] | str) -> Path:
    path = Path(name)
    lines = (r if isinstance(r, str) else json.dumps(r) for r in records)
    path.write_text("".join(f"{line}\n" for line in lines), encoding="utf-8")
    return path


def report_of(stdout: str) -> dict:
    doc = json.loads(stdout)  # the whole of stdout is one document
    assert list(REPORT.iter_errors(doc)) == []
    return doc


@pytest.fixture
def account_state(cli: Cli) -> Cli:
    write_state(
        ObjectSchema(
            ACCOUNT,
            (
                fld("tier", FieldType.PICKLIST, values=["Gold", "Silver"]),
                fld("revenue", FieldType.CURRENCY),
            ),
        )
    )
    return cli


def test_a_clean_file_exits_0(account_state: Cli):
    write_records("accounts.ldjson", GOOD, {**GOOD, "objectId": "acc-2", "revenue": 12.5})
    done = account_state("check-records", "accounts.ldjson")
    assert (done.code, done.stderr) == (0, "")
    assert done.stdout == "Checked 1 file, 2 records: no problems found.\n"


def test_errors_exit_1_with_file_line_key_and_code(account_state: Cli):
    write_records(
        "accounts.ldjson",
        GOOD,
        {**GOOD, "tier": "gold", "revenu": 5},
        "{not json",
    )
    done = account_state("check-records", "accounts.ldjson")
    assert done.code == 1
    assert done.stdout.splitlines() == [
        "accounts.ldjson:2: error: tier: the string 'gold' is not a value of this PICKLIST "
        "('Gold', 'Silver'; case-sensitive); did you mean 'Gold'? [invalid-choice]",
        "accounts.ldjson:2: error: revenu: neither a standard ACCOUNT key nor a field of the "
        "schema, so Gong ignores it; did you mean 'revenue'? [unknown-key]",
        "accounts.ldjson:3: error: the line is not valid JSON: Expecting property name "
        "enclosed in double quotes at column 2 [invalid-json]",
        "Checked 1 file, 2 records: 3 errors, 0 warnings.",
    ]


def test_warnings_alone_exit_0(account_state: Cli):
    write_records("accounts.ldjson", {**GOOD, "url": "crm/accounts/1"})
    done = account_state("check-records", "accounts.ldjson")
    assert done.code == 0
    assert done.stdout.endswith(
        "Checked 1 file, 1 record: 0 errors, 1 warning (warnings only: the records would be "
        "accepted).\n"
    )


def test_json_report_is_schema_valid_and_complete(account_state: Cli):
    write_records("accounts.ldjson", GOOD, {**GOOD, "revenue": "12", "url": "x"}, "[]", "")
    # 4 lines: the last one empty
    done = account_state("check-records", "accounts.ldjson", "--format", "json")
    assert done.code == 1
    doc = report_of(done.stdout)
    assert doc["ok"] is False
    assert doc["summary"] == {"files": 1, "records": 2, "errors": 2, "warnings": 2}
    assert doc["files"] == [
        {
            "file": "accounts.ldjson",
            "objectType": "ACCOUNT",
            "address": "gong/6286478263646/ACCOUNT",
            "integrationId": "6286478263646",
            "bytes": Path("accounts.ldjson").stat().st_size,
            "lines": 4,
            "records": 2,
            "errors": 2,
            "warnings": 2,
        }
    ]
    assert [(p["line"], p["key"], p["severity"], p["code"]) for p in doc["problems"]] == [
        (2, "revenue", "error", "wrong-type"),
        (2, "url", "warning", "url-shape"),
        (3, None, "error", "not-an-object"),
        (4, None, "warning", "blank-line"),
    ]
    assert doc["not_shown"] == {"errors": 0, "warnings": 0}
    assert doc["counts"] == {"blank-line": 1, "not-an-object": 1, "url-shape": 1, "wrong-type": 1}
    clean = account_state(
        "check-records", "accounts.ldjson", "--format", "json", "--max-problems", "0"
    )
    assert report_of(clean.stdout)["problems"] == []


def test_json_of_a_clean_run_and_of_file_level_problems_is_schema_valid(account_state: Cli):
    write_records("accounts.ldjson", GOOD)
    Path("empty-accounts.ldjson").write_bytes(b"")
    done = account_state(
        "check-records",
        "accounts.ldjson",
        "empty-accounts.ldjson",
        "missing-accounts.ldjson",
        "--format",
        "json",
    )
    doc = report_of(done.stdout)
    assert [(p["file"], p["line"], p["code"]) for p in doc["problems"]] == [
        ("empty-accounts.ldjson", None, "empty-file"),
        ("missing-accounts.ldjson", None, "unreadable-file"),
    ]
    assert [f["bytes"] for f in doc["files"]] == [Path("accounts.ldjson").stat().st_size, 0, None]


def test_github_annotations(account_state: Cli):
    write_records("acc,ounts.ldjson", {**GOOD, "revenue": "12"}, {**GOOD, "url": "x"})
    done = account_state(
        "check-records", "acc,ounts.ldjson", "--object-type", "ACCOUNT", "--format", "github"
    )
    assert done.code == 1
    assert done.stdout.splitlines() == [
        "::error file=acc%2Counts.ldjson,line=1,title=crmform check-records%3A wrong-type::"
        "revenue: needs a JSON number (a CURRENCY field), not the string '12'",
        "::warning file=acc%2Counts.ldjson,line=2,title=crmform check-records%3A url-shape::"
        "url: the string 'x' does not look like a URL (http:// or https://)",
        "Checked 1 file, 2 records: 1 error, 1 warning.",
    ]


def test_github_annotation_data_is_escaped(account_state: Cli):
    write_records("accounts.ldjson", {**GOOD, "tier": "100%\r\nx"})
    done = account_state("check-records", "accounts.ldjson", "--format", "github")
    line = done.stdout.splitlines()[0]
    assert "the string '100%25\\r\\nx'" in line


def test_max_problems_says_how_many_more(account_state: Cli):
    write_records("accounts.ldjson", *({**GOOD, "revenue": "x", "url": "y"} for _ in range(4)))
    done = account_state("check-records", "accounts.ldjson", "--max-problems", "2")
    lines = done.stdout.splitlines()
    assert [line.split(": ")[1] for line in lines[:2]] == ["error", "error"]
    assert lines[2:] == [
        "... and 6 more not shown (2 errors, 4 warnings); raise --max-problems to see them.",
        "Checked 1 file, 4 records: 4 errors, 4 warnings.",
    ]


def test_no_state_and_no_schema_is_a_clear_error(cli: Cli):
    write_records("accounts.ldjson", GOOD)
    done = cli("check-records", "accounts.ldjson")
    assert done.code == 1
    assert done.stderr.startswith("Error: No state at crmform.state.json, so there is no applied")
    assert "--schema DIR" in done.stderr
    assert done.stdout == ""


def test_a_missing_schema_directory_is_a_clear_error(cli: Cli):
    write_records("accounts.ldjson", GOOD)
    done = cli("check-records", "accounts.ldjson", "--schema", "nowhere")
    assert done.code == 1
    assert done.stderr.startswith("Error: ")
    assert "nowhere" in done.stderr
    assert "Traceback" not in done.stderr


def test_schema_files_with_the_state_find_fields_not_applied_yet(account_state: Cli):
    Path("schema").mkdir()
    Path("schema/account.yaml").write_text(
        ACCOUNT_YAML + "  - {uniqueName: region, label: Region, type: STRING}\n", encoding="utf-8"
    )
    write_records("accounts.ldjson", {**GOOD, "region": "EMEA"})
    done = account_state("check-records", "accounts.ldjson", "--schema", "schema")
    assert done.code == 1
    assert (
        "accounts.ldjson:1: error: region: a field of the schema files, not applied yet"
        in done.stdout
    )


def test_schema_files_without_a_state_take_every_field_as_applied(cli: Cli):
    Path("schema").mkdir()
    Path("schema/account.yaml").write_text(ACCOUNT_YAML, encoding="utf-8")
    write_records("records.ldjson", {**GOOD, "revenue": 1})
    done = cli("check-records", "records.ldjson", "--schema", "schema")
    assert done.code == 0
    assert done.stderr.startswith("Note: no state at crmform.state.json, so every field")
    assert done.stdout == "Checked 1 file, 1 record: no problems found.\n"


def test_an_object_type_without_a_managed_schema_is_a_clear_error(account_state: Cli):
    write_records("deals.ldjson", GOOD)
    done = account_state("check-records", "deals.ldjson")
    assert done.code == 1
    assert done.stderr == (
        "Error: the state crmform.state.json has no DEAL schema (named by the file's name, for "
        "deals.ldjson); it has ACCOUNT. Check records only for object types crmform manages, "
        "or pass --object-type if the file's name misleads.\n"
    )
    staged = account_state("check-records", "deals.ldjson", "--object-type", "STAGE")
    assert staged.code == 1
    assert "STAGE records (deals.ldjson) have no custom fields" in staged.stderr
    bad = account_state("check-records", "deals.ldjson", "--object-type", "account")
    assert bad.code == 1
    assert "Invalid value for '--object-type'" in bad.stderr


def test_an_ambiguous_object_type_asks_for_the_flag(cli: Cli):
    write_state(ObjectSchema(ACCOUNT, (fld("a"),)), ObjectSchema(CONTACT, (fld("b"),)))
    write_records("export.ldjson", GOOD)
    done = cli("check-records", "export.ldjson")
    assert done.code == 1
    assert "Cannot tell the object type of the records in export.ldjson" in done.stderr
    assert "Pass --object-type" in done.stderr
    chosen = cli("check-records", "export.ldjson", "--object-type", "ACCOUNT")
    assert chosen.code == 1  # tier is not a field of this ACCOUNT schema
    assert "tier: neither a standard ACCOUNT key" in chosen.stdout


def test_unreadable_files_are_problems_not_tracebacks(account_state: Cli):
    Path("accounts-dir").mkdir()
    write_records("accounts.ldjson", GOOD)
    done = account_state(
        "check-records", "missing-accounts.ldjson", "accounts-dir", "accounts.ldjson"
    )
    assert done.code == 1
    assert done.stdout.splitlines() == [
        "missing-accounts.ldjson: error: cannot read the file: No such file or directory "
        "[unreadable-file]",
        "accounts-dir: error: cannot read the file: Is a directory [unreadable-file]",
        "Checked 3 files, 1 record: 2 errors, 0 warnings.",
    ]
    assert done.stderr == ""


def test_binary_garbage_is_refused_quickly_and_safely(account_state: Cli):
    Path("accounts.ldjson").write_bytes(bytes(range(256)) * 8192 + b"\n\x00\x1b[2J\n")
    done = account_state("check-records", "accounts.ldjson", "--max-problems", "5")
    assert done.code == 1
    assert "Traceback" not in done.stderr
    assert "\x1b" not in done.stdout
    codes = {line.rsplit("[", 1)[-1].rstrip("]") for line in done.stdout.splitlines()[:-2]}
    assert codes <= {Code.LINE_TOO_LONG.value, Code.NOT_UTF8.value, Code.INVALID_JSON.value}


def test_file_names_are_escaped_for_the_terminal(account_state: Cli):
    name = "accounts\x1b[2J.ldjson"
    write_records(name, {**GOOD, "revenue": "x"})
    done = account_state("check-records", name)
    assert "\x1b" not in done.stdout
    assert done.stdout.startswith("accounts\\x1b[2J.ldjson:1: error: revenue:")


def test_schema_check_records_prints_the_shipped_schema_with_every_code(cli: Cli):
    done = cli("schema", "check-records")
    assert done.code == 0
    schema = json.loads(done.stdout)
    assert schema["$defs"]["code"]["enum"] == [c.value for c in Code]


def test_the_json_doc_lists_every_code_with_its_severity():
    from crmform.engine.records.problems import SEVERITY

    text = DOCS.read_text(encoding="utf-8")
    for code in Code:
        assert f"| `{code.value}` | {SEVERITY[code].value} |" in text, code
