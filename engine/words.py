"""The one wording of what crmform plans and finds: typed values in, text for people out.

Everything a user reads about a change, a drift or a conflict is phrased here, so the JSON
plan's "reason", the terminal, a pull-request comment and an error message cannot disagree.
A medium differs only in how it shows the parts of a phrase (quotes, code spans, arrows):
that is a `Style`, passed in by the renderer. PLAIN is the terminal's and the JSON plan's;
engine/render/escape.py has Markdown's. Pure: no I/O.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from json.encoder import encode_basestring

from crmform.engine.model import (
    Action,
    Change,
    DriftKind,
    Field,
    FieldDrift,
    Reason,
    Summary,
    values_diff,
)

__all__ = [
    "ADDED_IN_GONG",
    "DELETED_IN_GONG",
    "KEEP_HINT",
    "NONE",
    "PLAIN",
    "UNSET",
    "Style",
    "change",
    "changed_attributes",
    "count",
    "destroy_warning",
    "differences",
    "drift",
    "drift_sides",
    "kind",
    "protected_violation",
    "reason",
    "summary",
    "these",
    "value_list",
    "values",
]

ADDED_IN_GONG = "added in Gong"
DELETED_IN_GONG = "deleted in Gong"
UNSET = "(unset)"
NONE = "(none)"


@dataclass(frozen=True, slots=True)
class Style:
    """How a medium shows the parts of a phrase; the phrase itself is this module's.

    name    a name as such: a type, a reference target, a field's uniqueName
    label   a label, quoted
    value   a picklist value, quoted
    arrow   between before and after, with its blanks
    join    between the phrases of several attributes
    """

    name: Callable[[str], str]
    label: Callable[[str], str]
    value: Callable[[str], str]
    arrow: str
    join: str


def _quote(text: str) -> str:
    # JSON quoting (what json.dumps(text, ensure_ascii=False) returns, without building an
    # encoder per call): escapes quotes and control characters a label could smuggle in.
    return encode_basestring(text)


def _clean(text: str) -> str:
    """Names as printed: escape sequences in them must never reach a terminal."""
    return text if text.isprintable() else encode_basestring(text)[1:-1]


PLAIN = Style(name=_clean, label=_quote, value=_quote, arrow=" -> ", join="; ")


# --- counts -------------------------------------------------------------------------------


def count(n: int, noun: str, plural: str | None = None) -> str:
    """`1 field`, `2 fields`, `0 object types` (never `field(s)`)."""
    return f"{n} {noun if n == 1 else (plural or noun + 's')}"


def these(n: int, noun: str, plural: str | None = None) -> str:
    """`this field`, `these 2 fields`."""
    return f"this {noun}" if n == 1 else f"these {count(n, noun, plural)}"


def summary(counts: Summary) -> str:
    """`3 to create, 1 to update, 0 to replace, 1 to delete, 1 protection change (state only)`."""
    text = (
        f"{counts.create} to create, {counts.update} to update, "
        f"{counts.replace} to replace, {counts.delete} to delete"
    )
    if counts.protect:
        text += f", {count(counts.protect, 'protection change')} (state only)"
    return text


def destroy_warning(n: int) -> tuple[str, str]:
    """The headline and lead-in of the warning above a plan that deletes the data of n fields."""
    return (
        "Applying this plan deletes data in Gong, and it cannot be undone.",
        f"The stored values of {these(n, 'field')} will be deleted from every record:",
    )


# --- fields and their attributes -------------------------------------------------------------


def kind(field: Field, style: Style = PLAIN) -> str:
    """`STRING`, `REFERENCE to USER`."""
    if field.reference_to:
        return f"{style.name(field.type)} to {style.name(field.reference_to)}"
    return style.name(field.type)


def value_list(values: Sequence[str], style: Style = PLAIN) -> str:
    """`"SMB", "Enterprise"`, or `(none)`."""
    return ", ".join(style.value(v) for v in values) or NONE


def values(
    before: tuple[str, ...] | None, after: tuple[str, ...] | None, style: Style = PLAIN
) -> str:
    """How a picklist's values changed (engine.model.values_diff): `+"a" -"b"`, added in
    their new order, removed in their old order; when the kept values changed order, the
    whole new order: `+"c", reordered to "b", "a", "c"` (or `reordered to "b", "a"`)."""
    diff = values_diff(before, after)
    parts = [f"+{style.value(v)}" for v in diff.added]
    parts += [f"-{style.value(v)}" for v in diff.removed]
    text = " ".join(parts)
    if diff.reordered:
        order = f"reordered to {value_list(after or (), style)}"
        text = f"{text}, {order}" if text else order
    # Empty only when duplicates (or None against an empty list) differ.
    return text or "changed"


def _type(before: Field, after: Field, style: Style) -> str:
    return f"type {style.name(before.type)}{style.arrow}{style.name(after.type)}"


def _label(before: Field, after: Field, style: Style) -> str:
    return f"label {style.label(before.label)}{style.arrow}{style.label(after.label)}"


def _reference(before: Field, after: Field, style: Style) -> str:
    old = style.name(before.reference_to) if before.reference_to else UNSET
    new = style.name(after.reference_to) if after.reference_to else UNSET
    return f"referenceTo {old}{style.arrow}{new}"


def _values(before: Field, after: Field, style: Style) -> str:
    return f"values {values(before.ordered_value_list, after.ordered_value_list, style)}"


def _protect(before: Field, after: Field, style: Style) -> str:
    old, new = str(before.protect).lower(), str(after.protect).lower()
    return f"protect {old}{style.arrow}{new}"


# Gong's key names (and crmform's `protect`), in the order phrases list them.
_PHRASES: dict[str, Callable[[Field, Field, Style], str]] = {
    "type": _type,
    "label": _label,
    "referenceTo": _reference,
    "orderedValueList": _values,
    "protect": _protect,
}


def changed_attributes(before: Field, after: Field) -> tuple[str, ...]:
    """The attributes that differ between two fields, in Gong's key names."""
    found = []
    if before.type != after.type:
        found.append("type")
    if before.label != after.label:
        found.append("label")
    if before.reference_to != after.reference_to:
        found.append("referenceTo")
    if before.ordered_value_list != after.ordered_value_list:
        found.append("orderedValueList")
    if before.protect != after.protect:
        found.append("protect")
    return tuple(found)


def differences(
    before: Field, after: Field, style: Style = PLAIN, attributes: Iterable[str] | None = None
) -> list[str]:
    """One phrase per attribute that differs (or per named attribute), e.g. `label "A" -> "B"`."""
    names = changed_attributes(before, after) if attributes is None else attributes
    return [_PHRASES[a](before, after, style) for a in names]


# --- changes ----------------------------------------------------------------------------------


def _sides(change: Change) -> tuple[Field, Field]:
    if change.before is None or change.after is None:
        raise ValueError(f"a {change.reason} change needs before and after")
    return change.before, change.after


def reason(change: Change, style: Style = PLAIN) -> str:
    """Why the change is planned, as a short phrase: the JSON plan's "reason", the warning's
    list of fields that lose data, and (for an update) the plan line itself."""
    if change.reason is Reason.NEW_FIELD:
        return "new field"
    if change.reason is Reason.NOT_IN_FILES:
        return "not in the schema files"
    if change.reason is Reason.OBJECT_REMOVED:
        return "object file removed"
    before, after = _sides(change)
    if change.reason is Reason.TYPE_CHANGED:
        return _type(before, after, style)
    if change.reason is Reason.PROTECT_CHANGED:
        return _protect(before, after, style)
    # The state records protect along with the update, so the phrases say so too.
    return style.join.join(differences(before, after, style))


def change(change: Change, style: Style = PLAIN) -> str:
    """The line for a change in a plan, after its symbol: `tier: label "A" -> "B"`."""
    name = style.name(change.unique_name)
    action = change.action
    if action is Action.CREATE and change.after is not None:
        return _new_field(name, change.after, style)
    if action is Action.DELETE and change.before is not None:
        return f"{name} ({style.name(change.before.type)}) (data deleted)"
    before, after = _sides(change)
    if action is Action.REPLACE:
        return f"{name}: {_type(before, after, style)} (data deleted)"
    if action is Action.PROTECT:
        return f"{name}: {_protect(before, after, style)} (state only)"
    return f"{name}: {reason(change, style)}"


def _new_field(name: str, field: Field, style: Style) -> str:
    text = f"{name} ({kind(field, style)}) {style.label(field.label)}"
    if field.ordered_value_list is not None:
        text += f" values: {value_list(field.ordered_value_list, style)}"
    if field.protect:
        text += " [protected]"
    return text


def protected_violation(change: Change, source: str | None) -> str:
    """Why a protected field stops the plan, and the way out."""
    where = f"{change.key.address} {change.unique_name}"
    in_file = f" in {source}" if source else ""
    why = reason(change)
    if change.action is Action.REPLACE:
        return (
            f"{where}: the plan would replace it ({why}) but it is protected. "
            f"Set `protect: false` on the field{in_file} (keeping its current type) and "
            "apply that first, then make the change."
        )
    if change.reason is Reason.OBJECT_REMOVED:
        return (
            f"{where}: the plan would delete it ({why}) but it is protected. "
            "Put the object's file back with `protect: false` on this field, apply that "
            "first, then remove it."
        )
    return (
        f"{where}: the plan would delete it ({why}) but it is protected. "
        f"Put the entry back{in_file} with `protect: false`, apply that first, then remove it."
    )


# --- drift ------------------------------------------------------------------------------------

# Said of a field added in Gong that the plan deletes: the one drift a reader must not miss.
KEEP_HINT = (
    "not in the schema files, so this plan deletes it and its data; add it to the files to keep it"
)


def drift(item: FieldDrift, style: Style = PLAIN) -> str:
    """A field changed outside crmform, e.g. `region (STRING) "Region": added in Gong`."""
    name = style.name(item.unique_name)
    if item.kind is DriftKind.ADDED and item.after is not None:
        after = item.after
        return f"{name} ({kind(after, style)}) {style.label(after.label)}: {ADDED_IN_GONG}"
    if item.kind is DriftKind.REMOVED and item.before is not None:
        return f"{name} ({style.name(item.before.type)}): {DELETED_IN_GONG}"
    before, after = drift_sides(item)
    found = style.join.join(differences(before, after, style, item.attributes))
    return f"{name}: {found or 'changed'} in Gong"


def drift_sides(item: FieldDrift) -> tuple[Field, Field]:
    """Both sides of a `changed` drift (which has both)."""
    if item.before is None or item.after is None:
        raise ValueError(f"a {item.kind} drift needs before and after")
    return item.before, item.after
