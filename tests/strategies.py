"""Hypothesis strategies for crmform's model types, shared by the property tests."""

from __future__ import annotations

from factories import fld
from hypothesis import strategies as st

from crmform.engine.model import (
    REFERENCE_TARGETS,
    Desired,
    Field,
    FieldType,
    ObjectKey,
    ObjectSchema,
    ObjectType,
    State,
)

NAMES = st.sampled_from([f"field{i}" for i in range(12)])
LABELS = st.sampled_from(["Name", "Account name", "Tier", "Owner", "Ärger 😀"])
VALUES = st.lists(st.sampled_from(["Gold", "Silver", "Bronze", "Iron"]), min_size=1, unique=True)
STAMPS = st.sampled_from([None, "2026-01-02T03:04:05Z", "2025-12-31T23:59:59Z"])
KEYS = st.builds(
    ObjectKey,
    st.just("gong"),
    st.sampled_from([6286478263646, 2271307570613351879]),
    st.sampled_from(list(ObjectType)),
)


@st.composite
def fields(draw: st.DrawFn, name: str | None = None, stamped: bool = False) -> Field:
    kind = draw(st.sampled_from(list(FieldType)))
    return fld(
        name if name is not None else draw(NAMES),
        kind,
        draw(LABELS),
        ref=draw(st.sampled_from(REFERENCE_TARGETS)) if kind is FieldType.REFERENCE else None,
        values=draw(VALUES) if kind is FieldType.PICKLIST else None,
        stamp=draw(STAMPS) if stamped else None,
    )


@st.composite
def objects(draw: st.DrawFn, key: ObjectKey, stamped: bool = False) -> ObjectSchema:
    names = draw(st.lists(NAMES, unique=True, max_size=8))
    return ObjectSchema(key, tuple(draw(fields(n, stamped)) for n in names))


@st.composite
def desired_and_state(draw: st.DrawFn) -> tuple[Desired, State]:
    """Desired files and a state over overlapping addresses and field names."""
    keys = draw(st.lists(KEYS, unique=True, min_size=1, max_size=4))
    wanted = [draw(objects(k)) for k in keys if draw(st.booleans())]
    stored = [draw(objects(k, stamped=True)) for k in keys if draw(st.booleans())]
    state = State("lineage-1", draw(st.integers(0, 5)), tuple(o for o in stored if o.fields))
    return Desired(tuple(sorted(wanted, key=lambda o: o.key))), state
