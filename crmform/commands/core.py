"""validate, schema, plan and show: the offline commands."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import click

from crmform.console import (
    EXIT_CHANGES,
    EXIT_OK,
    dir_argument,
    err,
    excluded,
    format_option,
    local_backend,
    no_color_option,
    read_text,
    render,
    runtime,
    state_option,
    write_text,
)

if TYPE_CHECKING:
    from crmform.engine.model import Plan, State


@click.command()
@dir_argument
def validate(directory: Path) -> int:
    """Check the schema files in DIR and report every problem at once."""
    from crmform.engine import config

    desired = config.load(directory, runtime().env)
    for warning in config.warnings(desired):
        err(f"Warning: {warning}")
    fields = sum(len(o.fields) for o in desired.objects)
    click.echo(
        f"Success: {len(desired.objects)} object type(s) with {fields} field(s) in "
        f"{directory} are valid."
    )
    return EXIT_OK


@click.command()
def schema() -> int:
    """Print the JSON Schema of a schema file (for editors and linters)."""
    from crmform.engine import config

    click.echo(config.schema_text(), nl=False)
    return EXIT_OK


def _make_plan(directory: Path, state: State, exclude: Sequence[Path]) -> Plan:
    from crmform.engine import config, planner

    desired = config.load(directory, runtime().env, exclude)
    for warning in config.warnings(desired):
        err(f"Warning: {warning}")
    return planner.plan(desired, state)


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
@click.option(
    "--detailed-exitcode",
    is_flag=True,
    envvar="CRMFORM_DETAILED_EXITCODE",
    show_envvar=True,
    help="Exit 0 when there are no changes, 2 when there are, 1 on error.",
)
@no_color_option
def plan(
    directory: Path,
    state_path: Path,
    out: Path | None,
    fmt: str,
    detailed_exitcode: bool,
    no_color: bool,
) -> int:
    """Show what apply would change to make Gong match the files in DIR."""
    from crmform.engine import planfile
    from crmform.engine.render import plan_to_json

    state = local_backend(state_path).read()
    the_plan = _make_plan(directory, state, excluded(state_path, out))
    click.echo(render(plan_to_json(the_plan), fmt, runtime().color(no_color)), nl=False)
    if out is not None:
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
@no_color_option
def show(planfile_path: Path, fmt: str, no_color: bool) -> int:
    """Render a plan saved with `crmform plan --out`."""
    from crmform.engine import planfile
    from crmform.engine.render import plan_to_json

    saved = planfile.loads(read_text(planfile_path), str(planfile_path))
    click.echo(render(plan_to_json(saved), fmt, runtime().color(no_color)), nl=False)
    return EXIT_OK
