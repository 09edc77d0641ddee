"""Whether a document follows schema.json: a quick check first, jsonschema for what it doubts.

jsonschema needs about 1.3 s for 10,000 fields, far over the load budget, so `quick_check`
stands in for it on valid documents: it must never accept what schema.json rejects (tests
compare the two), and whatever it doubts goes to jsonschema, which also writes the messages
(through messages.explain). Moved here from loader.py unchanged, but for public names.

A valid file does not even take the quick check's walk: `top_ok` and `checked_fields`
check it once while building its Fields (issue 14), and only a file they doubt is walked
by `quick_check` and jsonschema to find and word every problem. Both accept exactly what
`field_ok` (so schema.json) accepts; property tests in tests/test_config.py compare them.
"""

from __future__ import annotations

import functools
from sys import intern
from typing import Any, TypeGuard

from crmform.engine.config.ids import decimal_id, env_name
from crmform.engine.config.keys import FIELD_KEYS, FIELD_TYPES, TOP_KEYS, schema_text
from crmform.engine.config.messages import Problem, explain
from crmform.engine.config.positions import Loc
from crmform.engine.model import (
    DEFAULT_PROVIDER,
    FIELD,
    FIELD_TYPES_BY_VALUE,
    INTEGRATION_ID_MAX,
    REFERENCE_TARGETS,
    UNIQUE_NAME,
    Field,
    FieldType,
    ObjectType,
)

__all__ = [
    "checked_fields",
    "field_ok",
    "is_object_type",
    "quick_check",
    "schema_problems",
    "top_ok",
    "validators",
]

_TOP_REQUIRED = ("integrationId", "objectType", "fields")
_TOP_KEY_SET, _FIELD_KEY_SET = frozenset(TOP_KEYS), frozenset(FIELD_KEYS)
_OBJECT_TYPES = frozenset(t.value for t in ObjectType)
_TARGETS = frozenset(REFERENCE_TARGETS)
_TYPES = FIELD_TYPES_BY_VALUE
_PICKLIST, _REFERENCE = FieldType.PICKLIST, FieldType.REFERENCE
MAX_DEPTH = 32  # a schema file nests 4 deep (document, fields, field, values)
_TOO_DEEP = (
    f"nests more than {MAX_DEPTH} levels deep, deeper than any schema file needs (4); "
    "remove the extra nesting"
)


def quick_check(doc: dict[Any, Any]) -> tuple[bool, list[int]]:
    """Whether the top level is surely valid, and the indices of fields that may not be.

    jsonschema needs about 1.3 s for 10,000 fields, far over the load budget, so this check
    runs first. It must never accept what schema.json rejects (a test compares the two);
    whatever it doubts goes to jsonschema, which also writes the messages.
    """
    fields = doc.get("fields")
    bad = [i for i, f in enumerate(fields) if not field_ok(f)] if type(fields) is list else []
    return top_ok(doc), bad


def top_ok(doc: dict[Any, Any]) -> bool:
    """Whether the top level is surely valid (`fields` a list; its items are not looked at)."""
    fields, iid = doc.get("fields"), doc.get("integrationId")
    provider, object_type = doc.get("provider", DEFAULT_PROVIDER), doc.get("objectType")
    return (
        doc.keys() <= _TOP_KEY_SET
        and all(k in doc for k in _TOP_REQUIRED)
        and provider == DEFAULT_PROVIDER
        and (
            (type(iid) is int and 1 <= iid <= INTEGRATION_ID_MAX)
            or (type(iid) is str and (decimal_id(iid) or env_name(iid) is not None))
        )
        and is_object_type(object_type)
        and type(fields) is list
    )


def checked_fields(items: list[Any], tally: list[int] | None = None) -> tuple[Field, ...] | None:
    """The Fields of a `fields` list that is surely valid, built in one pass; None when any
    item is doubtful or two uniqueNames differ only in case (the loader then finds and
    words every problem the slow way: quick_check, jsonschema, its repeated-name check).

    The fast path of a valid file: one type check per key while building, no second walk.
    It accepts exactly what `field_ok` accepts, item by item, and builds what the loader's
    own `_fields` builds (a property test compares them), so schema.json stays the rule.

    An item at a time, not a key at a time over all items (issue 14): checks by columns
    (`map` over the items, one key each) ran in C but walked 50,000 parsed mappings once
    per key, and the mappings are cold memory by then: ~95 ms for 50,000 fields against
    ~65 ms for this loop, which touches each mapping once. Each Field is built by FIELD,
    in C, from the tuple of its attributes. When it builds them, `tally[0]` grows by the
    keys the items hold (for _parse_json, which then need not walk them again).
    """
    built: list[Field] = []
    append = built.append
    types, picklist, reference, targets, strip = _TYPES, _PICKLIST, _REFERENCE, _TARGETS, str.strip
    make = FIELD
    more = 0  # keys past the three each item has
    # Picklists repeat their values ("High", "EMEA"): each kept once (100,000 fields: ~15 MB),
    # interned, so the state's are the same strings and the planner compares them by identity.
    shared = intern
    try:
        for item in items:
            # Not a mapping, a key missing, a type unknown or unhashable: TypeError, KeyError.
            name, label, field_type = item["uniqueName"], item["label"], types[item["type"]]
            # Blank space at either end is found by strip(), as in field_ok; str.strip
            # raises TypeError for anything but a string (JSON and YAML make no subclass).
            if not name or strip(name) != name or not label or strip(label) != label:
                return None
            size = len(item)
            if size == 3 and field_type is not picklist and field_type is not reference:
                # The common case: nothing optional.
                append(make((name, label, field_type, None, None, False, None)))
                continue
            more += size - 3
            get = item.get
            protect = get("protect", False)
            if type(protect) is not bool:
                return None
            # Keys: the three above, "protect" if given, and what the type needs (below).
            expected = 3 + ("protect" in item)
            values: tuple[str, ...] | None = None
            target: str | None = None
            if field_type is picklist:
                given = get("orderedValueList")
                if type(given) is not list or not given or size != expected + 1:
                    return None
                if list(map(strip, given)) != given:  # TypeError: not all strings
                    return None
                if "" in given or len(set(given)) != len(given):
                    return None
                values = tuple(map(shared, given))
            elif field_type is reference:
                target = get("referenceTo")
                if target not in targets or size != expected + 1:  # TypeError: unhashable
                    return None
            elif size != expected:
                return None
            append(make((name, label, field_type, target, values, protect, None)))
    except (TypeError, KeyError):
        return None
    if len(set(map(str.lower, map(UNIQUE_NAME, built)))) != len(built):
        return None
    if tally is not None:
        tally[0] += 3 * len(built) + more
    return tuple(built)


def is_object_type(value: Any) -> TypeGuard[str]:
    return type(value) is str and value in _OBJECT_TYPES  # a YAML list is unhashable


def field_ok(item: Any) -> bool:
    if type(item) is not dict or not item.keys() <= _FIELD_KEY_SET:
        return False
    # Blank space at either end (schema.json's pattern) is found by strip(), which returns
    # the same string when there is none: the cheapest test per value measured.
    name, label, kind = item.get("uniqueName"), item.get("label"), item.get("type")
    if not (type(name) is str and name and name.strip() == name):
        return False
    if not (type(label) is str and label and label.strip() == label and type(kind) is str):
        return False
    if kind not in FIELD_TYPES or type(item.get("protect", False)) is not bool:
        return False
    if kind == "PICKLIST":
        values = item.get("orderedValueList")
        if type(values) is not list or not values:
            return False
        try:
            trimmed = list(map(str.strip, values))  # TypeError: not all strings
        except TypeError:
            return False
        if trimmed != values or "" in values or len(set(values)) != len(values):
            return False
    elif "orderedValueList" in item:
        return False
    if kind == "REFERENCE":
        return type(item.get("referenceTo")) is str and item["referenceTo"] in _TARGETS
    return "referenceTo" not in item


@functools.cache
def validators() -> tuple[Any, Any]:
    """The document validator and its field validator, built once per process."""
    import json

    import jsonschema

    base = jsonschema.Draft202012Validator
    # JSON Schema counts 1.0 as an integer; an id that went through a float may already
    # have lost digits (real ids exceed 2**53), so floats are refused.
    checker = base.TYPE_CHECKER.redefine(
        "integer", lambda _, v: isinstance(v, int) and not isinstance(v, bool)
    )
    schema = json.loads(schema_text())
    keywords = {"uniqueItems": _unique_strings}
    document = jsonschema.validators.extend(base, keywords, type_checker=checker)(schema)
    return document, document.evolve(schema=schema["$defs"]["field"])


def _unique_strings(validator: Any, unique: Any, instance: Any, schema: Any) -> Any:
    """uniqueItems over the strings of a list, in linear time.

    jsonschema's own compares unsortable items pair by pair: a list of 20,000 numbers and
    mappings took minutes. The only list in schema.json holds strings, and any other item
    is an error of its own (`items`), so what is valid does not change.
    """
    from jsonschema.exceptions import ValidationError

    if unique and validator.is_type(instance, "array"):
        strings = [item for item in instance if type(item) is str]
        if len(set(strings)) != len(strings):
            yield ValidationError("has non-unique elements")


def schema_problems(
    doc: dict[Any, Any], is_yaml: bool, top_ok: bool, bad: list[int], budget: int
) -> tuple[list[Problem], int]:
    """jsonschema's problems with the parts the quick check doubted, and how many parts
    were left unexplained once `budget` problems were found (jsonschema takes ~0.13 ms a
    field: 120,000 bad fields took 19 s)."""
    if top_ok and not bad:
        return [], 0
    document, field = validators()
    fields: Any = doc.get("fields")
    # The top level is checked with no fields: they are checked one by one, doubtful ones only.
    top = {**doc, "fields": []} if type(fields) is list else doc
    parts: list[tuple[Loc, Any, Any]] = [((), top, document)] if not top_ok else []
    parts += [(("fields", i), fields[i], field) for i in bad]
    problems: list[Problem] = []
    for done, (prefix, part, validator) in enumerate(parts):
        if len(problems) >= budget:
            return problems, len(parts) - done
        if too_deep(part):  # jsonschema recurses, and quotes values
            problems.append(Problem(prefix, prefix, _TOO_DEEP))
            continue
        # Errors come lazily: one field of a million bad values stops at the budget too.
        for e in validator.iter_errors(part):
            found = list(explain((*prefix, *e.absolute_path), e, is_yaml))
            if found and len(problems) >= budget:  # this part has one more, at least
                return problems, len(parts) - done
            problems += found
    return problems, 0


def too_deep(value: Any) -> bool:
    """Whether lists and mappings nest more than MAX_DEPTH deep in `value` (with a stack of
    its own: no recursion limit, however deep the input)."""
    deepest: dict[int, int] = {}  # a shared node is walked again only when reached deeper
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if not isinstance(item, dict | list) or deepest.get(id(item), 0) >= depth:
            continue
        if depth > MAX_DEPTH:
            return True
        deepest[id(item)] = depth
        children = item.values() if isinstance(item, dict) else item
        stack.extend((child, depth + 1) for child in children)
    return False
