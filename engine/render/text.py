"""A plan for people: Terraform-like text rendered from a typed Plan.

A saved plan loads back into the same Plan (engine/formats/planfile.py), so `show` prints it
exactly as it was planned. Pure string building: no click, no terminal detection; the
caller decides `color`. The result has no trailing newline.
"""

from __future__ import annotations

from collections.abc import Callable

from crmform.engine import words
from crmform.engine.model import Action, Change, DataImpact, Plan, Summary
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
    Action.CREATE: ("  +", _GREEN),
    Action.UPDATE: ("  ~", _YELLOW),
    Action.REPLACE: ("-/+", _RED),
    Action.DELETE: ("  -", _RED),
    Action.PROTECT: ("  *", _CYAN),
}


def render_text(plan: Plan, *, color: bool) -> str:
    changes = plan.changes

    def paint(text: str, code: str) -> str:
        return f"{code}{text}{_RESET}" if color else text

    # The environment first (only when one is selected: without crmform.toml environments
    # the text is what it always was), so a log or a saved copy says which tenant it is for.
    lines: list[str] = []
    if plan.environment:
        lines += [paint(words.environment(plan.environment), _BOLD), ""]
    # A plan made with --refresh says what changed outside crmform before what it will do.
    drift = plan.drift
    if drift is not None:
        lines += [*drift_lines(drift, changes, color=color), ""]
    if not changes:
        return "\n".join([*lines, EMPTY_PLAN_TEXT])

    lines += _warning(plan, paint)

    # Each action's symbol painted once, not once a line.
    symbols = {action: f"{paint(symbol, code)} " for action, (symbol, code) in _SYMBOLS.items()}
    line = words.change
    key = None
    for c in changes:
        # Changes of one address mostly share its key: an identity test first, where
        # ObjectKey's == runs in Python.
        if c.key is not key:
            if c.key != key:
                if key is not None:
                    lines.append("")
                lines.append(paint(f"# {words.PLAIN.name(c.key.address)}", _BOLD))
            key = c.key
        lines.append(symbols[c.action] + line(c))

    lines.append("")
    lines.append(summary_line(plan.summary))
    lines += [f"Note: {words.note(n)}" for n in plan.notes]
    return "\n".join(lines)


def _warning(plan: Plan, paint: Callable[[str, str], str]) -> list[str]:
    """The block above the changes: what loses data, what may orphan it, how to consent."""
    destroys: list[Change] = []
    orphans: list[Change] = []
    impact = plan.impact
    for c in plan.changes:  # each change's impact once (values_diff per picklist update)
        found = impact(c)
        if found is DataImpact.DESTROYS:
            destroys.append(c)
        elif found is DataImpact.MAY_ORPHAN:
            orphans.append(c)
    digest = plan.data_loss_digest if destroys or orphans else None  # None: nothing affected
    if digest is None:
        return []
    name = words.PLAIN.name
    lines: list[str] = []
    if destroys:
        headline, lead = words.destroy_warning(len(destroys))
    else:
        headline, lead = words.orphan_warning(len(orphans))
    lines.append(paint(f"WARNING: {headline[:1].lower()}{headline[1:]}", _BOLD_RED))
    if destroys:
        lines.append(paint(lead, _RED))
        for c in destroys:
            where = f"{name(c.key.address)} {name(c.unique_name)}"
            lines.append(paint(f"  - {where}: {c.action} ({words.reason(c)})", _RED))
    if orphans:
        lines.append(paint(words.orphan_warning(len(orphans))[1], _YELLOW))
        for c in orphans:
            where = f"{name(c.key.address)} {name(c.unique_name)}"
            lines.append(paint(f"  - {where}: {words.orphan_detail(plan, c)}", _YELLOW))
    lines.append(words.consent_hint(digest))
    return [*lines, ""]


def summary_line(summary: Summary) -> str:
    """`Plan: 2 to create, 1 to update, 1 to replace, 1 to delete.` (+ protection changes)."""
    return f"Plan: {words.summary(summary)}."
