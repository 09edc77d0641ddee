"""Schema files written by `import --write-config` (engine/config/writer.py): format, round trip."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest
import yaml
from factories import ACCOUNT
from hypothesis import given, settings
from hypothesis import strategies as st

from crmform.engine.config import loader as config
from crmform.engine.config.writer import file_name, missing_details, object_yaml, yaml_string
from crmform.engine.errors import ConfigError
from crmform.engine.model import (
    REFERENCE_TARGETS,
    Field,
    FieldType,
    ObjectKey,
    ObjectSchema,
    ObjectType,
)

T = FieldType


def load_back(obj: ObjectSchema) -> tuple[Field, ...]:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / file_name(obj)
        path.write_text(object_yaml(obj), encoding="utf-8")
        desired = config.load(Path(folder), {})
    [loaded] = desired.objects
    assert loaded.key == obj.key
    return loaded.fields


def test_a_written_file_is_readable_and_in_the_documented_format():
    obj = ObjectSchema(
        ACCOUNT,
        (
            Field("tier", "Tier", T.PICKLIST, ordered_value_list=("Gold", "yes")),
            Field("owner", "Account Owner", T.REFERENCE, reference_to="USER", protect=True),
            Field("score", "1.0", T.NUMBER, last_modified="2026-01-01T00:00:00Z"),
        ),
    )
    assert file_name(obj) == "account.yaml"
    assert object_yaml(obj) == (
        "# crmform desired state: the custom fields of Gong's ACCOUNT object.\n"
        "# Written by `crmform import` from Gong's schema; crmform now manages these fields.\n"
        "# Removing a field from this list deletes it, with its data, on the next apply;\n"
        "# changing its type replaces it (the old data is lost). `protect: true` on a field\n"
        "# makes any plan that would delete or replace it fail.\n"
        "provider: gong\n"
        "integrationId: 6286478263646\n"
        "objectType: ACCOUNT\n"
        "fields:\n"
        "  - uniqueName: tier\n"
        "    label: Tier\n"
        "    type: PICKLIST\n"
        "    orderedValueList:\n"
        "      - Gold\n"
        '      - "yes"\n'
        "  - uniqueName: owner\n"
        "    label: Account Owner\n"
        "    type: REFERENCE\n"
        "    referenceTo: USER\n"
        "    protect: true\n"
        "  - uniqueName: score\n"
        '    label: "1.0"\n'
        "    type: NUMBER\n"
    )
    assert load_back(obj) == tuple(
        Field(f.unique_name, f.label, f.type, f.reference_to, f.ordered_value_list, f.protect)
        for f in obj.fields
    )


def test_missing_picklist_values_and_targets_become_todo_comments_that_validation_reports():
    obj = ObjectSchema(
        ACCOUNT,
        (
            Field("tier", "Tier", T.PICKLIST),
            Field("owner", "Owner", T.REFERENCE),
            Field("note", "Note", T.STRING),
        ),
    )
    text = object_yaml(obj)
    assert missing_details(obj) == obj.fields[:2]
    assert "# Fill in the values marked TODO below" in text
    assert (
        "    type: PICKLIST\n"
        "    # TODO orderedValueList: Gong did not return this picklist's values. List them here,\n"
        "    # in display order (orderedValueList: [First, Second]), before running crmform plan.\n"
    ) in text
    assert "orderedValueList:\n" not in text
    assert "    # TODO referenceTo: Gong did not return what this field refers to." in text
    with pytest.raises(ConfigError) as err:
        load_back(obj)
    messages = [d.message for d in err.value.diagnostics]
    assert messages == [
        "PICKLIST needs orderedValueList, the list of its values in display order",
        "REFERENCE needs referenceTo, one of ACCOUNT, CONTACT, DEAL, LEAD, USER",
    ]


def test_an_object_without_fields_writes_an_empty_list():
    assert object_yaml(ObjectSchema(ACCOUNT, ())).endswith("fields: []\n")
    assert load_back(ObjectSchema(ACCOUNT, ())) == ()


def test_ids_above_2_53_are_quoted_so_no_tool_rounds_them():
    big = ObjectKey("gong", 2271307570613351879, ObjectType.DEAL)
    obj = ObjectSchema(big, (Field("a", "A", T.STRING),))
    assert 'integrationId: "2271307570613351879"\n' in object_yaml(obj)
    assert load_back(obj) == obj.fields


TRICKY = [
    *("yes", "No", "ON", "off", "y", "n", "true", "False", "null", "Null", "~", ""),
    *("1.0", "1e3", "0x1F", "012", "1_000", "12:30", "2020-01-01", ".inf", ".NaN"),
    *(": ", "a: b", "a:b", "#x", "a #b", "- x", "-", "[x]", "{x}", "*a", "&a", "!tag"),
    *("|", ">", "'", '"', "%x", "@x", "`x", "=", "<<", "?", "...", "---", ",x"),
    *(" lead", "trail ", "\t", "multi\nline", "a\\b", "x\u2028y", "\x85", "\ufeff", "\x7f"),
    *("Ärger 😀", "Sales & Marketing", "Don't", "v1.0", "a/b (c)", "e5", "_"),
]


@pytest.mark.parametrize("text", TRICKY)
@pytest.mark.parametrize("loader", ["SafeLoader", "CSafeLoader"])
def test_tricky_strings_load_back_unchanged(text, loader):
    loader_class = getattr(yaml, loader, None)
    if loader_class is None:
        pytest.skip(f"PyYAML was built without {loader}")
    assert yaml.load(f"key: {yaml_string(text)}\n", Loader=loader_class) == {"key": text}


def test_plain_strings_stay_readable():
    assert [yaml_string(s) for s in ("Account Owner", "v1.0", "Sales & Marketing")] == [
        "Account Owner",
        "v1.0",
        "Sales & Marketing",
    ]


# Names, labels and values as the schema files allow them: not blank, no blank space at
# either end (Gong refuses those too).
def trimmed(max_size: int) -> st.SearchStrategy[str]:
    return st.text(min_size=1, max_size=max_size).map(str.strip).filter(bool)


@st.composite
def remote_fields(draw: st.DrawFn) -> tuple[Field, ...]:
    names = draw(st.lists(trimmed(12), min_size=1, max_size=5, unique_by=str.lower))
    fields = []
    for name in names:
        kind = draw(st.sampled_from(list(FieldType)))
        fields.append(
            Field(
                name,
                draw(trimmed(16)),
                kind,
                draw(st.sampled_from(REFERENCE_TARGETS)) if kind is T.REFERENCE else None,
                tuple(draw(st.lists(trimmed(10), min_size=1, max_size=4, unique=True)))
                if kind is T.PICKLIST
                else None,
                draw(st.booleans()),
            )
        )
    return tuple(fields)


@settings(max_examples=150, deadline=None)
@given(fields=remote_fields(), object_type=st.sampled_from(list(ObjectType)))
def test_any_schema_round_trips_through_the_written_file(fields, object_type):
    obj = ObjectSchema(ObjectKey("gong", 6286478263646, object_type), fields)
    assert load_back(obj) == fields
