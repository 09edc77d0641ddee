"""The "Changed outside crmform" rows of the Markdown plan, from typed FieldDrifts."""

from __future__ import annotations

from collections.abc import Sequence

from crmform.engine.model import Action, Change, DriftKind, Field, FieldDrift
from crmform.engine.render.escape import code, text

__all__ = ["drift_rows"]


def drift_rows(items: Sequence[FieldDrift], changes: Sequence[Change]) -> tuple[str, ...]:
    """One table row per item: | Object type | Field | Kind | Detail |."""
    deleted = {(c.key, c.unique_name) for c in changes if c.action is Action.DELETE}
    rows = []
    for item in items:
        detail = _detail(item)
        if item.kind is DriftKind.ADDED and (item.key, item.unique_name) in deleted:
            # Someone created it in Gong; the files do not have it, so applying deletes it.
            detail += "; **not in the schema files: this plan deletes it and its data**"
        rows.append(
            f"| {code(item.key.address)} | {code(item.unique_name)} | {item.kind} | {detail} |"
        )
    return tuple(rows)


def _detail(item: FieldDrift) -> str:
    before, after = item.before, item.after
    if item.kind is DriftKind.ADDED and after is not None:
        return f"added in Gong: {_field(after)}"
    if item.kind is DriftKind.REMOVED and before is not None:
        return f"deleted in Gong (was {_field(before)})"
    if before is None or after is None:  # a changed drift has both sides
        raise ValueError(f"a {item.kind} drift needs before and after")
    parts = []
    for attribute in item.attributes:
        if attribute == "label":
            parts.append(f'label "{text(before.label)}" → "{text(after.label)}"')
        elif attribute == "orderedValueList":
            parts.append(_values(before.ordered_value_list or (), after.ordered_value_list or ()))
        elif attribute == "type":
            parts.append(f"type {code(before.type)} → {code(after.type)}")
        elif attribute == "referenceTo":
            parts.append(
                f"referenceTo {_code_or_unset(before.reference_to)} → "
                f"{_code_or_unset(after.reference_to)}"
            )
    return "<br>".join(parts) or "changed in Gong"


def _field(field: Field) -> str:
    kind = code(field.type)
    if field.reference_to:
        kind += f" to {code(field.reference_to)}"
    return f'{kind} "{text(field.label)}"'


def _values(before: Sequence[str], after: Sequence[str]) -> str:
    added = [v for v in after if v not in before]
    removed = [v for v in before if v not in after]
    parts = []
    if added:
        parts.append("values added " + ", ".join(code(v) for v in added))
    if removed:
        parts.append("values removed " + ", ".join(code(v) for v in removed))
    return "<br>".join(parts) or "values reordered"


def _code_or_unset(value: str | None) -> str:
    return code(value) if value else "(unset)"
