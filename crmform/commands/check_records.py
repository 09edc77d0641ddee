"""check-records: check CRM record files against the managed schema before an upload."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from crmform.engine.errors import CrmformError
from crmform.engine.model import INTEGRATION_ID_MAX, ObjectType
from crmform.engine.operations.files import load_files
from crmform.engine.records.standard import UNCHECKED_OBJECT_TYPES
from crmform.exits import EXIT_ERROR, EXIT_OK
from crmform.options import state_option
from crmform.runtime import excluded, runtime, state_backend
from crmform.views import err, warnings

if TYPE_CHECKING:
    from crmform.engine.records import RecordSchema

DEFAULT_MAX_PROBLEMS = 50


@click.command("check-records")
@click.argument(
    "files", metavar="FILE...", nargs=-1, required=True, type=click.Path(path_type=Path)
)
@click.option(
    "--schema",
    "schema_dir",
    type=click.Path(file_okay=False, path_type=Path),
    envvar="CRMFORM_CHECK_RECORDS_SCHEMA",
    show_envvar=True,
    help="Check against the schema files in this directory (and the state, if there is one, "
    "to find fields not applied yet or about to be deleted). Default: the state alone.",
)
@state_option
@click.option(
    "--object-type",
    type=click.Choice([*(t.value for t in ObjectType), *UNCHECKED_OBJECT_TYPES]),
    envvar="CRMFORM_CHECK_RECORDS_OBJECT_TYPE",
    show_envvar=True,
    help="The object type of every FILE. Default: the one its name names (accounts.ldjson), "
    "else the schema's only one.",
)
@click.option(
    "--integration-id",
    type=click.IntRange(1, INTEGRATION_ID_MAX),
    envvar="CRMFORM_CHECK_RECORDS_INTEGRATION_ID",
    show_envvar=True,
    help="The integration the records are for, when the schema has several.",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "json", "github"]),
    default="text",
    envvar="CRMFORM_CHECK_RECORDS_FORMAT",
    show_default=True,
    show_envvar=True,
    help="text; json (versioned, see docs/check-records-json.md); github (workflow "
    "annotations on the lines).",
)
@click.option(
    "--max-problems",
    type=click.IntRange(min=0),
    default=DEFAULT_MAX_PROBLEMS,
    envvar="CRMFORM_CHECK_RECORDS_MAX_PROBLEMS",
    show_default=True,
    show_envvar=True,
    help="Show at most this many problems (errors first); the rest are counted.",
)
def check_records(
    files: tuple[Path, ...],
    schema_dir: Path | None,
    state_path: Path,
    object_type: str | None,
    integration_id: int | None,
    fmt: str,
    max_problems: int,
) -> int:
    """Check CRM record files (LDJSON) against the managed schema before uploading them.

    Each FILE is what `POST /v2/crm/entities` takes: one JSON record per line, of one
    object type. Reports keys Gong would ignore, fields not applied yet or about to be
    deleted, values not in their field's format, and Gong's limits. Exit 1 when any error
    is found, 0 otherwise (warnings alone: 0).
    """
    from crmform.engine.records import CheckRequest, check_files
    from crmform.views.records import render

    schemas, source = _schemas(schema_dir, state_path)
    request = CheckRequest(
        paths=files,
        schemas=schemas,
        source=source,
        max_problems=max_problems,
        object_type=object_type,
        integration_id=integration_id,
    )
    report = check_files(request)
    click.echo(render(report, fmt), nl=False)
    return EXIT_OK if report.ok else EXIT_ERROR


def _schemas(schema_dir: Path | None, state_path: Path) -> tuple[tuple[RecordSchema, ...], str]:
    """The schemas to check against, and where they came from (for messages)."""
    from crmform.engine.records import record_schemas

    state = state_backend(state_path).read()
    if schema_dir is not None:
        loaded = load_files(schema_dir, runtime().env, excluded(state_path))
        warnings(loaded.warnings)
        desired = loaded.desired
        if state.serial == 0:
            err(
                f"Note: no state at {state_path}, so every field of the schema files is taken "
                "as applied (fields not applied yet, or about to be deleted, are not found)."
            )
        return record_schemas(desired, state if state.serial else None), (
            f"the schema files in {schema_dir}"
        )
    if state.serial == 0:
        raise CrmformError(
            f"No state at {state_path}, so there is no applied schema to check records "
            "against. Pass --schema DIR to check against the schema files, or --state FILE "
            "to name the state."
        )
    return record_schemas(None, state), f"the state {state_path}"
