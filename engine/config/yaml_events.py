"""YAML text to plain values straight from libyaml's events: parse_yaml's second route,
for what yaml_lines.py (the first) leaves.

PyYAML's own route (compose a node per value, then construct each node through Python
method calls) costs three times what libyaml takes to parse a schema file: at 50,000
fields, 2.2 s of the 2.9 s a plan took. Schema files use little of YAML: block and flow
mappings and sequences of plain or quoted scalars. For exactly that subset the values are
built here in one loop over the parser's events, with the safe loader's own resolver (YAML
1.1: `yes` is true, `0x1F` is 31, `~` is null) and its own constructors for whatever is not
a string, so the document is the one yaml.load(text, CSafeLoader) would build.

Anything else (an anchor or alias, an explicit tag, a merge key `<<`, a key that is not a
string, a second document, nesting deeper than any schema file, a parse error, a value its
constructor refuses) makes `fast_load` return None, and parse_yaml takes PyYAML's route,
which has every check and every message. Nothing here reports an error: the common,
valid case is fast, and everything else reads exactly as before.

No nodes are kept: line numbers for messages come from a Composed, which composes the
text's nodes only when a message needs one (files with problems).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

__all__ = ["Composed", "fast_load"]

_STR_TAG = "tag:yaml.org,2002:str"
_INT_TAG = "tag:yaml.org,2002:int"
# Schema files nest four deep; deeper documents take PyYAML's route, which decides whether
# they nest too deeply to read.
_MAX_DEPTH = 32


class _Unsupported(Exception):
    """The text uses YAML this module leaves to PyYAML."""


class Composed:
    """A YAML document's node tree (yaml.nodes), composed from its text when first asked
    for: a valid file never needs one. `int_texts` holds, for each top-level key whose value
    loaded as an integer, the text it was written as."""

    __slots__ = ("_compose", "_root", "_text", "int_texts")

    def __init__(self, text: str, compose: Callable[[str], Any], int_texts: dict[str, str]):
        self._text: str | None = text
        self._compose, self._root = compose, None
        self.int_texts = int_texts

    @property
    def root(self) -> Any:
        if self._root is None and self._text is not None:
            text, self._text = self._text, None  # composed once, even if composing fails
            self._root = self._compose(text)
        return self._root


def fast_load(text: str) -> tuple[Any, bool, dict[str, str]] | None:
    """(the document, whether a mapping repeats a key, Composed.int_texts), or None when the
    text needs PyYAML's route (see the module's docstring); None also without libyaml."""
    import yaml

    loader_class = getattr(yaml, "CSafeLoader", None)
    if loader_class is None:
        return None
    loader = loader_class(text)
    try:
        return _build(loader, _first_chars(loader_class))
    except Exception:  # _Unsupported, a YAMLError, a constructor's ValueError: PyYAML's route
        return None
    finally:
        loader.dispose()


_FIRST_CHARS: dict[type, frozenset[str] | None] = {}


def _first_chars(loader_class: type) -> frozenset[str] | None:
    """The first characters of plain scalars the resolver may read as other than strings
    (None: any may be)."""
    if loader_class not in _FIRST_CHARS:
        resolvers: dict[Any, Any] = loader_class.yaml_implicit_resolvers  # type: ignore[attr-defined]
        chars = None if None in resolvers else frozenset(resolvers)
        _FIRST_CHARS[loader_class] = chars
    return _FIRST_CHARS[loader_class]


def _build(loader: Any, first_chars: frozenset[str] | None) -> tuple[Any, bool, dict[str, str]]:
    from yaml.events import (
        DocumentEndEvent,
        DocumentStartEvent,
        MappingEndEvent,
        MappingStartEvent,
        ScalarEvent,
        SequenceEndEvent,
        SequenceStartEvent,
        StreamEndEvent,
        StreamStartEvent,
    )
    from yaml.nodes import ScalarNode

    get_event, resolve, constructors = loader.get_event, loader.resolve, loader.yaml_constructors
    tags: dict[str, str] = {}  # plain scalar -> its tag: values repeat (STRING, true, ...)
    int_texts: dict[str, str] = {}
    no_key: Any = object()  # a mapping's next scalar is a key
    # The enclosing containers, innermost last: (container, whether it is a mapping).
    stack: list[tuple[Any, bool]] = []
    container: Any = None
    in_map = False
    key: Any = no_key
    root: Any = None
    repeated = False
    while True:
        event = get_event()
        kind = type(event)
        if kind is ScalarEvent:
            if event.anchor is not None or event.tag is not None:
                raise _Unsupported
            value = event.value
            if event.implicit[0] and (first_chars is None or not value or value[0] in first_chars):
                tag = tags.get(value)
                if tag is None:
                    tag = tags[value] = resolve(ScalarNode, value, event.implicit)
                if tag != _STR_TAG:
                    if in_map and key is no_key:  # a key YAML reads as other than a string
                        raise _Unsupported
                    text = value
                    # KeyError for tags the safe loader cannot construct (`=`, `<<`).
                    value = constructors[tag](loader, ScalarNode(tag, text))
                    if tag == _INT_TAG and in_map and len(stack) == 1:
                        int_texts[key] = text
            if in_map:
                if key is no_key:
                    if value == "<<":  # a merge key, or one written in quotes: PyYAML's route
                        raise _Unsupported
                    key = value
                    continue
                if key in container:
                    repeated = True
                container[key] = value
                key = no_key
            elif container is not None:
                container.append(value)
            else:
                root = value
        elif kind is MappingStartEvent or kind is SequenceStartEvent:
            if event.anchor is not None or event.tag is not None or len(stack) >= _MAX_DEPTH:
                raise _Unsupported
            new: Any = {} if kind is MappingStartEvent else []
            if in_map:
                if key is no_key:  # a key that is a mapping or a sequence
                    raise _Unsupported
                if key in container:
                    repeated = True
                container[key] = new
            elif container is not None:
                container.append(new)
            else:
                root = new
            stack.append((container, in_map))
            container, in_map, key = new, kind is MappingStartEvent, no_key
        elif kind is MappingEndEvent or kind is SequenceEndEvent:
            container, in_map = stack.pop()
            key = no_key
        elif kind is DocumentEndEvent:
            if type(get_event()) is not StreamEndEvent:  # a second document
                raise _Unsupported
            break
        elif kind is StreamEndEvent:  # no document at all
            break
        elif kind is not StreamStartEvent and kind is not DocumentStartEvent:
            raise _Unsupported  # an alias
    # Of a key given twice the last value loads: its text counts only if it is an integer.
    top = root if type(root) is dict else {}
    return root, repeated, {k: t for k, t in int_texts.items() if type(top.get(k)) is int}
