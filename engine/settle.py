"""Settling uploads whose outcome is unknown, by reading Gong. Pure decisions.

Before each POST the applier records a PendingUpload in the state; a definite answer clears
it. One that survives (a timeout, a dropped connection, a 5xx, a kill) may still be, or
later be, applied by Gong, so the next command that touches its address reads Gong first:

  Gong shows the upload's schema      APPLIED      the state records it, the record goes
  Gong shows the state's schema       NOT_SEEN     it did not land (yet): only an identical
                                                   upload may be sent to that address
  Gong shows something else           UNKNOWN      nothing is sent there; the report says
                                                   exactly what Gong has
Either of the last two stops a different upload to that address unless the user says to go
on (`--discard-pending`): a late landing would undo it, or bring back a type someone
approved replacing.

Gong's GET often answers null for picklist values and reference targets; a null is unknown
(see drift.py), so an upload that changed only those can look both applied and not. It
then counts as NOT_SEEN, and resending the identical upload settles it either way.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from crmform.engine.drift import compare
from crmform.engine.model import FieldDrift, ObjectSchema, PendingUpload
from crmform.engine.ports import FieldWrite, RemoteSchema

__all__ = ["Settled", "Settlement", "body_digest", "settle"]


class Settled(StrEnum):
    APPLIED = "applied"
    NOT_SEEN = "not-seen"
    UNKNOWN = "unknown"


@dataclass(frozen=True, slots=True)
class Settlement:
    """What reading Gong said of one pending upload; `differences` are Gong's schema against
    the upload's (empty unless UNKNOWN)."""

    record: PendingUpload
    outcome: Settled
    differences: tuple[FieldDrift, ...] = ()


def body_digest(body: Sequence[FieldWrite]) -> str:
    """sha256 (hex) of an upload body in a canonical form: the same fields give the same
    digest, whatever lastModified they were stamped with (an upload resent later sends the
    same fields with a later stamp). A tombstone counts by name, label and type only, as
    that is all it sends."""
    items: list[list[object]] = []
    append = items.append
    for w in body:
        f = w.field
        # A FieldType is a str and a tuple a JSON array to the encoder: the same text as
        # `.value` and `list(...)` would give, without the copies.
        if w.deleted:
            append([f.unique_name, f.label, f.type, True])
        else:
            append([f.unique_name, f.label, f.type, False, f.reference_to, f.ordered_value_list])
    canonical = json.dumps(items, separators=(",", ":"), ensure_ascii=True)
    return hashlib.sha256(canonical.encode("ascii")).hexdigest()


def settle(record: PendingUpload, stored: ObjectSchema | None, remote: RemoteSchema) -> Settlement:
    """Compare Gong's schema with the upload's and with the state's."""
    key = record.key
    as_uploaded = compare(key, record.after, remote)
    as_stored = compare(key, stored, remote)
    if not as_stored:
        return Settlement(record, Settled.NOT_SEEN)
    if not as_uploaded:
        return Settlement(record, Settled.APPLIED)
    return Settlement(record, Settled.UNKNOWN, as_uploaded)
