"""The exact upload for one object type, and the state it leaves behind. Pure.

Gong forgets nothing it was sent: every upload must list every field it knows, alive or as an
`isDeleted` tombstone. The body is therefore derived from the desired object and the state
object themselves, not from a list of changes, so that no field the state records can be
left out by construction.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from crmform.engine.model import Field, ObjectKey, ObjectSchema, Plan, replace
from crmform.engine.ports import FieldWrite


@dataclass(frozen=True, slots=True)
class Upload:
    """What to send for one address, and the state object once Gong accepted it.

    `body` holds the field writes in the order they are sent; it is empty when the address
    has only state-side changes (protect), in which case `sends` is False and nothing goes
    over the wire.
    """

    key: ObjectKey
    body: tuple[FieldWrite, ...]
    after: ObjectSchema
    sends: bool


def timestamp(moment: datetime) -> str:
    """Gong's lastModified form: ISO-8601 in UTC, seconds precision, `Z` suffix."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def build(
    key: ObjectKey, desired: ObjectSchema | None, state: ObjectSchema | None, now: str
) -> Upload:
    """The complete upload for `key`: every desired field, plus a tombstone per state field
    the desired files no longer have. `now` (see `timestamp`) stamps what changes."""
    prior = state.by_name() if state is not None else {}
    wanted = desired.fields if desired is not None else ()
    body: list[FieldWrite] = []
    kept: list[Field] = []
    sends = False
    for f in wanted:
        old = prior.get(f.unique_name)
        if old is not None and old.same_remote(f):
            # Unchanged: it keeps its stamp, and is the state's own field when protect is
            # the same too (most fields of an upload; no copy to make).
            sent = old if old.protect == f.protect else replace(old, protect=f.protect)
        else:
            sends = True
            sent = Field(
                f.unique_name,
                f.label,
                f.type,
                f.reference_to,
                f.ordered_value_list,
                f.protect,
                now,
            )
        body.append(FieldWrite(sent))
        kept.append(sent)
    names = {f.unique_name for f in wanted}
    for name, old in prior.items():
        if name not in names:
            # A tombstone is stamped with the time of its upload.
            body.append(FieldWrite(replace(old, last_modified=now), deleted=True))
            sends = True
    after = ObjectSchema(key, tuple(kept), desired.source if desired is not None else None)
    return Upload(key, tuple(body) if sends else (), after, sends)


def uploads(plan: Plan, now: str) -> tuple[Upload, ...]:
    """One Upload per address the plan changes, in plan order, built against its prior."""
    prior = plan.prior
    return tuple(build(k, plan.desired.get(k), prior.get(k), now) for k in plan.changed_keys())
