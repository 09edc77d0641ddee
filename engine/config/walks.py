"""The checks that walk a whole document instead of reading known keys: keys given twice,
and lone surrogates. Imported only when a file may need them (a repeated key, a backslash).

Each walks with its own stack (no recursion limit, however deep the input nests) and visits
a node that YAML aliases share once (aliases are bounded before this: see aliases.py).
"""

from __future__ import annotations

import re
from typing import Any

from crmform.engine.config.messages import Problem, quote, split_path
from crmform.engine.config.positions import Loc, Pos

__all__ = ["lone_surrogates", "repeated_keys"]

# Only a \u escape makes a surrogate: the text was decoded from UTF-8, which has none. JSON
# joins an escaped pair into one character, so only an unpaired half is searched for there
# (a file of emoji written by json.dumps is not walked); YAML decodes each escape alone.
_YAML_ESCAPE = re.compile(r"\\(?:u|U0000)[dD][89a-fA-F]")
_JSON_ESCAPE = re.compile(r"\\u[dD]([89a-fA-F])[0-9a-fA-F]{2}")  # a literal first: fast
_SURROGATE = re.compile("[\ud800-\udfff]")  # after decoding, a pair is one character


def repeated_keys(tree: Pos | None) -> list[Problem]:
    """A problem for each key that its mapping gives twice, in document order."""
    problems: list[Problem] = []
    visited: set[int] = set()  # YAML aliases share nodes
    stack: list[tuple[Pos, Loc]] = [(tree, ())] if tree is not None else []
    while stack:
        node, loc = stack.pop()
        if id(node) in visited:
            continue
        visited.add(id(node))
        first: dict[str | None, int] = {}
        for key, key_line, _ in node.entries or ():
            if key in first and key != "<<":
                message = (
                    f"key {quote(key)} is given twice (first at line {first[key]}); only the "
                    "last would count, so remove one"
                )
                problems.append(Problem(split_path(loc)[0], None, message, key_line))
            first.setdefault(key, key_line)
        stack.extend((value, (*loc, key)) for key, _, value in reversed(node.entries or ()))
        stack.extend((item, (*loc, i)) for i, item in reversed(list(enumerate(node.items or ()))))
    return problems


def lone_surrogates(text: str, doc: Any, is_yaml: bool) -> list[Problem]:
    """A problem for each key or string holding half of a UTF-16 surrogate pair.

    Such a string cannot be printed or encoded, so plan and apply would crash on it; it can
    only come from a \\u escape, so texts without one are not walked at all.
    """
    if text.find("\\") == -1:  # the common case, at memchr speed (a regex takes 10x)
        return []
    if not (_YAML_ESCAPE.search(text) if is_yaml else _json_unpaired(text)):
        return []
    problems: list[Problem] = []
    visited: set[int] = set()
    stack: list[tuple[Loc, Any]] = [((), doc)]
    while stack:
        loc, value = stack.pop()
        if isinstance(value, str):
            found = _SURROGATE.search(value)
            if found:
                owner, subject = split_path(loc)
                problems.append(Problem(owner, loc, _surrogate(subject or "the value", found)))
        elif isinstance(value, dict | list) and id(value) not in visited:
            visited.add(id(value))
            if isinstance(value, list):
                stack.extend(((*loc, i), v) for i, v in reversed(list(enumerate(value))))
                continue
            for key, item in reversed(list(value.items())):
                found = _SURROGATE.search(key) if isinstance(key, str) else None
                if found:
                    owner = split_path(loc)[0] if loc else ()
                    problems.append(Problem(owner, (*loc, key), _surrogate("a key", found)))
                stack.append(((*loc, key), item))
    return problems


def _json_unpaired(text: str) -> bool:
    """Whether a JSON text may escape half a pair alone (an escaped backslash before `u`
    gives a false yes: harmless)."""
    low_expected_at = -1
    for escape in _JSON_ESCAPE.finditer(text):
        high = escape.group(1) in "89abAB"
        if low_expected_at != -1:
            if high or escape.start() != low_expected_at:
                return True
            low_expected_at = -1
        elif high:
            low_expected_at = escape.end()
        else:
            return True
    return low_expected_at != -1


def _surrogate(subject: str, found: re.Match[str]) -> str:
    return (
        f"{subject} contains a lone surrogate ('\\u{ord(found.group()):04x}'), which is not a "
        "character; write the character itself, or both halves of its \\u escape"
    )
