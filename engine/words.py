"""The one wording of what crmform plans and finds: typed values in, text for people out.

Everything a user reads about a change, a drift or a conflict is phrased here, so the JSON
plan's "reason", the terminal, a pull-request comment and an error message cannot disagree.
A medium differs only in how it shows the parts of a phrase (quotes, code spans, arrows):
that is a `Style`, passed in by the renderer. PLAIN is the terminal's and the JSON plan's;
engine/render/escape.py has Markdown's. Pure: no I/O.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING

from crmform.engine.errors import ApprovalRequired
from crmform.engine.model import (
    Action,
    Change,
    DataImpact,
    DriftKind,
    Field,
    FieldDrift,
    NoteKind,
    Plan,
    PlanNote,
    Reason,
    Summary,
    values_diff,
)
from crmform.engine.values import Value, _set

try:  # the C function json.encoder uses, without importing json (a YAML plan needs none)
    from _json import encode_basestring
except ImportError:  # pragma: no cover - an interpreter without the accelerator
    from json.encoder import encode_basestring

if TYPE_CHECKING:
    from crmform.engine.settle import Settlement

__all__ = [
    "ADDED_IN_GONG",
    "DELETED_IN_GONG",
    "KEEP_HINT",
    "NONE",
    "PLAIN",
    "UNSET",
    "Style",
    "change",
    "change_name",
    "changed_attributes",
    "check_consent",
    "consent_hint",
    "count",
    "data_loss_lines",
    "destroy_warning",
    "differences",
    "drift",
    "drift_sides",
    "environment",
    "environment_mismatch",
    "kind",
    "no_state",
    "note",
    "orphan_detail",
    "orphan_warning",
    "pending_refusal",
    "pending_warning",
    "printable",
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


class Style(Value):
    """How a medium shows the parts of a phrase; the phrase itself is this module's.

    name    a name as such: a type, a reference target, a field's uniqueName
    label   a label, quoted
    value   a picklist value, quoted
    arrow   between before and after, with its blanks
    join    between the phrases of several attributes
    """

    __slots__ = ("arrow", "join", "label", "name", "value")
    name: Callable[[str], str]
    label: Callable[[str], str]
    value: Callable[[str], str]
    arrow: str
    join: str

    def __init__(
        self,
        name: Callable[[str], str],
        label: Callable[[str], str],
        value: Callable[[str], str],
        arrow: str,
        join: str,
    ) -> None:
        _set(self, "name", name)
        _set(self, "label", label)
        _set(self, "value", value)
        _set(self, "arrow", arrow)
        _set(self, "join", join)


def _quote(text: str) -> str:
    # JSON quoting (what json.dumps(text, ensure_ascii=False) returns, without building an
    # encoder per call), then every character that is still not printable escaped too: JSON
    # lets bidirectional overrides (U+202E) through, and they would reorder what a terminal
    # shows around them.
    return _escape_unprintable(encode_basestring(text))


def _clean(text: str) -> str:
    """Names as printed: escape sequences and bidirectional overrides must never reach a
    terminal. The rule is crmform/views.terminal_safe's (str.isprintable per character),
    with the JSON escapes the text plan has always shown (`\\u001b`)."""
    return text if text.isprintable() else _escape_unprintable(encode_basestring(text)[1:-1])


def printable(text: str) -> str:
    """`text` with each character that is not printable (newlines, escape codes,
    bidirectional overrides) as a JSON escape, and nothing else changed."""
    return _escape_unprintable(text)


def _escape_unprintable(text: str) -> str:
    if text.isprintable():
        return text
    return "".join(ch if ch.isprintable() else _json_escape(ch) for ch in text)


def _json_escape(ch: str) -> str:
    code = ord(ch)
    if code > 0xFFFF:  # as JSON writes it: a surrogate pair
        code -= 0x10000
        return f"\\u{0xD800 + (code >> 10):04x}\\u{0xDC00 + (code & 0x3FF):04x}"
    return f"\\u{code:04x}"


PLAIN = Style(name=_clean, label=_quote, value=_quote, arrow=" -> ", join="; ")


def pending_warning(key: object, started: str) -> str:
    """Said by plan while an upload's outcome is unknown."""
    return (
        f"The upload to {key} sent at {started} has no known outcome (it may have been "
        "applied); this plan assumes it was not. `crmform apply` reads Gong first and "
        "settles it; `crmform plan --refresh` shows what Gong has."
    )


def no_state(location: str) -> str:
    """Said by plan and apply whenever the state they read does not exist."""
    return (
        f"No state at {location}: planning as if nothing was ever applied. If crmform has "
        "applied to this tenant before, point --state at its state (a wrong path would "
        "plan every field as new)."
    )


# --- environments -------------------------------------------------------------------------


def environment(name: str) -> str:
    """`Environment: production`: how every output names the environment it targets."""
    return f"Environment: {name}"


def environment_mismatch(source: str, planned: str, selected: str) -> str:
    """Said by apply when a saved plan was made for another environment (or none vs one)."""
    made = f"for environment {planned}" if planned else "without an environment"
    if selected:
        targets = f"environment {selected} (--env / CRMFORM_ENV)"
    else:
        targets = "no environment (neither --env nor CRMFORM_ENV is given)"
    where = f"Apply it with --env {planned}" if planned else "Apply it with no environment"
    fix = f", or run `crmform plan --env {selected}` and apply that plan" if selected else ""
    return (
        f"The saved plan {source} was made {made}, but this run targets {targets}. Nothing "
        f"was sent and the state was not changed. {where}{fix}."
    )


# --- counts -------------------------------------------------------------------------------


def count(n: int, noun: str, plural: str | None = None) -> str:
    """`1 field`, `2,000 fields`, `0 object types` (never `field(s)`)."""
    return f"{n:,} {noun if n == 1 else (plural or noun + 's')}"


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


# --- data loss, consent and notes ----------------------------------------------------------


def pending_refusal(blocked: Sequence[Settlement]) -> str:
    """Why apply sends nothing while earlier uploads' outcomes are unknown, and the way out."""
    from crmform.engine.settle import Settled

    lines = [
        f"{count(len(blocked), 'earlier upload')} of unknown outcome may still be applied by "
        "Gong, and this apply would send something else to the same object type. Nothing "
        "was sent."
    ]
    for found in blocked:
        record = found.record
        if found.outcome is Settled.NOT_SEEN:
            lines.append(
                f"  {record.key}: the upload sent at {record.started} does not show in Gong "
                "(yet); if it lands later, it undoes what this apply sends."
            )
        else:
            names = ", ".join(d.unique_name for d in found.differences[:10])
            lines.append(
                f"  {record.key}: Gong shows neither the upload sent at {record.started} nor "
                f"the state: it differs in {names}."
            )
    lines.append(
        "To resolve: run `crmform refresh` to record what Gong has now, then review "
        "`crmform plan`; or, once you know the earlier upload failed for good, rerun with "
        "--discard-pending."
    )
    return "\n".join(lines)


def _printable(text: str) -> str:
    # crmform/views.terminal_safe's rule: only the characters that are not printable.
    if text.isprintable():
        return text
    return "".join(ch if ch.isprintable() else ch.encode("unicode_escape").decode() for ch in text)


def change_name(change: Change) -> str:
    """`gong/1/ACCOUNT region`, with control characters escaped."""
    return f"{change.key} {_printable(change.unique_name)}"


def orphan_detail(plan: Plan, change: Change, style: Style = PLAIN) -> str:
    """What a may-orphan change may leave behind."""
    before, after = change.before, change.after
    if before is None or after is None:
        return "data may be orphaned"
    parts = []
    removed = values_diff(before.ordered_value_list, after.ordered_value_list).removed
    if removed:
        shown = ", ".join(style.value(v) for v in removed[:5])
        more = f" and {len(removed) - 5} more" if len(removed) > 5 else ""
        parts.append(f"records holding {shown}{more} may keep values the field no longer lists")
    if before.reference_to != after.reference_to:
        old = style.name(before.reference_to) if before.reference_to else "(unknown)"
        new = style.name(after.reference_to) if after.reference_to else UNSET
        parts.append(f"references to {old} may no longer resolve (referenceTo{style.arrow}{new})")
    if not parts:
        parts.append(
            "Gong did not report this field's current values or target, so values added in "
            "Gong outside crmform would be removed"
        )
    return "; ".join(parts)


def orphan_warning(n: int) -> tuple[str, str]:
    """The headline (used when nothing is deleted outright) and the lead-in of the list of
    changes that may orphan data."""
    return (
        "Applying this plan may orphan data in Gong.",
        f"Data may be orphaned by {these(n, 'change')} (Gong does not document the effect):",
    )


def consent_hint(digest: str) -> str:
    """How to approve a plan's data-affecting set unattended: exactly it (by its digest,
    Plan.data_loss_digest), or the whole class."""
    return (
        f"Approve exactly this data loss (digest {digest}) with `crmform apply --auto-approve "
        f"--approve-data-loss {digest}`, or any with `--allow-destroy`."
    )


def data_loss_lines(plan: Plan, affected: tuple[Change, ...]) -> list[str]:
    """The fields whose data the plan deletes or may orphan, listed one by one."""
    destroys = [c for c in affected if plan.impact(c) is DataImpact.DESTROYS]
    orphans = [c for c in affected if plan.impact(c) is DataImpact.MAY_ORPHAN]
    lines: list[str] = []
    if destroys:
        which = "this field" if len(destroys) == 1 else f"these {len(destroys)} fields"
        lines.append(f"The data of {which} will be DELETED in Gong:")
        lines += [f"  - {change_name(c)} ({c.action.value})" for c in destroys]
    if orphans:
        lines.append(orphan_warning(len(orphans))[1])
        lines += [f"  - {change_name(c)}: {orphan_detail(plan, c)}" for c in orphans]
    return lines


def check_consent(plan: Plan, allow_destroy: bool, digest: str | None) -> None:
    """Unattended apply performs data-affecting changes only with consent that covers
    them: --allow-destroy for the class, or --approve-data-loss with this plan's digest."""
    affected = plan.data_affecting
    expected = plan.data_loss_digest
    if digest is not None and digest != expected:
        found = f"its digest is {expected}" if expected else "it affects no data"
        raise ApprovalRequired(
            f"--approve-data-loss {_printable(digest)} does not match this plan: {found}. "
            "Nothing was sent. The files or the state changed since that digest was "
            "approved; review the new plan and approve its digest."
        )
    if not affected or allow_destroy or digest is not None:
        return
    names = ", ".join(change_name(c) for c in affected[:20])
    more = f" and {len(affected) - 20} more" if len(affected) > 20 else ""
    raise ApprovalRequired(
        f"The plan deletes or may orphan the data of {count(len(affected), 'field')}: "
        f"{names}{more}. Nothing was sent. Review the plan, then rerun with "
        f"--approve-data-loss {expected} (exactly this set) or --allow-destroy (any)."
    )


def note(item: PlanNote) -> str:
    """What a plan note tells the reader, as one sentence or two."""
    key = item.key
    if item.kind is NoteKind.RECREATES_DELETED and item.deleted is not None:
        gone = item.deleted
        return (
            f"{key} {_printable(gone.unique_name)}: crmform deleted a {gone.type} field of "
            f"this name on {gone.deleted}; creating it again makes a new, empty field (the "
            "old data is gone for good)."
        )
    old, new = (_printable(n) for n in item.names)
    return (
        f"{key}: {old} is deleted and {new} created with the same type and a similar label, "
        f"but this is not a rename: Gong cannot rename a field, so the data of {old} is "
        f"deleted and {new} starts empty. To keep the data, add {new} first, copy the data "
        f"over, and delete {old} in a later apply."
    )
