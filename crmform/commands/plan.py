"""plan: what apply would change, offline against the state (or --refresh, against Gong).

In a module of its own, apart from the other offline commands (core.py): a first `crmform
plan` builds only its own options, not those of validate, schema and show (issue 14)."""

from __future__ import annotations

from pathlib import Path

import click

from crmform.engine import words
from crmform.engine.errors import CrmformError
from crmform.engine.operations.files import load_files
from crmform.exits import EXIT_CHANGES, EXIT_OK
from crmform.options import (
    dir_argument,
    format_option,
    gong_options,
    max_chars_option,
    no_color_option,
    state_option,
)
from crmform.runtime import ProviderOptions, environment_name, excluded, runtime, state_backend
from crmform.views import err, warnings, write_text
from crmform.views.plan import show as show_plan


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
