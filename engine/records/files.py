"""The check-records operation: resolve each file's schema, then stream every file once.

This is the one module of engine/records that opens files (the record files are the input,
as schema files are config's). Every file's object type is resolved before any file is read,
so a usage mistake (an ambiguous or unmanaged object type) fails at once, naming every file
it concerns, rather than after minutes of checking. A file that cannot be read is a problem
of that file; the others are still checked.
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass
from pathlib import Path

from crmform.engine.model import ObjectKey
from crmform.engine.records.checker import check_stream
from crmform.engine.records.compiled import Compiled, compile_schema
from crmform.engine.records.problems import SEVERITY, Code, Collector, FileSummary, Problem, Report
from crmform.engine.records.schema import RecordCheckError, RecordSchema, resolve
from crmform.engine.records.words import file_message

__all__ = ["MAX_UPLOAD_BYTES", "MAX_UPLOAD_BYTES_DECIMAL", "CheckRequest", "check_files"]

# Gong: "Maximum payload size: 200 megabytes"; "files up to 200MB in size". Which megabyte
# is not said: above the binary one is an error, between the two a warning.
MAX_UPLOAD_BYTES = 200 * 1024 * 1024
MAX_UPLOAD_BYTES_DECIMAL = 200 * 1000 * 1000


@dataclass(frozen=True, slots=True)
class CheckRequest:
    """What to check. `source` names where `schemas` came from, for messages (e.g. "the
    state crmform.state.json"); `object_type` and `integration_id` are the flags' values."""

    paths: tuple[Path, ...]
    schemas: tuple[RecordSchema, ...]
    source: str
    max_problems: int
    object_type: str | None = None
    integration_id: int | None = None


def check_files(request: CheckRequest) -> Report:
    """Check every file of the request; raise RecordCheckError (nothing read) when the
    schema of some file cannot be told."""
    targets: list[tuple[Path, RecordSchema]] = []
    failures: list[str] = []
    for path in request.paths:
        try:
            schema = resolve(
                request.schemas,
                str(path),
                request.source,
                request.object_type,
                request.integration_id,
            )
        except RecordCheckError as error:
            failures.append(str(error))
            continue
        targets.append((path, schema))
    if failures:
        unique = list(dict.fromkeys(failures))
        raise RecordCheckError(unique[0] if len(unique) == 1 else "\n".join(unique))
    collector = Collector(request.max_problems)
    compiled: dict[ObjectKey, Compiled] = {}
    summaries = []
    for path, schema in targets:
        if schema.key not in compiled:
            compiled[schema.key] = compile_schema(schema)
        summaries.append(_check_one(path, compiled[schema.key], collector))
    return collector.report(tuple(summaries))


def _check_one(path: Path, compiled: Compiled, collector: Collector) -> FileSummary:
    name = str(path)
    errors_before, warnings_before = collector.totals()
    lines = records = 0
    size: int | None = None
    unreadable = ""
    try:
        with path.open("rb") as stream:
            info = os.fstat(stream.fileno())
            if stat.S_ISREG(info.st_mode):
                size = info.st_size
                _size_problem(name, size, collector)
            if stat.S_ISREG(info.st_mode) or stat.S_ISFIFO(info.st_mode):
                lines, records = check_stream(stream, name, compiled, collector)
            else:
                # A device such as /dev/zero never ends; a pipe (e.g. <(zcat f.gz)) is fine.
                unreadable = "it is neither a regular file nor a pipe"
    except OSError as error:
        unreadable = error.strerror or str(error)
    if unreadable and collector.count(Code.UNREADABLE_FILE):
        collector.keep(_file_problem(name, Code.UNREADABLE_FILE, unreadable))
    errors, warnings = collector.totals()
    return FileSummary(
        file=name,
        key=compiled.schema.key,
        size=size,
        lines=lines,
        records=records,
        errors=errors - errors_before,
        warnings=warnings - warnings_before,
    )


def _size_problem(name: str, size: int, collector: Collector) -> None:
    if size > MAX_UPLOAD_BYTES:
        code = Code.FILE_TOO_LARGE
    elif size > MAX_UPLOAD_BYTES_DECIMAL:
        code = Code.FILE_SIZE_UNCERTAIN
    else:
        return
    if collector.count(code):
        collector.keep(_file_problem(name, code, size=size))


def _file_problem(name: str, code: Code, detail: str = "", size: int = 0) -> Problem:
    return Problem(name, None, None, SEVERITY[code], code, file_message(code, detail, size=size))
