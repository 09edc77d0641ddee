"""Strings from schema files, made safe to place in GitHub-flavoured Markdown.

Everything is escaped with HTML character references rather than backslashes: a reference
means the same inside a table cell, a list item, a blockquote and an HTML block such as
<summary>, while a backslash escape means something different in each. So a label like
`a|b` cannot split a table cell, `<script>` stays text, and `*`, `_`, `~`, `` ` ``, `[`
and `$` (GitHub renders $...$ as maths) start no formatting. An `@` gets a zero-width space
after it, so a label never notifies a user or team. Characters that are not printable
(newlines, escape codes, bidirectional overrides) are shown as JSON escapes, as in the
text plan.
"""

from __future__ import annotations

import json
import re

from crmform.engine.words import Style, printable

__all__ = ["MARKDOWN", "code", "text"]

_REFERENCES = {
    "&": "&amp;",
    "<": "&lt;",
    ">": "&gt;",
    "|": "&#124;",
    "\\": "&#92;",
    "`": "&#96;",
    "*": "&#42;",
    "_": "&#95;",
    "[": "&#91;",
    "]": "&#93;",
    "~": "&#126;",
    "$": "&#36;",
    "@": "@&#8203;",
}
_SPECIAL = re.compile("[" + re.escape("".join(_REFERENCES)) + "]")
# Identifiers as crmform's own names look; only these go into a plain `code span`.
_PLAIN = re.compile(r"[A-Za-z0-9_.:/-]+")


def text(value: object) -> str:
    """Any value as inert Markdown text (None as the empty string)."""
    return _SPECIAL.sub(lambda m: _REFERENCES[m.group()], _printable(value))


def code(value: object) -> str:
    """A value in code style: a code span for plain names, else an escaped <code> element."""
    shown = _printable(value)
    if not shown:
        return "*(empty)*"
    if _PLAIN.fullmatch(shown):
        return f"`{shown}`"
    return f"<code>{text(shown)}</code>"


def _printable(value: object) -> str:
    if value is None:
        return ""
    shown = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    if shown.isprintable():
        return shown
    # JSON's escapes for control characters, then words' per-character rule for the rest
    # (json.dumps lets bidirectional overrides such as U+202E through).
    return printable(json.dumps(shown, ensure_ascii=False)[1:-1])


def _label(value: str) -> str:
    return f'"{text(value)}"'


# The words module's phrases as a pull-request comment shows them.
MARKDOWN = Style(name=code, label=_label, value=code, arrow=" → ", join="<br>")
