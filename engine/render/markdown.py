"""A plan as a pull-request comment: GitHub-flavoured Markdown rendered from the plan JSON.

Like render_text, it renders the JSON document (engine/render.py), so a saved plan shows
exactly as planned, and it is pure: the same document gives byte-identical text.

Layout: a marker comment (CI finds and updates its earlier comment by it), a title with the
counts, a CAUTION alert listing every field whose data would be deleted, a summary table
per object type, the "Changed outside crmform" section when the document has a "drift"
list, then one table per object type (collapsed in <details> past COLLAPSE_ROWS rows).
Rows follow (address, uniqueName) order whatever the document's order.

Size: GitHub refuses comments over 65,536 characters. The text, plus the newline the CLI
prints after it, never exceeds `max_chars`: past it the title, summary and warning are kept
whole, rows are dropped from the end, and a note says how many changes were left out. Only
if the warning alone does not fit are its last lines replaced by "... and N more".

Every string from the files (names, labels, values, reasons) is escaped for Markdown and
HTML (see md_escape), so a label like `a|b` or `<script>` cannot break the layout,
inject markup or @-mention anyone.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from crmform.engine.render.escape import code, text
from crmform.engine.render.fit import DEFAULT_MAX_CHARS, MIN_MAX_CHARS, Section, fit, size
from crmform.engine.render.md_drift import drift_items, drift_rows

__all__ = [
    "COLLAPSE_ROWS",
    "DEFAULT_MAX_CHARS",
    "MARKER",
    "MIN_MAX_CHARS",
    "render_markdown",
]

MARKER = "<!-- crmform:plan -->"
COLLAPSE_ROWS = 10

_ACTIONS = ("create", "update", "replace", "delete", "protect")
_LABELS = {
    "create": "create",
    "update": "update",
    "replace": "**replace** (data deleted)",
    "delete": "**delete** (data deleted)",
    "protect": "protect (state only)",
}
_TABLE_HEAD = ("| Field | Action | Before → After |", "| --- | --- | --- |")
# Only tables with a picklist change get the values column.
_VALUES_HEAD = (
    "| Field | Action | Before → After | Picklist values |",
    "| --- | --- | --- | --- |",
)
_DRIFT_HEAD = ("| Object type | Field | Kind | Detail |", "| --- | --- | --- | --- |")

_Json = Mapping[str, Any]


def render_markdown(plan_json: _Json, *, max_chars: int = DEFAULT_MAX_CHARS) -> str:
    """The comment text, without a trailing newline; len(text) + 1 <= max_chars."""
    if max_chars < MIN_MAX_CHARS:
        raise ValueError(f"max_chars must be at least {MIN_MAX_CHARS}, not {max_chars}")
    changes = sorted(plan_json["changes"], key=lambda c: (str(c["address"]), str(c["uniqueName"])))
    drift = drift_items(plan_json.get("drift"))
    title = _title(plan_json, changes)
    summary = _summary(plan_json, changes, drift)
    destructive = [c for c in changes if c["destroysData"]]
    sections = [_drift_section(drift, changes)] if drift else []
    sections += _change_sections(changes)
    warning = _warning_lines(destructive, None)
    full = [*title, *warning, *summary, *(line for s in sections for line in s.lines())]
    if size(full) <= max_chars:
        return "\n".join(full)
    # Over the limit: title, summary and warning stay whole (the warning is cut only if
    # it alone does not fit); rows are dropped from the end.
    warning, body = fit(
        lambda shown: _warning_lines(destructive, shown),
        len(destructive),
        sections,
        max_chars - size(title) - size(summary),
        lambda changes_left, drift_left: _note(changes_left, drift_left, max_chars),
        (len(changes), len(drift or ())),
    )
    return "\n".join([*title, *warning, *summary, *body])


def _note(changes_left: int, drift_left: int, limit: int) -> list[str]:
    left = []
    if changes_left:
        left.append(f"{changes_left} change{'s' if changes_left != 1 else ''}")
    if drift_left:
        left.append(f"{drift_left} difference{'s' if drift_left != 1 else ''} made outside crmform")
    not_shown = f": {' and '.join(left)} not shown here" if left else ""
    return [
        "",
        "> [!NOTE]",
        f"> Shortened to fit {limit:,} characters{not_shown}. "
        "The JSON plan (`crmform show PLANFILE --format json`) has every change.",
    ]


# --- the fixed part: title, summary, warning ---------------------------------------------


def _title(plan_json: _Json, changes: Sequence[_Json]) -> list[str]:
    if not changes:
        return [MARKER, "## crmform plan: no changes"]
    return [MARKER, f"## crmform plan: {_counts(plan_json['summary'])}"]


def _summary(
    plan_json: _Json, changes: Sequence[_Json], drift: Sequence[_Json] | None
) -> list[str]:
    state = plan_json.get("state") or {}
    lineage = state.get("lineage") or ""
    against = f"state serial {text(state.get('serial', '?'))}"
    if lineage:
        against += f" (lineage {code(lineage)})."
    elif not state.get("serial"):
        against = "an empty state (nothing applied yet)."
    else:
        against += "."
    if drift is not None:
        found = "see below" if drift else "nothing changed outside crmform"
        against += f" Gong was read for this plan: {found}."
    if not changes:
        return ["", f"The schema files match the state. Planned against {against}"]
    lines = [
        "",
        "| Object type | Create | Update | Replace | Delete | Protect |",
        "| --- |" + " ---: |" * len(_ACTIONS),
    ]
    for address, group in _by_address(changes):
        counts = [sum(1 for c in group if c["action"] == a) for a in _ACTIONS]
        lines.append(f"| {code(address)} | " + " | ".join(map(str, counts)) + " |")
    return [*lines, "", f"Planned against {against}"]


def _counts(summary: _Json) -> str:
    words = [f"{summary[a]} to {a}" for a in _ACTIONS if a != "protect"]
    protect = summary.get("protect", 0)
    if protect:
        words.append(f"{protect} protection change{'s' if protect != 1 else ''} (state only)")
    return ", ".join(words)


def _warning_lines(destructive: Sequence[_Json], shown: int | None) -> list[str]:
    """The CAUTION alert; with `shown`, only that many fields and a line for the rest."""
    if not destructive:
        return []
    count = len(destructive)
    noun = "this field" if count == 1 else f"these {count} fields"
    lines = [
        "",
        "> [!CAUTION]",
        "> **Applying this plan deletes data in Gong, and it cannot be undone.**",
        f"> The stored values of {noun} will be deleted from every record:",
        ">",
    ]
    listed = destructive if shown is None else destructive[:shown]
    lines += [_warning_item(c) for c in listed]
    if len(listed) < count:
        lines.append(_more_line(count - len(listed)))
    lines += [">", "> Unattended apply (`--auto-approve`) also needs `--allow-destroy`."]
    return lines


def _warning_item(change: _Json) -> str:
    return (
        f"> - {code(change['address'])} {code(change['uniqueName'])}: "
        f"**{text(change['action'])}** ({text(change['reason'])})"
    )


def _more_line(count: int) -> str:
    return f"> - … and {count} more, not listed to fit the size limit (see the JSON plan)."


# --- the details: one table per object type, and drift ---------------------------------


def _by_address(changes: Sequence[_Json]) -> list[tuple[str, list[_Json]]]:
    groups: dict[str, list[_Json]] = {}
    for change in changes:
        groups.setdefault(str(change["address"]), []).append(change)
    return list(groups.items())


def _change_sections(changes: Sequence[_Json]) -> list[Section]:
    sections = []
    for address, group in _by_address(changes):
        values = [_values(c, c.get("after")) for c in group]
        head = _VALUES_HEAD if any(values) else _TABLE_HEAD
        rows = tuple(
            _row(c, v if any(values) else None) for c, v in zip(group, values, strict=True)
        )
        noun = f"{len(rows)} change{'s' if len(rows) != 1 else ''}"
        sections.append(_section(f"### {code(address)}: {noun}", noun, rows, head, is_drift=False))
    return sections


def _drift_section(items: Sequence[_Json], changes: Sequence[_Json]) -> Section:
    count = len(items)
    noun = f"{count} difference{'s' if count != 1 else ''}"
    heading = (
        "### Changed outside crmform\n\n"
        f"Gong differs from what crmform last applied ({noun}). Review these before applying."
    )
    return _section(heading, noun, drift_rows(items, changes), _DRIFT_HEAD, is_drift=True)


def _section(
    heading: str, noun: str, rows: tuple[str, ...], head: tuple[str, ...], *, is_drift: bool
) -> Section:
    counter, plural = (1, "differences") if is_drift else (0, "changes")
    if len(rows) > COLLAPSE_ROWS:
        # Blank lines around the table let GitHub render Markdown inside the HTML block.
        opening = ("", heading, "", f"<details><summary>Show {noun}</summary>", "", *head)
        return Section(opening, rows, ("", "</details>"), counter, plural)
    return Section(("", heading, "", *head), rows, (), counter, plural)


def _row(change: _Json, values: str | None) -> str:
    action = str(change["action"])
    label = _LABELS.get(action, text(action))
    before: _Json | None = change.get("before")
    after: _Json | None = change.get("after")
    row = f"| {code(change['uniqueName'])} | {label} | {_before_after(change, before, after)} |"
    return row if values is None else f"{row} {values} |"


def _before_after(change: _Json, before: _Json | None, after: _Json | None) -> str:
    action = change["action"]
    if before is None and after is not None:
        return f"new {_describe(after)}"
    if after is None and before is not None:
        return f"{_describe(before)} → deleted"
    if before is None or after is None:  # only a hand-made document gets here
        return text(change.get("reason", ""))
    parts: list[str] = []
    if before.get("type") != after.get("type"):
        parts.append(f"type {code(before.get('type'))} → {code(after.get('type'))}")
    if before.get("label") != after.get("label"):
        parts.append(f"label {_quoted(before.get('label'))} → {_quoted(after.get('label'))}")
    if before.get("referenceTo") != after.get("referenceTo"):
        parts.append(
            f"referenceTo {_ref(before.get('referenceTo'))} → {_ref(after.get('referenceTo'))}"
        )
    if bool(before.get("protect")) != bool(after.get("protect")):
        old, new = (str(bool(f.get("protect"))).lower() for f in (before, after))
        parts.append(f"protect {old} → {new}")
    if parts:
        return "<br>".join(parts)
    return "picklist values" if action == "update" else text(change.get("reason", ""))


def _describe(field: _Json) -> str:
    kind = code(field.get("type"))
    if field.get("referenceTo"):
        kind += f" to {code(field['referenceTo'])}"
    protected = " (protected)" if field.get("protect") else ""
    return f"{kind} {_quoted(field.get('label'))}{protected}"


def _values(change: _Json, after: _Json | None) -> str:
    diff = change.get("values")
    if isinstance(diff, Mapping):
        parts = []
        if diff.get("added"):
            parts.append("added " + ", ".join(code(v) for v in diff["added"]))
        if diff.get("removed"):
            parts.append("removed " + ", ".join(code(v) for v in diff["removed"]))
        if diff.get("reordered"):
            parts.append("reordered")
        return "<br>".join(parts) or "changed"
    if change["action"] in ("create", "replace") and after is not None:
        values = after.get("orderedValueList")
        if values is not None:
            return ", ".join(code(v) for v in values) or "(none)"
    return ""


def _quoted(label: object) -> str:
    return f'"{text(label)}"'


def _ref(target: object) -> str:
    return code(target) if target else "(unset)"
