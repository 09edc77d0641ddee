"""Text to document: a schema file's YAML or JSON, noting keys given twice in a mapping.

A text that does not parse raises ParseError with a whole-sentence message and, where the
parser knows it, the line. yaml is imported only when a YAML file is read: start-up time
is a product requirement (see config.py).

YAML takes the first of three routes that reads the text. yaml_lines.py reads the block
style schema files are written in, line by line; yaml_events.py builds the document from
libyaml's events for the rest of the YAML schema files use (flow mappings, multi-line
scalars, repeated keys), and for the first few small texts of a run (see _EVENTS_FIRST);
both compose nodes only if a message needs a line. Any other text
takes PyYAML's route (compose, bound the aliases, construct), which holds every check and
message. All three build the same document; the first two never report a problem, they
leave the text to the next route.
"""

from __future__ import annotations

import functools
import re
import sys
from typing import Any

from crmform.engine.config.messages import quote


class ParseError(Exception):
    """The text cannot be read as a document; `line` (and `column`) when the parser knows
    where."""

    def __init__(self, line: int | None, message: str, column: int | None = None) -> None:
        super().__init__(message)
        self.line, self.message, self.column = line, message, column


def parse_json(text: str) -> tuple[Any, bool]:
    if not text.strip():
        return None, False
    repeated = False

    def pairs(items: list[tuple[str, Any]]) -> dict[str, Any]:
        nonlocal repeated
        mapping = dict(items)
        repeated = repeated or len(mapping) != len(items)
        return mapping

    import json  # JSON files only: a YAML plan imports no json

    try:
        doc = json.loads(text, object_pairs_hook=pairs)
    except json.JSONDecodeError as exc:
        message = f"invalid JSON: {exc.msg} (column {exc.colno})"
        raise ParseError(exc.lineno, message, exc.colno) from exc
    except ValueError as exc:  # int() refuses over sys.get_int_max_str_digits() digits
        digits = sys.get_int_max_str_digits()
        found = re.search(f"[0-9]{{{digits + 1},}}", text)
        line = text.count("\n", 0, found.start()) + 1 if found else None
        message = f"invalid JSON: a number has more than {digits:,} digits; put it in quotes"
        raise ParseError(line, message) from exc
    except RecursionError as exc:
        raise ParseError(None, "the document nests too deeply to read") from exc
    return doc, repeated


def _yaml_base() -> Any:
    import yaml

    # The C loader (libyaml) is several times faster; PyYAML built without libyaml lacks it.
    return getattr(yaml, "CSafeLoader", None) or yaml.SafeLoader


@functools.cache
def _loader_class(base: Any) -> Any:
    from yaml.nodes import MappingNode, ScalarNode

    class Loader(base):  # type: ignore[misc]
        """The safe loader, noting keys given twice in one mapping (YAML keeps only the last)."""

        repeated_keys = False

        def construct_mapping(self, node: Any, deep: bool = False) -> Any:
            if isinstance(node, MappingNode):
                keys = [k.value for k, _ in node.value if isinstance(k, ScalarNode)]
                if "<<" in keys:  # merging rewrites node.value; line numbers need the text's
                    node.unmerged = list(node.value)  # type: ignore[attr-defined]
                    keys = [k for k in keys if k != "<<"]
                self.repeated_keys = self.repeated_keys or len(set(keys)) != len(keys)
            return super().construct_mapping(node, deep)

    # These raise ValueError, KeyError, AttributeError or IndexError on texts YAML's resolver
    # accepted or that an explicit tag forced on them (`!!int abc`, an empty `!!int`,
    # 2001-02-30, over 4,300 digits): made into YAML errors with the node's line.
    for tag, kind in _SCALAR_KINDS.items():
        Loader.add_constructor(tag, _guarded(Loader.yaml_constructors[tag], kind))
    return Loader


_SCALAR_KINDS = {
    "tag:yaml.org,2002:int": "an integer",
    "tag:yaml.org,2002:float": "a number",
    "tag:yaml.org,2002:bool": "a boolean",
    "tag:yaml.org,2002:timestamp": "a date",
}


def _guarded(construct: Any, kind: str) -> Any:
    from yaml.constructor import ConstructorError

    def guarded(loader: Any, node: Any) -> Any:
        try:
            return construct(loader, node)
        except (ValueError, KeyError, AttributeError, IndexError, TypeError, OverflowError) as exc:
            problem = f"{quote(str(node.value))} cannot be read as {kind}; put it in quotes"
            raise ConstructorError(None, None, problem, node.start_mark) from exc

    return guarded


# The line reader reads a text in about half the instructions of the event route, but
# compiling its pattern (at its import) costs 9 M instructions, 2.5 ms: as much as the event
# route's extra work over some 23,000 characters. So texts take the event route alone until
# those read that way hold _EVENTS_FIRST characters, and the line reader first from then on
# (at once for a longer text): a plan of a few small files (examples/quickstart: 2,900
# characters) never compiles the pattern, and a large one pays at most about twice it.
# Either way the document is the same (issue 14).
_EVENTS_FIRST = 20_000
_events_left = _EVENTS_FIRST


def parse_yaml(text: str) -> tuple[Any, bool, Any]:
    """The document, whether a mapping repeats a key, and the composed node tree (a
    yaml_events.Composed when a fast route built the document: composed when asked for)."""
    global _events_left
    from crmform.engine.config.yaml_events import Composed, fast_load

    if len(text) <= _events_left:
        _events_left -= len(text)
        fast = fast_load(text)  # what it leaves, the line reader's subset leaves too
    else:
        from crmform.engine.config import yaml_lines

        fast = yaml_lines.load(text) or fast_load(text)
    if fast is not None:
        doc, repeated, int_texts = fast
        return doc, repeated, Composed(text, _compose, int_texts)
    return _parse_yaml_nodes(text)


def _compose(text: str) -> Any:
    """The node tree of a text that the fast path read (so no merge keys to flatten)."""
    loader = _loader_class(_yaml_base())(text)
    try:
        return loader.get_single_node()
    finally:
        loader.dispose()


def _parse_yaml_nodes(text: str) -> tuple[Any, bool, Any]:
    """PyYAML's route: compose the nodes, bound the aliases, construct the document."""
    import yaml

    loader = _loader_class(_yaml_base())(text)
    try:
        # yaml.load's own steps, keeping the nodes: line numbers need no second parse.
        root = loader.get_single_node()
        if "&" in text:  # no anchor, no alias: the common case skips aliases.py entirely
            from crmform.engine.config.aliases import alias_problem

            expanding = alias_problem(text, root)
            if expanding is not None:
                raise ParseError(*expanding)
        doc = loader.construct_document(root) if root is not None else None
        return doc, loader.repeated_keys, root
    except yaml.MarkedYAMLError as exc:
        raise ParseError(*_yaml_message(exc, text)) from exc
    except yaml.YAMLError as exc:  # ReaderError: a character YAML does not allow
        position = getattr(exc, "position", None)
        line = text.count("\n", 0, position) + 1 if isinstance(position, int) else None
        raise ParseError(line, f"invalid YAML: {str(exc).splitlines()[0]}") from exc
    except RecursionError as exc:
        raise ParseError(None, "the document nests too deeply to read") from exc
    finally:
        loader.dispose()


def int_text(root: Any, key: str) -> str | None:
    """The text of `key`'s value in the top mapping of a composed YAML document, when YAML
    read that value as an integer (a plain scalar, or one tagged !!int); else None."""
    from crmform.engine.config.yaml_events import Composed

    if root is None:
        return None
    if isinstance(root, Composed):
        return root.int_texts.get(key)
    from yaml.nodes import MappingNode, ScalarNode

    if not isinstance(root, MappingNode):
        return None
    # Of repeated keys the last one loads; merged pairs were put first when constructing.
    for key_node, value_node in reversed(root.value):
        if isinstance(key_node, ScalarNode) and key_node.value == key:
            is_int = isinstance(value_node, ScalarNode) and value_node.tag == _INT_TAG
            return str(value_node.value) if is_int else None
    return None


_INT_TAG = "tag:yaml.org,2002:int"


def _yaml_message(exc: Any, text: str) -> tuple[int | None, str, int | None]:
    mark, context_mark = exc.problem_mark, exc.context_mark
    line = mark.line + 1 if mark is not None else None
    column = mark.column + 1 if mark is not None else None
    if exc.problem == "but found another document":
        return line, "a second YAML document starts here; keep one document per file", column
    message = f"invalid YAML: {exc.problem or str(exc).splitlines()[0]}"
    if exc.context:
        where = ""
        if context_mark is not None and line is not None and context_mark.line + 1 != line:
            where = f" at line {context_mark.line + 1}"
        message += f" ({exc.context}{where})"
    lines = text.splitlines()
    if line is not None and line <= len(lines) and "\t" in lines[line - 1]:
        message += "; indent with spaces, as YAML does not allow tabs there"
    return line, message, column
