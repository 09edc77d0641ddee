"""Builders of model values and fakes shared by the tests, so a test spells out only the
attributes it is about."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from crmform.engine.model import Field, FieldType, ObjectKey, ObjectType, Plan, State
from crmform.engine.payload import uploads

# The integration id of Gong's own API examples; most tests need just one integration.
INTEGRATION = 6286478263646
ACCOUNT = ObjectKey("gong", INTEGRATION, ObjectType.ACCOUNT)
CONTACT = ObjectKey("gong", INTEGRATION, ObjectType.CONTACT)
DEAL = ObjectKey("gong", INTEGRATION, ObjectType.DEAL)


def fld(
    name: str,
    type_: FieldType = FieldType.STRING,
    label: str | None = None,
    *,
    values: Iterable[str] | None = None,
    ref: str | None = None,
    protect: bool = False,
    stamp: str | None = None,
) -> Field:
    """A field whose label defaults to its name title-cased; `stamp` is its lastModified."""
    return Field(
        unique_name=name,
        label=label if label is not None else name.title(),
        type=type_,
        reference_to=ref,
        ordered_value_list=tuple(values) if values is not None else None,
        protect=protect,
        last_modified=stamp,
    )


@dataclass
class FakeTime:
    """A clock that only moves when the code under test sleeps (or a test says so)."""

    now: float = 1000.0
    sleeps: list[float] = field(default_factory=list)

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def applied(plan: Plan, now: str) -> State:
    """The state after every upload of `plan` succeeded (serial bookkeeping is the backend's)."""
    state = plan.prior
    for upload in uploads(plan, now):
        state = state.with_object(upload.after)
    return state
