"""The Markdown plan (a pull-request comment): golden files, escaping, size limit, drift.

Golden files are tests/golden/plan_*.md; regenerate deliberately with

    CRMFORM_UPDATE_GOLDEN=1 .venv/bin/python -m pytest tests/test_render_markdown.py

and review `git diff tests/golden`.
"""

from __future__ import annotations

import json
import os
import random
import re
from pathlib import Path

import pytest
from factories import ACCOUNT, CONTACT, fld
from hypothesis import given, settings
from hypothesis import strategies as st
from strategies import desired_and_state
from test_render import T, destroy_plan, empty_plan, mixed_plan, protect_plan

from crmform.engine.errors import ProtectedFieldError
from crmform.engine.formats.plan_json import plan_to_json
from crmform.engine.model import Desired, Field, ObjectKey, ObjectSchema, ObjectType, State
from crmform.engine.planner import plan
from crmform.engine.render.markdown import MARKER, MIN_MAX_CHARS, render_markdown

GOLDEN = Path(__file__).parent / "golden"
UPDATE = os.environ.get("CRMFORM_UPDATE_GOLDEN") == "1"


def check_golden(name: str, actual: str) -> None:
    path = GOLDEN / name
    if UPDATE:
        path.write_text(actual, encoding="utf-8")
    assert path.is_file(), f"{path} is missing; run with CRMFORM_UPDATE_GOLDEN=1 to create it"
    assert actual == path.read_text(encoding="utf-8")


def big_plan(creates: int = 1500, deletes: int = 400) -> dict:
    """Many changes over two object types, `deletes` of them destroying data."""
    state = State(
        "big", 7, (ObjectSchema(ACCOUNT, tuple(fld(f"old{i:04}") for i in range(deletes))),)
    )
    wanted = tuple(fld(f"new{i:04}", label=f"Field number {i}") for i in range(creates))
    desired = Desired(
        (
            ObjectSchema(ACCOUNT, wanted[: creates // 2]),
            ObjectSchema(CONTACT, wanted[creates // 2 :]),
        )
    )
    return plan_to_json(plan(desired, state))


def drift_doc() -> dict:
    """The mixed plan as made with --refresh: three drift items in the JSON contract's shape."""
    doc = plan_to_json(mixed_plan())
    account = "gong/6286478263646/ACCOUNT"
    doc["drift"] = [
        {
            "address": account,
            "uniqueName": "tier",
            "kind": "changed",
            "attributes": ["label", "orderedValueList"],
            "before": {
                "uniqueName": "tier",
                "label": "Tier",
                "type": "PICKLIST",
                "orderedValueList": ["Bronze", "Silver"],
                "protect": False,
            },
            "after": {
                "uniqueName": "tier",
                "label": "Tier (old)",
                "type": "PICKLIST",
                "orderedValueList": ["Bronze", "Silver", "Gold"],
            },
        },
        {
            "address": account,
            "uniqueName": "legacyId",
            "kind": "added",
            "attributes": [],
            "before": None,
            "after": {"uniqueName": "legacyId", "label": "Legacy ID", "type": "ID"},
        },
        {
            "address": account,
            "uniqueName": "industry",
            "kind": "removed",
            "attributes": [],
            "before": {
                "uniqueName": "industry",
                "label": "Industry",
                "type": "STRING",
                "protect": False,
            },
            "after": None,
        },
    ]
    return doc


def md(doc: dict, **kwargs: int) -> str:
    return render_markdown(doc, **kwargs)


def assert_tables_well_formed(text: str) -> None:
    """Every row of a table has as many cell separators as its header."""
    pipes = None
    for line in text.split("\n"):
        if line.startswith("|"):
            pipes = pipes if pipes is not None else line.count("|")
            assert line.count("|") == pipes, line
            assert line.endswith("|"), line
        else:
            pipes = None


PLANS = {"mixed": mixed_plan, "destroy": destroy_plan, "empty": empty_plan, "protect": protect_plan}


@pytest.mark.parametrize("name", sorted(PLANS))
def test_markdown_matches_golden_file(name):
    check_golden(f"plan_{name}.md", md(plan_to_json(PLANS[name]())) + "\n")


def test_markdown_with_drift_matches_golden_file():
    check_golden("plan_drift.md", md(drift_doc()) + "\n")


def test_truncated_markdown_matches_golden_file():
    check_golden("plan_truncated.md", md(big_plan(30, 3), max_chars=3000) + "\n")


def test_title_has_the_counts_and_the_marker_comes_first():
    lines = md(plan_to_json(mixed_plan())).split("\n")
    assert lines[0] == MARKER
    assert lines[1] == (
        "## crmform plan: 3 to create, 3 to update, 1 to replace, 1 to delete, "
        "1 protection change (state only)"
    )


def test_caution_comes_first_and_lists_every_field_that_loses_data():
    text = md(plan_to_json(destroy_plan()))
    caution = text.index("> [!CAUTION]")
    assert caution < text.index("| Object type |") < text.index("### ")
    block = text[caution : text.index("| Object type |")]
    assert "> The stored values of these 2 fields will be deleted from every record:" in block
    assert (
        "> - `gong/6286478263646/ACCOUNT` `amount`: **replace** (type STRING -&gt; NUMBER)" in block
    )
    assert "> - `gong/6286478263646/DEAL` `stageNote`: **delete** (object file removed)" in block
    assert "`keep`" not in block


def test_no_caution_without_data_loss():
    text = md(plan_to_json(protect_plan()))
    assert "[!CAUTION]" not in text
    assert "| `a` | protect (state only) | protect false → true |\n" in text
    assert "Picklist values" not in text  # no picklist changes: no such column


def test_rows_show_before_and_after_and_picklist_values():
    text = md(plan_to_json(mixed_plan()))
    assert (
        '| `tier` | update | label "Tier" → "Tier level" | added `Gold`<br>removed `Bronze` |'
        in text
    )
    assert "| `category` | **replace** (data deleted) | type `PICKLIST` → `STRING` |  |" in text
    assert '| `segment` | create | new `PICKLIST` "Segment" | `SMB`, `Enterprise` |' in text
    assert "| `owner` | update | referenceTo `ACCOUNT` → `USER`<br>protect false → true |" in text


def test_reordered_picklist_says_so():
    state = State("l", 1, (ObjectSchema(ACCOUNT, (fld("t", T.PICKLIST, values=["A", "B"]),)),))
    desired = Desired((ObjectSchema(ACCOUNT, (fld("t", T.PICKLIST, values=["B", "A"]),)),))
    text = md(plan_to_json(plan(desired, state)))
    assert "| `t` | update | picklist values | reordered |" in text


def test_same_document_in_any_order_gives_identical_text():
    doc = plan_to_json(mixed_plan())
    shuffled = json.loads(json.dumps(doc))
    random.Random(5).shuffle(shuffled["changes"])
    assert shuffled["changes"] != doc["changes"]
    assert md(shuffled) == md(doc) == md(json.loads(json.dumps(doc)))


HOSTILE = (
    Field("pipe", "a|b", T.STRING),
    Field("html", "<script>alert(1)</script>", T.STRING),
    Field("ticks", "``x` *bold* _it_ [link](http://e.x) ~~s~~ $x$", T.STRING),
    Field("mention", "ask @octo-org/admins", T.STRING),
    Field("newline", "two\nlines\x1b[31m", T.STRING),
    Field("we|ird`<b>", "name", T.PICKLIST, ordered_value_list=("x|y", "<i>", "`", "@me")),
)


def test_markdown_and_html_in_user_strings_are_inert():
    text = md(plan_to_json(plan(Desired((ObjectSchema(ACCOUNT, HOSTILE, "a.yaml"),)), State())))
    assert_tables_well_formed(text)
    rows = {line.split(" | ")[0]: line for line in text.split("\n") if line.startswith("| ")}
    assert rows["| `pipe`"] == '| `pipe` | create | new `STRING` "a&#124;b" |  |'
    assert rows["| `html`"].endswith('"&lt;script&gt;alert(1)&lt;/script&gt;" |  |')
    assert rows["| `ticks`"] == (
        '| `ticks` | create | new `STRING` "&#96;&#96;x&#96; &#42;bold&#42; &#95;it&#95; '
        '&#91;link&#93;(http://e.x) &#126;&#126;s&#126;&#126; &#36;x&#36;" |  |'
    )
    assert "ask @&#8203;octo-org/admins" in rows["| `mention`"]
    assert '"two\\nlines\\u001b&#91;31m"' in rows["| `newline`"].replace("&#92;", "\\")
    assert rows["| <code>we&#124;ird&#96;&lt;b&gt;</code>"].endswith(
        "| <code>x&#124;y</code>, <code>&lt;i&gt;</code>, <code>&#96;</code>, "
        "<code>@&#8203;me</code> |"
    )
    # Nothing a renderer would take as markup survives anywhere in the text.
    for raw in ("<script", "<b>", "<i>", "@octo", "@me", "\x1b", "*bold*", "$x$"):
        assert raw not in text


def test_long_sections_collapse_and_short_ones_do_not():
    text = md(big_plan(30, 3))
    assert "<details><summary>Show 15 changes</summary>" in text
    assert text.count("<details>") == text.count("</details>") == 2
    short = md(plan_to_json(mixed_plan()))
    assert "<details>" not in short


def test_huge_plan_fits_the_limit_and_still_warns_about_every_field():
    doc = big_plan()
    full = md(doc, max_chars=10**7)
    assert len(full) > 60_000
    text = md(doc)
    assert len(text) + 1 <= 60_000
    assert_tables_well_formed(text)
    for i in range(400):
        assert f"> - `gong/6286478263646/ACCOUNT` `old{i:04}`: **delete**" in text
    rows = sum(
        1 for line in text.split("\n") if line.startswith("| `new") or line.startswith("| `old")
    )
    left = 1900 - rows
    assert 0 < left < 1900
    assert f"characters: {left} changes not shown here." in text
    assert text.count("<details>") == text.count("</details>")


def test_when_the_warning_alone_is_too_long_it_lists_what_fits_and_counts_the_rest():
    doc = big_plan(creates=5, deletes=300)
    text = md(doc, max_chars=4000)
    assert len(text) + 1 <= 4000
    listed = len(re.findall(r"^> - `gong/\S+` `old\d+`: \*\*delete\*\*", text, flags=re.M))
    more = re.search(r"^> - … and (\d+) more, not listed to fit the size limit", text, flags=re.M)
    assert more is not None
    assert listed > 10
    assert listed + int(more.group(1)) == 300
    assert "> The stored values of these 300 fields will be deleted from every record:" in text
    assert "characters: 305 changes not shown here." in text


@settings(max_examples=60, deadline=None)
@given(desired_and_state(), st.integers(MIN_MAX_CHARS, 6000))
def test_any_plan_fits_any_limit_and_names_or_counts_every_destroyed_field(case, limit):
    desired, state = case
    try:
        doc = plan_to_json(plan(desired, state))
    except ProtectedFieldError:  # pragma: no cover - strategies make no protected fields
        return
    text = md(doc, max_chars=limit)
    assert len(text) + 1 <= limit
    assert_tables_well_formed(text)
    destroyed = [c for c in doc["changes"] if c["destroysData"]]
    listed = sum(1 for c in destroyed if f"`{c['address']}` `{c['uniqueName']}`:" in text)
    more = re.search(r"… and (\d+) more, not listed", text)
    assert listed + (int(more.group(1)) if more else 0) == len(destroyed)


def test_limit_below_the_minimum_is_refused():
    with pytest.raises(ValueError, match="max_chars must be at least 1000, not 999"):
        md(plan_to_json(mixed_plan()), max_chars=999)


def test_drift_section_shows_what_changed_outside_crmform_and_flags_deletes():
    text = md(drift_doc())
    assert "### Changed outside crmform" in text
    assert text.index("### Changed outside crmform") < text.index("### `gong/")
    assert (
        '| `gong/6286478263646/ACCOUNT` | `legacyId` | added | added in Gong: `ID` "Legacy ID"; '
        "**not in the schema files: this plan deletes it and its data** |"
    ) in text
    assert '| `tier` | changed | label "Tier" → "Tier (old)"<br>values added `Gold` |' in text
    assert "Gong was read for this plan: see below." in text


def test_no_drift_key_means_no_section_and_an_empty_list_says_nothing_changed():
    doc = plan_to_json(mixed_plan())
    assert "outside crmform" not in md(doc)
    doc["drift"] = []
    text = md(doc)
    assert "### Changed outside crmform" not in text
    assert "Gong was read for this plan: nothing changed outside crmform." in text


def test_odd_drift_entries_still_render_a_row_each():
    doc = plan_to_json(empty_plan())
    doc["drift"] = [{"kind": "changed"}, "a bare string", {"address": "x", "detail": "a|b"}]
    text = md(doc)
    assert_tables_well_formed(text)
    assert "| *(empty)* | *(empty)* |  | a bare string |" in text
    assert "| `x` | *(empty)* |  | a&#124;b |" in text
    assert "| *(empty)* | *(empty)* | changed | changed in Gong |" in text


def test_big_integration_ids_render_exactly():
    key = ObjectKey("gong", 2271307570613351879, ObjectType.LEAD)
    p = plan(Desired((ObjectSchema(key, (fld("score", T.NUMBER),)),)), State())
    assert "| `gong/2271307570613351879/LEAD` | 1 | 0 | 0 | 0 | 0 |" in md(plan_to_json(p))
