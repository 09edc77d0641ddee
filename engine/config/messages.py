"""Problems found in a desired-state document, and their wording.

`explain` turns one jsonschema error into friendly problems: whole sentences that say
what is wrong and how to fix it, with a likely meaning for a misspelt key or value.
`Problem` carries a message with the part of the document it is about; the helpers here
also show paths and describe values for the checks in config.py.

What messages quote of a file is bounded, because the file may be anything (a stray token,
a symlink to a system file, 10 MB of one string): values are quoted only under crmform's
own keys, never the whole document, always escaped and cut to QUOTE_LIMIT characters (see
`quote`); an integrationId longer than any id is not quoted at all, since it is more likely
a pasted access key than a typo.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Iterator
from typing import Any

from crmform.engine.config.keys import FIELD_KEYS, FIELD_TYPES, TOP_KEYS
from crmform.engine.config.positions import Loc
from crmform.engine.model import INTEGRATION_ID_MAX, REFERENCE_TARGETS, FieldType, ObjectType
from crmform.engine.values import Value, _set

# Keys that only one field type takes, and the type that needs them.
_ONLY_ON = {"orderedValueList": "PICKLIST", "referenceTo": "REFERENCE"}
_NEEDS = {
    "orderedValueList": "the list of its values in display order",
    "referenceTo": f"one of {', '.join(REFERENCE_TARGETS)}",
}
_HINTS = {
    "integrationId": 'the id of your Gong CRM integration, or "${ENV_VAR}"',
    "objectType": f"one of {', '.join(t.value for t in ObjectType)}",
    "fields": "the list of fields; write `fields: []` for none",
    "uniqueName": "the field's name in the CRM",
    "label": "the name Gong shows users",
    "type": f"one of {', '.join(t.value for t in FieldType)}",
}
_EXPECTED = {"string": "a string", "array": "a list", "boolean": "true or false"}
QUOTE_LIMIT = 60
_RANGE = f"a Gong integration id is between 1 and {INTEGRATION_ID_MAX}"
_ID_QUOTE_LIMIT = 19  # the digits of the largest int64
_SUGGEST_LIMIT = 100  # longer words are no typos of a key or value; more keys are not shown


class Problem(Value):
    """One problem in a document: its message, the part it is about, and where its line is."""

    __slots__ = ("at", "column", "line", "message", "owner")
    owner: Loc  # the part of the document the message is about, shown as the path
    at: Loc | None  # the part whose line is reported; None: `line` is already known
    message: str
    line: int | None
    column: int | None  # with `line`, for text that does not parse

    def __init__(
        self,
        owner: Loc,
        at: Loc | None,
        message: str,
        line: int | None = None,
        column: int | None = None,
    ) -> None:
        _set(self, "owner", owner)
        _set(self, "at", at)
        _set(self, "message", message)
        _set(self, "line", line)
        _set(self, "column", column)


def explain(path: Loc, error: Any, is_yaml: bool) -> Iterator[Problem]:
    """One jsonschema error as friendly problems (several for several unknown keys)."""
    owner, subject = split_path(path)
    lead = f"{subject} " if subject else ""
    keyword, value, inst = error.validator, error.validator_value, error.instance
    allowed = FIELD_KEYS if owner else TOP_KEYS
    if keyword == "additionalProperties" and isinstance(inst, dict):
        # Suggestions cost ~20 us each; past the first ones, problems are counted, not shown.
        unknown = (k for k in inst if k not in allowed)
        for n, key in enumerate(unknown):
            close = _suggest(key, allowed) if n < _SUGGEST_LIMIT else None
            tail = f"did you mean {close!r}?" if close else f"allowed keys: {', '.join(allowed)}"
            yield Problem(owner, (*path, key), f"unknown key {quote(key)}; {tail}")
    elif keyword == "required" and isinstance(inst, dict):
        # A misspelt key is reported once, as unknown with its likely meaning.
        first = itertools.islice((k for k in inst if k not in allowed), _SUGGEST_LIMIT)
        meant = {_suggest(k, allowed) for k in first}
        for key in (k for k in value if k not in inst and k not in meant):
            if key in _NEEDS:
                yield Problem(owner, path, f"{_ONLY_ON[key]} needs {key}, {_NEEDS[key]}")
            else:
                hint = f" ({_HINTS[key]})" if key in _HINTS else ""
                yield Problem(owner, path, f"missing required key {key!r}{hint}")
    elif keyword == "not" and isinstance(inst, dict) and value.get("required", [""])[0] in _ONLY_ON:
        key, kind = value["required"][0], inst.get("type")
        # With a missing or unknown type the else-branch fires too; that type error suffices.
        if isinstance(kind, str) and kind in FIELD_TYPES:
            needed = _ONLY_ON[key]
            message = (
                f"{key} is only allowed on {needed} fields, not on {kind}; "
                f"remove it or set type: {needed}"
            )
            yield Problem(owner, (*path, key), message)
    elif keyword == "enum" and path == ("provider",):
        yield Problem(owner, path, f"{_show(inst)} is not supported; the only provider is 'gong'")
    elif keyword == "enum" and isinstance(inst, str):
        close = _suggest(inst, value)
        message = f"{lead}{quote(inst)} is not one of {', '.join(value)} (case-sensitive)"
        yield Problem(owner, path, message + (f"; did you mean {close!r}?" if close else ""))
    elif keyword == "enum":
        yield Problem(owner, path, f"{lead}must be one of {', '.join(value)}, not {describe(inst)}")
    elif keyword == "type":
        yield Problem(owner, path, lead + _type_message(path, value, inst, is_yaml))
    elif keyword == "pattern" and isinstance(inst, str):
        # The one pattern outside integrationId: not blank, no blank space at either end.
        if inst.isspace():
            yield Problem(owner, path, f"{lead}must not be blank")
        elif inst:  # an empty string is reported once, by minLength
            message = f"{lead}{quote(inst)} starts or ends with blank space; remove it"
            yield Problem(owner, path, message)
    elif keyword == "minLength":
        yield Problem(owner, path, f"{lead}must not be empty")
    elif keyword == "minItems":
        yield Problem(owner, path, f"{lead}must list at least one value")
    elif keyword == "uniqueItems" and isinstance(inst, list):
        places: dict[str, list[int]] = {}
        for i, item in enumerate(inst):
            places.setdefault(quote(item) if type(item) is str else describe(item), []).append(i)
        for shown, where in places.items():
            if len(where) > 1:
                times = "twice" if len(where) == 2 else f"{len(where)} times"
                message = f"{lead}has {shown} {times}; list each value once"
                yield Problem(owner, (*path, where[1]), message)
    elif keyword == "anyOf" and path == ("integrationId",):
        yield Problem(owner, path, _id_message(inst))
    else:  # never error.message: jsonschema puts the whole value in it
        yield Problem(owner, path, f"{lead}does not match the schema ({keyword})")


def _type_message(path: Loc, expected: Any, value: Any, is_yaml: bool) -> str:
    if path == ("fields",):
        empty = "; write `fields: []` for none" if value is None else ""
        return f"must be a list of fields, not {describe(value)}{empty}"
    if expected == "object":
        return f"must be a mapping with uniqueName, label and type, not {describe(value)}"
    message = f"must be {_EXPECTED.get(expected, expected)}, not {describe(value)}"
    if is_yaml and expected == "string" and isinstance(value, bool):
        message += "; put it in quotes, as YAML reads unquoted yes, no, on, off as booleans"
    elif is_yaml and expected == "string" and not isinstance(value, (list, dict, type(None))):
        message += "; put it in quotes"
    return message


def _id_message(value: Any) -> str:
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        return f'must be a number, a string of digits or "${{NAME}}", not {describe(value)}'
    if isinstance(value, float):
        return (
            f"must be a whole number, not {describe(value)}; write the id without a decimal "
            "point or exponent, as decimals lose digits of ids above 2**53"
        )
    if isinstance(value, int):
        return f"{_number(value)} is out of range; {_RANGE}"
    if value.isascii() and value.isdigit():
        if not value.strip("0"):
            return f"{quote_id(value)} is out of range; {_RANGE}"
        return (
            f"{quote_id(value)} has a leading zero; write the id in digits only, without "
            "leading zeros"
        )
    return (
        f'{quote_id(value)} is neither a string of digits nor exactly "${{NAME}}" naming an '
        "environment variable"
    )


def quote_id(value: str) -> str:
    """An integrationId string as quoted: not at all when longer than any id could be."""
    if len(value) > _ID_QUOTE_LIMIT:
        return f"a string of {len(value)} characters"
    return quote(value)


def split_path(path: Loc) -> tuple[Loc, str]:
    """(the document part shown as the path, the rest spelled as the message's subject)."""
    cut = 2 if len(path) > 1 and path[0] == "fields" and isinstance(path[1], int) else 1
    rest = path[cut:]
    subject = "".join(f"[{p}]" if isinstance(p, int) else f".{_key(p)}" for p in rest)
    return path[:cut], subject.removeprefix(".")


def _key(key: Any) -> str:
    """A key as a path shows it: as written when plain, else quoted (escaped, cut short)."""
    plain = isinstance(key, str) and key.isprintable() and key == key.strip()
    return key if plain and len(key) <= QUOTE_LIMIT and key else quote(key)


def display_path(doc: Any, owner: Loc) -> str:
    if not owner:
        return ""
    if len(owner) == 1:
        return _key(owner[0])
    # The document may differ from the text here: of repeated keys, only the last loads.
    fields = doc.get("fields") if isinstance(doc, dict) else None
    item = fields[owner[1]] if isinstance(fields, list) and owner[1] < len(fields) else None
    name = item.get("uniqueName") if isinstance(item, dict) else None
    if not isinstance(name, str) or not name or name.isspace():
        return f"fields[{owner[1]}]"
    return f"fields[{owner[1]}] ({_key(name)})"


def quote(value: Any, limit: int = QUOTE_LIMIT) -> str:
    """A key or value from a file as a message shows it: Python-quoted, so control
    characters and surrogates are escapes, and cut to `limit` characters with an ellipsis."""
    if not isinstance(value, str):  # YAML keys may be numbers, booleans or dates
        text = repr(value)
        return text if len(text) <= limit else f"{text[:limit]}…"
    if len(value) <= limit:
        return repr(value)
    shown = repr(value[:limit])
    return f"{shown[:-1]}…{shown[-1]}"


def describe(value: Any, content: bool = True) -> str:
    """What kind of value this is, for messages; with `content`, a short quote of it."""
    if value is None:
        return "an empty value (null)"
    if isinstance(value, bool):
        return f"a boolean ({str(value).lower()})"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    kind = {int: "a number", float: "a decimal number", str: "a string"}.get(type(value))
    kind = kind or f"a {type(value).__name__}"  # YAML dates and timestamps
    if not content:
        return kind
    if isinstance(value, str):
        return f"{kind} ({quote(value)})"
    return f"{kind} ({_number(value)})"


def _number(value: Any) -> str:
    """A number (or a YAML date) as shown in messages; YAML allows 4,300 digits."""
    text = repr(value) if isinstance(value, float) else str(value)
    return text if len(text) <= QUOTE_LIMIT else text[:QUOTE_LIMIT] + "…"


def unrelated(doc: dict[Any, Any]) -> bool:
    """Whether a mapping is surely no schema file: no key is, or is close to, a top key."""
    keys = itertools.islice(doc, _SUGGEST_LIMIT)
    return bool(doc) and not any(k in TOP_KEYS or _suggest(k, TOP_KEYS) for k in keys)


def _show(value: Any) -> str:
    return quote(value) if isinstance(value, str) else describe(value)


def _suggest(word: Any, choices: Iterable[str]) -> str | None:
    """The choice `word` was probably meant to be: the same ignoring case, else a close one."""
    import difflib

    if not isinstance(word, str) or len(word) > _SUGGEST_LIMIT:
        return None
    options = list(choices)
    folded = {c.lower(): c for c in options}
    if word.lower() in folded:
        return folded[word.lower()]
    close = difflib.get_close_matches(word, options, n=1, cutoff=0.6)
    return close[0] if close else None
