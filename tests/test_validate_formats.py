"""`crmform validate --format text|json|github`, and a JSON Schema put in the schema folder.

json is a versioned document checked against its shipped schema; github is one workflow
command per problem, escaped as GitHub's toolkit escapes them. Every format exits 1 on a
problem. The problems are the loader's Diagnostics, so all formats report the same ones.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest

from crmform.engine.config.validation import Validation
from crmform.engine.errors import Diagnostic
from crmform.engine.formats.schemas import output_schema_text
from crmform.engine.model import ObjectKey, ObjectSchema, ObjectType
from crmform.views.validate import escape_data, escape_property, github, json_document

SCHEMA = json.loads(output_schema_text("validate-result"))
VALIDATOR = jsonschema.Draft202012Validator(SCHEMA)

GOOD = (
    "integrationId: 1\nobjectType: ACCOUNT\nfields:\n  - {uniqueName: a, label: A, type: STRING}\n"
)
BAD_YAML = (
    "integrationId: 1\nobjectType: account\nfields:\n"
    "  - uniqueName: a\n    lable: A\n    type: STRING\n"
)
BAD_JSON = '{"integrationId": 1, "objectType": "DEAL", "fields": [}'


def document(stdout: str) -> dict:
    doc = json.loads(stdout)  # the whole of stdout is one document
    assert list(VALIDATOR.iter_errors(doc)) == []
    return doc


@pytest.fixture
def bad(tmp_path: Path) -> Path:
    folder = tmp_path / "schema"
    folder.mkdir()
    (folder / "account.yaml").write_text(BAD_YAML)
    (folder / "deal.json").write_text(BAD_JSON)
    return folder


def test_the_shipped_schema_is_draft_2020_12_and_printed_by_crmform_schema(cli):
    jsonschema.Draft202012Validator.check_schema(SCHEMA)
    printed = cli("schema", "validate-result")
    assert printed.code == 0
    assert json.loads(printed.stdout) == SCHEMA


def test_json_lists_every_problem_with_file_line_column_path_and_exits_1(cli, bad):
    done = cli("validate", "schema", "--format", "json")
    assert done.code == 1
    assert done.stderr == ""
    doc = document(done.stdout)
    assert doc["valid"] is False
    assert doc["summary"] == {"errors": 3, "warnings": 0}
    assert doc["objects"] == []
    assert doc["problems"] == [
        {
            "severity": "error",
            "file": "schema/account.yaml",
            "line": 2,
            "column": None,
            "path": "objectType",
            "message": "'account' is not one of ACCOUNT, CONTACT, DEAL, LEAD (case-sensitive); "
            "did you mean 'ACCOUNT'?",
        },
        {
            "severity": "error",
            "file": "schema/account.yaml",
            "line": 5,
            "column": None,
            "path": "fields[0] (a)",
            "message": "unknown key 'lable'; did you mean 'label'?",
        },
        {
            "severity": "error",
            "file": "schema/deal.json",
            "line": 1,
            "column": 55,
            "path": "",
            "message": "invalid JSON: Expecting value (column 55)",
        },
    ]


def test_json_of_valid_files_lists_the_object_types_and_warnings(cli, tmp_path):
    folder = tmp_path / "schema"
    folder.mkdir()
    (folder / "a.yaml").write_text(GOOD)
    (folder / "b.yaml").write_text(GOOD.replace("1", "2").replace("ACCOUNT", "DEAL"))
    done = cli("validate", "schema", "--format", "json")
    assert done.code == 0
    doc = document(done.stdout)
    assert doc["valid"] is True
    assert doc["objects"] == [
        {"address": "gong/1/ACCOUNT", "file": "schema/a.yaml", "fields": 1},
        {"address": "gong/2/DEAL", "file": "schema/b.yaml", "fields": 1},
    ]
    [warning] = doc["problems"]  # two integrationIds: valid, but probably a typo
    assert warning["severity"] == "warning"
    assert warning["file"] is None
    assert "2 different integrationIds" in warning["message"]


def test_github_prints_one_annotation_per_problem_and_exits_1(cli, bad):
    done = cli("validate", "schema", "--format", "github")
    assert done.code == 1
    assert done.stdout.splitlines() == [
        "::error file=schema/account.yaml,line=2,title=crmform::objectType: 'account' is not "
        "one of ACCOUNT, CONTACT, DEAL, LEAD (case-sensitive); did you mean 'ACCOUNT'?",
        "::error file=schema/account.yaml,line=5,title=crmform::fields[0] (a): unknown key "
        "'lable'; did you mean 'label'?",
        "::error file=schema/deal.json,line=1,col=55,title=crmform::invalid JSON: Expecting "
        "value (column 55)",
    ]
    assert done.stderr == "Error: 3 problems in the schema files.\n"


def test_github_on_valid_files_prints_the_success_line(cli, tmp_path):
    (tmp_path / "a.yaml").write_text(GOOD)
    done = cli("validate", ".", "--format", "github")
    assert done.code == 0
    assert done.stdout == "Success: 1 object type with 1 field in . are valid.\n"


def test_text_is_unchanged_and_every_format_reports_the_same_problems(cli, bad):
    text = cli("validate", "schema")
    assert text.code == 1
    assert text.stdout == ""
    lines = text.stderr.splitlines()
    assert lines[0] == "Error: 3 problems in the schema files:"
    problems = document(cli("validate", "schema", "--format", "json").stdout)["problems"]
    assert len(lines) == 1 + len(problems)
    for line, p in zip(lines[1:], problems, strict=True):
        assert line.strip() == str(Diagnostic(p["file"], p["line"], p["path"], p["message"]))


def test_the_format_can_come_from_crmform_format(cli, bad, monkeypatch):
    monkeypatch.setenv("CRMFORM_FORMAT", "github")
    assert cli("validate", "schema").stdout.startswith("::error file=schema/account.yaml,")


def test_github_escapes_as_the_workflow_command_rules_say():
    assert escape_data("50% a\r\nb") == "50%25 a%0D%0Ab"
    assert escape_property("C:\\a,b%\n") == "C%3A\\a%2Cb%25%0A"
    odd = Diagnostic("dir,x/a:b.yaml", 3, "fields[0] (x)", "line\none ::error::injected 100%")
    result = Validation("dir", (odd,), ("two\nlines",), ())
    assert github(result) == [
        "::error file=dir%2Cx/a%3Ab.yaml,line=3,title=crmform::fields[0] (x): "
        "line%0Aone ::error::injected 100%25",
        "::warning title=crmform::two%0Alines",
    ]
    # Every annotation is one line, whatever the message holds.
    assert all("\n" not in line and "\r" not in line for line in github(result))


def test_a_problem_without_a_line_has_no_line_property():
    whole = Diagnostic("schema", None, "", "the schema directory does not exist")
    result = Validation("schema", (whole,), (), ())
    assert github(result) == [
        "::error file=schema,title=crmform::the schema directory does not exist"
    ]
    assert json_document(result)["problems"][0]["line"] is None


def test_the_document_validates_for_valid_and_invalid_results():
    key = ObjectKey("gong", 2271307570613351879, ObjectType.DEAL)
    good = Validation("s", (), (), (ObjectSchema(key, (), "s/deal.yaml"),))
    assert list(VALIDATOR.iter_errors(json_document(good))) == []
    broken = json_document(good) | {"valid": "yes"}
    assert [e.message for e in VALIDATOR.iter_errors(broken)] == ["'yes' is not of type 'boolean'"]


# --- a JSON Schema in the schema folder -----------------------------------------------------


def test_a_json_schema_in_the_schema_folder_is_one_clear_problem(cli, tmp_path):
    folder = tmp_path / "s"
    folder.mkdir()
    (folder / "a.yaml").write_text(GOOD)
    (folder / "crmform.schema.json").write_text(cli("schema").stdout)
    done = cli("validate", "s")
    assert done.code == 1
    assert done.stderr.splitlines() == [
        "Error: 1 problem in the schema files:",
        "  s/crmform.schema.json:2: this is a JSON Schema, not a schema file (crmform reads "
        "every *.yaml, *.yml and *.json file here as one object type); keep it outside the "
        "schema directory, e.g. `crmform schema > crmform.schema.json` one level up",
    ]
    # Moved one level up, as the message says, and an editor can point at it.
    (folder / "crmform.schema.json").rename(tmp_path / "crmform.schema.json")
    assert cli("validate", "s").code == 0


@pytest.mark.parametrize(
    "text",
    [
        '{"$schema": "http://json-schema.org/draft-07/schema#", "type": "object"}',
        "$schema: https://json-schema.org/draft/2020-12/schema\ntype: object\n",
        '{"$id": "urn:crmform:plan:1"}',
    ],
)
def test_any_json_schema_document_is_recognised(cli, tmp_path, text):
    suffix = ".yaml" if text.startswith("$") else ".json"
    (tmp_path / f"x{suffix}").write_text(text)
    done = cli("validate", ".")
    assert done.code == 1
    assert "1 problem in the schema files" in done.stderr
    assert "this is a JSON Schema, not a schema file" in done.stderr


def test_a_schema_file_with_a_stray_schema_key_is_still_checked_as_one(cli, tmp_path):
    # Only a $schema naming json-schema.org marks a JSON Schema; anything else is a typo.
    (tmp_path / "a.yaml").write_text("$schema: mine\n" + GOOD)
    done = cli("validate", ".")
    assert "unknown key '$schema'" in done.stderr


def test_validate_json_runs_without_importing_the_text_views(tmp_path):
    # The JSON path needs the engine and the validate view only (a real run, as CI has it).
    (tmp_path / "a.yaml").write_text(GOOD)
    probe = (
        "import sys\nfrom crmform.cli import run\n"
        f"code = run(['validate', {str(tmp_path)!r}, '--format', 'json'])\n"
        "print('MODULES', code, sorted(m for m in sys.modules if m.startswith(('crmform.', "
        "'ruamel'))), file=sys.stderr)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, check=False
    )
    assert "MODULES 0" in done.stderr, done.stderr
    assert "ruamel" not in done.stderr
    assert "crmform.engine.render.text" not in done.stderr
