"""The one wording module (engine/words.py): counts, phrases, and styles."""

from __future__ import annotations

import pytest
from factories import ACCOUNT, fld

from crmform.engine import words
from crmform.engine.formats.plan_json import plan_to_json
from crmform.engine.model import (
    Action,
    Change,
    Desired,
    DriftKind,
    FieldDrift,
    FieldType,
    ObjectSchema,
    Reason,
    State,
    Summary,
    replace,
)
from crmform.engine.planner import plan
from crmform.engine.render.escape import MARKDOWN
from crmform.engine.render.markdown import render_markdown
from crmform.engine.render.text import render_text

T = FieldType
# Every part of a phrase goes through the style: brackets show which callable made what.
MARKED = words.Style(
    name=lambda s: f"n[{s}]",
    label=lambda s: f"l[{s}]",
    value=lambda s: f"v[{s}]",
    arrow=" => ",
    join=" / ",
)


@pytest.mark.parametrize(
    ("n", "expected", "demonstrative"),
    [
        (0, "0 fields", "these 0 fields"),
        (1, "1 field", "this field"),
        (2, "2 fields", "these 2 fields"),
    ],
)
def test_counts_are_plural_aware(n, expected, demonstrative):
    assert words.count(n, "field") == expected
    assert words.these(n, "field") == demonstrative
    assert words.count(n, "object type") == expected.replace("field", "object type")


def test_summary_counts_protection_changes_only_when_there_are_some():
    assert (
        words.summary(Summary(1, 2, 0, 3)) == "1 to create, 2 to update, 0 to replace, 3 to delete"
    )
    assert words.summary(Summary(protect=1)).endswith(", 1 protection change (state only)")
    assert words.summary(Summary(protect=2)).endswith(", 2 protection changes (state only)")


def test_destroy_warning_names_how_many_fields():
    assert words.destroy_warning(1)[1] == (
        "The stored values of this field will be deleted from every record:"
    )
    assert "these 3 fields" in words.destroy_warning(3)[1]


def test_every_part_of_a_phrase_is_shown_in_the_given_style():
    before = fld("owner", T.REFERENCE, "Owner", ref="ACCOUNT")
    after = fld("owner", T.REFERENCE, "Owner now", ref="USER", protect=True)
    assert words.differences(before, after, MARKED) == [
        "label l[Owner] => l[Owner now]",
        "referenceTo n[ACCOUNT] => n[USER]",
        "protect false => true",
    ]
    assert words.kind(after, MARKED) == "n[REFERENCE] to n[USER]"
    assert words.value_list(("a", "b"), MARKED) == "v[a], v[b]"
    assert words.value_list((), MARKED) == "(none)"


def test_the_same_phrase_in_plain_and_markdown():
    before, after = fld("t", T.PICKLIST, "A|B"), fld("t", T.STRING, "C")
    assert words.differences(before, after) == ["type PICKLIST -> STRING", 'label "A|B" -> "C"']
    assert words.differences(before, after, MARKDOWN) == [
        "type `PICKLIST` → `STRING`",
        'label "A&#124;B" → "C"',
    ]


def test_named_attributes_follow_the_phrase_order_given():
    before, after = fld("a"), fld("a", T.NUMBER, "Amount")
    assert words.differences(before, after, attributes=("label",)) == ['label "A" -> "Amount"']


@pytest.mark.parametrize(
    ("action", "reason", "before", "after", "line"),
    [
        (
            Action.CREATE,
            Reason.NEW_FIELD,
            None,
            fld("a", protect=True),
            'a (STRING) "A" [protected]',
        ),
        (Action.DELETE, Reason.NOT_IN_FILES, fld("a", T.ID), None, "a (ID) (data deleted)"),
        (
            Action.REPLACE,
            Reason.TYPE_CHANGED,
            fld("a"),
            fld("a", T.ID),
            "a: type STRING -> ID (data deleted)",
        ),
        (
            Action.PROTECT,
            Reason.PROTECT_CHANGED,
            fld("a"),
            fld("a", protect=True),
            "a: protect false -> true (state only)",
        ),
        (
            Action.UPDATE,
            Reason.ATTRIBUTES_CHANGED,
            fld("a"),
            fld("a", label="B"),
            'a: label "A" -> "B"',
        ),
    ],
)
def test_the_line_for_each_action(action, reason, before, after, line):
    assert words.change(Change(ACCOUNT, "a", action, before, after, reason)) == line


def test_a_change_without_the_sides_its_reason_needs_is_a_bug():
    broken = Change(ACCOUNT, "a", Action.UPDATE, None, fld("a"), Reason.ATTRIBUTES_CHANGED)
    with pytest.raises(ValueError, match="needs before and after"):
        words.reason(broken)
    with pytest.raises(ValueError, match="needs before and after"):
        words.drift(FieldDrift(ACCOUNT, "a", DriftKind.CHANGED, fld("a"), None, ("label",)))


def test_names_with_escape_sequences_are_shown_escaped():
    hostile = FieldDrift(ACCOUNT, "x\x1b[2J", DriftKind.REMOVED, fld("x\x1b[2J"), None)
    assert words.drift(hostile) == "x\\u001b[2J (STRING): deleted in Gong"


def test_a_picklist_change_is_worded_alike_in_every_output():
    """Issue 13's case: a reorder shows the new order, the same way in the JSON reason, the
    text plan, the Markdown plan, and both drift sections."""
    before = fld("t", T.PICKLIST, values=["B", "A"])
    after = fld("t", T.PICKLIST, values=["A", "B", "Omitted"])
    the_plan = plan(
        Desired((ObjectSchema(ACCOUNT, (after,), "a.yaml"),)),
        State("l", 1, (ObjectSchema(ACCOUNT, (before,)),)),
    )
    plain = '+"Omitted", reordered to "A", "B", "Omitted"'
    marked = "+`Omitted`, reordered to `A`, `B`, `Omitted`"
    assert plan_to_json(the_plan)["changes"][0]["reason"] == f"values {plain}"
    assert f"  ~ t: values {plain}\n" in render_text(the_plan, color=False)
    assert f"| `t` | update | picklist values | {marked} |" in render_markdown(the_plan)

    changed = FieldDrift(ACCOUNT, "t", DriftKind.CHANGED, before, after, ("orderedValueList",))
    drifted = replace(the_plan, drift=(changed,))
    assert f"  ~ t: values {plain} in Gong\n" in render_text(drifted, color=False)
    assert f"| `t` | changed | values {marked} |" in render_markdown(drifted)


def test_printable_escapes_only_what_is_not_printable():
    assert words.printable("Région") == "Région"
    assert words.printable("a\u202eb\x1bc") == "a\\u202eb\\u001bc"
    assert words.printable("emoji \U0001f600 \U000e0001") == "emoji \U0001f600 \\udb40\\udc01"


def test_one_wording_for_the_may_orphan_list_and_the_digest():
    assert words.orphan_warning(1)[1] == (
        "Data may be orphaned by this change (Gong does not document the effect):"
    )
    assert words.orphan_warning(3)[1].startswith("Data may be orphaned by these 3 changes")
    assert words.consent_hint("0c1760f43536") == (
        "Approve exactly this data loss (digest 0c1760f43536) with `crmform apply "
        "--auto-approve --approve-data-loss 0c1760f43536`, or any with `--allow-destroy`."
    )


def test_orphan_detail_in_markdown_style_quotes_values_as_code():
    before = fld("tier", FieldType.PICKLIST, values=["A", "B|C"])
    after = replace(before, ordered_value_list=("A",))
    state = State("l", 1, (ObjectSchema(ACCOUNT, (before,)),))
    the_plan = plan(Desired((ObjectSchema(ACCOUNT, (after,), "a.yaml"),)), state)
    change = the_plan.changes[0]
    assert words.orphan_detail(the_plan, change).startswith('records holding "B|C" may keep')
    assert words.orphan_detail(the_plan, change, MARKDOWN).startswith(
        "records holding <code>B&#124;C</code> may keep"
    )
