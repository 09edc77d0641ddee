"""A plan as a pull-request comment: GitHub-flavoured Markdown rendered from a typed Plan.

Like render_text it is pure: the same plan gives byte-identical text, and a saved plan
(which loads back into the same Plan) shows exactly as planned.

Layout: a marker comment (CI finds and updates its earlier comment by it), a title with the
counts (and the environment, "## crmform plan for `production`: ...", when one is
selected), a CAUTION alert listing every field whose data would be deleted, then every
change that may orphan data (DataImpact.MAY_ORPHAN) and what may be orphaned, and the plan's
data-loss digest; a summary table per object type; the plan's notes (a NOTE alert); the
"Changed outside crmform" section when Gong was read for the plan; then one table per object
type (collapsed in <details> past COLLAPSE_ROWS rows). Rows
follow (address, uniqueName) order whatever the plan's order.

Size: GitHub refuses comments over 65,536 characters. The text, plus the newline the CLI
prints after it, never exceeds `max_chars`: past it the title, summary and warning are kept
whole, rows are dropped from the end (notes last of all), and a note says how many changes
and notes were left out. Only if the warning alone does not fit are its last lines replaced
by "... and N more". Table rows are made only as far as the limit reaches (fit.Rows): a
plan of 100,000 changes makes a comment's worth of rows, not 100,000.

Every string from the files (names, labels, values, reasons) is escaped for Markdown and
HTML (see escape.py), so a label like `a|b` or `<script>` cannot break the layout,
inject markup or @-mention anyone.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from itertools import groupby
from operator import attrgetter
from typing import Any

from crmform.engine import words
from crmform.engine.model import Action, Change, DataImpact, Field, FieldDrift, ObjectKey, Plan
from crmform.engine.render.escape import MARKDOWN, code, text
from crmform.engine.render.fit import (
    DEFAULT_MAX_CHARS,
    MIN_MAX_CHARS,
    Rows,
    Section,
    fit,
    fits,
    ready,
    size,
)
from crmform.engine.render.md_drift import drift_rows

__all__ = [
    "COLLAPSE_ROWS",
    "DEFAULT_MAX_CHARS",
    "MARKER",
    "MIN_MAX_CHARS",
    "render_markdown",
]

MARKER = "<!-- crmform:plan -->"
COLLAPSE_ROWS = 10

_ACTIONS = tuple(Action)
# Rows' order, and the run of one address (C-level getters: no Python frame per change).
_ORDER = attrgetter("key.address", "unique_name")
_ADDRESS = attrgetter("key.address")
_LABELS = {
    Action.CREATE: "create",
    Action.UPDATE: "update",
    Action.REPLACE: "**replace** (data deleted)",
    Action.DELETE: "**delete** (data deleted)",
    Action.PROTECT: "protect (state only)",
}
_TABLE_HEAD = ("| Field | Action | Before → After |", "| --- | --- | --- |")
# Only tables with a picklist change get the values column.
_VALUES_HEAD = (
    "| Field | Action | Before → After | Picklist values |",
    "| --- | --- | --- | --- |",
)
_DRIFT_HEAD = ("| Object type | Field | Kind | Detail |", "| --- | --- | --- | --- |")


def render_markdown(plan: Plan, *, max_chars: int = DEFAULT_MAX_CHARS) -> str:
    """The comment text, without a trailing newline; len(text) + 1 <= max_chars."""
    if max_chars < MIN_MAX_CHARS:
        raise ValueError(f"max_chars must be at least {MIN_MAX_CHARS}, not {max_chars}")
    changes = sorted(plan.changes, key=_ORDER)
    drift = None
    if plan.drift is not None:
        drift = sorted(plan.drift, key=lambda d: (d.key.address, d.unique_name, d.kind))
    # The environment in the heading (only when one is selected), as `Environment: ...` does
    # in text: a comment of the staging plan cannot be read as production's.
    target = f" for {code(plan.environment)}" if plan.environment else ""
    counts = words.summary(plan.summary) if changes else "no changes"
    title = [MARKER, f"## crmform plan{target}: {counts}"]
    groups = _by_key(changes)
    summary = _summary(plan, groups, drift)
    impacts = [plan.impact(c) for c in changes]
    destroys = [c for c, i in zip(changes, impacts, strict=True) if i is DataImpact.DESTROYS]
    orphans = [c for c, i in zip(changes, impacts, strict=True) if i is DataImpact.MAY_ORPHAN]
    # Asked once (it goes over every change's impact again), and only when data is affected.
    digest = plan.data_loss_digest if destroys or orphans else None
    sections = [_notes_section(plan)] if plan.notes else []
    sections += [_drift_section(drift, changes)] if drift else []
    sections += _change_sections(groups)
    warning = _warning(plan, digest, destroys, orphans, None)
    fixed = [*title, *warning, *summary]
    # Rows are made only while they fit: a plan far over the limit makes a limit's worth.
    if fits(sections, max_chars - size(fixed)):
        return "\n".join([*fixed, *(line for s in sections for line in s.lines())])
    # Over the limit: title, summary and warning stay whole (the warning is cut only if
    # it alone does not fit); rows are dropped from the end.
    warning, body = fit(
        lambda shown: _warning(plan, digest, destroys, orphans, shown),
        len(destroys) + len(orphans),
        sections,
        max_chars - size(title) - size(summary),
        lambda changes, drift, notes: _note(changes, drift, notes, max_chars),
        (len(changes), len(drift or ()), len(plan.notes)),
    )
    return "\n".join([*title, *warning, *summary, *body])


def _note(changes_left: int, drift_left: int, notes_left: int, limit: int) -> list[str]:
    left = []
    if changes_left:
        left.append(words.count(changes_left, "change"))
    if drift_left:
        left.append(f"{words.count(drift_left, 'difference')} made outside crmform")
    if notes_left:
        left.append(words.count(notes_left, "note"))
    not_shown = f": {' and '.join(left)} not shown here" if left else ""
    return [
        "",
        "> [!NOTE]",
        f"> Shortened to fit {limit:,} characters{not_shown}. "
        "The JSON plan (`crmform show PLANFILE --format json`) has every change.",
    ]


# --- the fixed part: title, summary, warning ---------------------------------------------


def _summary(
    plan: Plan, groups: Sequence[tuple[ObjectKey, list[Change]]], drift: Sequence[FieldDrift] | None
) -> list[str]:
    lineage, serial = plan.state_lineage, plan.state_serial
    against = f"state serial {serial}"
    if lineage:
        against += f" (lineage {code(lineage)})."
    elif not serial:
        against = "an empty state (nothing applied yet)."
    else:
        against += "."
    if drift is not None:
        found = "see below" if drift else "nothing changed outside crmform"
        against += f" Gong was read for this plan: {found}."
    if not groups:
        return ["", f"The schema files match the state. Planned against {against}"]
    lines = [
        "",
        "| Object type | Create | Update | Replace | Delete | Protect |",
        "| --- |" + " ---: |" * len(_ACTIONS),
    ]
    for key, group in groups:
        actions = Counter(c.action for c in group)
        counts = [actions[a] for a in _ACTIONS]
        lines.append(f"| {code(key.address)} | " + " | ".join(map(str, counts)) + " |")
    return [*lines, "", f"Planned against {against}"]


def _warning(
    plan: Plan,
    digest: str | None,
    destroys: Sequence[Change],
    orphans: Sequence[Change],
    shown: int | None,
) -> list[str]:
    """The CAUTION alert: the fields whose data is deleted, the changes that may orphan
    data, and the digest to approve exactly them (the plan's data_loss_digest); with
    `shown`, only that many items in all (deletes first) and a line for the rest of each
    list."""
    if digest is None:
        return []
    left = len(destroys) + len(orphans) if shown is None else shown
    listed_destroys = destroys[:left]
    listed_orphans = orphans[: left - len(listed_destroys)]
    if destroys:
        headline, lead = words.destroy_warning(len(destroys))
    else:
        headline, lead = words.orphan_warning(len(orphans))
    lines = ["", "> [!CAUTION]", f"> **{headline}**"]
    hint = f"> {words.consent_hint(digest)}"
    if shown == 0:  # the size limit left no room for items: one line counts them all
        return [*lines, _more_line(len(destroys) + len(orphans)), ">", hint]
    if destroys:
        lines += [f"> {lead}", ">", *(_warning_item(c) for c in listed_destroys)]
        if len(listed_destroys) < len(destroys):
            lines.append(_more_line(len(destroys) - len(listed_destroys)))
        lines.append(">")
    if orphans:
        lines += [f"> {text(words.orphan_warning(len(orphans))[1])}", ">"]
        lines += [_orphan_item(plan, c) for c in listed_orphans]
        if len(listed_orphans) < len(orphans):
            lines.append(_more_line(len(orphans) - len(listed_orphans)))
        lines.append(">")
    return [*lines, hint]


def _warning_item(change: Change) -> str:
    return (
        f"> - {code(change.key.address)} {code(change.unique_name)}: "
        f"**{change.action}** ({words.reason(change, MARKDOWN)})"
    )


def _orphan_item(plan: Plan, change: Change) -> str:
    return (
        f"> - {code(change.key.address)} {code(change.unique_name)}: "
        f"{words.orphan_detail(plan, change, MARKDOWN)}"
    )


def _more_line(count: int) -> str:
    return f"> - … and {count} more, not listed to fit the size limit (see the JSON plan)."


# --- the details: one table per object type, and drift ---------------------------------


def _by_key(changes: Sequence[Change]) -> list[tuple[ObjectKey, list[Change]]]:
    """The changes (sorted by address) in a run per address. By the address string: a
    dict of ObjectKeys would hash each change's key in Python (ObjectKey.__hash__)."""
    runs = groupby(changes, key=_ADDRESS)
    return [(group[0].key, group) for group in (list(run) for _, run in runs)]


def _notes_section(plan: Plan) -> Section:
    # First of the sections: when rows must go for size, change rows go before notes.
    rows = Rows(plan.notes, lambda n: f"> - {text(words.note(n))}")
    return Section(("", "> [!NOTE]"), rows, (), 2, "notes")


def _change_sections(groups: Sequence[tuple[ObjectKey, list[Change]]]) -> list[Section]:
    sections = []
    for key, group in groups:
        with_values = any(map(_has_values, group))
        head = _VALUES_HEAD if with_values else _TABLE_HEAD
        rows = Rows(group, _row_with_values if with_values else _row)
        noun = words.count(len(rows), "change")
        sections.append(
            _section(f"### {code(key.address)}: {noun}", noun, rows, head, is_drift=False)
        )
    return sections


def _drift_section(items: Sequence[FieldDrift], changes: Sequence[Change]) -> Section:
    noun = words.count(len(items), "difference")
    heading = (
        "### Changed outside crmform\n\n"
        f"Gong differs from what crmform last applied ({noun}). Review these before applying."
    )
    rows = ready(drift_rows(items, changes))
    return _section(heading, noun, rows, _DRIFT_HEAD, is_drift=True)


def _section(
    heading: str, noun: str, rows: Rows[Any], head: tuple[str, ...], *, is_drift: bool
) -> Section:
    counter, plural = (1, "differences") if is_drift else (0, "changes")
    if len(rows) > COLLAPSE_ROWS:
        # Blank lines around the table let GitHub render Markdown inside the HTML block.
        opening = ("", heading, "", f"<details><summary>Show {noun}</summary>", "", *head)
        return Section(opening, rows, ("", "</details>"), counter, plural)
    return Section(("", heading, "", *head), rows, (), counter, plural)


def _row(change: Change) -> str:
    return f"| {code(change.unique_name)} | {_LABELS[change.action]} | {_before_after(change)} |"


def _row_with_values(change: Change) -> str:
    return f"{_row(change)} {_values(change)} |"


def _before_after(change: Change) -> str:
    before, after = change.before, change.after
    if before is None and after is not None:
        return f"new {_describe(after)}"
    if after is None and before is not None:
        return f"{_describe(before)} → deleted"
    if before is None or after is None:  # every change has a side
        raise ValueError(f"a {change.action} change needs a before or an after")
    # The values have a column of their own.
    shown = [a for a in words.changed_attributes(before, after) if a != "orderedValueList"]
    if shown:
        return MARKDOWN.join.join(words.differences(before, after, MARKDOWN, shown))
    return "picklist values" if change.action is Action.UPDATE else words.reason(change, MARKDOWN)


def _describe(field: Field) -> str:
    protected = " (protected)" if field.protect else ""
    return f"{words.kind(field, MARKDOWN)} {MARKDOWN.label(field.label)}{protected}"


def _values_changed(change: Change) -> bool:
    before, after = change.before, change.after
    return (
        change.action is Action.UPDATE
        and before is not None
        and after is not None
        and before.ordered_value_list != after.ordered_value_list
    )


def _shows_values(change: Change) -> bool:
    after = change.after
    return (
        change.action in (Action.CREATE, Action.REPLACE)
        and after is not None
        and after.ordered_value_list is not None
    )


def _has_values(change: Change) -> bool:
    """Whether the change fills the values column (what _values says is never empty)."""
    return _values_changed(change) or _shows_values(change)


def _values(change: Change) -> str:
    before, after = change.before, change.after
    if _values_changed(change) and before is not None and after is not None:
        return words.values(before.ordered_value_list, after.ordered_value_list, MARKDOWN)
    if _shows_values(change) and after is not None and after.ordered_value_list is not None:
        return words.value_list(after.ordered_value_list, MARKDOWN)
    return ""
