"""engine/records: one case per rule, each with a line that breaks it and one that passes.

The passing line of every case must pass cleanly (no problem at all), so a rule cannot pass
by reporting something else.
"""

from __future__ import annotations

import io
import json
from collections.abc import Mapping
from pathlib import Path

import pytest
from factories import ACCOUNT, CONTACT, DEAL, INTEGRATION, fld
from hypothesis import example, given
from hypothesis import strategies as st

from crmform.engine.model import Desired, FieldType, ObjectKey, ObjectSchema, ObjectType, State
from crmform.engine.records import (
    CheckRequest,
    Code,
    RecordCheckError,
    RecordSchema,
    Report,
    Severity,
    check_files,
    record_schemas,
    values,
)
from crmform.engine.records.checker import MAX_LINE_BYTES, check_stream
from crmform.engine.records.compiled import compile_schema
from crmform.engine.records.problems import SEVERITY, Collector
from crmform.engine.records.schema import Pending, resolve, type_from_file_name

LEAD = ObjectKey("gong", INTEGRATION, ObjectType.LEAD)
BASE = {"objectId": "acc-1", "modifiedDate": "2024-03-01T12:00:00Z"}
ACCOUNT_FIELDS = (
    fld("tier", FieldType.PICKLIST, values=["Gold", "Silver"]),
    fld("revenue", FieldType.CURRENCY),
    fld("employees", FieldType.NUMBER),
    fld("share", FieldType.PERCENT),
    fld("renewal", FieldType.DATE),
    fld("seenAt", FieldType.DATETIME),
    fld("active", FieldType.BOOLEAN),
    fld("website", FieldType.URL),
    fld("owner", FieldType.EMAILADDRESS),
    fld("phone", FieldType.PHONENUMBER),
    fld("ref", FieldType.REFERENCE, ref="ACCOUNT"),
    fld("code", FieldType.ID),
    fld("note", FieldType.STRING),
    fld("tags", FieldType.STRINGARRAY),
)
SCHEMA = RecordSchema(ACCOUNT, ACCOUNT_FIELDS)


def run(
    *lines: str | bytes | Mapping[str, object],
    schema: RecordSchema = SCHEMA,
    max_problems: int = 50,
) -> Report:
    """Check the lines (a dict is one record, merged into BASE) as one file."""
    raw = b"".join(_line(x) for x in lines)
    collector = Collector(max_problems)
    check_stream(io.BytesIO(raw), "f.ldjson", compile_schema(schema), collector)
    return collector.report(())


def _line(item: str | bytes | Mapping[str, object]) -> bytes:
    if isinstance(item, bytes):
        return item
    if isinstance(item, str):
        return (item + "\n").encode()
    return (json.dumps({**BASE, **item}) + "\n").encode()


def codes(report: Report) -> list[Code]:
    return [p.code for p in report.problems]


# (code, a record or line that breaks the rule, one that passes)
CASES: list[tuple[Code, object, object]] = [
    (Code.UNKNOWN_KEY, {"lable": "x"}, {"note": "x"}),
    (Code.OTHER_OBJECT_TYPE_KEY, {"emailAddress": "a@b.co"}, {"name": "Acme"}),
    (Code.WRONG_TYPE, {"revenue": "12"}, {"revenue": 12.5}),
    (Code.WRONG_TYPE, {"employees": True}, {"employees": 12}),
    (Code.WRONG_TYPE, {"active": "true"}, {"active": False}),
    (Code.WRONG_TYPE, {"note": 5}, {"note": "5"}),
    (Code.WRONG_TYPE, {"phone": 5551234}, {"phone": "555-1234"}),
    (Code.WRONG_TYPE, {"ref": ["a"]}, {"ref": "acc-2"}),
    (Code.WRONG_TYPE, {"code": {"id": 1}}, {"code": "c-1"}),
    (Code.WRONG_TYPE, {"domains": "a.com"}, {"domains": ["a.com", "b.com"]}),
    (Code.WRONG_TYPE, {"isDeleted": "false"}, {"isDeleted": False}),
    (Code.WRONG_TYPE, {"tier": 1}, {"tier": "Gold"}),
    (Code.INVALID_DATE, {"renewal": "2025-02-30"}, {"renewal": "2024-02-29"}),
    (Code.INVALID_DATE, {"renewal": "31/01/2025"}, {"renewal": "2025-01-31"}),
    (Code.INVALID_DATE, {"renewal": "2025-01-31T00:00:00Z"}, {"renewal": "2025-01-31"}),
    (
        Code.INVALID_DATETIME,
        {"seenAt": "2024-03-01T12:00:00.000Z"},
        {"seenAt": "2024-03-01T12:00:00Z"},
    ),
    (
        Code.INVALID_DATETIME,
        {"seenAt": "2024-03-01T12:00:00"},
        {"seenAt": "2024-03-01T12:00:00+02:00"},
    ),
    (
        Code.INVALID_DATETIME,
        {"seenAt": "2024-03-01 12:00:00Z"},
        {"seenAt": "2024-03-01T12:00:00-07:00"},
    ),
    (Code.INVALID_DATETIME, {"seenAt": "2024-13-01T12:00:00Z"}, {"seenAt": "2024-12-01T12:00:00Z"}),
    (
        Code.INVALID_DATETIME,
        {"modifiedDate": "yesterday"},
        {"modifiedDate": "2019-01-03T23:45:57+01:00"},
    ),
    (Code.OUT_OF_RANGE, {"share": 100.5}, {"share": 100}),
    (Code.OUT_OF_RANGE, {"share": -1}, {"share": 0}),
    (Code.INVALID_CHOICE, {"tier": "gold"}, {"tier": "Silver"}),
    (Code.URL_SHAPE, {"website": "acme.example"}, {"website": "https://acme.example/x?y=1"}),
    (Code.URL_SHAPE, {"url": "crm/accounts/1"}, {"url": "http://crm.com/accounts/1"}),
    (Code.EMAIL_SHAPE, {"owner": "jane"}, {"owner": "jane.doe@acme.com"}),
    (Code.NULL_VALUE, {"note": None}, {"note": ""}),
    (Code.STRINGARRAY_UNDOCUMENTED, {"tags": ["a", "b"]}, {}),
    (Code.STRINGARRAY_SHAPE, {"tags": "a;b"}, {}),
    (Code.MISSING_KEY, {"objectId": None}, {}),  # handled below: the key is removed
    (Code.OBJECT_ID_TOO_LONG, {"objectId": "a" * 65}, {"objectId": "a" * 64}),
    (Code.INVALID_OBJECT_ID, {"objectId": "acc 1"}, {"objectId": "jane.doe@acme.com"}),
    (Code.INVALID_OBJECT_ID, {"objectId": "acc.1"}, {"objectId": "ACC-0001-x"}),
    (Code.OBJECT_ID_UNDERSCORE, {"objectId": "user1_Id_In_The_CRM"}, {"objectId": "user1-Id"}),
    (Code.WRONG_TYPE, {"objectId": 8608553}, {"objectId": "8608553"}),
]


@pytest.mark.parametrize(("code", "bad", "good"), CASES, ids=lambda x: getattr(x, "value", ""))
def test_each_rule_breaks_on_one_line_and_the_other_passes(code, bad, good):
    if code is Code.MISSING_KEY:
        broken = json.dumps({"modifiedDate": BASE["modifiedDate"]})
        assert codes(run(broken)) == [Code.MISSING_KEY]
        assert codes(run(json.dumps({"objectId": "a"}))) == [Code.MISSING_KEY]
    else:
        found = run(bad)
        assert code in codes(found), found.problems
    assert codes(run(good)) == []


def test_every_problem_names_the_file_the_line_and_the_key():
    report = run({}, {"revenue": "12"}, {"tier": "Bronze"})
    assert [(p.file, p.line, p.key) for p in report.problems] == [
        ("f.ldjson", 2, "revenue"),
        ("f.ldjson", 3, "tier"),
    ]
    assert (
        report.problems[0].message == "needs a JSON number (a CURRENCY field), not the string '12'"
    )


def test_unknown_keys_get_a_did_you_mean_from_the_schema_and_standard_names():
    report = run({"revenu": 1, "ObjectID": "x", "modificationDate": "2024-03-01T12:00:00Z"})
    messages = {p.key: p.message for p in report.problems if p.code is Code.UNKNOWN_KEY}
    assert messages["revenu"].endswith("did you mean 'revenue'?")
    assert messages["ObjectID"].endswith("did you mean 'objectId'?")
    # Gong's own overview says "modificationDate" where every table says modifiedDate.
    assert messages["modificationDate"].endswith("did you mean 'modifiedDate'?")
    assert "Gong ignores it" in messages["revenu"]


def test_picklist_suggestions_and_the_listed_values():
    (problem,) = run({"tier": "gold"}).problems
    assert "('Gold', 'Silver'; case-sensitive); did you mean 'Gold'?" in problem.message


def test_a_standard_key_of_another_object_type_says_which_type_it_belongs_to():
    (problem,) = run({"convertedToDealId": "d-1"}).problems
    assert problem.code is Code.OTHER_OBJECT_TYPE_KEY
    assert "a standard key of LEAD records, not of ACCOUNT ones" in problem.message


@pytest.mark.parametrize(
    ("key", "value", "bad"),
    [
        ("status", "OPEN", "open"),
        ("amount", 7000, "7000"),
        ("createdDate", "2022-02-04T17:57:23Z", "2022-02-04"),
        ("closeDate", "2022-09-04", 20220904),
    ],
)
def test_deal_standard_keys_are_checked_as_documented(key, value, bad):
    deal = RecordSchema(DEAL, ())
    good = {"accountId": "acc-1", key: value}
    assert codes(run(good, schema=deal)) == []
    assert codes(run({"accountId": "acc-1", key: bad}, schema=deal)) != []


def test_deal_close_date_not_shaped_like_the_docs_example_is_a_warning():
    deal = RecordSchema(DEAL, ())
    (problem,) = run({"accountId": "a", "closeDate": "09/04/2022"}, schema=deal).problems
    assert (problem.code, problem.severity) == (Code.DATE_SHAPE, Severity.WARNING)


def test_a_deal_without_account_id_is_a_warning_unless_it_is_deleted():
    deal = RecordSchema(DEAL, ())
    (problem,) = run({}, schema=deal).problems
    assert (problem.code, problem.key, problem.severity) == (
        Code.DEAL_WITHOUT_ACCOUNT,
        "accountId",
        Severity.WARNING,
    )
    assert codes(run({"isDeleted": True}, schema=deal)) == []


def test_contact_and_lead_standard_keys_pass():
    contact = {
        "url": "https://crm.com/contacts/5zbwd7n5n65",
        "accountId": "5ybyh6n6n65",
        "emailAddress": "john.smith@acme.com",
        "firstName": "john",
        "lastName": "smith",
        "title": "CTO",
        "phoneNumber": "(912) 507-4395",
    }
    assert codes(run(contact, schema=RecordSchema(CONTACT, ()))) == []
    lead = {
        **{k: v for k, v in contact.items() if k != "accountId"},
        "convertedToDealId": "dkfj8dfgf87",
        "convertedToContactId": "87grhn74hg6",
        "convertedToAccountId": "6sjk47jf78d",
    }
    assert codes(run(lead, schema=RecordSchema(LEAD, ()))) == []
    assert codes(run({"domains": ["a.com"]}, schema=RecordSchema(LEAD, ()))) == [
        Code.OTHER_OBJECT_TYPE_KEY
    ]


def test_gongs_documented_account_example_passes_and_its_deal_example_shows_its_own_slips():
    account = (
        '{"objectId": "5ybyh6n6n65", "modifiedDate": "2019-01-03T23:45:57+01:00", "url": '
        '"https://crm.com/accounts/5ybyh6n6n65", "name": "PBR", "domains": ["pbr.com", '
        '"pbr.gov"], "type": "Investor"}'
    )
    typed = RecordSchema(ACCOUNT, (fld("type", FieldType.STRING),))
    assert codes(run(account, schema=typed)) == []
    # The docs' deal example: "status": OPEN unquoted (not JSON), and a custom DATETIME
    # with milliseconds, against the docs' own rule.
    deal = (
        '{"objectId": "8608553", "modifiedDate": "2022-02-04T18:24:59Z", "accountId": '
        '"5ybyh6n6n65", "status": OPEN, "custom_field_1": "2022-02-04T17:57:23.000Z"}'
    )
    assert codes(run(deal, schema=RecordSchema(DEAL, ()))) == [Code.INVALID_JSON]
    fixed = deal.replace("OPEN", '"OPEN"')
    with_field = RecordSchema(DEAL, (fld("custom_field_1", FieldType.DATETIME),))
    assert codes(run(fixed, schema=with_field)) == [Code.INVALID_DATETIME]


def test_null_is_said_once_per_key_and_file():
    report = run({"note": None}, {"note": None}, {"phone": None})
    assert [(p.line, p.key) for p in report.problems] == [(1, "note"), (3, "phone")]
    assert report.warnings == 2


def test_line_rules():
    report = run(
        "not json",
        "[1, 2]",
        "",
        '{"objectId": "a", "modifiedDate": "2024-03-01T12:00:00Z", "employees": NaN}',
        b'{"objectId": "\xff"}\n',
        "[" * 100_000,
    )
    assert [(p.line, p.code) for p in report.problems] == [
        (1, Code.INVALID_JSON),
        (2, Code.NOT_AN_OBJECT),
        (3, Code.BLANK_LINE),
        (4, Code.INVALID_JSON),
        (5, Code.NOT_UTF8),
        (6, Code.INVALID_JSON),
    ]
    assert "NaN is not a JSON value" in report.problems[3].message
    assert "byte 0xff at byte 15" in report.problems[4].message
    assert "nested too deeply" in report.problems[5].message
    assert codes(run({}, {})) == []


def test_a_byte_order_mark_is_a_warning_and_the_record_is_still_checked():
    report = run(b"\xef\xbb\xbf" + _line({"revenue": "x"}))
    assert codes(report) == [Code.BYTE_ORDER_MARK, Code.WRONG_TYPE]


def test_a_line_longer_than_the_limit_is_refused_without_holding_it():
    huge = b'{"note": "' + b"x" * (3 * MAX_LINE_BYTES) + b'"}\n'
    report = run(huge, {"revenue": "x"})
    assert [(p.line, p.code) for p in report.problems] == [
        (1, Code.LINE_TOO_LONG),
        (2, Code.WRONG_TYPE),
    ]
    # exactly at the limit, with its newline, is still a line
    exact = {"note": "x" * (MAX_LINE_BYTES - len(_line({"note": ""})))}
    assert len(_line(exact)) == MAX_LINE_BYTES
    assert codes(run(exact)) == []


def test_binary_garbage_without_newlines_is_refused_in_chunks():
    report = run(bytes(range(256)) * 20_000)  # 5 MB, no line breaks that help
    assert report.errors >= 1
    assert {p.code for p in report.problems} <= {
        Code.LINE_TOO_LONG,
        Code.NOT_UTF8,
        Code.INVALID_JSON,
    }


def test_an_empty_file_is_a_warning():
    (problem,) = run().problems
    assert (problem.code, problem.line, problem.severity) == (
        Code.EMPTY_FILE,
        None,
        Severity.WARNING,
    )


def test_quoted_values_are_escaped_and_cut_short():
    evil = "\x1b[31mred\u202e" + "y" * 10_000
    (problem,) = run({"tier": evil}).problems
    assert "\x1b" not in problem.message
    assert "\u202e" not in problem.message
    assert "\\x1b[31mred\\u202e" in problem.message
    assert len(problem.message) < 300
    assert "(10,009 characters)" in problem.message
    long_key = "k" * 5000
    (unknown,) = run({long_key: 1}).problems
    assert unknown.key == "k" * 100 + "…"


def test_max_problems_keeps_errors_before_warnings_and_counts_the_rest():
    lines = [{"note": None, "website": "x"} for _ in range(5)] + [{"revenue": "1"}] * 3
    report = run(*lines, max_problems=2)
    assert [p.code for p in report.problems] == [Code.WRONG_TYPE, Code.WRONG_TYPE]
    assert (report.errors, report.warnings) == (3, 6)  # the null note is said once
    assert (report.more_errors, report.more_warnings) == (1, 6)
    assert dict(report.counts) == {Code.WRONG_TYPE: 3, Code.URL_SHAPE: 5, Code.NULL_VALUE: 1}
    # All 3 errors fit in 4, so one warning is shown too; then everything in file order.
    roomy = run(*lines, max_problems=4)
    assert [(p.line, p.code) for p in roomy.problems] == [
        (1, Code.NULL_VALUE),
        (6, Code.WRONG_TYPE),
        (7, Code.WRONG_TYPE),
        (8, Code.WRONG_TYPE),
    ]


def test_severity_is_fixed_per_code_and_only_warnings_leave_the_report_ok():
    assert run({"website": "x"}).ok
    assert not run({"revenue": "x"}).ok
    assert {SEVERITY[c] for c in Code} == {Severity.ERROR, Severity.WARNING}


# -- the schema: files, state, both -------------------------------------------------------


def _desired(*fields) -> Desired:
    return Desired((ObjectSchema(ACCOUNT, tuple(fields)),))


def _state(*fields) -> State:
    return State("lineage", 1, (ObjectSchema(ACCOUNT, tuple(fields)),))


def test_files_and_state_together_find_what_the_next_apply_changes():
    desired = _desired(
        fld("kept"),
        fld("fresh"),
        fld("retyped", FieldType.NUMBER),
        fld("tier", FieldType.PICKLIST, values=["Gold", "Platinum"]),
    )
    state = _state(
        fld("kept"),
        fld("gone"),
        fld("retyped", FieldType.STRING),
        fld("tier", FieldType.PICKLIST, values=["Gold", "Bronze"]),
    )
    (schema,) = record_schemas(desired, state)
    assert {p.field.unique_name: p.reason for p in schema.pending} == {
        "fresh": Pending.NOT_APPLIED,
        "gone": Pending.TOMBSTONED,
        "retyped": Pending.TYPE_CHANGE,
    }
    report = run(
        {"kept": "a", "fresh": "b", "gone": "c", "retyped": 1},
        {"retyped": "not a number"},
        {"tier": "Gold"},
        {"tier": "Platinum"},
        {"tier": "Bronze"},
        schema=schema,
    )
    assert [(p.line, p.key, p.code) for p in report.problems] == [
        (1, "fresh", Code.NOT_APPLIED),
        (1, "gone", Code.TOMBSTONED),
        (1, "retyped", Code.TYPE_CHANGE_PENDING),
        (2, "retyped", Code.TYPE_CHANGE_PENDING),
        (2, "retyped", Code.WRONG_TYPE),
        (4, "tier", Code.VALUE_NOT_APPLIED),
        (5, "tier", Code.INVALID_CHOICE),
    ]
    messages = [p.message for p in report.problems]
    assert "not applied yet" in messages[0]
    assert "deletes this field" in messages[1]
    assert "from STRING to NUMBER" in messages[2]


def test_only_files_or_only_state_takes_every_field_as_applied():
    (from_files,) = record_schemas(_desired(fld("a")), None)
    (from_state,) = record_schemas(None, _state(fld("a")))
    assert from_files == from_state == RecordSchema(ACCOUNT, (fld("a"),))
    with pytest.raises(ValueError, match="needs"):
        record_schemas(None, None)


def test_a_schema_field_named_like_a_standard_key_is_checked_by_its_own_type_and_noted():
    deal = RecordSchema(
        DEAL, (fld("amount", FieldType.CURRENCY), fld("stage", FieldType.PICKLIST, values=["A"]))
    )
    report = run({"accountId": "a", "stage": "B"}, schema=deal)
    assert [(p.line, p.key, p.code) for p in report.problems] == [
        (None, None, Code.SHADOWS_STANDARD_KEY),
        (None, None, Code.SHADOWS_STANDARD_KEY),
        (1, "stage", Code.INVALID_CHOICE),
    ]
    # objectId, modifiedDate and isDeleted keep Gong's rules whatever the schema says
    odd = RecordSchema(ACCOUNT, (fld("objectId", FieldType.NUMBER),))
    assert codes(run({"objectId": "a b"}, schema=odd))[-1] is Code.INVALID_OBJECT_ID


# -- which schema a file gets ---------------------------------------------------------------

TWO = (RecordSchema(ACCOUNT, ()), RecordSchema(CONTACT, ()))


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("accounts.ldjson", ObjectType.ACCOUNT),
        ("out/2026-05-DEALS.jsonl", ObjectType.DEAL),
        ("contact_export.json", ObjectType.CONTACT),
        ("lead.ldjson", ObjectType.LEAD),
        ("accounts-and-contacts.ldjson", None),
        ("records.ldjson", None),
        ("accountsx.ldjson", None),
    ],
)
def test_the_object_type_a_file_name_names(name, expected):
    assert type_from_file_name(name) is expected


def test_resolve_by_flag_by_name_or_by_the_only_type():
    assert resolve(TWO, "x.ldjson", "the state", "CONTACT").key == CONTACT
    assert resolve(TWO, "contacts.ldjson", "the state").key == CONTACT
    assert resolve(TWO[:1], "records.ldjson", "the state").key == ACCOUNT
    with pytest.raises(RecordCheckError, match=r"Cannot tell the object type.*--object-type"):
        resolve(TWO, "records.ldjson", "the state")
    with pytest.raises(RecordCheckError, match=r"has no DEAL schema.*it has ACCOUNT, CONTACT"):
        resolve(TWO, "deals.ldjson", "the state")
    with pytest.raises(RecordCheckError, match=r"STAGE records .* no custom fields"):
        resolve(TWO, "x.ldjson", "the state", "STAGE")


def test_resolve_needs_the_integration_when_several_have_the_type():
    other = RecordSchema(ObjectKey("gong", 42, ObjectType.ACCOUNT), ())
    schemas = (RecordSchema(ACCOUNT, ()), other)
    with pytest.raises(RecordCheckError, match=r"several integrations \(6286478263646, 42\)"):
        resolve(schemas, "accounts.ldjson", "the state")
    assert resolve(schemas, "accounts.ldjson", "the state", integration_id=42) is other


# -- files ---------------------------------------------------------------------------------


def request(*paths: Path, schemas=(SCHEMA,), **kw) -> CheckRequest:
    return CheckRequest(tuple(paths), tuple(schemas), "the state", 50, **kw)


def test_check_files_reports_unreadable_files_and_checks_the_others(tmp_path: Path):
    good = tmp_path / "accounts.ldjson"
    good.write_text(json.dumps(BASE) + "\n")
    report = check_files(request(tmp_path / "missing.ldjson", tmp_path, good, Path("/dev/zero")))
    assert [(p.file, p.code) for p in report.problems] == [
        (str(tmp_path / "missing.ldjson"), Code.UNREADABLE_FILE),
        (str(tmp_path), Code.UNREADABLE_FILE),
        ("/dev/zero", Code.UNREADABLE_FILE),
    ]
    assert "No such file or directory" in report.problems[0].message
    assert "neither a regular file nor a pipe" in report.problems[2].message
    assert [f.records for f in report.files] == [0, 0, 1, 0]
    assert [f.errors for f in report.files] == [1, 1, 0, 1]


def test_the_file_size_limit(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    from crmform.engine.records import files

    assert files.MAX_UPLOAD_BYTES == 200 * 1024 * 1024
    assert files.MAX_UPLOAD_BYTES_DECIMAL == 200_000_000
    path = tmp_path / "accounts.ldjson"
    path.write_text(json.dumps(BASE) + "\n")
    size = path.stat().st_size
    monkeypatch.setattr(files, "MAX_UPLOAD_BYTES_DECIMAL", size - 2)
    monkeypatch.setattr(files, "MAX_UPLOAD_BYTES", size - 1)
    (too_big,) = check_files(request(path)).problems
    assert (too_big.code, too_big.line, too_big.severity) == (
        Code.FILE_TOO_LARGE,
        None,
        Severity.ERROR,
    )
    monkeypatch.setattr(files, "MAX_UPLOAD_BYTES", size)
    (uncertain,) = check_files(request(path)).problems
    assert (uncertain.code, uncertain.severity) == (Code.FILE_SIZE_UNCERTAIN, Severity.WARNING)
    monkeypatch.setattr(files, "MAX_UPLOAD_BYTES_DECIMAL", size)
    assert check_files(request(path)).problems == ()


def test_check_files_resolves_every_file_before_reading_any(tmp_path: Path):
    with pytest.raises(RecordCheckError) as caught:
        check_files(request(tmp_path / "deals.ldjson", tmp_path / "leads.ldjson"))
    assert "no DEAL schema" in str(caught.value)
    assert "no LEAD schema" in str(caught.value)


def test_engine_records_imports_no_click_httpx_or_console_and_never_prints():
    import ast

    root = Path(__file__).resolve().parent.parent / "engine" / "records"
    for path in sorted(root.glob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            names: list[str] = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                names = [node.module or ""]
            for name in names:
                assert not name.startswith(("click", "httpx", "crmform.console")), (path, name)
                assert not name.startswith(("crmform.views", "crmform.commands")), (path, name)
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
                assert node.func.id != "print", path


# The date and date-time checks take a fast path by character positions; these properties
# pin it to the spec (the regular expression and the parser) for any string.
_DT_ALPHABET = "0123456789-T:Z+.W tz\u0660\uff11"


@given(st.text(alphabet=_DT_ALPHABET, min_size=8, max_size=27))
@example("2024-W09-5T12:00:00Z")
@example("2024-03-01 12:00:00Z")
@example("2024-03-01T12:00:00.1:00")
@example("2024-03-01T12:00:00+0100")
def test_the_datetime_fast_path_agrees_with_the_spec(text):
    assert values._datetime(text) == values._datetime_spec(text)
    assert values._date(text[:10]) == values._date_spec(text[:10])


@given(st.datetimes(timezones=st.timezones()), st.sampled_from(["Z", "offset"]))
def test_real_datetimes_in_gongs_form_pass(moment, form):
    if form == "Z":
        text = moment.replace(tzinfo=None).isoformat(timespec="seconds") + "Z"
    else:
        text = moment.isoformat(timespec="seconds")
        if len(text) != 25:  # a sub-minute offset has no HH:MM form
            return
    assert values._datetime(text) is None, text
    assert values._date(text[:10]) is None, text


def test_lines_around_the_fast_path_decode_as_json_does():
    record = json.dumps({**BASE, "revenue": "x"})
    for variant in (
        f"  {record}\n",
        f"{record}\r\n",
        f"{record}   \n",
        f"\t{record}\t",  # the last line, without a newline
    ):
        assert codes(run(variant.encode())) == [Code.WRONG_TYPE], repr(variant)
    (extra,) = run(f"{record} x\n".encode()).problems
    assert (extra.code, extra.message) == (
        Code.INVALID_JSON,
        f"the line is not valid JSON: Extra data at column {len(record) + 2}",
    )
    assert codes(run(b"42\n", b'"text"\n', b"null\n")) == [Code.NOT_AN_OBJECT] * 3
