"""A plan for people: Terraform-like text rendered from a typed Plan.

A saved plan loads back into the same Plan (engine/formats/planfile.py), so `show` prints it
exactly as it was planned. Pure string building: no click, no terminal detection; the
caller decides `color`. The result has no trailing newline.
"""

from __future__ import annotations

import json

from crmform.engine import words
from crmform.engine.model import Action, Change, Field, Plan, Summary, values_diff
from crmform.engine.render.drift import drift_lines

__all__ = ["EMPTY_PLAN_TEXT", "render_text", "summary_line"]

EMPTY_PLAN_TEXT = "No changes. The schema matches the state."

_RESET = "\x1b[0m"
_BOLD = "\x1b[1m"
_BOLD_RED = "\x1b[1;31m"
_RED = "\x1b[31m"
_GREEN = "\x1b[32m"
_YELLOW = "\x1b[33m"
_CYAN = "\x1b[36m"

# Symbols are right-aligned in three columns so "-/+" lines up with the others.
_SYMBOLS: dict[Action, tuple[str, str]] = {
    Action.CREATE: ("+", _GREEN),
    Action.UPDATE: ("~", _YELLOW),
    Action.REPLACE: ("-/+", _RED),
    Action.DELETE: ("-", _RED),
    Action.PROTECT: ("*", _CYAN),
}


def render_text(plan: Plan, *, color: bool) -> str:
    changes = plan.changes
    # A plan made with --refresh says what changed outside crmform before what it will do.
    drift = plan.drift
    lines: list[str] = [] if drift is None else [*drift_lines(drift, changes, color=color), ""]
    if not changes:
        return "\n".join([*lines, EMPTY_PLAN_TEXT])

    def paint(text: str, code: str) -> str:
        return f"{code}{text}{_RESET}" if color else text

    destructive = [c for c in changes if c.destroys_data]
    if destructive:
        count = len(destructive)
        noun = "this field" if count == 1 else f"these {count} fields"
        lines.append(
            paint(
                "WARNING: applying this plan deletes data in Gong, and it cannot be undone.",
                _BOLD_RED,
            )
        )
        lines.append(paint(f"The stored values of {noun} will be deleted from every record:", _RED))
        for c in destructive:
            lines.append(
                paint(
                    f"  - {_clean(c.key.address)} {_clean(c.unique_name)}: {c.action} "
                    f"({_clean(words.reason(c))})",
                    _RED,
                )
            )
        lines.append("")

    key = None
    for c in changes:
        if c.key != key:
            if key is not None:
                lines.append("")
            key = c.key
            lines.append(paint(f"# {_clean(key.address)}", _BOLD))
        symbol, code = _SYMBOLS[c.action]
        lines.append(f"{paint(symbol.rjust(3), code)} {_describe(c)}")

    lines.append("")
    lines.append(summary_line(plan.summary))
    return "\n".join(lines)


def summary_line(summary: Summary) -> str:
    """`Plan: 2 to create, 1 to update, 1 to replace, 1 to delete.` (+ protection changes)."""
    text = (
        f"Plan: {summary.create} to create, {summary.update} to update, "
        f"{summary.replace} to replace, {summary.delete} to delete"
    )
    protect = summary.protect
    if protect:
        text += f", {protect} protection change{'s' if protect != 1 else ''} (state only)"
    return text + "."


def _describe(change: Change) -> str:
    name = _clean(change.unique_name)
    before, after = change.before, change.after
    if change.action is Action.CREATE and after is not None:
        return _describe_new(name, after)
    if change.action is Action.DELETE and before is not None:
        return f"{name} ({before.type}) (data deleted)"
    if before is None or after is None:  # every other action has both sides
        raise ValueError(f"a {change.action} change needs before and after")
    if change.action is Action.REPLACE:
        return f"{name}: type {before.type} -> {after.type} (data deleted)"
    if change.action is Action.PROTECT:
        return f"{name}: {_protect(before, after)} (state only)"
    return f"{name}: {'; '.join(_differences(change, before, after))}"


def _describe_new(name: str, field: Field) -> str:
    kind: str = field.type
    if field.reference_to:
        kind = f"{kind} to {field.reference_to}"
    text = f"{name} ({kind}) {_quote(field.label)}"
    values = field.ordered_value_list
    if values is not None:
        text += " values: " + (", ".join(_quote(v) for v in values) or "(none)")
    if field.protect:
        text += " [protected]"
    return text


def _differences(change: Change, before: Field, after: Field) -> list[str]:
    parts: list[str] = []
    if before.label != after.label:
        parts.append(f"label {_quote(before.label)} -> {_quote(after.label)}")
    if before.ordered_value_list != after.ordered_value_list:
        diff = values_diff(before.ordered_value_list, after.ordered_value_list)
        value_words = [f"+{_quote(v)}" for v in diff.added]
        value_words += [f"-{_quote(v)}" for v in diff.removed]
        if diff.reordered:
            value_words.append("reordered")
        parts.append("values " + (" ".join(value_words) or "changed"))
    if before.reference_to != after.reference_to:
        old = before.reference_to or "(unset)"
        new = after.reference_to or "(unset)"
        parts.append(f"referenceTo {old} -> {new}")
    if before.protect != after.protect:
        parts.append(_protect(before, after))
    return parts or [_clean(words.reason(change))]


def _protect(before: Field, after: Field) -> str:
    old = "true" if before.protect else "false"
    new = "true" if after.protect else "false"
    return f"protect {old} -> {new}"


def _quote(text: str) -> str:
    # JSON quoting: escapes quotes and control characters a label could smuggle in.
    return json.dumps(text, ensure_ascii=False)


def _clean(text: str) -> str:
    """Names and reasons as printed; escape sequences in them must not reach the terminal."""
    return text if text.isprintable() else json.dumps(text, ensure_ascii=False)[1:-1]
