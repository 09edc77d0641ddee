"""validate, schema and show: the offline commands but plan (plan.py)."""

from __future__ import annotations

from pathlib import Path

import click

from crmform.engine.errors import ConfigError
from crmform.exits import EXIT_ERROR, EXIT_OK
from crmform.options import dir_argument, format_option, max_chars_option, no_color_option
from crmform.runtime import runtime
from crmform.views import err, read_text
from crmform.views.plan import show as show_plan


@click.command()
@dir_argument
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "json", "github"]),
    default="text",
    envvar="CRMFORM_FORMAT",
    show_default=True,
    show_envvar=True,
    help="Output format: text; json (versioned, see docs/validate-json.md); github "
    "(workflow commands that annotate the files in a pull request).",
)
def validate(directory: Path, fmt: str) -> int:
    """Check the schema files in DIR and report every problem at once.

    Exit 1 when there is any problem, in every format.
    """
    from crmform.engine.config.validation import validate as check
    from crmform.views import validate as view

    result = check(directory, runtime().env)
    if fmt == "json":
        import json

        click.echo(json.dumps(view.json_document(result), indent=2))
    elif fmt == "github":
        for line in view.github(result):
            click.echo(line)
        if not result.valid:
            count = len(result.problems)
            err(f"Error: {count} problem{'s' if count != 1 else ''} in the schema files.")
    elif result.valid:
        for warning in result.warnings:
            err(f"Warning: {warning}")
    else:
        raise ConfigError(result.problems)
    if not result.valid:
        return EXIT_ERROR
    if fmt != "json":
        click.echo(view.success_text(result))
    return EXIT_OK


@click.command()
@click.argument(
    "kind",
    type=click.Choice(
        ["files", "plan", "apply-result", "check-records", "validate-result", "config"]
    ),
    default="files",
    required=False,
)
def schema(kind: str) -> int:
    """Print the JSON Schema of schema files, plans or apply results.

    KIND: `files` (default) for the schema files, for editors and linters; `plan` for the
    JSON plan; `apply-result` for the JSON result of `apply --format json`; `check-records`
    for the report of `check-records --format json`; `validate-result` for `validate --format
    json`; `config` for crmform.toml.
    """
    if kind == "config":
        from crmform.engine.config.project import schema_text as project_schema

        click.echo(project_schema(), nl=False)
    elif kind == "files":
        from crmform.engine.config.keys import schema_text

        click.echo(schema_text(), nl=False)
    else:
        from crmform.engine.formats.schemas import output_schema_text

        click.echo(output_schema_text(kind), nl=False)
    return EXIT_OK


@click.command()
@click.argument(
    "planfile_path", metavar="PLANFILE", type=click.Path(dir_okay=False, path_type=Path)
)
@format_option
@max_chars_option
@no_color_option
def show(planfile_path: Path, fmt: str, max_chars: int, no_color: bool) -> int:
    """Render a plan saved with `crmform plan --out`."""
    from crmform.engine.formats import planfile

    saved = planfile.loads(read_text(planfile_path), str(planfile_path))
    show_plan(saved, fmt, runtime().color(no_color), max_chars)
    return EXIT_OK
