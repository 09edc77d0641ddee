"""Checking CRM record files (Gong's LDJSON upload format) against the managed schema.

Pure, apart from files.py, which opens the record files: no click, no httpx, no printing.

    schema.py     RecordSchema (what records are checked against), built from the schema
                  files and/or the state; resolve() picks one per file
    standard.py   Gong's documented standard keys per object type
    values.py     one precompiled check per type (None = valid, else a Code)
    compiled.py   a RecordSchema compiled to a dict of checks
    checker.py    the streaming loop over one file, in constant memory
    problems.py   Code, Severity, Problem, Report and the capped Collector
    words.py      every message
    files.py      the operation: check_files(CheckRequest) -> Report
    report_json.py  the versioned JSON report (engine/formats/check-records.schema.json)
"""

from __future__ import annotations

from crmform.engine.records.files import CheckRequest, check_files
from crmform.engine.records.problems import Code, FileSummary, Problem, Report, Severity
from crmform.engine.records.schema import RecordCheckError, RecordSchema, record_schemas

__all__ = [
    "CheckRequest",
    "Code",
    "FileSummary",
    "Problem",
    "RecordCheckError",
    "RecordSchema",
    "Report",
    "Severity",
    "check_files",
    "record_schemas",
]
