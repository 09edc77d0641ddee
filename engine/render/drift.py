"""Drift for people: the "Changed outside crmform" section, rendered from typed FieldDrifts.

Pure string building, like render_text; the caller decides `color`.
"""

from __future__ import annotations

from collections.abc import Sequence

from crmform.engine import words
from crmform.engine.model import Action, Change, DriftKind, FieldDrift

__all__ = ["DRIFT_HEADING", "NO_DRIFT_TEXT", "drift_lines"]

DRIFT_HEADING = "Changed outside crmform:"
NO_DRIFT_TEXT = "No changes outside crmform: Gong matches the state."

_RESET = "\x1b[0m"
_BOLD = "\x1b[1m"
_SYMBOLS = {
    DriftKind.ADDED: ("+", "\x1b[32m"),
    DriftKind.REMOVED: ("-", "\x1b[31m"),
    DriftKind.CHANGED: ("~", "\x1b[33m"),
}


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
            lines.append(paint(f"# {words.PLAIN.name(key.address)}", _BOLD))
        symbol, code = _SYMBOLS[item.kind]
        text = words.drift(item)
        if item.kind is DriftKind.ADDED and (item.key, item.unique_name) in deleted:
            text += f"; {words.KEEP_HINT}"
        lines.append(f"{paint(symbol.rjust(3), code)} {text}")
    return lines
