"""The Markdown plan (a pull-request comment): golden files, escaping, size limit, drift.

Golden files are tests/golden/plan_*.md; regenerate deliberately with

    CRMFORM_UPDATE_GOLDEN=1 .venv/bin/python -m pytest tests/test_render_markdown.py

and review `git diff tests/golden`.
"""

from __future__ import annotations

import os
import random
import re
from pathlib import Path

import pytest
from factories import ACCOUNT, CONTACT, fld
from hypothesis import given, settings
from hypothesis import strategies as st
from strategies import desired_and_state
from test_render import T, destroy_plan, empty_plan, mixed_plan, orphan_plan, protect_plan

from crmform.engine.errors import ProtectedFieldError
from crmform.engine.formats import planfile
from crmform.engine.model import (
    DeletedField,
    Desired,
    DriftKind,
    Field,
    FieldDrift,
    FieldType,
    ObjectKey,
    ObjectSchema,
    ObjectType,
    Plan,
    State,
    replace,
)
from crmform.engine.planner import plan
from crmform.engine.render.markdown import MARKER, MIN_MAX_CHARS, render_markdown

GOLDEN = Path(__file__).parent / "golden"
GONE = DeletedField(ACCOUNT, "region", FieldType.STRING, "2025-02-01T09:00:00Z")
UPDATE = os.environ.get("CRMFORM_UPDATE_GOLDEN") == "1"


def check_golden(name: str, actual: str) -> None:
    path = GOLDEN / name
    if UPDATE:
        path.write_text(actual, encoding="utf-8")
    assert path.is_file(), f"{path} is missing; run with CRMFORM_UPDATE_GOLDEN=1 to create it"
    assert actual == path.read_text(encoding="utf-8")


def big_plan(creates: int = 1500, deletes: int = 400) -> Plan:
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
    return plan(desired, state)


def drift_plan() -> Plan:
    """The mixed plan as made with --refresh: three drift items, out of order."""
    tier = fld("tier", T.PICKLIST, values=["Bronze", "Silver"])
    drift = (
        FieldDrift(
            ACCOUNT,
            "tier",
            DriftKind.CHANGED,
            tier,
            replace(tier, label="Tier (old)", ordered_value_list=("Bronze", "Silver", "Gold")),
            ("label", "orderedValueList"),
        ),
        FieldDrift(ACCOUNT, "legacyId", DriftKind.ADDED, None, fld("legacyId", T.ID, "Legacy ID")),
        FieldDrift(ACCOUNT, "industry", DriftKind.REMOVED, fld("industry", label="Industry"), None),
    )
    return replace(mixed_plan(), drift=drift)


def md(the_plan: Plan, **kwargs: int) -> str:
    return render_markdown(the_plan, **kwargs)


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


PLANS = {
    "mixed": mixed_plan,
    "destroy": destroy_plan,
    "empty": empty_plan,
    "protect": protect_plan,
    "orphan": orphan_plan,
}


@pytest.mark.parametrize("name", sorted(PLANS))
def test_markdown_matches_golden_file(name):
    check_golden(f"plan_{name}.md", md(PLANS[name]()) + "\n")


def test_markdown_with_drift_matches_golden_file():
    check_golden("plan_drift.md", md(drift_plan()) + "\n")


def test_truncated_markdown_matches_golden_file():
    check_golden("plan_truncated.md", md(big_plan(30, 3), max_chars=3000) + "\n")


def test_title_has_the_counts_and_the_marker_comes_first():
    lines = md(mixed_plan()).split("\n")
    assert lines[0] == MARKER
    assert lines[1] == (
        "## crmform plan: 3 to create, 3 to update, 1 to replace, 1 to delete, "
        "1 protection change (state only)"
    )


def test_caution_comes_first_and_lists_every_field_that_loses_data():
    text = md(destroy_plan())
    caution = text.index("> [!CAUTION]")
    assert caution < text.index("| Object type |") < text.index("### ")
    block = text[caution : text.index("| Object type |")]
    assert "> The stored values of these 2 fields will be deleted from every record:" in block
    assert (
        "> - `gong/6286478263646/ACCOUNT` `amount`: **replace** (type `STRING` → `NUMBER`)" in block
    )
    assert "> - `gong/6286478263646/DEAL` `stageNote`: **delete** (object file removed)" in block
    assert "`keep`" not in block


def test_no_caution_without_data_loss():
    text = md(protect_plan())
    assert "[!CAUTION]" not in text
    assert "| `a` | protect (state only) | protect false → true |\n" in text
    assert "Picklist values" not in text  # no picklist changes: no such column


def test_rows_show_before_and_after_and_picklist_values():
    text = md(mixed_plan())
    assert '| `tier` | update | label "Tier" → "Tier level" | +`Gold` -`Bronze` |' in text
    assert "| `category` | **replace** (data deleted) | type `PICKLIST` → `STRING` |  |" in text
    assert '| `segment` | create | new `PICKLIST` "Segment" | `SMB`, `Enterprise` |' in text
    assert "| `owner` | update | referenceTo `ACCOUNT` → `USER`<br>protect false → true |" in text


def test_reordered_picklist_shows_the_new_order():
    state = State("l", 1, (ObjectSchema(ACCOUNT, (fld("t", T.PICKLIST, values=["A", "B"]),)),))
    desired = Desired((ObjectSchema(ACCOUNT, (fld("t", T.PICKLIST, values=["B", "A"]),)),))
    text = md(plan(desired, state))
    assert "| `t` | update | picklist values | reordered to `B`, `A` |" in text
    desired = Desired((ObjectSchema(ACCOUNT, (fld("t", T.PICKLIST, values=["B", "A", "C"]),)),))
    text = md(plan(desired, state))
    assert "| `t` | update | picklist values | +`C`, reordered to `B`, `A`, `C` |" in text


def test_same_plan_in_any_order_gives_identical_text():
    planned = mixed_plan()
    changes = list(planned.changes)
    random.Random(5).shuffle(changes)
    shuffled = replace(planned, changes=tuple(changes))
    assert shuffled.changes != planned.changes
    saved = planfile.loads(planfile.dumps(planned), "p.plan")
    assert md(shuffled) == md(planned) == md(saved)


HOSTILE = (
    Field("pipe", "a|b", T.STRING),
    Field("html", "<script>alert(1)</script>", T.STRING),
    Field("ticks", "``x` *bold* _it_ [link](http://e.x) ~~s~~ $x$", T.STRING),
    Field("mention", "ask @octo-org/admins", T.STRING),
    Field("newline", "two\nlines\x1b[31m", T.STRING),
    Field("we|ird`<b>", "name", T.PICKLIST, ordered_value_list=("x|y", "<i>", "`", "@me")),
)


def test_markdown_and_html_in_user_strings_are_inert():
    text = md(plan(Desired((ObjectSchema(ACCOUNT, HOSTILE, "a.yaml"),)), State()))
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
    short = md(mixed_plan())
    assert "<details>" not in short


def test_huge_plan_fits_the_limit_and_still_warns_about_every_field():
    big = big_plan()
    full = md(big, max_chars=10**7)
    assert len(full) > 60_000
    text = md(big)
    assert len(text) + 1 <= 60_000
    assert_tables_well_formed(text)
    for i in range(400):
        assert f"> - `gong/6286478263646/ACCOUNT` `old{i:04}`: **delete**" in text
    rows = sum(
        1 for line in text.split("\n") if line.startswith("| `new") or line.startswith("| `old")
    )
    left = 1900 - rows
    assert 0 < left < 1900
    assert f"characters: {left:,} changes not shown here." in text
    assert text.count("<details>") == text.count("</details>")


def test_when_the_warning_alone_is_too_long_it_lists_what_fits_and_counts_the_rest():
    text = md(big_plan(creates=5, deletes=300), max_chars=4000)
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
def test_any_plan_fits_any_limit_and_names_or_counts_every_data_affecting_field(case, limit):
    desired, state = case
    try:
        the_plan = plan(desired, state)
    except ProtectedFieldError:  # pragma: no cover - strategies make no protected fields
        return
    text = md(the_plan, max_chars=limit)
    assert len(text) + 1 <= limit
    assert_tables_well_formed(text)
    affected = the_plan.data_affecting
    listed = sum(1 for c in affected if f"`{c.key.address}` `{c.unique_name}`:" in text)
    more = sum(int(n) for n in re.findall(r"… and (\d+) more, not listed", text))
    assert listed + more == len(affected)


def test_limit_below_the_minimum_is_refused():
    with pytest.raises(ValueError, match="max_chars must be at least 1000, not 999"):
        md(mixed_plan(), max_chars=999)


def test_drift_section_shows_what_changed_outside_crmform_and_flags_deletes():
    text = md(drift_plan())
    assert "### Changed outside crmform" in text
    assert text.index("### Changed outside crmform") < text.index("### `gong/")
    assert (
        '| `gong/6286478263646/ACCOUNT` | `legacyId` | added | added in Gong: `ID` "Legacy ID"; '
        "**not in the schema files, so this plan deletes it and its data; add it to the files "
        "to keep it** |"
    ) in text
    assert '| `tier` | changed | label "Tier" → "Tier (old)"<br>values +`Gold` |' in text
    assert "Gong was read for this plan: see below." in text


def test_no_drift_key_means_no_section_and_an_empty_list_says_nothing_changed():
    planned = mixed_plan()
    assert "outside crmform" not in md(planned)
    text = md(replace(planned, drift=()))
    assert "### Changed outside crmform" not in text
    assert "Gong was read for this plan: nothing changed outside crmform." in text


def test_big_integration_ids_render_exactly():
    key = ObjectKey("gong", 2271307570613351879, ObjectType.LEAD)
    p = plan(Desired((ObjectSchema(key, (fld("score", T.NUMBER),)),)), State())
    assert "| `gong/2271307570613351879/LEAD` | 1 | 0 | 0 | 0 | 0 |" in md(p)


def test_caution_lists_may_orphan_changes_apart_with_what_may_be_lost_and_the_digest():
    the_plan = mixed_plan()
    text = md(the_plan)
    caution = text[text.index("> [!CAUTION]") : text.index("| Object type |")]
    assert caution.index("**delete**") < caution.index("Data may be orphaned by these 2 changes")
    assert (
        "> - `gong/6286478263646/ACCOUNT` `tier`: records holding `Bronze` may keep values the "
        "field no longer lists"
    ) in caution
    assert (
        "> - `gong/6286478263646/CONTACT` `owner`: references to `ACCOUNT` may no longer "
        "resolve (referenceTo → `USER`)"
    ) in caution
    digest = the_plan.data_loss_digest
    assert f"--approve-data-loss {digest}`, or any with `--allow-destroy`." in caution


def test_plan_notes_are_a_note_alert():
    state = State("l", 1, (ObjectSchema(ACCOUNT, (fld("phoneOld", label="Phone"),)),))
    desired = Desired((ObjectSchema(ACCOUNT, (fld("phone", label="Phone"),), "a.yaml"),))
    text = md(plan(desired, state))
    at = text.index("> [!NOTE]\n> - gong/6286478263646/ACCOUNT: phoneOld is deleted and phone")
    assert text.index("Planned against") < at < text.index("### `gong/")


def test_size_fitting_keeps_the_whole_warning_with_may_orphan_changes_and_keeps_notes_first():
    tiers = [fld(f"tier{i:03}", T.PICKLIST, values=["A", "B"]) for i in range(30)]
    news = [fld(f"new{i:04}", label=f"Field number {i}") for i in range(300)]
    state = State("l", 1, (ObjectSchema(ACCOUNT, tuple(tiers)),), deleted=(GONE,))
    kept = [replace(t, ordered_value_list=("A",)) for t in tiers]
    desired = Desired((ObjectSchema(ACCOUNT, (*kept, *news, fld("region")), "a.yaml"),))
    the_plan = plan(desired, state)
    text = md(the_plan, max_chars=20_000)
    assert len(text) + 1 <= 20_000
    assert "not listed to fit" not in text
    for t in tiers:
        assert f"> - `gong/6286478263646/ACCOUNT` `{t.unique_name}`: records holding `B`" in text
    assert "> [!NOTE]\n> - gong/6286478263646/ACCOUNT region: crmform deleted" in text
    assert "changes not shown here" in text


def test_notes_left_out_for_size_are_counted():
    ledger = tuple(
        DeletedField(ACCOUNT, f"f{i:02}", T.STRING, "2025-01-01T00:00:00Z") for i in range(40)
    )
    state = State("l", 1, (), deleted=ledger)
    desired = Desired((ObjectSchema(ACCOUNT, tuple(fld(d.unique_name) for d in ledger), "a.yaml"),))
    text = md(plan(desired, state), max_chars=3_000)
    assert len(text) + 1 <= 3_000
    shown = text.count("crmform deleted a STRING field of this name")
    assert 0 < shown < 40
    assert f"*{40 - shown} of these 40 notes are not shown here (size limit).*" in text
    assert f"{40 - shown} notes not shown here" in text


def test_bidirectional_overrides_are_escaped_in_markdown():
    hostile = Field("evil\u202etxt", "Label\u202egnp", T.STRING)
    text = md(plan(Desired((ObjectSchema(ACCOUNT, (hostile,), "a.yaml"),)), State()))
    assert "\u202e" not in text
    assert "evil&#92;u202etxt" in text
