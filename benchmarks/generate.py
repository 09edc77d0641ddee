"""Deterministic, realistic schema sets for the benchmark (and its smoke test).

A set has four object types with mixed field types (about one in five a PICKLIST with 3-30
values, some REFERENCE fields, a few protected), written as YAML and as JSON with the same
content, plus a state file in crmform's own format that differs from the files by a few
percent: creates, label updates, picklist edits, type changes (replaces) and deletes.

The state is built from crmform's model and serialised with engine.formats.codec, so it stays
whatever LocalState reads. Everything derives from one seeded random.Random: the same size
and seed give byte-identical files.
"""

from __future__ import annotations

import json
import random
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import yaml

from crmform.engine.formats.codec import state_to_json
from crmform.engine.model import (
    REFERENCE_TARGETS,
    Field,
    FieldType,
    ObjectKey,
    ObjectSchema,
    ObjectType,
    State,
    replace,
)

__all__ = [
    "DEFAULT_SEED",
    "INTEGRATION_ID",
    "Expected",
    "SchemaSet",
    "Workload",
    "before_objects",
    "build",
    "write_schema_dir",
    "write_state",
    "write_workload",
]

DEFAULT_SEED = 6
INTEGRATION_ID = 6286478263646
LAST_MODIFIED = "2026-01-15T09:30:00Z"
# Share of all fields per kind of change (at least one of each, whatever the size).
CHANGE_RATES = {"create": 0.01, "label": 0.01, "values": 0.01, "type": 0.005, "delete": 0.005}
PROTECTED_RATE = 0.02

_SIMPLE_TYPES = tuple(
    t for t in FieldType if t not in (FieldType.PICKLIST, FieldType.REFERENCE, FieldType.STRING)
)
_RETYPABLE = (*_SIMPLE_TYPES, FieldType.STRING)
# Roughly what CRM integrations carry: many strings, a fifth picklists, some references.
_TYPE_WEIGHTS: tuple[tuple[FieldType, float], ...] = (
    (FieldType.PICKLIST, 0.20),
    (FieldType.REFERENCE, 0.08),
    (FieldType.STRING, 0.24),
    *((t, 0.48 / len(_SIMPLE_TYPES)) for t in _SIMPLE_TYPES),
)
_STEMS = (
    *("Account Tier", "Annual Revenue", "Billing Region", "Renewal Date", "Churn Risk"),
    *("Lead Source", "Industry", "Segment", "Employee Count", "Health Score", "Owner"),
    *("Close Reason", "Forecast Category", "Next Step", "Contract Value", "Discount"),
    *("Primary Contact", "Partner", "Territory", "Product Line", "Use Case", "Stage Age"),
    *("Competitor", "Budget Confirmed", "Decision Maker", "Champion", "Website", "Phone"),
    *("Email Opt Out", "Onboarding Status", "Support Plan", "Region", "Currency"),
)
_VALUES = (
    *("Analyst", "Competitor", "Customer", "Integrator", "Investor", "Partner", "Press"),
    *("Prospect", "Reseller", "Other", "Inbound", "Outbound", "Referral", "Event"),
    *("Webinar", "Trade Show", "Paid Search", "Organic", "Social", "Email Campaign"),
    *("Enterprise", "Mid-Market", "SMB", "Startup", "Public Sector", "Education"),
    *("North America", "EMEA", "APAC", "LATAM", "Gold", "Silver", "Bronze", "Platinum"),
    *("Low", "Medium", "High", "Critical", "Not Started", "In Progress", "Done", "Blocked"),
)


@dataclass(frozen=True, slots=True)
class Expected:
    """The plan summary that `crmform plan` must print for the set (protect changes: none)."""

    create: int
    update: int
    replace: int
    delete: int

    @property
    def total(self) -> int:
        return self.create + self.update + self.replace + self.delete

    def summary_line(self) -> str:
        return (
            f"Plan: {self.create} to create, {self.update} to update, "
            f"{self.replace} to replace, {self.delete} to delete."
        )


@dataclass(frozen=True, slots=True)
class SchemaSet:
    """`desired` is what the files say; `before` is what the state records (and what an
    earlier apply left in Gong); `state` wraps `before` with lineage and serial."""

    desired: tuple[ObjectSchema, ...]
    before: tuple[ObjectSchema, ...]
    state: State
    expected: Expected

    @property
    def field_count(self) -> int:
        return sum(len(o.fields) for o in self.desired)


@dataclass(frozen=True, slots=True)
class Workload:
    """One schema set on disk: the same desired files as YAML and as JSON, and the state."""

    fields: int
    yaml_dir: Path
    json_dir: Path
    state_path: Path
    expected: Expected


def build(fields: int, seed: int = DEFAULT_SEED) -> SchemaSet:
    """A schema set of `fields` desired fields over the four object types (at least 8)."""
    if fields < 8:
        raise ValueError(f"a schema set needs at least 8 fields (2 per object type), not {fields}")
    rng = random.Random(f"crmform-bench/{fields}/{seed}")
    types = tuple(ObjectType)
    per_type = [fields // len(types) + (i < fields % len(types)) for i in range(len(types))]
    counts = {kind: max(1, round(rate * fields)) for kind, rate in CHANGE_RATES.items()}
    # Changes go round-robin over the object types, so every type changes at any size.
    quota = {
        kind: [len(range((t_i - k) % len(types), n, len(types))) for t_i in range(len(types))]
        for k, (kind, n) in enumerate(counts.items())
    }
    desired, before = [], []
    for t_i, object_type in enumerate(types):
        key = ObjectKey("gong", INTEGRATION_ID, object_type)
        wanted = [_field(rng, object_type, i) for i in range(per_type[t_i])]
        applied = _applied(rng, object_type, wanted, {k: q[t_i] for k, q in quota.items()})
        desired.append(ObjectSchema(key, tuple(wanted)))
        if applied:
            before.append(ObjectSchema(key, tuple(applied)))
    lineage = str(random.Random(seed).getrandbits(128).to_bytes(16, "big").hex())
    lineage = f"{lineage[:8]}-{lineage[8:12]}-{lineage[12:16]}-{lineage[16:20]}-{lineage[20:]}"
    expected = Expected(
        create=counts["create"],
        update=counts["label"] + counts["values"],
        replace=counts["type"],
        delete=counts["delete"],
    )
    return SchemaSet(tuple(desired), tuple(before), State(lineage, 7, tuple(before)), expected)


def _field(rng: random.Random, object_type: ObjectType, index: int) -> Field:
    # The first two fields of each type are a picklist and a string, so even tiny sets can
    # have picklist edits and type changes.
    if index < 2:
        kind = (FieldType.PICKLIST, FieldType.STRING)[index]
    else:
        kind = rng.choices([t for t, _ in _TYPE_WEIGHTS], [w for _, w in _TYPE_WEIGHTS])[0]
    stem = rng.choice(_STEMS)
    prefix = object_type.value.lower()
    return Field(
        unique_name=f"{prefix}_{stem.replace(' ', '_')}_{index:05d}__c",
        label=f"{stem} {index}",
        type=kind,
        reference_to=rng.choice(REFERENCE_TARGETS) if kind is FieldType.REFERENCE else None,
        ordered_value_list=(
            tuple(rng.sample(_VALUES, rng.randint(3, 30))) if kind is FieldType.PICKLIST else None
        ),
        protect=index > 1 and rng.random() < PROTECTED_RATE,
    )


def _applied(
    rng: random.Random, object_type: ObjectType, wanted: Sequence[Field], quota: dict[str, int]
) -> list[Field]:
    """What the state records for one object type: `wanted` with this type's share of changes."""
    picklists = [i for i, f in enumerate(wanted) if f.type is FieldType.PICKLIST]
    simple = [i for i, f in enumerate(wanted) if f.type in _RETYPABLE and not f.protect]
    chosen: set[int] = set()

    def pick(pool: Iterable[int], count: int, what: str) -> list[int]:
        free = [i for i in pool if i not in chosen]
        if len(free) < count:
            raise ValueError(f"{object_type}: too few fields for {count} {what} change(s)")
        taken = sorted(rng.sample(free, count))
        chosen.update(taken)
        return taken

    values = pick(picklists, quota["values"], "picklist")
    retyped = pick(simple, quota["type"], "type")
    relabelled = pick(range(len(wanted)), quota["label"], "label")
    created = pick(range(len(wanted)), quota["create"], "create")
    applied: list[Field] = []
    for i, f in enumerate(wanted):
        if i in created:
            continue
        if i in relabelled:
            f = replace(f, label=f"{f.label} (old)")
        elif i in values:
            f = replace(f, ordered_value_list=_edited(rng, f.ordered_value_list or ()))
        elif i in retyped:
            others = [t for t in _RETYPABLE if t is not f.type]
            f = replace(f, type=rng.choice(others))
        applied.append(replace(f, last_modified=LAST_MODIFIED))
    prefix = object_type.value.lower()
    for n in range(quota["delete"]):
        applied.append(
            Field(
                unique_name=f"{prefix}_Retired_{n:05d}__c",
                label=f"Retired {n}",
                type=rng.choice((FieldType.STRING, FieldType.NUMBER, FieldType.DATE)),
                last_modified=LAST_MODIFIED,
            )
        )
    return applied


def _edited(rng: random.Random, values: tuple[str, ...]) -> tuple[str, ...]:
    """The picklist as it was before an edit: one value since removed, one since added."""
    kept = list(values[:-1]) if len(values) > 1 else list(values)
    kept.insert(rng.randrange(len(kept) + 1), "Legacy")
    return tuple(kept)


class _FlowList(list[str]):
    """A list YAML writes inline, `[a, b, c]`, as people write picklist values."""


class _Dumper(getattr(yaml, "CSafeDumper", yaml.SafeDumper)):  # type: ignore[misc]
    """Block-style mappings, inline value lists: the style of examples/quickstart."""


_Dumper.add_representer(
    _FlowList,
    lambda dumper, data: dumper.represent_sequence("tag:yaml.org,2002:seq", data, flow_style=True),
)


def _document(obj: ObjectSchema) -> dict[str, object]:
    fields: list[dict[str, object]] = []
    for f in obj.fields:
        item: dict[str, object] = {"uniqueName": f.unique_name, "label": f.label}
        item["type"] = f.type.value
        if f.reference_to is not None:
            item["referenceTo"] = f.reference_to
        if f.ordered_value_list is not None:
            item["orderedValueList"] = _FlowList(f.ordered_value_list)
        if f.protect:
            item["protect"] = True
        fields.append(item)
    return {
        "provider": obj.key.provider,
        "integrationId": obj.key.integration_id,
        "objectType": obj.key.object_type.value,
        "fields": fields,
    }


def write_schema_dir(
    objects: Iterable[ObjectSchema], directory: Path, fmt: str
) -> tuple[Path, ...]:
    """One desired-state file per object type, `account.yaml` or `account.json` style."""
    if fmt not in ("yaml", "json"):
        raise ValueError(f"fmt must be 'yaml' or 'json', not {fmt!r}")
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for obj in objects:
        doc = _document(obj)
        path = directory / f"{obj.key.object_type.value.lower()}.{fmt}"
        if fmt == "json":
            text = json.dumps(doc, indent=2, ensure_ascii=False) + "\n"
        else:
            text = yaml.dump(doc, Dumper=_Dumper, sort_keys=False, width=4096)
        path.write_text(text, encoding="utf-8")
        written.append(path)
    return tuple(written)


def write_state(state: State, path: Path) -> None:
    """The state file exactly as LocalState writes it (indented JSON, trailing newline)."""
    text = json.dumps(state_to_json(state), indent=2, ensure_ascii=False) + "\n"
    path.write_text(text, encoding="utf-8")


def write_workload(root: Path, fields: int, seed: int = DEFAULT_SEED) -> Workload:
    """Generate a set of `fields` fields under `root`: yaml/, json/ and state.json."""
    schema_set = build(fields, seed)
    root.mkdir(parents=True, exist_ok=True)
    write_schema_dir(schema_set.desired, root / "yaml", "yaml")
    write_schema_dir(schema_set.desired, root / "json", "json")
    write_state(schema_set.state, root / "state.json")
    return Workload(
        fields=fields,
        yaml_dir=root / "yaml",
        json_dir=root / "json",
        state_path=root / "state.json",
        expected=schema_set.expected,
    )


def before_objects(schema_set: SchemaSet) -> tuple[ObjectSchema, ...]:
    """The state's content as desired objects (no lastModified), e.g. to apply it first."""
    return tuple(
        ObjectSchema(o.key, tuple(replace(f, last_modified=None) for f in o.fields))
        for o in schema_set.before
    )
