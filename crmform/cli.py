"""The `crmform` command line: a lazy command group and the one error boundary.

This is the only place where errors become text and exit codes:
0 success (no changes with --detailed-exitcode), 1 any error, 2 changes present with
--detailed-exitcode. click's own usage errors would exit 2, which would read as "changes
present" to a script, so click runs with standalone_mode=False and everything maps to 1.

Heavy modules (httpx, jsonschema, deepdiff) are imported inside the commands that need them,
so `crmform --help` and `crmform plan` start fast.
"""

from __future__ import annotations

import gc
import importlib
import os
import re
import sys
from collections.abc import Sequence
from types import FrameType
from typing import TYPE_CHECKING, NoReturn

import click

from crmform import __version__
from crmform.exits import EXIT_ERROR, EXIT_OK, Terminated
from crmform.views import terminal_safe

if TYPE_CHECKING:
    import signal as _signal

    from crmform.runtime import Runtime
else:
    # signal's C core, which signal.signal() calls: `signal` itself builds an enum of every
    # signal at import (0.7 ms, a tenth of what `crmform plan` may add to its imports).
    import _signal

# `crmform --help` loads click and little else (tests/test_cli_lazy.py lists it): difflib is
# imported for a mistyped command only, crmform.engine.errors (and dataclasses with it)
# only when an error reaches run(), after the command that raised it loaded it.

# name -> (module:attribute, one-line help). Commands are imported only when they run, so
# `crmform --help` costs little more than importing click; tests/test_cli_lazy.py checks
# that each line here matches the command's own help.
COMMANDS: dict[str, tuple[str, str]] = {
    "validate": (
        "crmform.commands.core:validate",
        "Check the schema files in DIR and report every problem at once.",
    ),
    "fmt": (
        "crmform.commands.fmt:fmt",
        "Rewrite schema files in the one canonical layout, keeping their comments.",
    ),
    "plan": (
        "crmform.commands.plan:plan",
        "Show what apply would change to make Gong match the files in DIR.",
    ),
    "show": ("crmform.commands.core:show", "Render a plan saved with `crmform plan --out`."),
    "apply": (
        "crmform.commands.apply:apply",
        "Make Gong match the files in DIR, or carry out a plan saved with `plan --out`.",
    ),
    "refresh": (
        "crmform.commands.remote:refresh",
        "Record in the state what changed in Gong outside crmform.",
    ),
    "import": (
        "crmform.commands.remote:import_",
        "Adopt Gong's current schema into the state (and optionally into schema files).",
    ),
    "check-records": (
        "crmform.commands.check_records:check_records",
        "Check CRM record files (LDJSON) against the managed schema before uploading them.",
    ),
    "state": ("crmform.commands.state:state", "Inspect, pull and push the state."),
    "backend": (
        "crmform.commands.backend:backend",
        "Check that the configured state backend keeps its promises.",
    ),
    "force-unlock": (
        "crmform.commands.state:force_unlock",
        "Remove the state lock LOCK_ID left behind by a crashed or killed process.",
    ),
    "schema": (
        "crmform.commands.core:schema",
        "Print the JSON Schema of schema files, plans or apply results.",
    ),
    "emulator": (
        "crmform.commands.emulator:emulator",
        "Serve a local stand-in for Gong's CRM schema API (for trying crmform and for CI).",
    ),
}


def _columns() -> int:
    """The terminal's width as shutil.get_terminal_size() gives it: $COLUMNS when it is a
    positive integer, else the width of the terminal on stdout, else 80."""
    try:
        columns = int(os.environ["COLUMNS"])
    except (KeyError, ValueError):
        columns = 0
    if columns > 0:
        return columns
    try:
        return os.get_terminal_size(sys.__stdout__.fileno()).columns or 80  # type: ignore[union-attr]
    except (AttributeError, ValueError, OSError):
        return 80


class HelpContext(click.Context):
    """click's Context, except that the help's width is worked out without shutil: click
    imports shutil (and with it bz2, lzma and zlib) to ask for the terminal's width, about
    a quarter of what `crmform --help` may cost over `import click`. Same rule as click's
    HelpFormatter: the terminal's width capped at max_content_width, minus 2, at least 50;
    an explicit terminal_width, or the width click's test runner forces, still wins."""

    def make_formatter(self) -> click.HelpFormatter:
        if self.terminal_width is not None or click.formatting.FORCED_WIDTH is not None:
            return super().make_formatter()
        width = max(min(_columns(), self.max_content_width or 80) - 2, 50)
        return self.formatter_class(width=width, max_width=self.max_content_width)


class LazyGroup(click.Group):
    """A group that imports a command's module only when that command is used."""

    context_class = HelpContext

    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(COMMANDS)

    def resolve_command(
        self, ctx: click.Context, args: list[str]
    ) -> tuple[str | None, click.Command | None, list[str]]:
        name = args[0] if args else ""
        if name and name not in COMMANDS and not name.startswith("-"):
            import difflib

            close = difflib.get_close_matches(name, list(COMMANDS), n=1, cutoff=0.6)
            hint = f" Did you mean '{close[0]}'?" if close else ""
            raise click.UsageError(
                f"No such command '{terminal_safe(name)}'.{hint} See `crmform --help`.", ctx
            )
        return super().resolve_command(ctx, args)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in COMMANDS:
            return None
        module, _, attribute = COMMANDS[cmd_name][0].partition(":")
        command = getattr(importlib.import_module(module), attribute)
        assert isinstance(command, click.Command)
        return command

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        with formatter.section("Commands"):
            formatter.write_dl([(name, help_) for name, (_, help_) in COMMANDS.items()])


@click.group(
    cls=LazyGroup,
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
)
# The message is click's own default, given so that click does not look it up in gettext
# at every start (the option's help it looks up anyway).
@click.version_option(__version__, prog_name="crmform", message="%(prog)s, version %(version)s")
@click.option(
    "--log-level",
    type=click.Choice(["error", "warning", "info", "debug"], case_sensitive=False),
    default="warning",
    envvar="CRMFORM_LOG",
    show_envvar=True,
    help="How much crmform logs on stderr; debug: one line per request to Gong (method, "
    "path, status, time, requestId; never a header or a secret).",
)
def cli(log_level: str) -> None:
    """Schema-as-code for Gong's CRM fields: validate, plan, apply.

    Keep the custom-field schema of your CRM objects in YAML or JSON files, review changes as
    plans, and apply them with uploads that always list every field, so no field or its data
    is ever dropped by accident.

    Exit codes: 0 success, 1 error, 2 changes present (only with --detailed-exitcode).
    Every flag can also be set with a CRMFORM_* environment variable, shown in each
    command's --help (see docs/automation.md).
    """
    if log_level != "warning":
        import logging

        logging.basicConfig(level=log_level.upper(), format="%(levelname)s %(name)s: %(message)s")


def err(message: str) -> None:
    click.echo(message, err=True)


# --- entry points ---------------------------------------------------------------------------


def run(argv: Sequence[str] | None = None, runtime: Runtime | None = None) -> int:
    """Run the CLI and return its exit code; every failure becomes 1 with one clear line."""
    try:
        result = cli.main(args=argv, prog_name="crmform", standalone_mode=False, obj=runtime)
    except click.exceptions.Abort as error:
        # click turns Ctrl-C (and SIGTERM, a KeyboardInterrupt) into Abort, after ending the
        # current line; apply reports an interrupted run itself and never gets here.
        if isinstance(error.__cause__, KeyboardInterrupt):
            err("Interrupted; no upload was in flight.")
        else:
            err("Aborted. Nothing was sent.")
        return EXIT_ERROR
    except click.BadParameter as error:
        _plain_parameter_error(error)
        error.show()
        return EXIT_ERROR
    except click.ClickException as error:
        error.show()
        return EXIT_ERROR
    except KeyboardInterrupt:  # Ctrl-C or SIGTERM outside a command
        err("Interrupted; no upload was in flight.")
        return EXIT_ERROR
    except Exception as error:
        from crmform.engine.errors import CrmformError

        if isinstance(error, CrmformError):
            # Names and server messages may carry terminal escapes: shown escaped, lines kept.
            err("Error: " + "\n".join(terminal_safe(line) for line in str(error).split("\n")))
            return EXIT_ERROR
        if os.environ.get("CRMFORM_DEBUG"):
            raise
        err(
            f"Error: unexpected {type(error).__name__}: {error}. "
            "Rerun with CRMFORM_DEBUG=1 to see the traceback, and please report it."
        )
        return EXIT_ERROR
    return result if isinstance(result, int) else EXIT_OK


def _plain_parameter_error(error: click.BadParameter) -> None:
    """click's wording, made plain: the environment variable is named only when the bad
    value came from it, a number is asked for as a number, booleans list no empty value."""
    param, ctx = error.param, error.ctx
    if isinstance(param, click.Option) and ctx is not None and param.name is not None:
        source = ctx.get_parameter_source(param.name)
        if source is not click.core.ParameterSource.ENVIRONMENT:
            error.param_hint = " / ".join(f"'{o}'" for o in param.opts)
    message = error.message
    message = re.sub(r"is not a valid (integer|float) range\.", "is not a number.", message)
    message = message.replace("Recognized values: , ", "Recognized values: ")
    error.message = message  # type: ignore[misc]  # click marks it Final, yet reads it back


def _on_sigterm(signum: int, frame: FrameType | None) -> NoReturn:
    raise Terminated


def main() -> NoReturn:
    _signal.signal(_signal.SIGTERM, _on_sigterm)  # what signal.signal() calls
    # The cycle collector stays off for the whole run. Plans hold many small long-lived
    # objects that it would rescan over and over while files are parsed (measured: 50,000
    # YAML fields 5.3 s -> 3.4 s), and loading and planning make no reference cycles worth
    # collecting. Talking to Gong made them (httpx binds each response to its stream: the
    # GET answers, megabytes each, stayed until a collection); the Gong client now breaks
    # that cycle itself (providers/gong/client.py), and collect_from_now() sweeps whatever
    # else an upload leaves, once per upload.
    gc.disable()
    code = run()
    _exit_now(code)
    sys.exit(code)


def _exit_now(code: int) -> None:
    """End the process at once once the output is flushed, as mypy does: the interpreter's
    own teardown frees every object of the run one by one, ~20 ms of CPU after a 50,000
    field plan and ~40 ms at the end of an apply, for memory the kernel frees anyway
    (issue 14). Nothing is left to it: run() has closed every file, lock and connection
    by the time it returns, crmform registers no atexit hook, and logging's handler
    writes each record as it comes. Under a profiler or tracer (cProfile, coverage), which
    writes its results at that teardown, and when the flush fails (a closed pipe), the
    normal exit runs, and says what it always said."""
    if sys.getprofile() is not None or sys.gettrace() is not None:
        return
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except Exception:  # the normal exit below reports it, as it always did
        return
    os._exit(code)


def collect_from_now() -> None:
    """Called before Gong is read and before each upload: a sweep for reference cycles at a
    point where one is cheap. The first call freezes everything alive (files, state, plan:
    it lives to the end of the run) out of the collector's sight; every call then collects
    the two young generations, which hold only what was made since the last call, so that
    an upload's garbage (a state backend's HTTP exchanges, say) is freed before the next.
    The collector is never turned back on: its young collections cost 0.3 s of CPU in an
    apply of 40,000 fields, for garbage that is now freed without it (issue 14).
    A no-op unless main() turned the collector off (tests keep their own gc)."""
    global _frozen
    if gc.isenabled():
        return
    if not _frozen:
        gc.freeze()
        _frozen = True
    gc.collect(1)


_frozen = False
