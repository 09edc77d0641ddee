"""YAML aliases, bounded: how far they would expand a document, found before it is built.

An alias is one more reference to a node, so nine levels of nine aliases make 9**9 values
out of a few lines ("billion laughs"). Building the document shares the nodes and stays
small, but whatever looks at the values expands them: jsonschema puts repr(value) in its
messages (20 s and 1.5 GB, and on). So the expanded size is computed on the composed node
graph first, once per distinct node, and a document that would expand past the limit, or
that would contain itself, is refused. Aliases stay usable for what schema files want of
them, such as `<<: *base` in every field.

Only texts with an anchor pay for this walk.
"""

from __future__ import annotations

from typing import Any

__all__ = ["alias_problem"]

_BEFORE_ANCHOR = frozenset(" \t\r\n[{,:")  # an anchor's & follows one of these, or starts
_NOT_ANCHOR = frozenset(" \t\r\n[]{},")  # and is followed by none of these
# Aliases may add ten values for each one written, plus this many.
_FACTOR, _ALLOWANCE = 10, 100_000


def alias_problem(text: str, root: Any) -> tuple[int, str] | None:
    """(line, message) when aliases would make the document too large or endless."""
    if root is None or not _has_anchor(text):
        return None
    sizes: dict[int, int] = {}  # id(node) -> the node's value count with aliases expanded
    finished: list[tuple[Any, int]] = []
    open_nodes: set[int] = set()
    stack: list[tuple[Any, bool]] = [(root, False)]
    while stack:
        node, closing = stack.pop()
        key = id(node)
        if closing:
            open_nodes.discard(key)
            sizes[key] = size = 1 + sum(sizes[id(child)] for child in _children(node))
            finished.append((node, size))
        elif key in open_nodes:  # reached again from inside itself
            message = (
                "an alias refers to a node that contains it, which would make an endless "
                "value; write the value out instead"
            )
            return node.start_mark.line + 1, message
        elif key not in sizes:
            open_nodes.add(key)
            stack.append((node, True))
            stack.extend((child, False) for child in _children(node))
    limit = (_FACTOR + 1) * len(sizes) + _ALLOWANCE
    first = next((node for node, size in finished if size > limit), None)
    if first is None:
        return None
    message = (
        f"YAML aliases would expand this file to more than {limit:,} values; write the "
        "repeated parts out (aliases suit small repeated parts, such as `<<: *base` in a field)"
    )
    return first.start_mark.line + 1, message


def _has_anchor(text: str) -> bool:
    """Whether the text may hold an anchor (an & inside a string gives a false yes: harmless).

    str.find, not a regex: no regex for this starts with a literal, and scanning 1.5 MB
    character by character took 28 ms; find takes well under one.
    """
    at = text.find("&")
    while at != -1:
        before = text[at - 1] if at else " "
        after = text[at + 1 : at + 2]
        if before in _BEFORE_ANCHOR and after and after not in _NOT_ANCHOR:
            return True
        at = text.find("&", at + 1)
    return False


def _children(node: Any) -> list[Any]:
    from yaml.nodes import MappingNode, SequenceNode

    if isinstance(node, MappingNode):
        return [part for pair in node.value for part in pair]
    if isinstance(node, SequenceNode):
        return list(node.value)
    return []
