"""`crmform backend check`."""

from __future__ import annotations

import uuid
from contextlib import suppress

import click

from crmform.engine.errors import CrmformError
from crmform.engine.ports import StateBackend
from crmform.exits import EXIT_OK
from crmform.options import project_options

EXIT_FAILED = 1


@click.group()
def backend() -> None:
    """Check that the configured state backend keeps its promises."""


@backend.command("check")
@click.option(
    "--writers",
    type=click.IntRange(2, 64),
    default=8,
    envvar="CRMFORM_CHECK_WRITERS",
    show_envvar=True,
    show_default=True,
    help="Concurrent compare-and-swap writers.",
)
@project_options
def check(writers: int) -> int:
    """Prove against the configured backend (crmform.toml) that N concurrent writers give
    exactly one winner, a held lock excludes a second holder, and a lock dies with its
    holder where the backend promises it. Uses a scratch state, removed after."""
    from crmform.runtime import project
    from crmform.state.check import CheckOutcome, run_checks
    from crmform.state.factory import make_backend, scratch_keys
    from crmform.views.backend import checked

    chosen = project()
    if chosen is None:
        raise CrmformError(
            "No crmform.toml here or in a parent folder (or --config / CRMFORM_CONFIG): "
            "there is no configured backend to check."
        )
    kind = chosen.backend.type.value
    keys = scratch_keys(kind, dict(chosen.backend.keys), f"-crmform-check-{uuid.uuid4().hex[:8]}")
    folder = chosen.path.parent
    handles: list[StateBackend] = []

    def make() -> StateBackend:
        handles.append(make_backend(kind, keys, folder))
        return handles[-1]

    try:
        results = run_checks(kind, keys, folder, make, writers)
    finally:
        with suppress(Exception):
            make().delete()  # the scratch state
        for handle in handles:
            close = getattr(handle, "close", None)
            if callable(close):
                with suppress(Exception):
                    close()
    configured = make_backend(kind, dict(chosen.backend.keys), folder)
    checked(results, configured.location)
    close = getattr(configured, "close", None)
    if callable(close):
        close()
    return EXIT_FAILED if any(r.outcome is CheckOutcome.FAILED for r in results) else EXIT_OK
