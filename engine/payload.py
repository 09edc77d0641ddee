"""The exact upload for one object type, and the state it leaves behind. Pure.

Gong forgets nothing it was sent: every upload must list every field it knows, alive or as an
`isDeleted` tombstone. The body is therefore derived from the desired object and the state
object themselves, not from a list of changes, so that no field the state records can be
left out by construction.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from crmform.engine.model import Field, ObjectKey, ObjectSchema, Plan
from crmform.engine.ports import FieldPayload

_Item = dict[str, "str | bool | list[str]"]


@dataclass(frozen=True, slots=True)
class Upload:
    """What to send for one address, and the state object once Gong accepted it.

    `body` is empty when the address has only state-side changes (protect), in which case
    `sends` is False and nothing goes over the wire.
    """

    key: ObjectKey
    body: tuple[FieldPayload, ...]
    after: ObjectSchema
    sends: bool


def timestamp(moment: datetime) -> str:
    """Gong's lastModified form: ISO-8601 in UTC, seconds precision, `Z` suffix."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _alive(f: Field, last_modified: str | None) -> FieldPayload:
    item: _Item = {"uniqueName": f.unique_name, "label": f.label, "type": f.type.value}
    if f.reference_to is not None:
        item["referenceTo"] = f.reference_to
    if f.ordered_value_list is not None:
        item["orderedValueList"] = list(f.ordered_value_list)
    if last_modified is not None:
        item["lastModified"] = last_modified
    return item


def _tombstone(f: Field, last_modified: str) -> FieldPayload:
    # Gong's documented delete example sends only these keys (no orderedValueList).
    return {
        "uniqueName": f.unique_name,
        "label": f.label,
        "type": f.type.value,
        "isDeleted": True,
        "lastModified": last_modified,
    }


def build(
    key: ObjectKey, desired: ObjectSchema | None, state: ObjectSchema | None, now: str
) -> Upload:
    """The complete upload for `key`: every desired field, plus a tombstone per state field
    the desired files no longer have. `now` (see `timestamp`) stamps what changes."""
    prior = state.by_name() if state is not None else {}
    wanted = desired.fields if desired is not None else ()
    body: list[FieldPayload] = []
    kept: list[Field] = []
    sends = False
    for f in wanted:
        old = prior.get(f.unique_name)
        unchanged = old is not None and old.same_remote(f)
        stamp = old.last_modified if unchanged and old is not None else now
        sends = sends or not unchanged
        body.append(_alive(f, stamp))
        kept.append(
            Field(
                f.unique_name,
                f.label,
                f.type,
                f.reference_to,
                f.ordered_value_list,
                f.protect,
                stamp,
            )
        )
    names = {f.unique_name for f in wanted}
    for name, old in prior.items():
        if name not in names:
            body.append(_tombstone(old, now))
            sends = True
    after = ObjectSchema(key, tuple(kept), desired.source if desired is not None else None)
    return Upload(key, tuple(body) if sends else (), after, sends)


def uploads(plan: Plan, now: str) -> tuple[Upload, ...]:
    """One Upload per address the plan changes, in plan order, built against its prior."""
    prior = plan.prior
    return tuple(build(k, plan.desired.get(k), prior.get(k), now) for k in plan.changed_keys())
