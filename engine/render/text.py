"""A plan for people: Terraform-like text rendered from the plan's JSON document.

Rendering from the JSON (see engine/render.py), not from model objects, lets a saved plan be
shown exactly as it was planned. Pure string building: no click, no terminal detection;
the caller decides `color`. The result has no trailing newline.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

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
_SYMBOLS: dict[str, tuple[str, str]] = {
    "create": ("+", _GREEN),
    "update": ("~", _YELLOW),
    "replace": ("-/+", _RED),
    "delete": ("-", _RED),
    "protect": ("*", _CYAN),
}

_Json = Mapping[str, Any]


def render_text(plan_json: _Json, *, color: bool) -> str:
    changes: Sequence[_Json] = plan_json["changes"]
    # A plan made with --refresh says what changed outside crmform before what it will do.
    drift = plan_json.get("drift")
    lines: list[str] = [] if drift is None else [*drift_lines(drift, changes, color=color), ""]
    if not changes:
        return "\n".join([*lines, EMPTY_PLAN_TEXT])

    def paint(text: str, code: str) -> str:
        return f"{code}{text}{_RESET}" if color else text

    destructive = [c for c in changes if c["destroysData"]]
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
                    f"  - {_clean(c['address'])} {_clean(c['uniqueName'])}: {c['action']} "
                    f"({_clean(c['reason'])})",
                    _RED,
                )
            )
        lines.append("")

    address = None
    for c in changes:
        if c["address"] != address:
            if address is not None:
                lines.append("")
            address = c["address"]
            lines.append(paint(f"# {_clean(c['address'])}", _BOLD))
        symbol, code = _SYMBOLS[c["action"]]
        lines.append(f"{paint(symbol.rjust(3), code)} {_describe(c)}")

    lines.append("")
    lines.append(summary_line(plan_json["summary"]))
    return "\n".join(lines)


def summary_line(summary: _Json) -> str:
    """`Plan: 2 to create, 1 to update, 1 to replace, 1 to delete.` (+ protection changes)."""
    text = (
        f"Plan: {summary['create']} to create, {summary['update']} to update, "
        f"{summary['replace']} to replace, {summary['delete']} to delete"
    )
    protect = summary["protect"]
    if protect:
        text += f", {protect} protection change{'s' if protect != 1 else ''} (state only)"
    return text + "."


def _describe(change: _Json) -> str:
    name = _clean(change["uniqueName"])
    before: _Json | None = change["before"]
    after: _Json | None = change["after"]
    action = change["action"]
    if action == "create" and after is not None:
        return _describe_new(name, after)
    if action == "delete" and before is not None:
        return f"{name} ({before['type']}) (data deleted)"
    if before is None or after is None:  # only a hand-made document gets here
        return f"{name}: {_clean(change['reason'])}"
    if action == "replace":
        return f"{name}: type {before['type']} -> {after['type']} (data deleted)"
    if action == "protect":
        return f"{name}: {_protect(before, after)} (state only)"
    return f"{name}: {'; '.join(_differences(change, before, after))}"


def _describe_new(name: str, field: _Json) -> str:
    kind = field["type"]
    if field.get("referenceTo"):
        kind = f"{kind} to {field['referenceTo']}"
    text = f"{name} ({kind}) {_quote(field['label'])}"
    values = field.get("orderedValueList")
    if values is not None:
        text += " values: " + (", ".join(_quote(v) for v in values) or "(none)")
    if field.get("protect"):
        text += " [protected]"
    return text


def _differences(change: _Json, before: _Json, after: _Json) -> list[str]:
    parts: list[str] = []
    if before["label"] != after["label"]:
        parts.append(f"label {_quote(before['label'])} -> {_quote(after['label'])}")
    values = change.get("values")
    if values is not None:
        words = [f"+{_quote(v)}" for v in values["added"]]
        words += [f"-{_quote(v)}" for v in values["removed"]]
        if values["reordered"]:
            words.append("reordered")
        parts.append("values " + (" ".join(words) or "changed"))
    if before.get("referenceTo") != after.get("referenceTo"):
        old = before.get("referenceTo") or "(unset)"
        new = after.get("referenceTo") or "(unset)"
        parts.append(f"referenceTo {old} -> {new}")
    if bool(before.get("protect")) != bool(after.get("protect")):
        parts.append(_protect(before, after))
    return parts or [_clean(change["reason"])]


def _protect(before: _Json, after: _Json) -> str:
    old = "true" if before.get("protect") else "false"
    new = "true" if after.get("protect") else "false"
    return f"protect {old} -> {new}"


def _quote(text: str) -> str:
    # JSON quoting: escapes quotes and control characters a label could smuggle in.
    return json.dumps(text, ensure_ascii=False)


def _clean(text: str) -> str:
    """Names and reasons as printed; escape sequences in them must not reach the terminal."""
    return text if text.isprintable() else json.dumps(text, ensure_ascii=False)[1:-1]
