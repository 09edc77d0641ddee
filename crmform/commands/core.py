"""validate, schema, plan and show: the offline commands."""

from __future__ import annotations

from pathlib import Path

import click

from crmform.engine import words
from crmform.engine.errors import ConfigError, CrmformError
from crmform.engine.operations.files import load_files
from crmform.exits import EXIT_CHANGES, EXIT_ERROR, EXIT_OK
from crmform.options import (
    dir_argument,
    format_option,
    gong_options,
    max_chars_option,
    no_color_option,
    state_option,
)
from crmform.runtime import ProviderOptions, environment_name, excluded, runtime, state_backend
from crmform.views import err, read_text, warnings, write_text
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
@dir_argument
@state_option
@click.option(
    "--out",
    "out",
    type=click.Path(dir_okay=False, path_type=Path),
    envvar="CRMFORM_OUT",
    show_envvar=True,
    help="Save the plan to this file, for `crmform apply FILE` later.",
)
@format_option
@max_chars_option
@click.option(
    "--detailed-exitcode",
    is_flag=True,
    envvar="CRMFORM_DETAILED_EXITCODE",
    show_envvar=True,
    help="Exit 0 when there are no changes, 2 when there are, 1 on error.",
)
@no_color_option
@click.option(
    "--refresh",
    is_flag=True,
    envvar="CRMFORM_REFRESH",
    show_envvar=True,
    help="Read Gong's schema first (needs credentials) and plan against it, showing what "
    "changed outside crmform. The state is not written.",
)
@gong_options
def plan(
    directory: Path,
    state_path: Path,
    out: Path | None,
    fmt: str,
    max_chars: int,
    detailed_exitcode: bool,
    no_color: bool,
    refresh: bool,
    provider_options: ProviderOptions,
) -> int:
    """Show what apply would change to make Gong match the files in DIR.

    Offline unless --refresh; the Gong connection options apply only with --refresh.
    """
    if out is not None and not out.parent.is_dir():
        raise CrmformError(
            f"Cannot save the plan to {out}: the folder {out.parent} does not exist. Create "
            "it, or choose another --out path; nothing was planned."
        )
    rt = runtime()
    loaded = load_files(directory, rt.env, excluded(state_path, out))
    warnings(loaded.warnings)
    provider = rt.provider(provider_options) if refresh else None
    backend = state_backend(state_path)
    from crmform.engine.operations.plan import plan as make_plan

    the_plan = make_plan(loaded.desired, backend, provider, environment=environment_name())
    if not the_plan.stored.lineage:
        err(f"Warning: {words.no_state(backend.location)}")
    if provider is None:
        for record in the_plan.stored.pending:
            err(f"Warning: {words.pending_warning(record.key, record.started)}")
    show_plan(the_plan, fmt, rt.color(no_color), max_chars)
    if out is not None:
        from crmform.engine.formats import planfile

        write_text(out, planfile.dumps(the_plan))
        err(f"Saved the plan to {out}. To apply exactly this plan, run: crmform apply {out}")
    if detailed_exitcode and not the_plan.is_empty:
        return EXIT_CHANGES
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
