"""The "Changed outside crmform" rows of the Markdown plan, from typed FieldDrifts."""

from __future__ import annotations

from collections.abc import Sequence

from crmform.engine import words
from crmform.engine.model import Action, Change, DriftKind, Field, FieldDrift
from crmform.engine.render.escape import MARKDOWN, code

__all__ = ["drift_rows"]


def drift_rows(items: Sequence[FieldDrift], changes: Sequence[Change]) -> tuple[str, ...]:
    """One table row per item: | Object type | Field | Kind | Detail |."""
    deleted = {(c.key, c.unique_name) for c in changes if c.action is Action.DELETE}
    rows = []
    for item in items:
        detail = _detail(item)
        if item.kind is DriftKind.ADDED and (item.key, item.unique_name) in deleted:
            # Someone created it in Gong; the files do not have it, so applying deletes it.
            detail += f"; **{words.KEEP_HINT}**"
        rows.append(
            f"| {code(item.key.address)} | {code(item.unique_name)} | {item.kind} | {detail} |"
        )
    return tuple(rows)


def _detail(item: FieldDrift) -> str:
    if item.kind is DriftKind.ADDED and item.after is not None:
        return f"{words.ADDED_IN_GONG}: {_field(item.after)}"
    if item.kind is DriftKind.REMOVED and item.before is not None:
        return f"{words.DELETED_IN_GONG} (was {_field(item.before)})"
    before, after = words.drift_sides(item)
    found = words.differences(before, after, MARKDOWN, item.attributes)
    return MARKDOWN.join.join(found) or "changed in Gong"


def _field(field: Field) -> str:
    return f"{words.kind(field, MARKDOWN)} {MARKDOWN.label(field.label)}"
