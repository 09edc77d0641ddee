"""A RecordSchema compiled for the record loop: one check per key, in one dict.

The loop asks `checks.get(key)` for every key of every record, so everything known about a
key is decided here, once: standard keys and applied fields get their value check; keys the
next apply changes (`pending`) and every other key take the slow path. `specs` keeps what
the messages need (types, values) for the few problems that are shown.
"""

from __future__ import annotations

from dataclasses import dataclass

from crmform.engine.model import ObjectType
from crmform.engine.records.schema import Pending, PendingField, RecordSchema
from crmform.engine.records.standard import DEAL_STATUSES, MANDATORY, STANDARD_KEYS, Kind
from crmform.engine.records.values import Check, field_check, standard_check

__all__ = ["Compiled", "Spec", "compile_schema"]

_FIXED = frozenset({*MANDATORY, "isDeleted"})


@dataclass(frozen=True, slots=True)
class Spec:
    """What the messages say about one key: `type_name` is a FieldType or a standard Kind
    value; `values` the allowed values of a PICKLIST (applied ones) or of deal status."""

    name: str
    standard: bool
    type_name: str
    values: tuple[str, ...] = ()
    pending_values: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Compiled:
    schema: RecordSchema
    object_type: ObjectType
    checks: dict[str, Check]
    specs: dict[str, Spec]
    pending: dict[str, tuple[PendingField, Check | None]]
    required: tuple[str, ...]
    # Schema fields named like a standard key. An applied field's own check replaces the
    # standard key's (its type is what the user declared), except for the keys every record
    # needs (_FIXED); a pending one is left out.
    shadowing: tuple[str, ...]

    @property
    def names(self) -> tuple[str, ...]:
        """Every key a record of this type may have (for "did you mean")."""
        return (*self.checks, *self.pending)


def compile_schema(schema: RecordSchema) -> Compiled:
    object_type = schema.key.object_type
    checks: dict[str, Check] = {}
    specs: dict[str, Spec] = {}
    for key in STANDARD_KEYS[object_type]:
        checks[key.name] = standard_check(key.kind)
        values: tuple[str, ...] = DEAL_STATUSES if key.kind is Kind.DEAL_STATUS else ()
        specs[key.name] = Spec(key.name, True, key.kind.value, values)
    waiting = dict(schema.pending_values)
    shadowing: list[str] = []
    for f in schema.fields:
        if f.unique_name in checks:
            shadowing.append(f.unique_name)
            if f.unique_name in _FIXED:
                continue
        values = f.ordered_value_list or ()
        checks[f.unique_name] = field_check(f.type, values, waiting.get(f.unique_name, ()))
        specs[f.unique_name] = Spec(
            f.unique_name, False, f.type.value, values, waiting.get(f.unique_name, ())
        )
    pending: dict[str, tuple[PendingField, Check | None]] = {}
    for p in schema.pending:
        name = p.field.unique_name
        if name in checks:
            shadowing.append(name)
            continue
        check = None
        if p.reason is not Pending.TOMBSTONED:
            check = field_check(p.field.type, p.field.ordered_value_list)
            values = p.field.ordered_value_list or ()
            specs[name] = Spec(name, False, p.field.type.value, values)
        pending[name] = (p, check)
    return Compiled(
        schema=schema,
        object_type=object_type,
        checks=checks,
        specs=specs,
        pending=pending,
        required=MANDATORY,
        shadowing=tuple(sorted(shadowing)),
    )
