"""YAML text to plain values line by line, for the block style schema files are written in:
the first route parse_yaml tries.

yaml_events.py builds a document from libyaml's events, but libyaml's Python event objects
and the loop over them cost 0.5-0.75 s of CPU for 40,000 fields, more than an apply can
spend on reading. Schema files (as benchmarks/generate.py, `crmform fmt` and
`crmform import --write-config` write them, and as people write them) use one line per
entry, so here one compiled regular expression splits the whole text into lines (in C) and
a short loop builds the containers. Scalars go through the safe loader's own resolver and
constructors (YAML 1.1: `yes` is true, `0x1F` is 31, `~` is null, `2001-12-14` a date), so
the document is exactly the one yaml.load(text, CSafeLoader) builds.

The subset read here, line by line (anything else makes `load` return None, and parse_yaml
tries yaml_events.py, then PyYAML's route, which words every error):

- blank lines, and comment lines (spaces, then `#`);
- `key: VALUE`, `key:` (a nested block follows, or the value is null), `- VALUE`, `-`, and
  `- key: VALUE` / `- key:` (a mapping inside a sequence item), with a comment after
  ` #` and trailing spaces allowed;
- keys: plain, one line, no `:` in them, read by YAML as strings (not `yes`, `1`, `~`),
  at most 1,000 characters, each given once per mapping;
- VALUE: a plain scalar on one line (not starting with an indicator such as `&`, `*`, `!`,
  `|`, `>`, `%`, `@`, `?`, `:`, `{`, a quote or `- `, and without `: ` or ` #` inside);
  a single- or double-quoted scalar closed on its line (double quotes with the escapes
  `\\ \\" \\n \\t \\r \\0 \\xNN \\uNNNN` only); or a flow sequence closed on its line whose
  items are such scalars (plain ones without `:`, `#`, brackets, braces or quotes);
- indentation by spaces; a nested mapping deeper than its key, a nested sequence deeper
  or (under a key) at the key's column; a line after a value no deeper than its entry;
- text without tabs, a byte order mark, lone carriage returns (CRLF is read as LF),
  control characters or the line separators YAML 1.1 knows (NEL, LS, PS);
- at most 32 containers deep; no `---` or `...` markers, directives, anchors, aliases,
  tags, block scalars, flow mappings or multi-line scalars.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

__all__ = ["load"]

# Only _LINE is compiled at import; the patterns below it are given as text to re's
# functions, which compile a pattern on its first use (and keep it in re's cache), as only
# rarer texts need them (non-ASCII text, quotes in a flow list, escapes in double quotes).
# Compiling all five at import took 15 M instructions (4.5 ms), half of it these four (a
# character class past U+00FF, as _OUTSIDE's, builds a 64K table in pure Python): a
# quarter of what `crmform plan examples/quickstart` spent on its own imports (issue 14).

# Characters YAML does not allow in a document, and those this subset leaves to the other
# routes: tab, CR (CRLF is folded first), NEL, LS, PS and the byte order mark (anywhere).
# An ASCII text is checked faster: what remains when its allowed bytes are deleted.
_OUTSIDE = r"[\x00-\x09\x0b-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff\ufeff\ufffe\uffff]"
_ASCII_ALLOWED = bytes(range(0x20, 0x7F)) + b"\n"

# A plain scalar's first character: no indicator, or `-` before a non-space.
_FIRST = r"""(?:[^ \n\-?:,\[\]{}#&*!|>'"%@`]|-(?=[^ \n]))"""
# A plain scalar in block context: no `: `, no ` #`, no trailing `:` or space.
_PLAIN = _FIRST + r"(?:[^ \n:]++|:(?=[^ \n])| ++(?=[^ \n#]))*+"
# A key: as a plain scalar, without any `:`.
_KEY = _FIRST + r"(?:[^ \n:]++| ++(?=[^ \n#:]))*+"
# An item of a flow sequence: plain, without `:`, `#`, quotes, brackets or braces.
_FLOW_CHAR = r"""[^ \n:#'"\[\]{},]"""
_FLOW_PLAIN = (
    r"""(?:[^ \n\-?:,\[\]{}#&*!|>'"%@`]|-(?="""
    + _FLOW_CHAR
    + f")){_FLOW_CHAR}*+(?: ++{_FLOW_CHAR}++)*+"
)
_DOUBLE = r'"(?:[^"\\\n]++|\\[^\n])*+"'
_SINGLE = r"'(?:[^'\n]++|'')*+'"
_FLOW_ITEM = f"(?:{_DOUBLE}|{_SINGLE}|{_FLOW_PLAIN})"
_FLOW = rf"\[ *(?:{_FLOW_ITEM} *(?:, *{_FLOW_ITEM} *)*)?\]"
_TAIL = r"(?: +#[^\n]*)? *\n"
# One line and its line break: (indent, dash, key, value), None for what it lacks (a blank
# or comment line lacks all three). Matches start at a line's start (`^`), and no part of
# the pattern crosses a line break but the last: a match is one whole line.
_LINE = re.compile(
    rf"^( *)(?:#[^\n]*\n|(-(?: +|(?={_TAIL})))?(?:({_KEY}):(?: +|(?={_TAIL})))?"
    rf"({_DOUBLE}|{_SINGLE}|{_FLOW}|{_PLAIN})?{_TAIL})",
    re.MULTILINE,
)
_ESCAPES = {"\\": "\\", '"': '"', "n": "\n", "t": "\t", "r": "\r", "0": "\x00"}
_ESCAPE = r'\\(?:([\\"ntr0])|x([0-9A-Fa-f]{2})|u([0-9A-Fa-f]{4}))'
_DOUBLE_BODY = r'(?:[^"\\]|\\(?:[\\"ntr0]|x[0-9A-Fa-f]{2}|u[0-9A-Fa-f]{4}))*'
# Schema files nest four deep; deeper documents take the other routes, which decide
# whether they nest too deeply to read.
_MAX_DEPTH = 32
_MAX_KEY = 1000  # YAML looks no further than 1,024 characters for a key's `:`
_STR_TAG = "tag:yaml.org,2002:str"


class _Decline(Exception):
    """The text is outside this module's subset."""


def load(text: str) -> tuple[Any, bool, dict[str, str]] | None:
    """(the document, False, the texts of the top-level integers), like
    yaml_events.fast_load; None when the text is outside the subset in the module's
    docstring (a repeated key included)."""
    if "\r" in text:
        text = text.replace("\r\n", "\n")
        if "\r" in text:
            return None
    if text.isascii():
        if text.encode("ascii").translate(None, _ASCII_ALLOWED):
            return None
    elif re.search(_OUTSIDE, text) is not None:
        return None
    if not text.endswith("\n"):
        text += "\n"
    # [text before the first line's match, its 4 groups, text before the next match, ...,
    # text after the last]: any text between matches is a line the pattern does not match.
    parts = _LINE.split(text)
    if any(parts[::5]):
        return None
    rows = iter(parts)
    next(rows)
    try:
        return _build(zip(rows, rows, rows, rows, rows, strict=True), _Scalars())
    except Exception:  # _Decline; a constructor's ValueError or KeyError (2001-02-30, `=`)
        return None


class _Scalars(dict[str, Any]):
    """Plain scalar texts and what the safe loader makes of them, resolved once each."""

    def __init__(self) -> None:
        super().__init__()
        import yaml

        self.loader_class = getattr(yaml, "CSafeLoader", None) or yaml.SafeLoader
        self.resolvers = self.loader_class.yaml_implicit_resolvers
        # Text starting otherwise is a string (no resolver claims it: yaml_events.py).
        self.plain_firsts = frozenset(self.resolvers)
        self.special = self.plain_firsts | {"[", '"', "'"}
        self.known_keys: set[str] = set()
        self.loader: Any = None

    def __missing__(self, text: str) -> Any:
        # An item of a flow sequence comes with the spaces around it.
        value = self[text] = self.plain(text.strip(" "))
        return value

    def plain(self, text: str) -> Any:
        tag = _STR_TAG
        for tag_, regexp in self.resolvers.get(text[0], ()):
            if regexp.match(text):
                tag = tag_
                break
        if tag == _STR_TAG:
            return text
        from yaml.nodes import ScalarNode

        if self.loader is None:
            self.loader = self.loader_class("")
        return self.loader.yaml_constructors[tag](self.loader, ScalarNode(tag, text))

    def key(self, text: str) -> None:
        if len(text) > _MAX_KEY or type(self[text]) is not str:
            raise _Decline
        self.known_keys.add(text)

    def value(self, text: str) -> Any:
        """A value whose first character is in `special`."""
        first = text[0]
        if first == "[":
            inner = text[1:-1]
            if '"' in inner or "'" in inner:
                return [self.value(item) for item in re.findall(_FLOW_ITEM, inner)]
            if not inner.strip(" "):
                return []
            # Items hold no comma (_FLOW_PLAIN) and none is empty (_LINE).
            return list(map(self.__getitem__, inner.split(",")))
        if first == '"':
            body = text[1:-1]
            if "\\" not in body:
                return body
            if re.fullmatch(_DOUBLE_BODY, body) is None:
                raise _Decline
            return re.sub(_ESCAPE, _unescape, body)
        if first == "'":
            return text[1:-1].replace("''", "'")
        return self[text]

    def dispose(self) -> None:
        if self.loader is not None:
            self.loader.dispose()


def _unescape(match: re.Match[str]) -> str:
    simple, byte, code = match.groups()
    if simple:
        return _ESCAPES[simple]
    point = int(byte or code, 16)
    if 0xD800 <= point <= 0xDFFF:  # libyaml refuses a surrogate
        raise _Decline
    return chr(point)


_ROOT: Any = object()  # the pending value is the document itself


# (indent, dash, key, value, text before the next match): the groups are str or None.
_Rows = Iterator[tuple[str, Any, Any, Any, str]]


def _build(rows: _Rows, scalars: _Scalars) -> tuple[Any, bool, Any]:
    try:
        return _walk(rows, scalars)
    finally:
        scalars.dispose()


def _walk(rows: _Rows, scalars: _Scalars) -> tuple[Any, bool, Any]:
    special, plain_firsts, keys = scalars.special, scalars.plain_firsts, scalars.known_keys
    resolved, value_of = scalars, scalars.value
    root: Any = None
    int_texts: dict[str, str] = {}
    # The enclosing containers, innermost last: (container, is a mapping, its column).
    stack: list[tuple[Any, bool, int]] = []
    container: Any = None
    in_map = False
    column = -1
    # A `key:` or `-` without a value: its key (None in a sequence), and its column.
    pending: Any = _ROOT
    pending_column = -1
    for indent, dash, key, text, _ in rows:
        # The common line, `key: value` in the mapping of the line before, skips all this.
        if not key or dash or pending is not None or len(indent) != column or not in_map:
            if not key and not dash:
                if text:  # a scalar alone on its line: a continuation, or a scalar document
                    raise _Decline
                continue  # blank, or a comment
            at = len(indent)
            if pending is not None:
                # The value is a block that starts on this line, or null.
                if at > pending_column or (dash and at == pending_column and pending is not True):
                    new: Any = [] if dash else {}
                    if pending is _ROOT:
                        root = new
                    elif in_map:
                        container[pending] = new
                    else:
                        container.append(new)
                    if len(stack) >= _MAX_DEPTH:
                        raise _Decline
                    stack.append((container, in_map, column))
                    container, in_map, column = new, not dash, at
                elif in_map:
                    container[pending] = None
                else:
                    container.append(None)
                pending = None
            if at != column:
                if at > column:  # deeper than the entry before: a continuation, or invalid
                    raise _Decline
                while at < column:
                    container, in_map, column = stack.pop()
                if at != column:
                    raise _Decline
            if dash:
                if in_map:  # `- ` at a key's column: a sequence only as a `key:`'s value
                    raise _Decline
                if not key:
                    if not text:
                        pending, pending_column = True, at
                    elif text[0] in special:
                        container.append(value_of(text))
                    else:
                        container.append(text)
                    continue
                new = {}
                container.append(new)
                if len(stack) >= _MAX_DEPTH:
                    raise _Decline
                stack.append((container, in_map, column))
                container, in_map, column = new, True, at + len(dash)
            elif not in_map:
                # A key at the column of the sequence it follows: that sequence was the
                # value of the key before, written at the same column (`fields:`, `- a`).
                container, in_map, column = stack.pop()
                if not in_map or column != at:
                    raise _Decline
        if key not in keys:
            scalars.key(key)
        if key in container:
            raise _Decline  # a repeated key: yaml_events.py notes it
        if text:
            first = text[0]
            if first in special:
                # A plain scalar YAML may read as other than a string, resolved once.
                value = resolved[text] if first in plain_firsts else value_of(text)
                if type(value) is int and container is root:
                    int_texts[key] = text
                container[key] = value
            else:
                container[key] = text
        else:
            pending, pending_column = key, column
    if pending is not None:
        if pending is _ROOT:
            return None, False, {}
        if in_map:
            container[pending] = None
        else:
            container.append(None)
    return root, False, int_texts
