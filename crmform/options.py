"""The click options several commands share, spelled once."""

from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path

import click
from click.core import ParameterSource

from crmform.engine.render.limits import DEFAULT_MAX_CHARS, MIN_MAX_CHARS
from crmform.runtime import DEFAULT_STATE, ProviderOptions

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
    click.option(
        "--allow-insecure-http",
        is_flag=True,
        default=None,
        help="Allow a plain http:// --base-url to a host other than this machine: the "
        "credentials then cross the network unencrypted (env GONG_ALLOW_INSECURE_HTTP=1).",
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
_GONG_NAMES = ProviderOptions._fields


def gong_options(command: Callable[..., int]) -> Callable[..., int]:
    """Add the Gong connection flags; the command receives them as `provider_options`."""

    @functools.wraps(command)
    def wrapper(*args: object, **kwargs: object) -> int:
        values = {name: kwargs.pop(name) for name in _GONG_NAMES}
        return command(*args, provider_options=ProviderOptions(**values), **kwargs)  # type: ignore[arg-type]

    for option in reversed(_GONG_FLAGS):
        wrapper = option(wrapper)
    return wrapper


def _remember(ctx: click.Context, param: click.Parameter, value: object) -> object:
    ctx.meta[f"crmform.{param.name}"] = value
    return value


def schema_dir_default(ctx: click.Context, param: click.Parameter, value: Path) -> Path:
    """crmform.toml's schema_dir when DIR is not given."""
    from crmform.runtime import project

    if ctx.get_parameter_source(param.name or "") is not ParameterSource.DEFAULT:
        return value
    chosen = project()
    return chosen.schema_dir if chosen is not None and chosen.schema_dir else value


def _lock_timeout(ctx: click.Context, param: click.Parameter, value: float) -> float:
    """crmform.toml's lock_timeout when neither the flag nor its variable is given."""
    from crmform.runtime import project

    if ctx.get_parameter_source(param.name or "") is not ParameterSource.DEFAULT:
        return value
    chosen = project()
    return chosen.lock_timeout if chosen is not None and chosen.lock_timeout is not None else value


dir_argument = click.argument(
    "directory",
    metavar="[DIR]",
    default=".",
    type=click.Path(file_okay=False, path_type=Path),
    callback=schema_dir_default,
)
_config_option = click.option(
    "--config",
    "config_path",
    envvar="CRMFORM_CONFIG",
    show_envvar=True,
    is_eager=True,
    expose_value=False,
    callback=_remember,
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    help="The project file (default: crmform.toml here or in the nearest parent folder).",
)
_env_option = click.option(
    "--env",
    "env_name",
    envvar="CRMFORM_ENV",
    show_envvar=True,
    is_eager=True,
    expose_value=False,
    callback=_remember,
    help="The environment of crmform.toml to target ([env.NAME]: its state, Gong URL and "
    "integration id).",
)
_state_option = click.option(
    "--state",
    "state_path",
    default=DEFAULT_STATE,
    envvar="CRMFORM_STATE",
    show_default=True,
    show_envvar=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="State file recording what was applied (given: the local file, whatever "
    "crmform.toml configures).",
)


def state_option(command: Callable[..., int]) -> Callable[..., int]:
    """--state, --config and --env: where the state is."""
    return project_options(_state_option(command))


def project_options(command: Callable[..., int]) -> Callable[..., int]:
    """--config and --env, for commands that use crmform.toml's backend but no state file."""
    return _config_option(_env_option(command))


no_color_option = click.option(
    "--no-color",
    is_flag=True,
    envvar="CRMFORM_NO_COLOR",
    show_envvar=True,
    help="No ANSI colour (also when NO_COLOR is set or output is not a terminal).",
)
lock_timeout_option = click.option(
    "--lock-timeout",
    callback=_lock_timeout,
    default=0.0,
    envvar="CRMFORM_LOCK_TIMEOUT",
    show_default=True,
    show_envvar=True,
    type=click.FloatRange(min=0),
    help="Seconds to wait for the state lock (0: fail at once, naming the holder; "
    "crmform.toml's lock_timeout when not given).",
)


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
