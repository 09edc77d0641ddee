"""`crmform check-records` output: text for people, JSON for programs, GitHub annotations.

Each renderer takes the typed Report and returns the whole text (ending in a newline); the
command prints it. Messages come escaped from the engine (engine/records/words.py); file
names come from the command line and are escaped here.
"""

from __future__ import annotations

import json

from crmform.engine.records.problems import Problem, Report, Severity
from crmform.engine.records.report_json import report_to_json

__all__ = ["FORMATS", "render"]

FORMATS = ("text", "json", "github")


def render(report: Report, fmt: str) -> str:
    if fmt == "json":
        return json.dumps(report_to_json(report), indent=2) + "\n"
    if fmt == "github":
        return render_github(report)
    return render_text(report)


def render_text(report: Report) -> str:
    lines = [_text_line(p) for p in report.problems]
    more = _more(report)
    if more:
        lines.append(f"... {more}; raise --max-problems to see them.")
    lines.append(summary_line(report))
    return "\n".join(lines) + "\n"


def render_github(report: Report) -> str:
    """One workflow command per problem shown (they become inline annotations), then the
    summary as a plain log line."""
    lines = [_annotation(p) for p in report.problems]
    more = _more(report)
    if more:
        lines.append(f"crmform check-records: {more}; raise --max-problems to see them.")
    lines.append(summary_line(report))
    return "\n".join(lines) + "\n"


def summary_line(report: Report) -> str:
    files = len(report.files)
    head = (
        f"Checked {files:,} file{'' if files == 1 else 's'}, {report.records:,} "
        f"record{'' if report.records == 1 else 's'}"
    )
    if not report.errors and not report.warnings:
        return f"{head}: no problems found."
    counts = f"{_count(report.errors, 'error')}, {_count(report.warnings, 'warning')}"
    verdict = "" if report.errors else " (warnings only: the records would be accepted)"
    return f"{head}: {counts}{verdict}."


def _count(n: int, noun: str) -> str:
    return f"{n:,} {noun}{'' if n == 1 else 's'}"


def _more(report: Report) -> str:
    hidden = report.more_errors + report.more_warnings
    if not hidden:
        return ""
    parts = [
        _count(n, noun)
        for n, noun in ((report.more_errors, "error"), (report.more_warnings, "warning"))
        if n
    ]
    return f"and {hidden:,} more not shown ({', '.join(parts)})"


def _text_line(problem: Problem) -> str:
    where = _clean(problem.file)
    if problem.line is not None:
        where += f":{problem.line}"
    return f"{where}: {problem.severity.value}: {_message(problem)} [{problem.code.value}]"


def _message(problem: Problem) -> str:
    """The message after the key it is about (keys come from the file: escaped here)."""
    return f"{_clean(problem.key)}: {problem.message}" if problem.key else problem.message


def _annotation(problem: Problem) -> str:
    command = "error" if problem.severity is Severity.ERROR else "warning"
    props = [f"file={_property(problem.file)}"]
    if problem.line is not None:
        props.append(f"line={problem.line}")
    props.append(f"title={_property(f'crmform check-records: {problem.code.value}')}")
    return f"::{command} {','.join(props)}::{_data(_message(problem))}"


def _clean(text: str) -> str:
    """A name from outside (a path) as printed: escaped when it has anything unprintable."""
    return text if text.isprintable() else repr(text)[1:-1]


# GitHub's workflow-command escaping (actions/toolkit, command.ts): data escapes %, CR, LF;
# property values also ':' and ','.
def _data(text: str) -> str:
    return _clean(text).replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _property(text: str) -> str:
    return _data(text).replace(":", "%3A").replace(",", "%2C")
