"""`crmform fmt`: the one canonical layout of schema files, keeping every comment.

The layout is the one `import --write-config` writes (engine/config/writer.py; a test keeps the
two equal):

- keys in the order the shipped JSON Schema documents them (provider, integrationId,
  objectType, fields; uniqueName, label, type, referenceTo, orderedValueList, protect),
  keys crmform does not know after those, in their order;
- block style, 2-space indentation, list items indented under their key;
- strings plain where YAML 1.1 (what crmform reads with) cannot read them as anything else,
  otherwise double-quoted with escapes (writer.yaml_string); integration ids above 2**53
  quoted, so no tool that reads numbers as doubles rounds them;
- LF line ends, unless the file uses CRLF (kept, for checkouts that convert them).

Comments are kept, as ruamel.yaml round-trips them: end-of-line comments stay with their
key at their column; a full-line comment stays before the key it preceded when keys are
reordered; full-line comments keep their column. JSON files (which have no comments) are
written in the same key order, a value on one line when that line fits in 100
columns, else one entry per line, indent 2 (engine/config/fmt_json.py).

fmt never changes what crmform reads: every result is parsed again with the loader's own
parser and compared with the original; a file whose meaning would change is left alone and
reported. ruamel.yaml is imported here only, and only when a YAML file is formatted.
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from fnmatch import fnmatch
from pathlib import Path
from typing import Any

from crmform.engine.config.fmt_json import json_layout, order
from crmform.engine.config.jsonschema_file import json_schema_message
from crmform.engine.config.keys import FIELD_KEYS, TOP_KEYS
from crmform.engine.config.loader import STATE_FILE_PATTERN, SUFFIXES
from crmform.engine.config.parse import ParseError, parse_json, parse_yaml
from crmform.engine.config.writer import double_quoted, yaml_string
from crmform.engine.errors import Diagnostic

__all__ = ["FormatProblem", "Formatted", "format_files", "format_text", "schema_files", "write"]

_SAFE_INTEGER = 2**53


class FormatProblem(Exception):
    """The text cannot be formatted; `line` when known."""

    def __init__(self, line: int | None, message: str) -> None:
        super().__init__(message)
        self.line, self.message = line, message


@dataclass(frozen=True, slots=True)
class Formatted:
    """One file: its text as read, and in the canonical layout."""

    path: Path
    before: str
    after: str

    @property
    def changed(self) -> bool:
        return self.before != self.after


def schema_files(paths: Iterable[Path]) -> tuple[list[Path], list[Diagnostic]]:
    """The files fmt works on: each file given, and the schema files directly in each
    directory given (as the loader finds them). State files are skipped, also when named."""
    found: list[Path] = []
    problems: list[Diagnostic] = []
    for path in paths:
        if path.is_dir():
            entries = sorted(
                (p for p in path.iterdir() if p.suffix in SUFFIXES and p.is_file()),
                key=lambda p: p.name,
            )
            entries = [p for p in entries if not p.name.startswith(".") and not _is_state(p)]
            if not entries:
                message = "no schema files (*.yaml, *.yml or *.json) in this directory"
                problems.append(Diagnostic(str(path), None, "", message))
            found += entries
        elif path.is_file():
            if not _is_state(path):
                found.append(path)
        else:
            problems.append(Diagnostic(str(path), None, "", "no such file or directory"))
    return list(dict.fromkeys(found)), problems


def _is_state(path: Path) -> bool:
    return fnmatch(path.name, STATE_FILE_PATTERN)


def format_files(files: Sequence[Path]) -> tuple[list[Formatted], list[Diagnostic]]:
    """Each file read and formatted (nothing is written), and the problems of those that
    cannot be formatted."""
    done: list[Formatted] = []
    problems: list[Diagnostic] = []
    for path in files:
        try:
            before = path.read_bytes().decode("utf-8")
        except OSError as exc:
            problems.append(Diagnostic(str(path), None, "", f"cannot be read ({exc.strerror})"))
            continue
        except UnicodeDecodeError:
            problems.append(Diagnostic(str(path), None, "", "is not UTF-8 text"))
            continue
        try:
            after = format_text(before, is_json=path.suffix == ".json")
        except FormatProblem as problem:
            problems.append(Diagnostic(str(path), problem.line, "", problem.message))
            continue
        done.append(Formatted(path, before, after))
    return done, problems


def write(formatted: Formatted) -> None:
    """Replace the file with its formatted text: atomically, keeping its mode (and writing
    through a symbolic link to the file it names)."""
    import os
    import stat

    target = formatted.path.resolve()
    tmp = target.with_name(f".{target.name}.fmt{os.getpid()}")
    try:
        tmp.write_bytes(formatted.after.encode("utf-8"))
        tmp.chmod(stat.S_IMODE(target.stat().st_mode))
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)


def format_text(text: str, *, is_json: bool) -> str:
    """`text` in the canonical layout; raises FormatProblem when it cannot be formatted
    safely (it does not parse, repeats a key, or formatting would change its meaning)."""
    newline = "\r\n" if "\r\n" in text else "\n"
    source = text.removeprefix("\ufeff").replace("\r\n", "\n")
    original = _read(source, is_json)
    result = json_layout(original) if is_json else _yaml_layout(source)
    if _meaning(_read(result, is_json)) != _meaning(original):
        raise FormatProblem(
            None,
            "left unchanged: formatting would change what crmform reads from it (please "
            "report this, with the file)",
        )
    return result.replace("\n", newline)


def _read(text: str, is_json: bool) -> Any:
    """The document as the loader reads it, or FormatProblem."""
    try:
        if is_json:
            doc, repeated = parse_json(text)
        else:
            doc, repeated, _ = parse_yaml(text)
    except ParseError as exc:
        raise FormatProblem(exc.line, exc.message) from exc
    if doc is None:
        raise FormatProblem(None, "the file is empty; nothing to format")
    if not isinstance(doc, dict):
        raise FormatProblem(None, "the top level is not a mapping; nothing to format")
    if repeated:
        raise FormatProblem(
            None, "a key is given twice; remove one first (`crmform validate` says where)"
        )
    foreign = json_schema_message(doc)
    if foreign is not None:
        raise FormatProblem(None, foreign)
    return doc


def _meaning(doc: Any) -> Any:
    # What the loader would make of the file: integration ids above 2**53 are quoted by fmt,
    # and the loader reads a number and a string of digits alike.
    iid = doc.get("integrationId")
    if type(iid) is int and iid > _SAFE_INTEGER:
        return {**doc, "integrationId": str(iid)}
    return doc


# --- YAML ---------------------------------------------------------------------------------


def _yaml_layout(text: str) -> str:
    from ruamel.yaml import YAML
    from ruamel.yaml.error import YAMLError

    # crmform reads YAML 1.1 (PyYAML): `yes` is a boolean there. ruamel reads the same way
    # with version 1.1; the dumper writes no version directive.
    reader = YAML()
    reader.version = (1, 1)
    try:
        doc = reader.load(text)
    except YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        raise FormatProblem(line, f"cannot be formatted: {str(exc).splitlines()[0]}") from exc
    _canonical(doc, TOP_KEYS)
    fields = doc.get("fields")
    if isinstance(fields, list):
        for item in fields:
            if _is_map(item):
                _canonical(item, FIELD_KEYS)
    iid = doc.get("integrationId")
    if type(iid) is not bool and isinstance(iid, int) and iid > _SAFE_INTEGER:
        doc["integrationId"] = str(iid)
    _styles(doc)
    writer = YAML()
    writer.indent(mapping=2, sequence=4, offset=2)
    writer.width = 1 << 30  # never fold a long line
    writer.Emitter = _emitter_class()
    out = io.StringIO()
    writer.dump(doc, out)
    return out.getvalue()


def _is_map(node: Any) -> bool:
    from ruamel.yaml.comments import CommentedMap

    return isinstance(node, CommentedMap)


def _canonical(node: Any, known: Sequence[str]) -> None:
    """Reorder the keys of one mapping, keeping each comment where it belongs.

    ruamel attaches the comment lines between two keys to the first of them (after its
    end-of-line comment). They describe what follows, so they move with the next key (for
    the key that becomes first, to just below it); the lines after the last key stay at the
    end of the mapping.
    """
    from ruamel.yaml.error import CommentMark
    from ruamel.yaml.tokens import CommentToken

    keys = list(node.keys())
    wanted = order(keys, known)
    if wanted == keys:
        return
    eol: dict[Any, tuple[str, int] | None] = {}
    before: dict[Any, str] = {}  # the comment lines above each key
    tail = ""
    for key in keys:  # comment lines ruamel files as "before this key" (after a flow value)
        slot = node.ca.items.get(key)
        pre = slot[1] if slot is not None and len(slot) > 1 else None
        if isinstance(pre, list) and all(isinstance(t, CommentToken) for t in pre):
            before[key] = "".join(" " * (t.column or 0) + t.value for t in pre)
            slot[1] = None
    for i, key in enumerate(keys):
        slot = node.ca.items.get(key)
        token = slot[2] if slot is not None and len(slot) > 2 else None
        if not isinstance(token, CommentToken):
            eol[key] = None
            lines = ""
        else:
            value = token.value
            cut = value.find("\n") + 1 or len(value)
            lines = value[cut:]
            eol[key] = (value[:cut], token.column) if value[:cut].strip() else None
        if i + 1 < len(keys):
            before[keys[i + 1]] = lines + before.get(keys[i + 1], "")
        else:
            tail = lines
    for key in keys:
        node.move_to_end(key)
    for key in wanted:
        node.move_to_end(key)
    for i, key in enumerate(wanted):
        after = before.get(wanted[i + 1], "") if i + 1 < len(wanted) else tail
        if i == 0:  # nothing precedes the new first key here: its comments go just below it
            after = before.get(key, "") + after
        own = eol[key]
        value = (own[0] if own else "\n") + after
        slot = node.ca.items.get(key)
        if value == "\n":
            if slot is not None and len(slot) > 2:
                slot[2] = None
            continue
        token = CommentToken(value, CommentMark(own[1] if own else 0), None)
        if slot is None:
            node.ca.items[key] = [None, None, token, None]
        else:
            slot[2] = token


def _styles(node: Any) -> None:
    """Block style everywhere; each string quoted only where YAML 1.1 needs it."""
    from ruamel.yaml.comments import CommentedMap, CommentedSeq

    if isinstance(node, CommentedMap):
        node.fa.set_block_style()
        for key in list(node.keys()):
            value = node[key] = _scalar(node[key])
            if isinstance(value, CommentedSeq) and value.fa.flow_style():
                _unflow(node, key, value)
            _styles(value)
    elif isinstance(node, CommentedSeq):
        node.fa.set_block_style()
        for i, item in enumerate(node):
            node[i] = _scalar(item)
            _styles(node[i])


def _unflow(node: Any, key: Any, seq: Any) -> None:
    """`key: [a, b]  # note` becomes a block list: the end-of-line comment stays on the key's
    line, and the comment lines that followed it move after the last item, where they were."""
    from ruamel.yaml.error import CommentMark
    from ruamel.yaml.tokens import CommentToken

    seq.ca.comment = None  # ruamel files the key's comment under the list as well
    slot = node.ca.items.get(key)
    token = slot[2] if slot is not None and len(slot) > 2 else None
    if not isinstance(token, CommentToken) or not seq or len(seq) - 1 in seq.ca.items:
        return
    value = token.value
    cut = value.find("\n") + 1 or len(value)
    first, following = value[:cut], value[cut:]
    if not following:
        return
    slot[2] = CommentToken(first, CommentMark(token.column), None) if first.strip() else None
    seq.ca.items[len(seq) - 1] = [CommentToken("\n" + following, CommentMark(0), None), None]


def _scalar(value: Any) -> Any:
    from ruamel.yaml.scalarstring import DoubleQuotedScalarString

    if not isinstance(value, str):
        return value
    if yaml_string(value).startswith('"'):
        return DoubleQuotedScalarString(value)
    return str(value)


_EMITTER: list[type] = []


def _emitter_class() -> type:
    """ruamel's emitter, writing double-quoted strings exactly as writer.double_quoted does
    (its own escapes and line folding differ), so that fmt and import write one layout."""
    if _EMITTER:
        return _EMITTER[0]
    from ruamel.yaml.emitter import RoundTripEmitter

    class Emitter(RoundTripEmitter):
        def write_double_quoted(self, text: Any, split: Any = True) -> None:
            data = double_quoted(str(text))
            if self.root_context:  # pragma: no cover - a schema file's root is a mapping
                return super().write_double_quoted(text, split)
            self.write_indicator(data[0], True)
            body = data[1:-1]
            self.column += len(body)
            self.stream.write(body.encode(self.encoding) if self.encoding else body)
            self.write_indicator(data[-1], False)

    _EMITTER.append(Emitter)
    return Emitter
