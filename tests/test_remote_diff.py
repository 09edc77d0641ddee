"""engine/remote_diff.py: exactly what differs between Gong's field and the one crmform would
send (issue 13, deepdiff), and which of Gong's attributes an upload would not send."""

from __future__ import annotations

import sys

import pytest

from crmform.engine.model import Field, FieldType, ObjectType
from crmform.engine.ports import RemoteSchema
from crmform.engine.remote_diff import AttributeDifference, UnsentAttributes, differences, unsent

STAGE = Field("stage", "Stage", FieldType.PICKLIST, ordered_value_list=("new", "won", "lost"))


def test_equal_fields_differ_in_nothing_and_never_load_deepdiff(monkeypatch):
    monkeypatch.setitem(sys.modules, "deepdiff", None)  # importing it would now fail
    assert differences(STAGE, (), STAGE) == ()
    unknown = Field("stage", "Stage", FieldType.PICKLIST)  # Gong answered null values
    assert differences(unknown, (("hidden", "null"),), STAGE) == ()
    stamped = Field("stage", "Stage", FieldType.PICKLIST, None, STAGE.ordered_value_list, True, "x")
    assert differences(stamped, (), STAGE) == ()  # protect and lastModified never count


def test_every_difference_is_named_with_both_values():
    remote = Field("stage", "Phase", FieldType.PICKLIST, ordered_value_list=("new", "won", "lost"))
    sent = Field("stage", "Stage", FieldType.PICKLIST, ordered_value_list=("new", "lost", "x"))
    found = differences(remote, (), sent)
    # Element by element, as DeepDiff sees two lists of the same length.
    assert [str(d) for d in found] == [
        'label: "Phase" -> "Stage"',
        'orderedValueList[1]: "won" -> "lost"',
        'orderedValueList[2]: "lost" -> "x"',
    ]
    assert found[0] == AttributeDifference("label", '"Phase"', '"Stage"')


def test_unmodelled_attributes_show_as_not_sent_nested_values_included():
    extra = (
        ("formula", '"=A1"'),
        ("hidden", "null"),
        ("settings", '{"currency": "EUR", "digits": [2, 4]}'),
    )
    sent = Field("stage", "Stage", FieldType.PICKLIST, ordered_value_list=STAGE.ordered_value_list)
    found = differences(STAGE, extra, sent)
    assert found == (
        AttributeDifference("formula", '"=A1"', None),
        AttributeDifference("settings", '{"currency": "EUR", "digits": [2, 4]}', None),
    )
    assert str(found[0]) == 'formula: "=A1" -> (not sent)'


def test_a_type_change_and_a_target_gong_reports_but_the_upload_drops():
    remote = Field("owner", "Owner", FieldType.REFERENCE, reference_to="USER")
    sent = Field("owner", "Owner", FieldType.STRING)
    assert differences(remote, (), sent) == (
        AttributeDifference("referenceTo", '"USER"', None),
        AttributeDifference("type", '"REFERENCE"', '"STRING"'),
    )


def test_a_target_gong_leaves_unknown_is_no_difference():
    remote = Field("owner", "Owner", FieldType.REFERENCE)
    sent = Field("owner", "Owner", FieldType.REFERENCE, reference_to="ACCOUNT")
    assert differences(remote, (), sent) == ()


def test_unsent_names_the_fields_whose_reported_attributes_no_upload_sends():
    remote = RemoteSchema(
        ObjectType.ACCOUNT,
        (STAGE, Field("a", "A", FieldType.STRING), Field("b", "B", FieldType.STRING)),
        extra=(
            ("b", (("formula", '"=A1"'), ("x", "1"))),
            ("a", (("hidden", "null"),)),
        ),
    )
    assert unsent(remote) == (UnsentAttributes("b", ("formula", "x")),)
    assert unsent(RemoteSchema(ObjectType.ACCOUNT, (STAGE,))) == ()


@pytest.mark.parametrize("size", [2_000])
def test_only_differing_fields_pay_for_deepdiff(size, monkeypatch):
    calls: list[int] = []
    import deepdiff

    real = deepdiff.DeepDiff

    def counting(*args, **kwargs):
        calls.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(deepdiff, "DeepDiff", counting)
    fields = [Field(f"f{n}", "L", FieldType.STRING) for n in range(size)]
    changed = [
        Field(f.unique_name, "New" if n % 100 == 0 else "L", f.type) for n, f in enumerate(fields)
    ]
    found = [differences(a, (), b) for a, b in zip(fields, changed, strict=True)]
    assert sum(bool(f) for f in found) == size // 100 == len(calls)
