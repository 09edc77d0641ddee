"""Exactly what differs between a field as the remote reports it and as an upload would send
it, attributes crmform does not model and nested values included; and which attributes the
remote reported that no upload sends. Pure.

Gong may add attributes to its GET answers without notice (RemoteSchema.extra keeps them),
and an upload of the complete field list sends only what crmform models: Gong could reset
the rest. `unsent` says which fields that concerns, before an upload; `differences` says,
for one field, every attribute that differs, with both values.

DeepDiff is good at that last part and slow for the bulk: it is imported here only, and
runs only for a field that a plain comparison already found different, so that planning
and the pre-upload check stay as fast as before for the fields that match.

As everywhere (see drift.py), what the remote leaves null is unknown, never a difference;
lastModified and crmform's own `protect` are not compared.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from crmform.engine.drift import known
from crmform.engine.model import Field
from crmform.engine.ports import Extra, RemoteSchema

__all__ = ["AttributeDifference", "UnsentAttributes", "differences", "unsent"]


@dataclass(frozen=True, slots=True)
class AttributeDifference:
    """One attribute (or a part of one) that differs.

    `path` names it in the remote's own keys: `label`, `orderedValueList[1]`, an unmodelled
    `formula`, or a nested `settings.currency`. `remote` and `sent` are the two values as
    JSON text; `remote` is None when the remote does not report it, `sent` is None when
    the upload does not send it (every unmodelled attribute, for one).
    """

    path: str
    remote: str | None
    sent: str | None

    def __str__(self) -> str:
        before = self.remote if self.remote is not None else "(not reported)"
        after = self.sent if self.sent is not None else "(not sent)"
        return f"{self.path}: {before} -> {after}"


@dataclass(frozen=True, slots=True)
class UnsentAttributes:
    """A remote field with attributes crmform does not model and an upload does not send."""

    unique_name: str
    keys: tuple[str, ...]


def unsent(remote: RemoteSchema) -> tuple[UnsentAttributes, ...]:
    """The fields the remote reported unmodelled attributes for (nulls do not count: an
    attribute the remote itself leaves empty loses nothing), in the remote's field order."""
    if not remote.extra:
        return ()  # the usual answer: nothing crmform does not model
    by_name = dict(remote.extra)
    found: list[UnsentAttributes] = []
    for f in remote.fields:
        keys = tuple(k for k, v in by_name.get(f.unique_name, ()) if v != "null")
        if keys:
            found.append(UnsentAttributes(f.unique_name, keys))
    return tuple(found)


def differences(remote: Field, extra: Extra, sent: Field) -> tuple[AttributeDifference, ...]:
    """Every difference between `remote` (with its unmodelled `extra`) and `sent`, in a
    stable order; () when there is none, without importing DeepDiff."""
    before, after = _document(remote, extra, sent)
    if before == after:
        return ()
    from deepdiff import DeepDiff
    from deepdiff.helper import notpresent

    found: list[AttributeDifference] = []
    for items in DeepDiff(before, after, view="tree").values():
        for level in items:
            found.append(
                AttributeDifference(
                    _path(level.path(output_format="list")),
                    None if level.t1 is notpresent else _json(level.t1),
                    None if level.t2 is notpresent else _json(level.t2),
                )
            )
    return tuple(sorted(found, key=lambda d: d.path))


def _document(
    remote: Field, extra: Extra, sent: Field
) -> tuple[dict[str, object], dict[str, object]]:
    """Both sides as JSON documents in the remote's key names, holding only what can be
    compared: what the remote left unknown is left out of both."""
    reported = known(remote)
    before: dict[str, object] = {"type": reported.type.value, "label": reported.label}
    after: dict[str, object] = {"type": sent.type.value, "label": sent.label}
    if reported.reference_to is not None:
        before["referenceTo"] = reported.reference_to
        if sent.reference_to is not None:
            after["referenceTo"] = sent.reference_to
    if reported.ordered_value_list is not None:
        before["orderedValueList"] = list(reported.ordered_value_list)
        if sent.ordered_value_list is not None:
            after["orderedValueList"] = list(sent.ordered_value_list)
    for key, text in extra:
        value = json.loads(text)
        if value is not None and key not in before:
            before[key] = value
    return before, after


def _path(parts: list[object]) -> str:
    text = ""
    for part in parts:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else str(part)
    return text


def _json(value: object) -> str:
    return json.dumps(value, sort_keys=True, ensure_ascii=False)
