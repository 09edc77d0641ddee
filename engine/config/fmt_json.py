"""crmform fmt's layout of JSON schema files (engine/config/fmt.py: the rules shared with YAML).

JSON has no comments to keep, so the text is written anew: the canonical key order, ids
above 2**53 as strings, and a value on one line when that line fits in _JSON_WIDTH columns,
else one entry per line, indent 2 (examples/quickstart/lead.json is an example).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from typing import Any

from crmform.engine.config.keys import FIELD_KEYS, TOP_KEYS

__all__ = ["json_layout", "order"]

_JSON_WIDTH = 100
_SAFE_INTEGER = 2**53


def order(keys: Iterable[Any], known: Sequence[str]) -> list[Any]:
    """`keys` with the known ones first, in `known`'s order; the others after, as they were."""
    rank = {k: i for i, k in enumerate(known)}
    return sorted(keys, key=lambda k: rank.get(k, len(known)) if isinstance(k, str) else len(known))


def json_layout(doc: dict[Any, Any]) -> str:
    ordered = {k: doc[k] for k in order(doc, TOP_KEYS)}
    iid = ordered.get("integrationId")
    if type(iid) is int and iid > _SAFE_INTEGER:
        ordered["integrationId"] = str(iid)
    fields = ordered.get("fields")
    if isinstance(fields, list):
        ordered["fields"] = [
            {k: f[k] for k in order(f, FIELD_KEYS)} if isinstance(f, dict) else f for f in fields
        ]
    return "\n".join(_json_lines(ordered, "", 0, "")) + "\n"


def _json_lines(value: Any, prefix: str, indent: int, tail: str) -> list[str]:
    """A value on one line when that line fits in _JSON_WIDTH columns, else one entry per
    line (indent 2)."""
    pad = " " * indent
    line = f"{pad}{prefix}{_json_flat(value)}{tail}"
    if len(line) <= _JSON_WIDTH or not isinstance(value, (dict, list)) or not value:
        return [line]
    if isinstance(value, dict):
        entries = [(f"{json.dumps(k, ensure_ascii=False)}: ", v) for k, v in value.items()]
        opening, closing = "{", "}"
    else:
        entries = [("", v) for v in value]
        opening, closing = "[", "]"
    lines = [f"{pad}{prefix}{opening}"]
    for i, (key, item) in enumerate(entries):
        lines += _json_lines(item, key, indent + 2, "," if i + 1 < len(entries) else "")
    return [*lines, f"{pad}{closing}{tail}"]


def _json_flat(value: Any) -> str:
    if isinstance(value, dict):
        if not value:
            return "{}"
        inner = ", ".join(
            f"{json.dumps(k, ensure_ascii=False)}: {_json_flat(v)}" for k, v in value.items()
        )
        return "{ " + inner + " }"
    if isinstance(value, list):
        return "[" + ", ".join(_json_flat(v) for v in value) + "]"
    return json.dumps(value, ensure_ascii=False)
