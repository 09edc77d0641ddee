"""validate, schema, plan and show: the offline commands."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from crmform.console import (
    EXIT_CHANGES,
    EXIT_ERROR,
    EXIT_OK,
    ProviderOptions,
    dir_argument,
    err,
    excluded,
    format_option,
    gong_options,
    load_desired,
    local_backend,
    max_chars_option,
    no_color_option,
    read_text,
    render,
    runtime,
    state_option,
    write_text,
)
from crmform.engine.errors import ConfigError

if TYPE_CHECKING:
    pass


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
    from crmform.engine.validation import validate as check
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
    type=click.Choice(["files", "plan", "apply-result", "validate-result"]),
    default="files",
    required=False,
)
def schema(kind: str) -> int:
    """Print the JSON Schema of schema files, plans or apply results.

    KIND: `files` (default) for the schema files, for editors and linters; `plan` for the
    JSON plan; `apply-result` for the JSON result of `apply --format json`;
    `validate-result` for `validate --format json`.
    """
    if kind == "files":
        from crmform.engine import config

        click.echo(config.schema_text(), nl=False)
    else:
        from crmform.engine.output_schema import output_schema_text

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
    from crmform.engine.render import plan_to_json

    state = local_backend(state_path).read()
    if refresh:
        from crmform.commands.remote import refreshed_plan

        exclude = excluded(state_path, out)
        the_plan = refreshed_plan(directory, state, exclude, provider_options)
    else:
        from crmform.engine import planner

        the_plan = planner.plan(load_desired(directory, excluded(state_path, out)), state)
    color = runtime().color(no_color)
    click.echo(render(plan_to_json(the_plan), fmt, color, max_chars), nl=False)
    if out is not None:
        from crmform.engine import planfile

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
    from crmform.engine import planfile
    from crmform.engine.render import plan_to_json

    saved = planfile.loads(read_text(planfile_path), str(planfile_path))
    color = runtime().color(no_color)
    click.echo(render(plan_to_json(saved), fmt, color, max_chars), nl=False)
    return EXIT_OK
