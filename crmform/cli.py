"""The `crmform` command line: parse, call the engine, render, pick the exit code.

This is the only place where errors become text and exit codes:
0 success (no changes with --detailed-exitcode), 1 any error, 2 changes present with
--detailed-exitcode. click's own usage errors would exit 2, which would read as "changes
present" to a script, so click runs with standalone_mode=False and everything maps to 1.

Heavy modules (httpx, jsonschema, deepdiff) are imported inside the commands that need them,
so `crmform --help` and `crmform plan` start fast.
"""

from __future__ import annotations

import os
import signal
import sys
from collections.abc import Sequence
from types import FrameType
from typing import NoReturn

import click

from crmform import __version__
from crmform.commands import apply, core, emulator, remote, state
from crmform.console import EXIT_ERROR, EXIT_OK, Runtime, Terminated, err
from crmform.engine.errors import CrmformError

# --- the group ------------------------------------------------------------------------------


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="crmform")
def cli() -> None:
    """Schema-as-code for Gong's CRM fields: validate, plan, apply.

    Keep the custom-field schema of your CRM objects in YAML or JSON files, review changes as
    plans, and apply them with uploads that always list every field, so no field or its data
    is ever dropped by accident.

    Exit codes: 0 success, 1 error, 2 changes present (only with --detailed-exitcode).
    Every flag can also be set with a CRMFORM_* environment variable, shown in each
    command's --help (see docs/automation.md).
    """


for command in (
    core.validate,
    core.plan,
    core.show,
    apply.apply,
    remote.refresh,
    remote.import_,
    state.state,
    state.force_unlock,
    core.schema,
    emulator.emulator,
):
    cli.add_command(command)


# --- entry points ---------------------------------------------------------------------------


def run(argv: Sequence[str] | None = None, runtime: Runtime | None = None) -> int:
    """Run the CLI and return its exit code; every failure becomes 1 with one clear line."""
    try:
        result = cli.main(args=argv, prog_name="crmform", standalone_mode=False, obj=runtime)
    except click.exceptions.Abort:
        err("Aborted. Nothing further was sent.")
        return EXIT_ERROR
    except click.ClickException as error:
        error.show()
        return EXIT_ERROR
    except CrmformError as error:
        err(f"Error: {error}")
        return EXIT_ERROR
    except (KeyboardInterrupt, Terminated):
        err("Interrupted. The state holds every upload that Gong accepted before this point.")
        return EXIT_ERROR
    except Exception as error:
        if os.environ.get("CRMFORM_DEBUG"):
            raise
        err(
            f"Error: unexpected {type(error).__name__}: {error}. "
            "Rerun with CRMFORM_DEBUG=1 to see the traceback, and please report it."
        )
        return EXIT_ERROR
    return result if isinstance(result, int) else EXIT_OK


def _on_sigterm(signum: int, frame: FrameType | None) -> NoReturn:
    raise Terminated


def main() -> NoReturn:
    signal.signal(signal.SIGTERM, _on_sigterm)
    sys.exit(run())
