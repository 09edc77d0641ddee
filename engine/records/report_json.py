"""A record check's Report as a JSON document: the machine-readable contract.

Format version 1 (schema: engine/formats/check-records.schema.json, documented in
docs/check-records-json.md):

    {
      "format_version": 1,
      "ok": false,                                  # no errors (warnings allowed)
      "summary": {"files": 1, "records": 1000, "errors": 3, "warnings": 1},
      "files": [
        {"file": "accounts.ldjson", "objectType": "ACCOUNT",
         "address": "gong/6286478263646/ACCOUNT", "integrationId": "6286478263646",
         "bytes": 123456 | null, "lines": 1000, "records": 1000, "errors": 3, "warnings": 1}
      ],
      "problems": [                                 # those shown: errors first, then capped
        {"file": "accounts.ldjson", "line": 2 | null, "key": "tier" | null,
         "severity": "error" | "warning", "code": "invalid-choice", "message": "..."}
      ],
      "not_shown": {"errors": 0, "warnings": 0},
      "max_problems": 50,
      "counts": {"invalid-choice": 3, "null-value": 1}   # every code found, sorted
    }

Keys may be added within a version; consumers ignore keys they do not know. Removing or
re-typing a key bumps format_version; a key added here goes into the schema and the doc too.
"""

from __future__ import annotations

from crmform.engine.formats.codec import JsonDict
from crmform.engine.records.problems import FileSummary, Problem, Report

__all__ = ["RECORDS_FORMAT_VERSION", "report_to_json"]

RECORDS_FORMAT_VERSION = 1


def report_to_json(report: Report) -> JsonDict:
    return {
        "format_version": RECORDS_FORMAT_VERSION,
        "ok": report.ok,
        "summary": {
            "files": len(report.files),
            "records": report.records,
            "errors": report.errors,
            "warnings": report.warnings,
        },
        "files": [_file(f) for f in report.files],
        "problems": [_problem(p) for p in report.problems],
        "not_shown": {"errors": report.more_errors, "warnings": report.more_warnings},
        "max_problems": report.max_problems,
        "counts": {code.value: n for code, n in report.counts},
    }


def _file(summary: FileSummary) -> JsonDict:
    return {
        "file": summary.file,
        "objectType": summary.key.object_type.value,
        "address": summary.key.address,
        "integrationId": str(summary.key.integration_id),
        "bytes": summary.size,
        "lines": summary.lines,
        "records": summary.records,
        "errors": summary.errors,
        "warnings": summary.warnings,
    }


def _problem(problem: Problem) -> JsonDict:
    return {
        "file": problem.file,
        "line": problem.line,
        "key": problem.key,
        "severity": problem.severity.value,
        "code": problem.code.value,
        "message": problem.message,
    }
