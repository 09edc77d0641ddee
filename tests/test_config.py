"""The desired-state loader: valid files, every kind of bad input, and its performance seams."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import jsonschema
import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from crmform.engine.config import loader as config
from crmform.engine.config import schema_check
from crmform.engine.config.parse import parse_json
from crmform.engine.errors import ConfigError
from crmform.engine.model import (
    REFERENCE_TARGETS,
    Desired,
    Field,
    FieldType,
    ObjectKey,
    ObjectSchema,
    ObjectType,
)

REPO = Path(__file__).resolve().parent.parent
QUICKSTART = REPO / "examples" / "quickstart"
HEAD = "integrationId: 6286478263646\nobjectType: ACCOUNT\nfields:\n"  # fields start on line 4
ALL_TYPES = ", ".join(t.value for t in FieldType)
ID_RANGE = "a Gong integration id is between 1 and 9223372036854775807"


@pytest.fixture
def schema_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A relative `schema` directory, so messages name files as a user would see them."""
    monkeypatch.chdir(tmp_path)
    Path("schema").mkdir()
    return Path("schema")


def write(directory: Path, name: str, text: str) -> Path:
    path = directory / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def problems(directory: Path, env: dict[str, str] | None = None) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        config.load(directory, env or {})
    return [str(d) for d in caught.value.diagnostics]


# --- valid input -------------------------------------------------------------------------


def test_quickstart_loads_all_four_object_types_sorted_by_address(monkeypatch):
    monkeypatch.chdir(REPO)
    desired = config.load(Path("examples/quickstart"), {})
    assert [(o.key.address, o.source) for o in desired.objects] == [
        ("gong/6286478263646/ACCOUNT", "examples/quickstart/account.yaml"),
        ("gong/6286478263646/CONTACT", "examples/quickstart/contact.yaml"),
        ("gong/6286478263646/DEAL", "examples/quickstart/deal.yaml"),
        ("gong/6286478263646/LEAD", "examples/quickstart/lead.json"),
    ]
    account = desired.objects[0]
    assert account.fields[:2] == (
        Field("parentAccount", "Main Account", FieldType.REFERENCE, reference_to="ACCOUNT"),
        Field(
            "category",
            "Category",
            FieldType.PICKLIST,
            ordered_value_list=("Analyst", "Competitor", "Customer"),
            protect=True,
        ),
    )
    assert all(4 <= len(o.fields) <= 8 for o in desired.objects)
    assert config.warnings(desired) == ()


def test_fields_keep_file_order_and_every_attribute(schema_dir):
    write(
        schema_dir,
        "deal.yaml",
        """\
        provider: gong
        integrationId: "2271307570613351879"
        objectType: DEAL
        fields:
          - {uniqueName: zeta, label: Zeta, type: STRINGARRAY, protect: false}
          - {uniqueName: alpha, label: Alpha, type: PICKLIST, orderedValueList: [B, A]}
          - {uniqueName: mid, label: Mid, type: REFERENCE, referenceTo: USER, protect: true}
        """,
    )
    key = ObjectKey("gong", 2271307570613351879, ObjectType.DEAL)
    assert config.load(schema_dir, {}) == Desired(
        (
            ObjectSchema(
                key,
                (
                    Field("zeta", "Zeta", FieldType.STRINGARRAY),
                    Field("alpha", "Alpha", FieldType.PICKLIST, ordered_value_list=("B", "A")),
                    Field("mid", "Mid", FieldType.REFERENCE, reference_to="USER", protect=True),
                ),
                "schema/deal.yaml",
            ),
        )
    )


def test_empty_fields_list_is_a_valid_intent(schema_dir):
    write(schema_dir, "lead.json", '{"integrationId": 5, "objectType": "LEAD", "fields": []}')
    (obj,) = config.load(schema_dir, {}).objects
    assert (obj.key.address, obj.fields) == ("gong/5/LEAD", ())


def test_yaml_merge_keys_are_not_taken_for_repeated_keys(schema_dir):
    write(
        schema_dir,
        "contact.yaml",
        """\
        integrationId: 7
        objectType: CONTACT
        fields:
          - &base {uniqueName: a, label: Same, type: STRING}
          - <<: *base
            uniqueName: b
        """,
    )
    (obj,) = config.load(schema_dir, {}).objects
    assert [(f.unique_name, f.label) for f in obj.fields] == [("a", "Same"), ("b", "Same")]


def test_merged_keys_are_not_reported_as_repeated_next_to_a_real_repeat(schema_dir):
    write(
        schema_dir,
        "contact.yaml",
        """\
        integrationId: 7
        objectType: CONTACT
        fields:
          - &base {uniqueName: a, label: Same, type: STRING}
          - <<: *base
            uniqueName: b
          - {uniqueName: c, label: C, type: URL, type: DATE}
        """,
    )
    assert problems(schema_dir) == [
        "schema/contact.yaml:7: fields[2] (c): key 'type' is given twice (first at line 7); "
        "only the last would count, so remove one"
    ]


# --- one kind of bad input per case, YAML -------------------------------------------------

FIELD_CASES = [
    (
        "unknown key close to a known one",
        "  - uniqueName: name\n    lable: Name\n    type: STRING\n",
        ["schema/account.yaml:5: fields[0] (name): unknown key 'lable'; did you mean 'label'?"],
    ),
    (
        "unknown key far from any",
        "  - uniqueName: name\n    label: Name\n    type: STRING\n    colour: red\n",
        [
            "schema/account.yaml:7: fields[0] (name): unknown key 'colour'; allowed keys: "
            "uniqueName, label, type, referenceTo, orderedValueList, protect"
        ],
    ),
    (
        "PICKLIST without values",
        "  - {uniqueName: name, label: Name, type: STRING}\n"
        "  - uniqueName: category\n    label: Category\n    type: PICKLIST\n",
        [
            "schema/account.yaml:5: fields[1] (category): PICKLIST needs orderedValueList, "
            "the list of its values in display order"
        ],
    ),
    (
        "REFERENCE without target",
        "  - uniqueName: parent\n    label: Parent\n    type: REFERENCE\n",
        [
            "schema/account.yaml:4: fields[0] (parent): REFERENCE needs referenceTo, one of "
            "ACCOUNT, CONTACT, DEAL, LEAD, USER"
        ],
    ),
    (
        "values on a non-PICKLIST",
        "  - uniqueName: x\n    label: X\n    type: STRING\n    orderedValueList: [a]\n",
        [
            "schema/account.yaml:7: fields[0] (x): orderedValueList is only allowed on "
            "PICKLIST fields, not on STRING; remove it or set type: PICKLIST"
        ],
    ),
    (
        "target on a non-REFERENCE",
        "  - uniqueName: x\n    label: X\n    type: NUMBER\n    referenceTo: USER\n",
        [
            "schema/account.yaml:7: fields[0] (x): referenceTo is only allowed on REFERENCE "
            "fields, not on NUMBER; remove it or set type: REFERENCE"
        ],
    ),
    (
        "a value twice",
        "  - uniqueName: tier\n    label: Tier\n    type: PICKLIST\n    orderedValueList:\n"
        "      - Gold\n      - Silver\n      - Gold\n",
        [
            "schema/account.yaml:10: fields[0] (tier): orderedValueList has 'Gold' twice; "
            "list each value once"
        ],
    ),
    (
        "a value three times",
        "  - {uniqueName: t, label: T, type: PICKLIST, orderedValueList: [a, a, b, a]}\n",
        [
            "schema/account.yaml:4: fields[0] (t): orderedValueList has 'a' 3 times; "
            "list each value once"
        ],
    ),
    (
        "no values",
        "  - {uniqueName: t, label: T, type: PICKLIST, orderedValueList: []}\n",
        ["schema/account.yaml:4: fields[0] (t): orderedValueList must list at least one value"],
    ),
    (
        "type in the wrong case, values present: no cascade",
        "  - uniqueName: t\n    label: T\n    type: picklist\n    orderedValueList: [a]\n",
        [
            f"schema/account.yaml:6: fields[0] (t): type 'picklist' is not one of {ALL_TYPES} "
            "(case-sensitive); did you mean 'PICKLIST'?"
        ],
    ),
    (
        "type missing, target present: no cascade",
        "  - uniqueName: t\n    label: T\n    referenceTo: USER\n",
        [f"schema/account.yaml:4: fields[0] (t): missing required key 'type' (one of {ALL_TYPES})"],
    ),
    (
        "reference target in the wrong case",
        "  - {uniqueName: owner, label: Owner, type: REFERENCE, referenceTo: user}\n",
        [
            "schema/account.yaml:4: fields[0] (owner): referenceTo 'user' is not one of ACCOUNT, "
            "CONTACT, DEAL, LEAD, USER (case-sensitive); did you mean 'USER'?"
        ],
    ),
    (
        "missing label points at the item",
        "  - {uniqueName: a, label: A, type: URL}\n  - uniqueName: name\n    type: STRING\n",
        [
            "schema/account.yaml:5: fields[1] (name): missing required key 'label' "
            "(the name Gong shows users)"
        ],
    ),
    (
        "empty uniqueName",
        '  - uniqueName: ""\n    label: Name\n    type: STRING\n',
        ["schema/account.yaml:4: fields[0]: uniqueName must not be empty"],
    ),
    (
        "label read as a boolean",
        "  - uniqueName: consent\n    label: yes\n    type: BOOLEAN\n",
        [
            "schema/account.yaml:5: fields[0] (consent): label must be a string, not a boolean "
            "(true); put it in quotes, as YAML reads unquoted yes, no, on, off as booleans"
        ],
    ),
    (
        "picklist value read as a number",
        "  - {uniqueName: size, label: Size, type: PICKLIST, orderedValueList: [S, 42]}\n",
        [
            "schema/account.yaml:4: fields[0] (size): orderedValueList[1] must be a string, "
            "not a number (42); put it in quotes"
        ],
    ),
    (
        "protect not a boolean",
        "  - {uniqueName: a, label: A, type: URL, protect: maybe}\n",
        [
            "schema/account.yaml:4: fields[0] (a): protect must be true or false, "
            "not a string ('maybe')"
        ],
    ),
    (
        "a field that is not a mapping",
        "  - name\n",
        [
            "schema/account.yaml:4: fields[0]: must be a mapping with uniqueName, label and "
            "type, not a string ('name')"
        ],
    ),
    (
        "the same uniqueName twice",
        "  - {uniqueName: tier, label: A, type: URL}\n  - {uniqueName: x, label: X, type: URL}\n"
        "  - {uniqueName: tier, label: B, type: URL}\n",
        [
            "schema/account.yaml:6: fields[2] (tier): uniqueName 'tier' is already used by "
            "fields[0] at line 4; give each field its own uniqueName"
        ],
    ),
    (
        "uniqueNames differing only in case",
        "  - uniqueName: tier\n    label: A\n    type: URL\n"
        "  - uniqueName: Tier\n    label: B\n    type: URL\n",
        [
            "schema/account.yaml:7: fields[1] (Tier): uniqueName 'Tier' differs only in case "
            "from 'tier' (fields[0] at line 4); Gong may treat them as the same field, so "
            "rename one"
        ],
    ),
    (
        "a key given twice",
        "  - uniqueName: a\n    label: A\n    type: URL\n    label: B\n",
        [
            "schema/account.yaml:7: fields[0] (a): key 'label' is given twice (first at line 5); "
            "only the last would count, so remove one"
        ],
    ),
]


@pytest.mark.parametrize(
    ("body", "expected"), [c[1:] for c in FIELD_CASES], ids=[c[0] for c in FIELD_CASES]
)
def test_bad_field_in_yaml(schema_dir, body, expected):
    write(schema_dir, "account.yaml", HEAD + body)
    assert problems(schema_dir) == expected


DOCUMENT_CASES = [
    (
        "object type in the wrong case",
        "integrationId: 1\nobjectType: account\nfields: []\n",
        [
            "schema/account.yaml:2: objectType: 'account' is not one of ACCOUNT, CONTACT, DEAL, "
            "LEAD (case-sensitive); did you mean 'ACCOUNT'?"
        ],
    ),
    (
        "misspelt top-level key is reported once",
        "integrationId: 1\nobjectType: LEAD\nfileds: []\n",
        ["schema/account.yaml:3: unknown key 'fileds'; did you mean 'fields'?"],
    ),
    (
        "missing objectType points at the document",
        "# comment\nintegrationId: 1\nfields: []\n",
        [
            "schema/account.yaml:2: missing required key 'objectType' "
            "(one of ACCOUNT, CONTACT, DEAL, LEAD)"
        ],
    ),
    (
        "unknown provider",
        "provider: hubspot\nintegrationId: 1\nobjectType: LEAD\nfields: []\n",
        [
            "schema/account.yaml:1: provider: 'hubspot' is not supported; "
            "the only provider is 'gong'"
        ],
    ),
    (
        "fields as a mapping",
        "integrationId: 1\nobjectType: LEAD\nfields:\n  uniqueName: a\n",
        ["schema/account.yaml:3: fields: must be a list of fields, not a mapping"],
    ),
    (
        "fields left empty",
        "integrationId: 1\nobjectType: LEAD\nfields:\n",
        [
            "schema/account.yaml:3: fields: must be a list of fields, not an empty value (null); "
            "write `fields: []` for none"
        ],
    ),
    (
        "fields given twice, differently",
        "integrationId: 1\nobjectType: LEAD\nfields:\n  - {label: a, label: b}\nfields: {}\n",
        [
            "schema/account.yaml:4: fields[0]: key 'label' is given twice (first at line 4); "
            "only the last would count, so remove one",
            "schema/account.yaml:5: key 'fields' is given twice (first at line 3); only the last "
            "would count, so remove one",
            "schema/account.yaml:5: fields: must be a list of fields, not a mapping",
        ],
    ),
    (
        "a second document",
        "integrationId: 1\nobjectType: LEAD\nfields: []\n---\nintegrationId: 2\n",
        ["schema/account.yaml:4: a second YAML document starts here; keep one document per file"],
    ),
    (
        "an unknown tag",
        "integrationId: 1\nobjectType: !lower LEAD\nfields: []\n",
        [
            "schema/account.yaml:2: invalid YAML: could not determine a constructor for the "
            "tag '!lower'"
        ],
    ),
    (
        "a tab in the indentation",
        "integrationId: 1\nobjectType: LEAD\nfields:\n\t- a\n",
        [
            "schema/account.yaml:4: invalid YAML: found character that cannot start any token "
            "(while scanning for the next token); indent with spaces, as YAML does not allow "
            "tabs there"
        ],
    ),
    (
        "an empty file",
        "",
        [
            "schema/account.yaml: the file is empty; write one mapping with integrationId, "
            "objectType and fields"
        ],
    ),
    (
        "only comments",
        "# nothing yet\n",
        [
            "schema/account.yaml: the file is empty; write one mapping with integrationId, "
            "objectType and fields"
        ],
    ),
    (
        "a list at the top",
        "- integrationId: 1\n",
        [
            "schema/account.yaml:1: the top level must be a mapping with integrationId, "
            "objectType and fields, not a list"
        ],
    ),
]


@pytest.mark.parametrize(
    ("text", "expected"), [c[1:] for c in DOCUMENT_CASES], ids=[c[0] for c in DOCUMENT_CASES]
)
def test_bad_document_in_yaml(schema_dir, text, expected):
    if "tab" in expected[0] and not yaml.__with_libyaml__:
        pytest.skip("the pure-Python loader words this syntax error differently")
    write(schema_dir, "account.yaml", text)
    assert problems(schema_dir) == expected


def test_yaml_aliases_that_contain_themselves_are_refused_not_crashed_on(schema_dir):
    write(
        schema_dir,
        "lead.yaml",
        """\
        integrationId: 1
        objectType: LEAD
        fields:
          - {uniqueName: a, label: A, type: URL}
          - &b {uniqueName: b, label: B, type: URL, x: [*b]}
        """,
    )
    assert problems(schema_dir) == [
        "schema/lead.yaml:5: an alias refers to a node that contains it, which would make an "
        "endless value; write the value out instead"
    ]


def test_file_that_is_not_utf8_names_its_line(schema_dir):
    (schema_dir / "account.yaml").write_bytes(b"integrationId: 1\nobjectType: \xff\n")
    assert problems(schema_dir) == [
        "schema/account.yaml:2: the file is not UTF-8 text; save it as UTF-8"
    ]


# --- the same kinds in JSON ---------------------------------------------------------------

JSON_CASES = [
    (
        "unknown key",
        '{"integrationId": 1, "objectType": "LEAD", "fields": [\n'
        '  {"uniqueName": "name",\n   "lable": "Name", "type": "STRING"}\n]}\n',
        ["schema/lead.json:3: fields[0] (name): unknown key 'lable'; did you mean 'label'?"],
    ),
    (
        "PICKLIST without values",
        '{\n  "integrationId": 1,\n  "objectType": "LEAD",\n  "fields": [\n'
        '    {"uniqueName": "a", "label": "A", "type": "URL"},\n'
        '    {"uniqueName": "category", "label": "Category", "type": "PICKLIST"}\n  ]\n}\n',
        [
            "schema/lead.json:6: fields[1] (category): PICKLIST needs orderedValueList, the "
            "list of its values in display order"
        ],
    ),
    (
        "values on a non-PICKLIST",
        '{"integrationId": 1, "objectType": "LEAD", "fields": [\n'
        '  {"uniqueName": "x", "label": "X", "type": "STRING",\n'
        '   "orderedValueList": ["a"]}]}\n',
        [
            "schema/lead.json:3: fields[0] (x): orderedValueList is only allowed on PICKLIST "
            "fields, not on STRING; remove it or set type: PICKLIST"
        ],
    ),
    (
        "a value twice",
        '{"integrationId": 1, "objectType": "LEAD", "fields": [\n'
        '  {"uniqueName": "tier", "label": "Tier", "type": "PICKLIST", "orderedValueList": [\n'
        '    "Gold",\n    "Silver",\n    "Gold"]}]}\n',
        [
            "schema/lead.json:5: fields[0] (tier): orderedValueList has 'Gold' twice; "
            "list each value once"
        ],
    ),
    (
        "object type in the wrong case",
        '{\n  "integrationId": 1,\n  "objectType": "Lead",\n  "fields": []\n}\n',
        [
            "schema/lead.json:3: objectType: 'Lead' is not one of ACCOUNT, CONTACT, DEAL, LEAD "
            "(case-sensitive); did you mean 'LEAD'?"
        ],
    ),
    (
        "id with a decimal point",
        '{\n  "integrationId": 6286478263646.0,\n  "objectType": "LEAD",\n  "fields": []\n}\n',
        [
            "schema/lead.json:2: integrationId: must be a whole number, not a decimal number "
            "(6286478263646.0); write the id without a decimal point or exponent, as decimals "
            "lose digits of ids above 2**53"
        ],
    ),
    (
        "missing key points at the item",
        '{"integrationId": 1, "objectType": "LEAD", "fields": [\n'
        '  {"uniqueName": "a", "label": "A", "type": "URL"},\n'
        '  {"uniqueName": "b",\n   "type": "URL"}]}\n',
        [
            "schema/lead.json:3: fields[1] (b): missing required key 'label' "
            "(the name Gong shows users)"
        ],
    ),
    (
        "a key given twice, escapes in keys and strings",
        '{"integrationId": 1, "objectType": "LEAD", "fields": [\n'
        '  {"uniqueName": "a\\"]{", "label": "A",\n'
        '   "type": "URL", "lab\\u0065l": "B"}]}\n',
        [
            "schema/lead.json:3: fields[0] (a\"]{): key 'label' is given twice (first at line "
            "2); only the last would count, so remove one"
        ],
    ),
    (
        "a syntax error",
        '{\n  "integrationId": 1,\n  "objectType": "LEAD"\n  "fields": []\n}\n',
        ["schema/lead.json:4: invalid JSON: Expecting ',' delimiter (column 3)"],
    ),
    (
        "an empty file",
        "  \n",
        [
            "schema/lead.json: the file is empty; write one mapping with integrationId, "
            "objectType and fields"
        ],
    ),
    (
        "a list at the top",
        "\n[1]\n",
        [
            "schema/lead.json:2: the top level must be a mapping with integrationId, objectType "
            "and fields, not a list"
        ],
    ),
]


@pytest.mark.parametrize(
    ("text", "expected"), [c[1:] for c in JSON_CASES], ids=[c[0] for c in JSON_CASES]
)
def test_bad_json(schema_dir, text, expected):
    write(schema_dir, "lead.json", text)
    assert problems(schema_dir) == expected


def test_json_line_is_none_rather_than_a_crash_when_positions_fail(schema_dir, monkeypatch):
    def broken(text):
        raise ValueError("scanner bug")

    monkeypatch.setattr(config, "_json_tree", broken)
    write(schema_dir, "lead.json", '{"integrationId": 1, "objectType": "lead", "fields": []}')
    assert problems(schema_dir) == [
        "schema/lead.json: objectType: 'lead' is not one of ACCOUNT, CONTACT, DEAL, LEAD "
        "(case-sensitive); did you mean 'LEAD'?"
    ]


def test_lines_are_not_computed_for_valid_files(monkeypatch):
    def forbidden(source):
        raise AssertionError("positions built for a valid file")

    monkeypatch.setattr(config, "_position_tree", forbidden)
    assert len(config.load(QUICKSTART, {}).objects) == 4


# --- many files at once -------------------------------------------------------------------


def test_every_problem_of_every_file_is_reported_together_and_sorted(schema_dir):
    write(schema_dir, "b.yaml", HEAD + "  - {uniqueName: x, label: X, type: text}\n  - y\n")
    write(schema_dir, "a.json", '{"integrationId": 1,\n "objectType": "DEAL",\n "field": []}')
    write(schema_dir, "c.yml", "integrationId: 1\nobjectType: !lower DEAL\n")
    write(schema_dir, "d.yaml", HEAD + "  - {uniqueName: ok, label: OK, type: URL}\n")
    with pytest.raises(ConfigError) as caught:
        config.load(schema_dir, {})
    assert str(caught.value) == "\n".join(
        [
            "5 problems in the schema files:",
            "  schema/a.json:3: unknown key 'field'; did you mean 'fields'?",
            f"  schema/b.yaml:4: fields[0] (x): type 'text' is not one of {ALL_TYPES} "
            "(case-sensitive)",
            "  schema/b.yaml:5: fields[1]: must be a mapping with uniqueName, label and type, "
            "not a string ('y')",
            "  schema/c.yml:2: invalid YAML: could not determine a constructor for the tag "
            "'!lower'",
            "  schema/d.yaml:2: objectType: gong/6286478263646/ACCOUNT is also declared in "
            "schema/b.yaml; declare each object type of an integration in one file only",
        ]
    )


def test_same_object_in_two_files_is_reported_on_the_second(schema_dir):
    write(schema_dir, "account.yaml", HEAD + "  - {uniqueName: a, label: A, type: URL}\n")
    write(
        schema_dir,
        "more-accounts.json",
        '{"integrationId": "6286478263646",\n "objectType": "ACCOUNT", "fields": []}',
    )
    assert problems(schema_dir) == [
        "schema/more-accounts.json:2: objectType: gong/6286478263646/ACCOUNT is also declared "
        "in schema/account.yaml; declare each object type of an integration in one file only"
    ]


def test_same_object_type_under_two_integrations_loads_with_a_warning(schema_dir):
    write(schema_dir, "a.yaml", "integrationId: 2\nobjectType: LEAD\nfields: []\n")
    write(schema_dir, "b.yaml", "integrationId: 10\nobjectType: LEAD\nfields: []\n")
    write(schema_dir, "c.yaml", "integrationId: 2\nobjectType: DEAL\nfields: []\n")
    desired = config.load(schema_dir, {})
    assert [o.key.address for o in desired.objects] == [
        "gong/10/LEAD",
        "gong/2/DEAL",
        "gong/2/LEAD",
    ]
    assert config.warnings(desired) == (
        "The schema files use 2 different integrationIds (2 in schema/c.yaml, schema/a.yaml; "
        "10 in schema/b.yaml). Gong allows one generic CRM integration per company, so all but "
        "one are probably typos; check integrationId in each file.",
    )


# --- integrationId ------------------------------------------------------------------------

ID_CASES = [
    ("1", 1),
    ("9223372036854775807", 2**63 - 1),
    (
        '"0042"',
        "integrationId: '0042' has a leading zero; write the id in digits only, without "
        "leading zeros",
    ),
    ("9007199254740993", 2**53 + 1),  # not representable as a float
    ('"2271307570613351879"', 2271307570613351879),
    ("0", f"integrationId: 0 is out of range; {ID_RANGE}"),
    ("9223372036854775808", f"integrationId: 9223372036854775808 is out of range; {ID_RANGE}"),
    ('"9223372036854775808"', f"integrationId: '9223372036854775808' is out of range; {ID_RANGE}"),
    ('"0"', f"integrationId: '0' is out of range; {ID_RANGE}"),
    ("-5", f"integrationId: -5 is out of range; {ID_RANGE}"),
    (
        "6286478263646.0",
        "integrationId: must be a whole number, not a decimal number (6286478263646.0); write "
        "the id without a decimal point or exponent, as decimals lose digits of ids above 2**53",
    ),
    (
        "true",
        'integrationId: must be a number, a string of digits or "${NAME}", not a boolean (true)',
    ),
    (
        "[1]",
        'integrationId: must be a number, a string of digits or "${NAME}", not a list',
    ),
    (
        '"12ab"',
        "integrationId: '12ab' is neither a string of digits nor exactly \"${NAME}\" naming an "
        "environment variable",
    ),
    (
        '"$GONG_ID"',
        "integrationId: '$GONG_ID' is neither a string of digits nor exactly \"${NAME}\" naming "
        "an environment variable",
    ),
]


@pytest.mark.parametrize(("given", "expected"), ID_CASES, ids=[c[0] for c in ID_CASES])
@pytest.mark.parametrize("suffix", ["yaml", "json"])
def test_integration_id_bounds_and_exactness(schema_dir, given, expected, suffix):
    if suffix == "yaml":
        write(schema_dir, "x.yaml", f"objectType: LEAD\nfields: []\nintegrationId: {given}\n")
    else:
        write(
            schema_dir,
            "x.json",
            f'{{"objectType": "LEAD", "fields": [],\n"integrationId": {given}}}',
        )
    if isinstance(expected, int):
        assert config.load(schema_dir, {}).objects[0].key.integration_id == expected
    else:
        line = 3 if suffix == "yaml" else 2
        assert problems(schema_dir) == [f"schema/x.{suffix}:{line}: {expected}"]


ENV_CASES = [
    ({"GONG_ID": "9007199254740993"}, 9007199254740993),
    (
        {},
        "environment variable GONG_ID is not set; set it to your Gong integration id, or write "
        "the id in the file",
    ),
    (
        {"GONG_ID": "s3cr3t-token"},
        "environment variable GONG_ID must hold the integration id in digits only",
    ),
    ({"GONG_ID": ""}, "environment variable GONG_ID must hold the integration id in digits only"),
    ({"GONG_ID": "0"}, f"environment variable GONG_ID is out of range; {ID_RANGE}"),
]


@pytest.mark.parametrize(("env", "expected"), ENV_CASES)
def test_integration_id_from_the_environment(schema_dir, env, expected):
    write(schema_dir, "x.yaml", 'objectType: LEAD\nintegrationId: "${GONG_ID}"\nfields: []\n')
    if isinstance(expected, int):
        assert config.load(schema_dir, env).objects[0].key.integration_id == expected
    else:
        assert problems(schema_dir, env) == [f"schema/x.yaml:2: integrationId: {expected}"]
        assert "s3cr3t" not in expected  # the value may be a secret: never echoed


# --- files and directories ----------------------------------------------------------------


def test_only_schema_files_directly_in_the_directory_are_read(schema_dir):
    good = "integrationId: 1\nobjectType: LEAD\nfields: []\n"
    write(schema_dir, "lead.yml", good)
    for name in (
        ".hidden.yaml",
        "notes.txt",
        "crmform.state.json",
        "crmform.state.json.backup",
        "plan.json",
        "README.md",
    ):
        write(schema_dir, name, "not: [a schema")
    (schema_dir / "nested").mkdir()
    write(schema_dir / "nested", "deal.yaml", "not: [a schema")
    (schema_dir / "dir.yaml").mkdir()
    write(schema_dir.parent, "state.json", "not: [a schema")
    excluded = [schema_dir / "plan.json", Path("state.json")]
    desired = config.load(schema_dir, {}, exclude=excluded)
    assert [o.source for o in desired.objects] == ["schema/lead.yml"]


def test_excluded_path_is_compared_after_resolving(schema_dir):
    write(schema_dir, "lead.yaml", "integrationId: 1\nobjectType: LEAD\nfields: []\n")
    write(schema_dir, "my-state.json", '{"version": 1}')
    with pytest.raises(ConfigError):
        config.load(schema_dir, {})
    absolute = (schema_dir / "my-state.json").resolve()
    assert len(config.load(schema_dir, {}, exclude=[absolute]).objects) == 1


@pytest.mark.parametrize(
    ("setup", "expected"),
    [
        (
            lambda d: None,
            "schema: no schema files (*.yaml, *.yml or *.json) in this directory; write one "
            "file per object type, or pass the directory that holds them",
        ),
        (
            lambda d: d.rmdir(),
            "schema: the schema directory does not exist; pass the directory that holds the "
            "schema files",
        ),
        (
            lambda d: (d.rmdir(), d.write_text("")),
            "schema: the schema directory is not a directory; pass the directory that holds the "
            "schema files",
        ),
    ],
    ids=["empty", "missing", "a file"],
)
def test_directory_without_schema_files_is_one_problem(schema_dir, setup, expected):
    setup(schema_dir)
    assert problems(schema_dir) == [expected]


# --- loaders, imports and the schema ------------------------------------------------------


def test_pure_python_yaml_loader_is_used_without_libyaml(schema_dir, monkeypatch):
    used = []

    class SpyLoader(yaml.SafeLoader):
        def __init__(self, stream):
            used.append(type(self))
            super().__init__(stream)

    monkeypatch.delattr(yaml, "CSafeLoader", raising=False)
    monkeypatch.setattr(yaml, "SafeLoader", SpyLoader)
    write(schema_dir, "a.yaml", HEAD + "  - {uniqueName: a, label: A, type: URL}\n")
    write(schema_dir, "b.yaml", "integrationId: 1\nobjectType: DEAL\nfields:\n  - {label: x}\n")
    assert problems(schema_dir) == [
        f"schema/b.yaml:4: fields[0]: missing required key 'type' (one of {ALL_TYPES})",
        "schema/b.yaml:4: fields[0]: missing required key 'uniqueName' (the field's name in "
        "the CRM)",
    ]
    assert used
    assert all(issubclass(cls, SpyLoader) for cls in used)


def test_importing_and_loading_valid_files_stays_light():
    code = (
        "import sys\nfrom pathlib import Path\nimport crmform.engine.config.loader as c\n"
        "heavy = ('jsonschema', 'httpx', 'deepdiff', 'yaml')\n"
        "print(sorted(m for m in heavy if m in sys.modules))\n"
        f"c.load(Path({str(QUICKSTART)!r}), {{}})\n"
        "print(sorted(m for m in heavy if m in sys.modules))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=REPO
    )
    # A valid document never needs jsonschema; YAML files need yaml, of course.
    assert result.stdout.splitlines() == ["[]", "['yaml']"]


def test_schema_is_a_valid_draft_2020_12_schema_that_accepts_every_quickstart_file():
    schema = json.loads(config.schema_text())
    jsonschema.Draft202012Validator.check_schema(schema)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert {"$id", "title", "description"} <= schema.keys()
    validator = jsonschema.Draft202012Validator(schema)
    files = sorted(QUICKSTART.iterdir())
    assert len(files) == 4
    for path in files:
        text = path.read_text()
        doc = json.loads(text) if path.suffix == ".json" else yaml.safe_load(text)
        assert list(validator.iter_errors(doc)) == [], path.name


def test_schema_matches_the_model_and_the_loader():
    schema = json.loads(config.schema_text())
    field = schema["$defs"]["field"]["properties"]
    assert tuple(schema["properties"]) == config.TOP_KEYS
    assert tuple(field) == config.FIELD_KEYS
    assert schema["properties"]["objectType"]["enum"] == [t.value for t in ObjectType]
    assert field["type"]["enum"] == [t.value for t in FieldType]
    assert field["referenceTo"]["enum"] == list(REFERENCE_TARGETS)
    shipped = (REPO / "engine" / "config" / "schema.json").read_text(encoding="utf-8")
    assert config.schema_text() == shipped


# --- the quick check never disagrees with schema.json -------------------------------------


def either(good: list, bad: list) -> st.SearchStrategy:
    """Valid values half of the time, near misses the other half."""
    return st.one_of(st.sampled_from(good), st.sampled_from(bad))


TYPES, OBJECTS = [t.value for t in FieldType], [t.value for t in ObjectType]
NEAR = {
    "provider": either(["gong"], ["Gong", "", None, 1]),
    "integrationId": either(
        [1, 2**63 - 1, "2271307570613351879", "12", "${GONG_ID}"],
        [
            0,
            2**63,
            -1,
            True,
            1.0,
            6286478263646.0,
            "12a",
            "0012",
            "0",
            "${1X}",
            "$GONG_ID",
            None,
            [1],
        ],
    ),
    "objectType": either(OBJECTS, ["Account", "USER", "", None, 1]),
    "fields": either([[]], [{}, None, "x"]),
    "fileds": st.just([]),
    "uniqueName": either(["a", "b", "A", "a b"], ["", " ", " a", "a\n", None, 1, True, ["a"]]),
    "label": either(
        ["L", "Ärger 😀", "two\nlines"], ["", "\t", "L ", "\u00a0L", "L\u2028", None, 2, 1.5]
    ),
    "type": either(TYPES, ["picklist", "", None, 3]),
    "referenceTo": either(list(REFERENCE_TARGETS), ["user", "STRING", None, 0]),
    "orderedValueList": st.one_of(
        st.lists(st.sampled_from(["a", "b", "c", "d e"]), max_size=3),
        st.lists(st.sampled_from(["a", "", " ", " b", "c\n"]), max_size=3),
        st.lists(st.sampled_from(["a", 1, True, None, ["a"]]), max_size=2),
        st.sampled_from(["a", None, {}]),
    ),
    "protect": either([True, False], [None, 0, 1, "true"]),
    "lable": st.just("x"),
}


def edits(keys: list[str]) -> st.SearchStrategy:
    one = st.sampled_from(keys).flatmap(lambda k: st.tuples(st.just(k), st.booleans(), NEAR[k]))
    return st.lists(one, max_size=2)


def edited(base: dict, changes: list) -> dict:
    out = dict(base)
    for key, remove, value in changes:
        if remove:
            out.pop(key, None)
        else:
            out[key] = value
    return out


BASE_FIELDS = st.one_of(
    st.builds(
        lambda n, label, t: {"uniqueName": n, "label": label, "type": t},
        NEAR["uniqueName"],
        NEAR["label"],
        NEAR["type"],
    ),
    st.builds(
        lambda v: {"uniqueName": "p", "label": "P", "type": "PICKLIST", "orderedValueList": v},
        NEAR["orderedValueList"],
    ),
    st.builds(
        lambda r, p: {
            "uniqueName": "r",
            "label": "R",
            "type": "REFERENCE",
            "referenceTo": r,
            "protect": p,
        },
        NEAR["referenceTo"],
        NEAR["protect"],
    ),
)
FIELDS = st.one_of(
    st.builds(edited, BASE_FIELDS, edits([*config.FIELD_KEYS, "lable"])),
    st.sampled_from(["x", None, [], 1]),
)
TOPS = st.builds(
    edited,
    st.builds(
        lambda i, o: {"integrationId": i, "objectType": o, "fields": []},
        NEAR["integrationId"],
        NEAR["objectType"],
    ),
    edits([*config.TOP_KEYS, "fileds"]),
)


# The quick check stands in for jsonschema on valid documents, so it must agree with
# schema.json exactly: field by field, and on the top level (whose `fields` is checked
# item by item, so a document is valid exactly when both parts are).
@settings(max_examples=400, deadline=None)
@given(FIELDS)
def test_quick_field_check_agrees_with_the_json_schema(item):
    _, field_validator = schema_check.validators()
    assert schema_check.field_ok(item) == field_validator.is_valid(item)


@settings(max_examples=300, deadline=None)
@given(TOPS)
def test_quick_document_check_agrees_with_the_json_schema(doc):
    document_validator, _ = schema_check.validators()
    assert schema_check.quick_check(doc) == (document_validator.is_valid(doc), [])


# The id spellings are checked by str methods (ids.py), standing for these patterns.
ID_TEXTS = st.one_of(
    st.text(alphabet="0123456789٣${}_aZ-\n", max_size=8),
    st.builds(lambda t: "${" + t + "}", st.text(alphabet="aZ_09é ${}-\n", max_size=6)),
    st.text(max_size=8),
)


@settings(max_examples=500, deadline=None)
@given(ID_TEXTS)
def test_the_id_spellings_str_methods_match_their_patterns(text):
    import re

    from crmform.engine.config import ids

    assert ids.decimal_id(text) == bool(re.fullmatch(r"[1-9][0-9]*", text))
    ref = re.fullmatch(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}", text)
    assert ids.env_name(text) == (ref.group(1) if ref else None)


# The fast path (schema_check.checked_fields, loader._parse_json) builds the Fields of a
# valid file in one pass; it must accept exactly the lists the slow path accepts (every item
# valid by schema.json, no two uniqueNames alike but for case) and build the same Fields.
def slow_path_accepts(items: list) -> bool:
    _, field_validator = schema_check.validators()
    if not all(field_validator.is_valid(item) for item in items):
        return False
    names = [item["uniqueName"].lower() for item in items]
    return len(set(names)) == len(names)


@settings(max_examples=400, deadline=None)
@given(st.one_of(FIELDS.map(lambda item: [item]), st.lists(FIELDS, max_size=4)))
def test_the_one_pass_field_check_agrees_with_the_slow_path(items):
    tally = [0]
    built = schema_check.checked_fields(items, tally)

    assert (built is not None) == slow_path_accepts(items)
    if built is not None:
        assert built == config._fields(items)
        # _parse_json counts a valid file's keys with this, instead of walking them again.
        assert tally == [sum(map(len, items))]
    else:
        assert tally == [0]


GOOD_FIELDS = st.lists(
    st.builds(
        edited,
        st.sampled_from(
            [
                {"uniqueName": "a", "label": "A: first", "type": "STRING"},
                {"uniqueName": "b", "label": "B", "type": "REFERENCE", "referenceTo": "USER"},
                {"uniqueName": "c:1", "label": "C", "type": "PICKLIST", "orderedValueList": ["x"]},
                {"uniqueName": "B", "label": "Ärger 😀", "type": "DATE", "protect": True},
            ]
        ),
        edits(["label", "protect", "lable"]),
    ),
    max_size=4,
)


@settings(max_examples=300, deadline=None)
@given(GOOD_FIELDS, st.sampled_from(["", "label", "fields", "objectType"]), st.booleans())
def test_the_fast_json_parse_agrees_with_parse_json(items, repeat_key, indent):
    """Repeated keys are told by counting colons (a colon in a string, e.g. "A: first",
    sends the file to parse_json): the same document, the same verdict, the same Fields."""
    doc = {"integrationId": 1, "objectType": "DEAL", "fields": items}
    text = json.dumps(doc, indent=2 if indent else None, ensure_ascii=False)
    if repeat_key == "label" and '"label": ' in text:
        text = text.replace('"label": ', '"label": "again", "label": ', 1)
    elif repeat_key in ("fields", "objectType"):
        text = text.replace("{", f'{{"{repeat_key}": "again", ', 1)

    doc, repeated, fields = config._parse_json(text)

    assert (doc, repeated) == parse_json(text)
    if fields is not None:
        assert schema_check.top_ok(doc)
        assert slow_path_accepts(doc["fields"])
        assert fields == config._fields(doc["fields"])
    elif not repeated and schema_check.top_ok(doc) and slow_path_accepts(doc["fields"]):
        # Only a colon in a string may send a valid file to the slow parse.
        assert text.count(":") > len(doc) + sum(len(item) for item in doc["fields"])
