"""One object's fields as a readable schema file (YAML), for `crmform import --write-config`.

Pure: returns text. The file is in the documented format (engine/schema.json), so that
`crmform plan` over it reports no changes against the state it was written from.

What Gong did not say is never invented: a PICKLIST without orderedValueList (or a REFERENCE
without referenceTo) gets a comment where the key belongs and no key, so validation tells
the user to fill it in.

Strings are written plain only when YAML cannot read them as anything else; all others are
double-quoted with escapes, so labels such as "yes", "on", "1.0", "12:30" or "a: b" load
back as the same strings.
"""

from __future__ import annotations

import re

from crmform.engine.model import DEFAULT_PROVIDER, Field, FieldType, ObjectSchema

__all__ = ["double_quoted", "file_name", "missing_details", "object_yaml", "yaml_string"]

# A letter or underscore first: no YAML indicator, number, date or merge key starts so.
_PLAIN = re.compile(r"[A-Za-z_][A-Za-z0-9_ .,()/&'+-]*")
# YAML 1.1 (PyYAML) reads these as booleans or null in any case spelling it knows; quoting
# every case spelling is harmless.
_RESERVED = frozenset({"y", "n", "yes", "no", "on", "off", "true", "false", "null", "nan", "inf"})
_ESCAPES = {'"': '\\"', "\\": "\\\\", "\n": "\\n", "\t": "\\t", "\r": "\\r"}
# Line breaks YAML folds (NEL, LS, PS), the BOM, non-characters and surrogates: escaped,
# as are C0 and C1 control characters.
_ESCAPED_CODES = frozenset({0x2028, 0x2029, 0xFEFF, 0xFFFE, 0xFFFF})
_SAFE_INTEGER = 2**53  # above this, tools that read numbers as doubles lose digits

_TODO_VALUES = (
    "# TODO orderedValueList: Gong did not return this picklist's values. List them here,",
    "# in display order (orderedValueList: [First, Second]), before running crmform plan.",
)
_TODO_TARGET = (
    "# TODO referenceTo: Gong did not return what this field refers to. Set it to one of",
    "# ACCOUNT, CONTACT, DEAL, LEAD or USER before running crmform plan.",
)


def file_name(obj: ObjectSchema) -> str:
    """The file `import --write-config` writes for `obj`, e.g. `account.yaml`."""
    return f"{obj.key.object_type.value.lower()}.yaml"


def missing_details(obj: ObjectSchema) -> tuple[Field, ...]:
    """Fields the written file cannot complete: picklists without values, references
    without a target."""
    return tuple(f for f in obj.fields if _needs_values(f) or _needs_target(f))


def object_yaml(obj: ObjectSchema) -> str:
    """The schema file text for `obj` (its fields in order; protect written when set)."""
    object_type = obj.key.object_type.value
    lines = [
        f"# crmform desired state: the custom fields of Gong's {object_type} object.",
        "# Written by `crmform import` from Gong's schema; crmform now manages these fields.",
        "# Removing a field from this list deletes it, with its data, on the next apply;",
        "# changing its type replaces it (the old data is lost). `protect: true` on a field",
        "# makes any plan that would delete or replace it fail.",
    ]
    if missing_details(obj):
        lines.append("# Fill in the values marked TODO below: Gong's answer did not include them.")
    iid = obj.key.integration_id
    lines += [
        f"provider: {DEFAULT_PROVIDER}",
        f"integrationId: {iid if iid <= _SAFE_INTEGER else yaml_string(str(iid))}",
        f"objectType: {object_type}",
    ]
    if not obj.fields:
        lines.append("fields: []")
    else:
        lines.append("fields:")
        for f in obj.fields:
            lines += _field_lines(f)
    return "\n".join(lines) + "\n"


def _field_lines(f: Field) -> list[str]:
    lines = [
        f"  - uniqueName: {yaml_string(f.unique_name)}",
        f"    label: {yaml_string(f.label)}",
        f"    type: {f.type.value}",
    ]
    if f.type is FieldType.REFERENCE:
        if f.reference_to is None:
            lines += [f"    {c}" for c in _TODO_TARGET]
        else:
            lines.append(f"    referenceTo: {yaml_string(f.reference_to)}")
    if f.type is FieldType.PICKLIST:
        if not f.ordered_value_list:
            lines += [f"    {c}" for c in _TODO_VALUES]
        else:
            lines.append("    orderedValueList:")
            lines += [f"      - {yaml_string(v)}" for v in f.ordered_value_list]
    if f.protect:
        lines.append("    protect: true")
    return lines


def _needs_values(f: Field) -> bool:
    return f.type is FieldType.PICKLIST and not f.ordered_value_list


def _needs_target(f: Field) -> bool:
    return f.type is FieldType.REFERENCE and f.reference_to is None


def yaml_string(text: str) -> str:
    """`text` as a YAML scalar that loads back as exactly this string."""
    if _PLAIN.fullmatch(text) and text == text.rstrip() and text.lower() not in _RESERVED:
        return text
    return double_quoted(text)


def double_quoted(text: str) -> str:
    """`text` as a double-quoted YAML scalar (crmform fmt writes quoted strings this way)."""
    return '"' + "".join(_escape(ch) for ch in text) + '"'


def _escape(ch: str) -> str:
    if ch in _ESCAPES:
        return _ESCAPES[ch]
    code = ord(ch)
    if code < 0x20 or 0x7F <= code <= 0x9F or 0xD800 <= code <= 0xDFFF or code in _ESCAPED_CODES:
        return f"\\x{code:02x}" if code <= 0xFF else f"\\u{code:04x}"
    return ch
