"""`crmform validate` output: text for people, a versioned JSON document, and GitHub
workflow commands (annotations on the pull request's files, like `ruff --output-format
github`).

JSON format version 1 (schema: `crmform schema validate-result`, docs/validate-json.md):

    {
      "format_version": 1,
      "valid": false,
      "directory": "schema",
      "summary": {"errors": 1, "warnings": 0},
      "problems": [
        {"severity": "error", "file": "schema/account.yaml", "line": 5, "column": null,
         "path": "fields[0] (name)", "message": "unknown key 'lable'; did you mean 'label'?"}
      ],
      "objects": [{"address": "gong/1/ACCOUNT", "file": "schema/account.yaml", "fields": 3}]
    }

`objects` is empty unless valid. Warnings are problems with severity "warning" and file,
line and column null (they concern several files). New keys may be added within version 1.
"""

from __future__ import annotations

from crmform.engine.config.validation import Validation
from crmform.engine.errors import Diagnostic
from crmform.engine.formats.codec import JsonDict
from crmform.engine.words import count

__all__ = ["FORMAT_VERSION", "github", "json_document", "success_text"]

FORMAT_VERSION = 1
TITLE = "crmform"


def success_text(result: Validation) -> str:
    fields = sum(len(o.fields) for o in result.objects)
    return (
        f"Success: {count(len(result.objects), 'object type')} with {count(fields, 'field')} "
        f"in {result.directory} are valid."
    )


def json_document(result: Validation) -> JsonDict:
    problems: list[JsonDict] = [_problem(d) for d in result.problems]
    problems += [
        {
            "severity": "warning",
            "file": None,
            "line": None,
            "column": None,
            "path": "",
            "message": w,
        }
        for w in result.warnings
    ]
    return {
        "format_version": FORMAT_VERSION,
        "valid": result.valid,
        "directory": result.directory,
        "summary": {"errors": len(result.problems), "warnings": len(result.warnings)},
        "problems": problems,
        "objects": [
            {"address": o.key.address, "file": o.source, "fields": len(o.fields)}
            for o in result.objects
        ],
    }


def _problem(d: Diagnostic) -> JsonDict:
    return {
        "severity": "error",
        "file": d.file,
        "line": d.line,
        "column": d.column,
        "path": d.path,
        "message": d.message,
    }


def github(result: Validation) -> list[str]:
    """One workflow command per problem: `::error file=F,line=L,col=C,title=crmform::...`."""
    lines = []
    for d in result.problems:
        props = [("file", d.file)]
        if d.line is not None:
            props.append(("line", str(d.line)))
            if d.column is not None:
                props.append(("col", str(d.column)))
        props.append(("title", TITLE))
        message = f"{d.path}: {d.message}" if d.path else d.message
        lines.append(_command("error", props, message))
    lines += [_command("warning", [("title", TITLE)], w) for w in result.warnings]
    return lines


def _command(kind: str, props: list[tuple[str, str]], message: str) -> str:
    listed = ",".join(f"{k}={escape_property(v)}" for k, v in props)
    return f"::{kind} {listed}::{escape_data(message)}"


def escape_data(text: str) -> str:
    """GitHub's rules for a workflow command's message (@actions/core, command.ts)."""
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    """GitHub's rules for a workflow command's property value: also `:` and `,`."""
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")
