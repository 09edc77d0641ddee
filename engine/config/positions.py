"""Line numbers in a desired-state document: where each key and list item starts.

A courtesy for messages, so it is built only for files with problems: from the YAML node
tree (marks; merge keys as written; composed for this when parse_yaml took its fast
path, see yaml_events.Composed), or for JSON by an exact
scanner over text that json.loads has already accepted. Knows nothing of what the
document means; a path into it is a `Loc`.
"""

from __future__ import annotations

import re
from typing import Any

Loc = tuple[Any, ...]  # a path into a document: mapping keys and list indices


class Pos:
    """Where a document part starts: a line, and the lines of what it contains.

    (Written out rather than a dataclass: the decorator's generated code cost more at start-up
    than every Pos a problem file builds.)
    """

    __slots__ = ("entries", "index", "items", "line")
    line: int
    entries: list[tuple[str | None, int, Pos]] | None  # mapping: key, key line, value
    items: list[Pos] | None  # sequence
    index: dict[str | None, int] | None  # a large mapping's last entry per key

    def __init__(
        self,
        line: int,
        entries: list[tuple[str | None, int, Pos]] | None = None,
        items: list[Pos] | None = None,
        index: dict[str | None, int] | None = None,
    ) -> None:
        self.line = line
        self.entries = entries
        self.items = items
        self.index = index

    def _parts(self) -> tuple[object, ...]:
        return (self.line, self.entries, self.items, self.index)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Pos):
            return self._parts() == other._parts()
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]  # mutable, as a dataclass with eq is

    def __repr__(self) -> str:
        return (
            f"Pos(line={self.line!r}, entries={self.entries!r}, items={self.items!r}, "
            f"index={self.index!r})"
        )

    def entry(self, key: str) -> tuple[str | None, int, Pos] | None:
        """The last entry of `key` (the one that loads, of repeated keys)."""
        entries = self.entries or []
        if len(entries) <= 16:
            return next((e for e in reversed(entries) if e[0] == key), None)
        if self.index is None:  # built once: a file of many unknown keys looks many up
            self.index = {e[0]: i for i, e in enumerate(entries)}
        found = self.index.get(key)
        return None if found is None else entries[found]


def line_of(tree: Pos | None, loc: Loc) -> int | None:
    """The line of the deepest part of `loc` found: a key's own line, or an item's first."""
    if tree is None:
        return None
    node, line = tree, tree.line
    for step in loc:
        if type(step) is int and node.items is not None and 0 <= step < len(node.items):
            node = node.items[step]
            line = node.line
            continue
        # YAML keys may load as non-strings.
        entry = node.entry(step if isinstance(step, str) else str(step))
        if entry is None:
            break
        line, node = entry[1], entry[2]
    return line


def yaml_line(root: Any, loc: Loc, indexes: dict[int, dict[Any, int]]) -> int | None:
    """line_of(yaml_tree(root), loc), read off the composed nodes without converting them
    all: a file of 120,000 bad fields needs a hundred lines, not a tree of 840,000 nodes.
    `indexes` keeps the key index of each large mapping looked up, between calls."""
    from yaml.nodes import MappingNode, SequenceNode

    root = _nodes(root)
    if root is None:
        return None
    node: Any = root
    line: int = root.start_mark.line + 1
    for step in loc:
        if type(step) is int and isinstance(node, SequenceNode) and 0 <= step < len(node.value):
            node = node.value[step]
            line = node.start_mark.line + 1
            continue
        if not isinstance(node, MappingNode):
            break
        pairs = getattr(node, "unmerged", None) or node.value or []
        text = step if isinstance(step, str) else str(step)
        if len(pairs) <= 16:
            found = next((i for i in reversed(range(len(pairs))) if _key(pairs[i]) == text), None)
        else:
            if id(node) not in indexes:
                indexes[id(node)] = {_key(pair): i for i, pair in enumerate(pairs)}
            found = indexes[id(node)].get(text)
        if found is None:
            break
        key_node, node = pairs[found]
        line = key_node.start_mark.line + 1
    return line


def _nodes(root: Any) -> Any:
    """The node tree itself, when parse_yaml gave one to compose on demand."""
    from crmform.engine.config.yaml_events import Composed

    return root.root if isinstance(root, Composed) else root


def _key(pair: tuple[Any, Any]) -> Any:
    from yaml.nodes import ScalarNode

    return pair[0].value if isinstance(pair[0], ScalarNode) else None


def yaml_tree(root: Any) -> Pos | None:
    from yaml.nodes import MappingNode, ScalarNode, SequenceNode

    root = _nodes(root)
    if root is None:
        return None
    made: dict[int, Pos] = {}  # aliases share nodes, and may even form cycles

    def pos(node: Any) -> Pos:
        if id(node) not in made:
            made[id(node)] = Pos(node.start_mark.line + 1)
            todo.append(node)
        return made[id(node)]

    todo: list[Any] = []  # made, but not filled in: a stack, as nesting may be deep
    tree = pos(root)
    while todo:
        node = todo.pop()
        if isinstance(node, MappingNode):
            made[id(node)].entries = [
                (k.value if isinstance(k, ScalarNode) else None, k.start_mark.line + 1, pos(v))
                for k, v in getattr(node, "unmerged", None) or node.value or ()
            ]
        elif isinstance(node, SequenceNode):
            made[id(node)].items = [pos(v) for v in node.value or ()]
    return tree


# JSON that json.loads accepted, as tokens: strings, punctuation, and bare words (numbers,
# true, false, null, NaN). Strict JSON strings hold no raw newline, so lines count simply.
# A string, compiled by re's cache on first use: only files with problems scan for lines.
# Runs of plain characters are taken whole and never given back (possessive): a 10 MB string
# is one step per run, not one alternation per character (2.8 s -> under 0.1 s).
_JSON_TOKEN = r'"(?:[^"\\]++|\\.)*+"|[{}\[\]:,]|[^\s{}\[\]:,"]++'


def _unescape(token: str) -> str:
    import json  # a JSON file's problems only (a YAML plan imports no json)

    return str(json.loads(token))


def json_tree(text: str) -> Pos | None:
    root: Pos | None = None
    open_nodes: list[Pos] = []
    key: tuple[str, int] = ("", 0)
    want_key = False
    line, last = 1, 0
    for match in re.finditer(_JSON_TOKEN, text):
        token, start = match.group(), match.start()
        line += text.count("\n", last, start)
        last = start
        if token == ",":
            want_key = open_nodes[-1].entries is not None
        elif token in ("}", "]"):
            open_nodes.pop()
        elif want_key:
            key, want_key = (_unescape(token) if "\\" in token else token[1:-1], line), False
        elif token != ":":
            node = Pos(line, [] if token == "{" else None, [] if token == "[" else None)
            parent = open_nodes[-1] if open_nodes else None
            if parent is None:
                root = node
            elif parent.entries is not None:
                parent.entries.append((*key, node))
            elif parent.items is not None:
                parent.items.append(node)
            if token in ("{", "["):
                open_nodes.append(node)
                want_key = token == "{"
    return root
