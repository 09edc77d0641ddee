"""JSON documents in local files: parsed with a reason when unusable, encoded with a stable
git-friendly layout, and replaced atomically and durably.

The state file and its lock file share these; what each document must hold is checked by
their own modules (local.py, lockfile.py).
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Mapping, Sequence
from contextlib import suppress
from pathlib import Path
from typing import Any

__all__ = [
    "NEW_FILE_MODE",
    "Unreadable",
    "atomic_write",
    "fsync_dir",
    "indented_bytes",
    "kind",
    "laid_out_bytes",
    "link_copy",
    "one_line",
    "one_line_encoder",
    "parse_object",
]

NEW_FILE_MODE = 0o644

OneLine = Callable[[object, int], Sequence[str]]


def one_line_encoder() -> OneLine:
    """json's C encoder itself, writing a value on one line: ", " and ": " between items, no
    \\u escapes (ensure_ascii=False keeps the file's text readable). Called as
    `"".join(encoder(value, 0))` it gives exactly `json.JSONEncoder(ensure_ascii=False,
    separators=(", ", ": ")).encode(value)`, without building a new encoder per call as
    `JSONEncoder.encode` does (that is most of its cost for a short value). Keys must be
    strings and values free of floats' NaN and cycles, as in every document crmform writes.
    """
    return json.encoder.c_make_encoder(  # type: ignore[attr-defined,no-any-return]
        None,  # no cycle check: documents are trees built from immutable values
        json.JSONEncoder().default,
        json.encoder.encode_basestring,
        None,
        ": ",
        ", ",
        False,
        False,
        True,
    )


_ONE_LINE = one_line_encoder()


def one_line(value: object) -> str:
    """`value` as one line of JSON (see `one_line_encoder`)."""
    return "".join(_ONE_LINE(value, 0))


class Unreadable(Exception):
    """A file that cannot be used; the argument completes "The file <path> ...", e.g. "is empty"."""


def atomic_write(target: Path, data: bytes, mode: int) -> None:
    """Replace `target` with `data` so that a crash leaves either the old or the new file."""
    import tempfile  # only writes need it

    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as out:
            if hasattr(os, "fchmod"):
                os.fchmod(out.fileno(), mode)
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        if not hasattr(os, "fchmod"):  # Windows before Python 3.13
            os.chmod(tmp, mode)
        os.replace(tmp, target)
    except BaseException:
        with suppress(OSError):
            os.unlink(tmp)
        raise


def link_copy(source: Path, target: Path, expected: os.stat_result) -> bool:
    """Replace `target` with the very file `source` is (a hard link, renamed into place),
    when `source` is still the file `expected` describes (same file, size and time): its
    bytes need no copy. The link is synced before the rename, as `atomic_write` syncs its
    copy (nothing is left to write back for a synced file, so that is cheap); the caller
    syncs the folder. False, with `target` untouched, where it is not the same file any
    more or the file system has no hard links: then write a copy."""
    tmp = target.with_name(f".{target.name}.{os.urandom(6).hex()}.tmp")
    try:
        os.link(source, tmp)
    except OSError:
        return False
    try:
        fd = os.open(tmp, os.O_RDONLY)
        try:
            now = os.fstat(fd)
            same = (now.st_dev, now.st_ino, now.st_size, now.st_mtime_ns) == (
                expected.st_dev,
                expected.st_ino,
                expected.st_size,
                expected.st_mtime_ns,
            )
            if same:
                os.fsync(fd)
        finally:
            os.close(fd)
        if same:
            os.replace(tmp, target)
            return True
        os.unlink(tmp)
        return False
    except BaseException:
        with suppress(OSError):
            os.unlink(tmp)
        raise


def fsync_dir(directory: Path) -> None:
    # Makes the renames themselves durable, not just the files' contents. Where a folder
    # cannot be opened (Windows), there is nothing to sync: its renames are durable there.
    try:
        fd = os.open(directory, os.O_RDONLY)
    except (PermissionError, IsADirectoryError):
        return
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def parse_object(
    raw: bytes, object_pairs_hook: Callable[[list[tuple[str, Any]]], Any] | None = None
) -> Mapping[str, Any]:
    """The JSON object in `raw`; `object_pairs_hook` as json.loads takes it (it may raise)."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise Unreadable(f"is not UTF-8 text (byte {exc.start})") from exc
    if not text.strip():
        raise Unreadable("is empty")
    try:
        doc = json.loads(text, object_pairs_hook=object_pairs_hook)
    except json.JSONDecodeError as exc:
        raise Unreadable(
            f"is not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})"
        ) from exc
    if not isinstance(doc, dict):
        raise Unreadable(f"holds {kind(doc)} at the top level, not an object")
    return doc


def kind(value: object) -> str:
    """What JSON value this is, with its article, for messages."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    names = {int: "an integer", float: "a number", str: "a string", list: "an array"}
    return names.get(type(value), "an object")


def laid_out_bytes(doc: Mapping[str, Any], expand_depth: int) -> bytes:
    """`doc` as UTF-8 with a trailing newline, laid out like `json.dumps(indent=2)` down to
    nesting depth `expand_depth` (the document itself is depth 0); each value nested one
    level deeper goes on one line of its own, written by json's C encoder (`indent` forces
    its pure-Python encoder, several times slower on large documents).
    """
    return (_laid_out(doc, 0, expand_depth) + "\n").encode("utf-8")


def _laid_out(value: object, depth: int, expand_depth: int) -> str:
    """`value` indented like json.dumps(indent=2) down to `expand_depth`, one line below."""
    if depth > expand_depth or not value or not isinstance(value, dict | list):
        return one_line(value)
    inner = "  " * (depth + 1)
    if isinstance(value, dict):
        items = [
            f"{one_line(k)}: {_laid_out(v, depth + 1, expand_depth)}" for k, v in value.items()
        ]
        brackets = "{}"
    else:
        items = [_laid_out(v, depth + 1, expand_depth) for v in value]
        brackets = "[]"
    body = f",\n{inner}".join(items)
    return f"{brackets[0]}\n{inner}{body}\n{'  ' * depth}{brackets[1]}"


def indented_bytes(doc: Mapping[str, Any]) -> bytes:
    # Indented, key order as built, one trailing newline: stable diffs when kept in git.
    return (json.dumps(doc, indent=2, ensure_ascii=False) + "\n").encode("utf-8")
