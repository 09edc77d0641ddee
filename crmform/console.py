"""What every command shares: the injectable runtime, common options, output helpers."""

from __future__ import annotations

import functools
import os
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, fields
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import click

from crmform.engine.errors import CrmformError
from crmform.engine.render.fit import DEFAULT_MAX_CHARS, MIN_MAX_CHARS

if TYPE_CHECKING:
    from crmform.engine.model import Desired, Plan
    from crmform.engine.ports import Provider
    from crmform.state.local import LocalState

EXIT_OK, EXIT_ERROR, EXIT_CHANGES = 0, 1, 2
DEFAULT_STATE = "crmform.state.json"


@dataclass(frozen=True)
class ProviderOptions:
    """Flags that override the provider's environment settings (None: not given)."""

    base_url: str | None = None
    access_key: str | None = field(default=None, repr=False)
    access_key_secret: str | None = field(default=None, repr=False)
    bearer_token: str | None = field(default=None, repr=False)
    rate_limit: float | None = None
    max_attempts: int | None = None
    max_retry_seconds: float | None = None
    timeout: float | None = None


ProviderFactory = Callable[[Mapping[str, str], ProviderOptions], "Provider"]


def _gong_provider(env: Mapping[str, str], options: ProviderOptions) -> Provider:
    from crmform.providers.gong.client import GongClient, GongSettings

    settings = GongSettings.from_env(
        env,
        base_url=options.base_url,
        access_key=options.access_key,
        access_key_secret=options.access_key_secret,
        bearer_token=options.bearer_token,
        rate_limit=options.rate_limit,
        max_attempts=options.max_attempts,
        max_retry_seconds=options.max_retry_seconds,
        timeout=options.timeout,
    )
    return GongClient(settings, on_retry=lambda notice: err(f"  {notice}"))


_SECRET_FLAG_NOTE = "Prefer the environment variable: command lines show in `ps` and shell history."
_GONG_FLAGS = (
    click.option(
        "--base-url",
        help="Your Gong API host, e.g. https://us-55616.api.gong.io (env GONG_BASE_URL; "
        "default https://api.gong.io).",
    ),
    click.option("--access-key", help="Gong access key (env GONG_ACCESS_KEY)."),
    click.option(
        "--access-key-secret",
        help=f"Gong access key secret (env GONG_ACCESS_KEY_SECRET). {_SECRET_FLAG_NOTE}",
    ),
    click.option(
        "--bearer-token",
        help=f"OAuth token with scope api:crm:schema (env GONG_BEARER_TOKEN). {_SECRET_FLAG_NOTE}",
    ),
    click.option(
        "--rate-limit",
        type=click.FloatRange(min=0.01),
        help="Requests per second to Gong, which allows about 3 (env GONG_RATE_LIMIT; default 3).",
    ),
    # Not read by the provider itself, so the CLI takes them from CRMFORM_* variables.
    click.option(
        "--max-attempts",
        type=click.IntRange(min=1),
        envvar="CRMFORM_MAX_ATTEMPTS",
        show_envvar=True,
        help="Tries per request on 429, 5xx and timeouts (default 5).",
    ),
    click.option(
        "--max-retry-seconds",
        type=click.FloatRange(min=0),
        envvar="CRMFORM_MAX_RETRY_SECONDS",
        show_envvar=True,
        help="Give up retrying a request after this long (default 120).",
    ),
    click.option(
        "--timeout",
        type=click.FloatRange(min=0.1),
        envvar="CRMFORM_TIMEOUT",
        show_envvar=True,
        help="Seconds per request (default 30).",
    ),
)
_GONG_NAMES = tuple(f.name for f in fields(ProviderOptions))


def gong_options(command: Callable[..., int]) -> Callable[..., int]:
    """Add the Gong connection flags; the command receives them as `provider_options`."""

    @functools.wraps(command)
    def wrapper(*args: object, **kwargs: object) -> int:
        values = {name: kwargs.pop(name) for name in _GONG_NAMES}
        return command(*args, provider_options=ProviderOptions(**values), **kwargs)  # type: ignore[arg-type]

    for option in reversed(_GONG_FLAGS):
        wrapper = option(wrapper)
    return wrapper


def _now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class Runtime:
    """What the CLI takes from the outside world, injectable for tests (CliRunner is never
    a TTY, so tests pass `interactive=True` to exercise prompts)."""

    env: Mapping[str, str] = field(default_factory=lambda: dict(os.environ))
    interactive: bool = field(default_factory=lambda: sys.stdin.isatty() and sys.stdout.isatty())
    tty: bool = field(default_factory=lambda: sys.stdout.isatty())
    now: Callable[[], datetime] = _now
    provider_factory: ProviderFactory = _gong_provider

    def color(self, no_color: bool) -> bool:
        return self.tty and not no_color and "NO_COLOR" not in self.env


def runtime() -> Runtime:
    obj = click.get_current_context().obj
    return obj if isinstance(obj, Runtime) else Runtime()


def operation() -> str:
    """The command being run (e.g. `crmform apply`), recorded in the state lock so that a
    user who finds the state locked sees what holds it."""
    return click.get_current_context().command_path


def err(message: str) -> None:
    click.echo(message, err=True)


# --- shared options -------------------------------------------------------------------------

dir_argument = click.argument(
    "directory", metavar="DIR", default=".", type=click.Path(file_okay=False, path_type=Path)
)
state_option = click.option(
    "--state",
    "state_path",
    default=DEFAULT_STATE,
    envvar="CRMFORM_STATE",
    show_default=True,
    show_envvar=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="State file recording what was applied.",
)
no_color_option = click.option(
    "--no-color",
    is_flag=True,
    envvar="CRMFORM_NO_COLOR",
    show_envvar=True,
    help="No ANSI colour (also when NO_COLOR is set or output is not a terminal).",
)
lock_timeout_option = click.option(
    "--lock-timeout",
    default=0.0,
    envvar="CRMFORM_LOCK_TIMEOUT",
    show_default=True,
    show_envvar=True,
    type=click.FloatRange(min=0),
    help="Seconds to wait for the state lock (0: fail at once, naming the holder).",
)


def local_backend(state_path: Path) -> LocalState:
    from crmform.state.local import LocalState

    return LocalState(state_path)


def excluded(state_path: Path, *others: Path | None) -> tuple[Path, ...]:
    derived = (state_path, Path(f"{state_path}.backup"), Path(f"{state_path}.lock"))
    return derived + tuple(p for p in others if p is not None)


def load_desired(directory: Path, exclude: Sequence[Path] = ()) -> Desired:
    """The schema files of `directory`, validated; their warnings go to stderr."""
    from crmform.engine.config import loader as config

    desired = config.load(directory, runtime().env, exclude)
    for warning in config.warnings(desired):
        err(f"Warning: {warning}")
    return desired


def render(plan: Plan, fmt: str, color: bool, max_chars: int | None = None) -> str:
    if fmt == "json":
        import json

        from crmform.engine.formats.plan_json import plan_to_json

        return json.dumps(plan_to_json(plan), indent=2) + "\n"
    if fmt == "markdown":
        from crmform.engine.render.markdown import render_markdown

        return render_markdown(plan, max_chars=max_chars or DEFAULT_MAX_CHARS) + "\n"
    from crmform.engine.render.text import render_text

    return render_text(plan, color=color) + "\n"


format_option = click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "json", "markdown"]),
    default="text",
    envvar="CRMFORM_FORMAT",
    show_default=True,
    show_envvar=True,
    help="Output format: text; json (versioned, see docs/plan-json.md); markdown (a "
    "pull-request comment, see --max-chars).",
)
max_chars_option = click.option(
    "--max-chars",
    type=click.IntRange(min=MIN_MAX_CHARS),
    default=DEFAULT_MAX_CHARS,
    envvar="CRMFORM_MAX_CHARS",
    show_default=True,
    show_envvar=True,
    help="With --format markdown: the most characters to print (GitHub comments allow "
    "65,536); past it the warning and summary stay whole and details are cut.",
)


def write_text(path: Path, text: str) -> None:
    """Write via a temporary file and rename, so a reader never sees half a file."""
    tmp = path.with_name(f".{path.name}.tmp{os.getpid()}")
    try:
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def read_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except OSError as error:
        raise CrmformError(f"Cannot read {path}: {error.strerror or error}.") from error
