"""The "Changed outside crmform" rows of the Markdown plan, from the plan JSON's "drift" list.

Items are engine/render.py's drift entries (address, uniqueName, kind added|removed|changed,
attributes, before, after). Rendering is forgiving: an item missing a key, or a string
instead of an object, still gives a row (a "detail" key, if a producer adds one, is shown
as is), because a PR comment must not fail over one odd entry.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from crmform.engine.render.escape import code, text

__all__ = ["drift_items", "drift_rows"]

_Json = Mapping[str, Any]


def drift_items(drift: object) -> list[_Json] | None:
    """The items in a stable order; None when the plan has no drift list (Gong not read)."""
    if drift is None:
        return None
    if not isinstance(drift, Sequence) or isinstance(drift, str):
        drift = [drift]
    items: list[_Json] = [i if isinstance(i, Mapping) else {"detail": i} for i in drift]

    def order(item: _Json) -> tuple[str, str, str]:
        return (
            str(item.get("address", "")),
            str(item.get("uniqueName", "")),
            str(item.get("kind", "")),
        )

    return sorted(items, key=order)


def drift_rows(items: Sequence[_Json], changes: Sequence[_Json]) -> tuple[str, ...]:
    """One table row per item: | Object type | Field | Kind | Detail |."""
    deleted = {(c["address"], c["uniqueName"]) for c in changes if c["action"] == "delete"}
    rows = []
    for item in items:
        detail = text(item["detail"]) if "detail" in item else _detail(item)
        if item.get("kind") == "added" and (item.get("address"), item.get("uniqueName")) in deleted:
            # Someone created it in Gong; the files do not have it, so applying deletes it.
            detail += "; **not in the schema files: this plan deletes it and its data**"
        rows.append(
            f"| {code(item.get('address'))} | {code(item.get('uniqueName'))} | "
            f"{text(item.get('kind', ''))} | {detail} |"
        )
    return tuple(rows)


def _detail(item: _Json) -> str:
    kind = item.get("kind")
    before = item.get("before")
    after = item.get("after")
    if kind == "added" and isinstance(after, Mapping):
        return f"added in Gong: {_field(after)}"
    if kind == "removed" and isinstance(before, Mapping):
        return f"deleted in Gong (was {_field(before)})"
    if not isinstance(before, Mapping) or not isinstance(after, Mapping):
        return f"{text(kind)} in Gong"
    parts = []
    for attribute in item.get("attributes") or ():
        old, new = before.get(attribute), after.get(attribute)
        if attribute == "label":
            parts.append(f'label "{text(old)}" → "{text(new)}"')
        elif attribute == "orderedValueList" and isinstance(new, list):
            parts.append(_values(old if isinstance(old, list) else [], new))
        else:
            parts.append(f"{text(attribute)} {_code_or_unset(old)} → {_code_or_unset(new)}")
    return "<br>".join(parts) or "changed in Gong"


def _field(field: _Json) -> str:
    kind = code(field.get("type"))
    if field.get("referenceTo"):
        kind += f" to {code(field['referenceTo'])}"
    return f'{kind} "{text(field.get("label"))}"'


def _values(before: list[Any], after: list[Any]) -> str:
    added = [v for v in after if v not in before]
    removed = [v for v in before if v not in after]
    parts = []
    if added:
        parts.append("values added " + ", ".join(code(v) for v in added))
    if removed:
        parts.append("values removed " + ", ".join(code(v) for v in removed))
    return "<br>".join(parts) or "values reordered"


def _code_or_unset(value: object) -> str:
    return code(value) if value else "(unset)"
