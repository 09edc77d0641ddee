"""Drift for people: the "Changed outside crmform" section, rendered from drift JSON items.

Items are the plan JSON's "drift" entries (engine/render.py). Pure string building, like
render_text; the caller decides `color`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from crmform.engine.model import values_diff

__all__ = ["DRIFT_HEADING", "NO_DRIFT_TEXT", "describe", "drift_lines"]

DRIFT_HEADING = "Changed outside crmform:"
NO_DRIFT_TEXT = "No changes outside crmform: Gong matches the state."

_RESET = "\x1b[0m"
_BOLD = "\x1b[1m"
_SYMBOLS = {"added": ("+", "\x1b[32m"), "removed": ("-", "\x1b[31m"), "changed": ("~", "\x1b[33m")}
_KEEP_HINT = "not in the schema files, so this plan deletes it; add it to the files to keep it"

_Json = Mapping[str, Any]


def drift_lines(items: Sequence[_Json], changes: Sequence[_Json] = (), *, color: bool) -> list[str]:
    """The section, one `# address` block per object type, or NO_DRIFT_TEXT when empty.

    `changes` (the plan's) lets an added field that the plan deletes say so: that is the one
    drift a reader must not miss, as applying would delete data someone else created.
    """

    def paint(text: str, code: str) -> str:
        return f"{code}{text}{_RESET}" if color else text

    if not items:
        return [NO_DRIFT_TEXT]
    deleted = {(c["address"], c["uniqueName"]) for c in changes if c["action"] == "delete"}
    lines = [paint(DRIFT_HEADING, _BOLD)]
    address = None
    for item in items:
        if item["address"] != address:
            address = item["address"]
            lines.append(paint(f"# {_clean(address)}", _BOLD))
        symbol, code = _SYMBOLS[item["kind"]]
        text = describe(item)
        if item["kind"] == "added" and (item["address"], item["uniqueName"]) in deleted:
            text += f"; {_KEEP_HINT}"
        lines.append(f"{paint(symbol.rjust(3), code)} {text}")
    return lines


def describe(item: _Json) -> str:
    """One drift item as a phrase, e.g. `region (STRING) "Region": added in Gong`."""
    name = _clean(item["uniqueName"])
    before: _Json | None = item["before"]
    after: _Json | None = item["after"]
    if item["kind"] == "added" and after is not None:
        kind = after["type"]
        if after.get("referenceTo"):
            kind = f"{kind} to {_clean(after['referenceTo'])}"
        return f"{name} ({kind}) {_quote(after['label'])}: added in Gong"
    if item["kind"] == "removed" and before is not None:
        return f"{name} ({before['type']}): deleted in Gong"
    if before is None or after is None:  # only a hand-made document gets here
        return f"{name}: changed in Gong"
    parts: list[str] = []
    for attribute in item["attributes"]:
        if attribute == "type":
            parts.append(f"type {before['type']} -> {after['type']}")
        elif attribute == "label":
            parts.append(f"label {_quote(before['label'])} -> {_quote(after['label'])}")
        elif attribute == "referenceTo":
            old = _clean(before.get("referenceTo") or "(unset)")
            parts.append(f"referenceTo {old} -> {_clean(after['referenceTo'])}")
        elif attribute == "orderedValueList":
            parts.append(_values(before.get("orderedValueList"), after["orderedValueList"]))
    return f"{name}: {'; '.join(parts) or 'changed'} in Gong"


def _values(before: Sequence[str] | None, after: Sequence[str]) -> str:
    diff = values_diff(tuple(before) if before is not None else None, tuple(after))
    words = [f"+{_quote(v)}" for v in diff.added] + [f"-{_quote(v)}" for v in diff.removed]
    if diff.reordered:
        words.append("reordered")
    return "values " + (" ".join(words) or "changed")


def _quote(text: str) -> str:
    # JSON quoting: escapes quotes and control characters a label could smuggle in.
    return json.dumps(text, ensure_ascii=False)


def _clean(text: str) -> str:
    return text if text.isprintable() else json.dumps(text, ensure_ascii=False)[1:-1]
