"""Drift for people: the "Changed outside crmform" section, rendered from typed FieldDrifts.

Pure string building, like render_text; the caller decides `color`.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

from crmform.engine.model import Action, Change, DriftKind, FieldDrift, values_diff

__all__ = ["DRIFT_HEADING", "NO_DRIFT_TEXT", "describe", "drift_lines"]

DRIFT_HEADING = "Changed outside crmform:"
NO_DRIFT_TEXT = "No changes outside crmform: Gong matches the state."

_RESET = "\x1b[0m"
_BOLD = "\x1b[1m"
_SYMBOLS = {
    DriftKind.ADDED: ("+", "\x1b[32m"),
    DriftKind.REMOVED: ("-", "\x1b[31m"),
    DriftKind.CHANGED: ("~", "\x1b[33m"),
}
_KEEP_HINT = "not in the schema files, so this plan deletes it; add it to the files to keep it"


def drift_lines(
    items: Sequence[FieldDrift], changes: Sequence[Change] = (), *, color: bool
) -> list[str]:
    """The section, one `# address` block per object type, or NO_DRIFT_TEXT when empty.

    `changes` (the plan's) lets an added field that the plan deletes say so: that is the one
    drift a reader must not miss, as applying would delete data someone else created.
    """

    def paint(text: str, code: str) -> str:
        return f"{code}{text}{_RESET}" if color else text

    if not items:
        return [NO_DRIFT_TEXT]
    deleted = {(c.key, c.unique_name) for c in changes if c.action is Action.DELETE}
    lines = [paint(DRIFT_HEADING, _BOLD)]
    key = None
    for item in items:
        if item.key != key:
            key = item.key
            lines.append(paint(f"# {_clean(key.address)}", _BOLD))
        symbol, code = _SYMBOLS[item.kind]
        text = describe(item)
        if item.kind is DriftKind.ADDED and (item.key, item.unique_name) in deleted:
            text += f"; {_KEEP_HINT}"
        lines.append(f"{paint(symbol.rjust(3), code)} {text}")
    return lines


def describe(item: FieldDrift) -> str:
    """One drift item as a phrase, e.g. `region (STRING) "Region": added in Gong`."""
    name = _clean(item.unique_name)
    before, after = item.before, item.after
    if item.kind is DriftKind.ADDED and after is not None:
        kind: str = after.type
        if after.reference_to:
            kind = f"{kind} to {_clean(after.reference_to)}"
        return f"{name} ({kind}) {_quote(after.label)}: added in Gong"
    if item.kind is DriftKind.REMOVED and before is not None:
        return f"{name} ({before.type}): deleted in Gong"
    if before is None or after is None:  # a changed drift has both sides
        raise ValueError(f"a {item.kind} drift needs before and after")
    parts: list[str] = []
    for attribute in item.attributes:
        if attribute == "type":
            parts.append(f"type {before.type} -> {after.type}")
        elif attribute == "label":
            parts.append(f"label {_quote(before.label)} -> {_quote(after.label)}")
        elif attribute == "referenceTo":
            old = _clean(before.reference_to or "(unset)")
            parts.append(f"referenceTo {old} -> {_clean(after.reference_to or '(unset)')}")
        elif attribute == "orderedValueList":
            diff = values_diff(before.ordered_value_list, after.ordered_value_list)
            value_words = [f"+{_quote(v)}" for v in diff.added]
            value_words += [f"-{_quote(v)}" for v in diff.removed]
            if diff.reordered:
                value_words.append("reordered")
            parts.append("values " + (" ".join(value_words) or "changed"))
    return f"{name}: {'; '.join(parts) or 'changed'} in Gong"


def _quote(text: str) -> str:
    # JSON quoting: escapes quotes and control characters a label could smuggle in.
    return json.dumps(text, ensure_ascii=False)


def _clean(text: str) -> str:
    return text if text.isprintable() else json.dumps(text, ensure_ascii=False)[1:-1]
