"""The one wording of what crmform plans and finds: typed values in, text for people out.

Everything a user reads about a change, a drift or a conflict is phrased here, so the JSON
plan's "reason", the terminal, a pull-request comment and an error message cannot disagree.
Pure: no I/O. Callers escape for their medium (terminal, Markdown) where they print.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import TYPE_CHECKING

from crmform.engine.errors import ApprovalRequired
from crmform.engine.model import (
    Action,
    Change,
    DataImpact,
    Field,
    NoteKind,
    Plan,
    PlanNote,
    Reason,
    ValuesDiff,
    values_diff,
)

if TYPE_CHECKING:
    from crmform.engine.settle import Settlement

__all__ = [
    "check_consent",
    "count",
    "data_loss_lines",
    "no_state",
    "note",
    "pending_refusal",
    "pending_warning",
    "protected_violation",
    "reason",
    "values_phrase",
]


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


def count(n: int, noun: str, plural: str | None = None) -> str:
    """`1 field`, `2,000 fields`, `0 object types` (never `field(s)`)."""
    return f"{n:,} {noun if n == 1 else (plural or noun + 's')}"


def reason(change: Change) -> str:
    """Why the change is planned, as a short phrase (the JSON plan's "reason")."""
    before, after = change.before, change.after
    if change.reason is Reason.NEW_FIELD:
        return "new field"
    if change.reason is Reason.NOT_IN_FILES:
        return "not in the schema files"
    if change.reason is Reason.OBJECT_REMOVED:
        return "object file removed"
    if before is None or after is None:  # every other reason has both sides
        raise ValueError(f"a {change.reason} change needs before and after")
    if change.reason is Reason.TYPE_CHANGED:
        return f"type {before.type} -> {after.type}"
    if change.reason is Reason.PROTECT_CHANGED:
        return _protect_phrase(before, after)
    return _update_reason(before, after)


def _update_reason(before: Field, after: Field) -> str:
    parts: list[str] = []
    if before.label != after.label:
        parts.append(f"label '{before.label}' -> '{after.label}'")
    if before.ordered_value_list != after.ordered_value_list:
        parts.append(
            values_phrase(values_diff(before.ordered_value_list, after.ordered_value_list))
        )
    if before.reference_to != after.reference_to:
        parts.append(
            f"referenceTo {before.reference_to or '(unset)'} -> {after.reference_to or '(unset)'}"
        )
    # The state records protect along with the update, so the reason says so too.
    if before.protect != after.protect:
        parts.append(_protect_phrase(before, after))
    return "; ".join(parts)


def values_phrase(diff: ValuesDiff) -> str:
    """`values +a -b, reordered`: added in their new order, removed in their old order."""
    words = " ".join([f"+{_word(v)}" for v in diff.added] + [f"-{_word(v)}" for v in diff.removed])
    if diff.reordered:
        words = f"{words}, reordered" if words else "reordered"
    # Empty only when duplicates (or None against an empty list) differ.
    return f"values {words}" if words else "values changed"


def _word(value: str) -> str:
    """A picklist value as a word; quoted when blanks would make `+a b -c` ambiguous."""
    if value and not any(ch.isspace() for ch in value):
        return value
    return f"'{value}'"


def _protect_phrase(before: Field, after: Field) -> str:
    return f"protect {str(before.protect).lower()} -> {str(after.protect).lower()}"


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
    return text if text.isprintable() else text.encode("unicode_escape").decode()


def change_name(change: Change) -> str:
    """`gong/1/ACCOUNT region`, with control characters escaped."""
    return f"{change.key} {_printable(change.unique_name)}"


def orphan_detail(plan: Plan, change: Change) -> str:
    """What a may-orphan change may leave behind."""
    before, after = change.before, change.after
    if before is None or after is None:
        return "data may be orphaned"
    parts = []
    removed = values_diff(before.ordered_value_list, after.ordered_value_list).removed
    if removed:
        shown = ", ".join(json.dumps(v, ensure_ascii=False) for v in removed[:5])
        more = f" and {len(removed) - 5} more" if len(removed) > 5 else ""
        parts.append(f"records holding {shown}{more} may keep values the field no longer lists")
    if before.reference_to != after.reference_to:
        parts.append(
            f"references to {before.reference_to or '(unknown)'} may no longer resolve "
            f"(referenceTo -> {after.reference_to or '(unset)'})"
        )
    if not parts:
        parts.append(
            "Gong did not report this field's current values or target, so values added in "
            "Gong outside crmform would be removed"
        )
    return "; ".join(parts)


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
        which = "this change" if len(orphans) == 1 else f"these {len(orphans)} changes"
        lines.append(f"Data may be orphaned by {which} (Gong does not document the effect):")
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
