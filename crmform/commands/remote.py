"""`crmform refresh` and `crmform import`: read Gong's schema into the state (GETs only)."""

from __future__ import annotations

from pathlib import Path

import click

from crmform.engine.model import INTEGRATION_ID_MAX, ObjectType
from crmform.engine.operations import remote as remote_op
from crmform.engine.operations.files import load_files
from crmform.exits import EXIT_OK
from crmform.options import gong_options, lock_timeout_option, no_color_option, state_option
from crmform.runtime import (
    DEFAULT_STATE,
    ProviderOptions,
    environment_name,
    excluded,
    operation,
    runtime,
    state_backend,
)
from crmform.views import waiting_for_lock, warnings
from crmform.views.remote import ConfigFiles, show_imported, show_refreshed


@click.command()
@click.argument(
    "directory",
    metavar="[DIR]",
    required=False,
    type=click.Path(file_okay=False, path_type=Path),
)
@state_option
@lock_timeout_option
@no_color_option
@gong_options
def refresh(
    directory: Path | None,
    state_path: Path,
    lock_timeout: float,
    no_color: bool,
    provider_options: ProviderOptions,
) -> int:
    """Record in the state what changed in Gong outside crmform.

    Reads Gong's schema of every object type the state records, and of those declared in the
    schema files of DIR when given (DIR must then be valid); shows fields added, deleted or
    changed in Gong, and writes the state once. Only reads are sent to Gong; the schema files
    are not changed. Run `crmform plan DIR` afterwards to see what apply would do now.
    """
    rt = runtime()
    desired = None
    if directory is not None:
        loaded = load_files(directory, rt.env, excluded(state_path))
        warnings(loaded.warnings)
        desired = loaded.desired
    provider = rt.provider(provider_options)
    done = remote_op.refresh(
        desired,
        state_backend(state_path),
        provider,
        operation=operation(),
        lock_timeout=lock_timeout,
        waiting=waiting_for_lock,
        environment=environment_name(),
    )
    show_refreshed(done, color=rt.color(no_color))
    return EXIT_OK


@click.command("import")
@click.option(
    "--integration-id",
    required=True,
    type=click.IntRange(1, INTEGRATION_ID_MAX),
    envvar="CRMFORM_IMPORT_INTEGRATION_ID",
    show_envvar=True,
    help="The id of your Gong CRM integration.",
)
@click.option(
    "--object-type",
    type=click.Choice([t.value for t in ObjectType]),
    envvar="CRMFORM_IMPORT_OBJECT_TYPE",
    show_envvar=True,
    help="Import only this object type (default: all four).",
)
@click.option(
    "--write-config",
    "write_config",
    type=click.Path(file_okay=False, path_type=Path),
    envvar="CRMFORM_IMPORT_WRITE_CONFIG",
    show_envvar=True,
    help="Also write one schema file per object type into this directory.",
)
@click.option(
    "--force",
    is_flag=True,
    envvar="CRMFORM_IMPORT_FORCE",
    show_envvar=True,
    help="Replace object types already in the state, and overwrite existing schema files.",
)
@state_option
@lock_timeout_option
@gong_options
def import_(
    integration_id: int,
    object_type: str | None,
    write_config: Path | None,
    force: bool,
    state_path: Path,
    lock_timeout: float,
    provider_options: ProviderOptions,
) -> int:
    """Adopt Gong's current schema into the state (and optionally into schema files).

    One read per object type; object types without custom fields are skipped. Object types
    the state already records are refused unless --force (which keeps their protect flags).
    With --write-config DIR, `crmform plan DIR` afterwards reports no changes, except where
    Gong did not return a picklist's values or a reference's target: the file then says so
    in a comment, and validation asks you to fill them in.
    """
    rt = runtime()
    provider = rt.provider(provider_options)
    files = None
    if write_config is not None:
        hint = "" if state_path == Path(DEFAULT_STATE) else f" --state {state_path}"
        files = ConfigFiles(write_config, force, rt.env, hint)
    done = remote_op.import_(
        integration_id,
        ObjectType(object_type) if object_type is not None else None,
        state_backend(state_path),
        provider,
        force=force,
        files=files.check if files is not None else None,
        operation=operation(),
        lock_timeout=lock_timeout,
        waiting=waiting_for_lock,
        environment=environment_name(),
    )
    show_imported(done, files)
    return EXIT_OK
