"""The record loop: one pass over a binary stream of LDJSON, in constant memory.

Memory: the stream is read a line at a time with a length limit (MAX_LINE_BYTES), so no
line, however long, is held whole: an over-long line (binary data, a missing newline) is
skipped in chunks of that size and reported. Nothing per record outlives its line, except
counts and the few problems kept for display (see problems.Collector).

Speed: the floor is `json.loads` of every line, and the loop stays within a small factor of
it (benchmarks/records.py). The line is decoded as strict UTF-8 and parsed by the C scanner
of one reused JSONDecoder (json.loads of bytes also detects the encoding and matches
whitespace with regular expressions per call; lines that need that take the slow path); each
key costs one dict lookup and one call of a precompiled check that returns None for a valid
value; a Problem, and its message, is made only for a problem that will be shown.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import partial
from json.scanner import make_scanner
from typing import BinaryIO

from crmform.engine.model import ObjectType
from crmform.engine.records.compiled import Compiled
from crmform.engine.records.problems import ONCE_PER_KEY, SEVERITY, Code, Collector, Problem
from crmform.engine.records.schema import Pending
from crmform.engine.records.standard import standard_key_owners
from crmform.engine.records.words import (
    cut_key,
    describe,
    explain,
    file_message,
    line_message,
)

__all__ = ["MAX_LINE_BYTES", "check_stream"]

MAX_LINE_BYTES = 1 << 20  # 1 MiB: crmform's own limit for one record; Gong documents none
_BOM = b"\xef\xbb\xbf"
_NO_RECORD = object()  # what _unusual_line returns for a line with nothing to check


def _reject_constant(name: str) -> object:
    # Python's json reads NaN and Infinity; JSON (and so Gong) has no such values.
    raise ValueError(f"{name} is not a JSON value")


_DECODER = json.JSONDecoder(parse_constant=_reject_constant)
# The C scanner, as _DECODER.decode uses it (typeshed types make_scanner as its own class).
_SCAN = make_scanner(_DECODER)  # type: ignore[arg-type]


class _File:
    """The problems of one file, made into Problems only when the collector keeps them."""

    __slots__ = ("collector", "compiled", "name", "once")

    def __init__(self, name: str, compiled: Compiled, collector: Collector) -> None:
        self.name = name
        self.compiled = compiled
        self.collector = collector
        self.once: set[tuple[Code, str]] = set()

    def value(self, line: int, key: str, code: Code, value: object) -> None:
        if code in ONCE_PER_KEY:
            if (code, key) in self.once:
                return
            self.once.add((code, key))
        if self.collector.count(code):
            message = explain(self.compiled, code, key, value)
            self.add(line, cut_key(key), code, message)

    def other_key(self, line: int, key: str, value: object) -> None:
        """A key without a check of its own: pending, another type's, or unknown."""
        pending = self.compiled.pending.get(key)
        if pending is not None:
            what, check = pending
            self.value(line, key, _PENDING_CODES[what.reason], value)
            code = check(value) if check is not None else None
            if code is not None:
                self.value(line, key, code, value)
        elif standard_key_owners(key):
            self.value(line, key, Code.OTHER_OBJECT_TYPE_KEY, value)
        else:
            self.value(line, key, Code.UNKNOWN_KEY, value)

    def line(self, line: int | None, code: Code, message: str) -> None:
        if self.collector.count(code):
            self.add(line, None, code, message)

    def add(self, line: int | None, key: str | None, code: Code, message: str) -> None:
        self.collector.keep(Problem(self.name, line, key, SEVERITY[code], code, message))


_PENDING_CODES = {
    Pending.NOT_APPLIED: Code.NOT_APPLIED,
    Pending.TOMBSTONED: Code.TOMBSTONED,
    Pending.TYPE_CHANGE: Code.TYPE_CHANGE_PENDING,
}


def _deal_extra(problems: _File, line: int, record: dict[str, object]) -> None:
    if "accountId" not in record and record.get("isDeleted") is not True:
        problems.value(line, "accountId", Code.DEAL_WITHOUT_ACCOUNT, None)


_EXTRA: dict[ObjectType, Callable[[_File, int, dict[str, object]], None]] = {
    ObjectType.DEAL: _deal_extra,
}


def check_stream(
    stream: BinaryIO, name: str, compiled: Compiled, collector: Collector
) -> tuple[int, int]:
    """Check every line of `stream` (named `name` in problems) against `compiled`; return
    (lines, records). The stream is read to its end and left open."""
    problems = _File(name, compiled, collector)
    for field_name in compiled.shadowing:
        detail = file_message(
            Code.SHADOWS_STANDARD_KEY, field_name, object_type=compiled.object_type.value
        )
        problems.line(None, Code.SHADOWS_STANDARD_KEY, detail)
    scan = _SCAN
    get = compiled.checks.get
    required = compiled.required
    extra = _EXTRA.get(compiled.object_type)
    report = problems.value
    other_key = problems.other_key
    readline = stream.readline
    records = lineno = 0
    for lineno, line in enumerate(iter(partial(readline, MAX_LINE_BYTES), b""), 1):
        if len(line) >= MAX_LINE_BYTES and line[-1] != 10:
            _skip_rest_of_line(readline)
            problems.line(
                lineno,
                Code.LINE_TOO_LONG,
                line_message(Code.LINE_TOO_LONG, max_line_bytes=MAX_LINE_BYTES),
            )
            continue
        try:
            text = line.decode()
            record, end = scan(text, 0)
            # The value must end the line, or be followed by its newline only.
            whole = (end == len(text) - 1 and text[end] == "\n") or end == len(text)
        except (ValueError, RecursionError, StopIteration):
            whole = False
        if not whole:
            record = _slow_line(problems, lineno, line)
            if record is _NO_RECORD:
                continue
        if type(record) is not dict:
            detail = describe(record)
            problems.line(lineno, Code.NOT_AN_OBJECT, line_message(Code.NOT_AN_OBJECT, detail))
            continue
        records += 1
        for key, value in record.items():
            check = get(key)
            if check is None:
                other_key(lineno, key, value)
            else:
                code = check(value)
                if code is not None:
                    report(lineno, key, code, value)
        for key in required:
            if key not in record:
                report(lineno, key, Code.MISSING_KEY, None)
        if extra is not None:
            extra(problems, lineno, record)
    if records == 0 and lineno == 0:
        problems.line(None, Code.EMPTY_FILE, file_message(Code.EMPTY_FILE))
    return lineno, records


def _skip_rest_of_line(readline: Callable[[int], bytes]) -> None:
    while True:
        chunk = readline(MAX_LINE_BYTES)
        if not chunk or chunk.endswith(b"\n"):
            return


def _slow_line(problems: _File, lineno: int, line: bytes) -> object:
    """The whole decoder for a line the fast path did not take: leading or other trailing
    whitespace, or a problem (then _unusual_line says which)."""
    try:
        return _DECODER.decode(line.decode())
    except (ValueError, RecursionError) as error:
        return _unusual_line(problems, lineno, line, error)


def _unusual_line(problems: _File, lineno: int, line: bytes, error: Exception) -> object:
    """A line the fast path could not decode: a byte order mark on the first line (then
    the record is decoded again without it), a blank line, or a problem to report. Returns
    the record, or _NO_RECORD when there is none to check."""
    if lineno == 1 and line.startswith(_BOM):
        problems.line(1, Code.BYTE_ORDER_MARK, line_message(Code.BYTE_ORDER_MARK))
        try:
            return _DECODER.decode(line[len(_BOM) :].decode())
        except (ValueError, RecursionError) as again:
            error = again
    if not line.strip():
        problems.line(lineno, Code.BLANK_LINE, line_message(Code.BLANK_LINE))
        return _NO_RECORD
    if isinstance(error, UnicodeDecodeError):
        detail = f"byte {error.object[error.start]:#04x} at byte {error.start + 1:,} is invalid"
        problems.line(lineno, Code.NOT_UTF8, line_message(Code.NOT_UTF8, detail))
    elif isinstance(error, json.JSONDecodeError):
        detail = f"{error.msg} at column {error.colno:,}"
        problems.line(lineno, Code.INVALID_JSON, line_message(Code.INVALID_JSON, detail))
    elif isinstance(error, RecursionError):
        detail = "it is nested too deeply to read"
        problems.line(lineno, Code.INVALID_JSON, line_message(Code.INVALID_JSON, detail))
    else:
        detail = str(error)[:200]
        problems.line(lineno, Code.INVALID_JSON, line_message(Code.INVALID_JSON, detail))
    return _NO_RECORD
