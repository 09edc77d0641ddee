"""What the CLI takes from the outside world: environment, clock, terminal, and the factories
of the provider and the state backend. Tests inject their own Runtime (CliRunner is never a
TTY, so tests pass `interactive=True` to exercise prompts)."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import click

from crmform.engine.values import Value, _set, replace

if TYPE_CHECKING:
    from crmform.engine.config.project import Project
    from crmform.engine.ports import Provider, StateBackend, WritePreviewer
    from crmform.state.local import LocalState

DEFAULT_STATE = "crmform.state.json"


class ProviderOptions(Value):
    """Flags that override the provider's environment settings (None: not given). Its repr
    leaves the credentials out."""

    __slots__ = (
        "access_key",
        "access_key_secret",
        "allow_insecure_http",
        "base_url",
        "bearer_token",
        "max_attempts",
        "max_retry_seconds",
        "rate_limit",
        "timeout",
    )
    _repr_fields = (
        "base_url",
        "rate_limit",
        "max_attempts",
        "max_retry_seconds",
        "timeout",
        "allow_insecure_http",
    )
    base_url: str | None
    access_key: str | None
    access_key_secret: str | None
    bearer_token: str | None
    rate_limit: float | None
    max_attempts: int | None
    max_retry_seconds: float | None
    timeout: float | None
    allow_insecure_http: bool | None

    def __init__(
        self,
        base_url: str | None = None,
        access_key: str | None = None,
        access_key_secret: str | None = None,
        bearer_token: str | None = None,
        rate_limit: float | None = None,
        max_attempts: int | None = None,
        max_retry_seconds: float | None = None,
        timeout: float | None = None,
        allow_insecure_http: bool | None = None,
    ) -> None:
        _set(self, "base_url", base_url)
        _set(self, "access_key", access_key)
        _set(self, "access_key_secret", access_key_secret)
        _set(self, "bearer_token", bearer_token)
        _set(self, "rate_limit", rate_limit)
        _set(self, "max_attempts", max_attempts)
        _set(self, "max_retry_seconds", max_retry_seconds)
        _set(self, "timeout", timeout)
        _set(self, "allow_insecure_http", allow_insecure_http)


ProviderFactory = Callable[[Mapping[str, str], ProviderOptions], "Provider"]


def _gong_provider(env: Mapping[str, str], options: ProviderOptions) -> Provider:
    from crmform.providers.gong.client import GongClient, GongSettings
    from crmform.views import err

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
        allow_insecure_http=options.allow_insecure_http,
    )
    return GongClient(settings, on_retry=lambda notice: err(f"  {notice}"))


def _gong_previewer(env: Mapping[str, str], options: ProviderOptions) -> WritePreviewer:
    # A dry run reads no credentials: the preview needs only the base URL.
    from crmform.providers.gong.preview import GongPreview

    return GongPreview.from_env(env, base_url=options.base_url)


def _now() -> datetime:
    return datetime.now(UTC)


class Runtime(Value):
    """The outside world of one CLI run. What is not given is the process's own: its
    environment, whether stdin and stdout are a terminal (interactive) and stdout is (tty)."""

    __slots__ = ("env", "interactive", "now", "provider_factory", "tty")
    env: Mapping[str, str]
    interactive: bool
    tty: bool
    now: Callable[[], datetime]
    provider_factory: ProviderFactory

    def __init__(
        self,
        env: Mapping[str, str] | None = None,
        interactive: bool | None = None,
        tty: bool | None = None,
        now: Callable[[], datetime] = _now,
        provider_factory: ProviderFactory = _gong_provider,
    ) -> None:
        _set(self, "env", dict(os.environ) if env is None else env)
        if interactive is None:
            interactive = sys.stdin.isatty() and sys.stdout.isatty()
        _set(self, "interactive", interactive)
        _set(self, "tty", sys.stdout.isatty() if tty is None else tty)
        _set(self, "now", now)
        _set(self, "provider_factory", provider_factory)

    def color(self, no_color: bool) -> bool:
        """Colour on a terminal, unless --no-color or a non-empty NO_COLOR (no-color.org);
        a non-empty FORCE_COLOR turns it on elsewhere too (CI logs that render ANSI)."""
        if no_color or self.env.get("NO_COLOR"):
            return False
        return self.tty or bool(self.env.get("FORCE_COLOR"))

    def provider(self, options: ProviderOptions) -> Provider:
        return self.provider_factory(self.env, options)

    def previewer(self, options: ProviderOptions) -> WritePreviewer:
        """What shows a dry run's requests (no credentials needed)."""
        return _gong_previewer(self.env, options)


_RUNTIME = "crmform.runtime"


def _base_runtime() -> Runtime:
    ctx = click.get_current_context()
    if isinstance(ctx.obj, Runtime):
        return ctx.obj
    # The process's own, read once a run (copying the environment is most of its cost).
    if _RUNTIME not in ctx.meta:
        ctx.meta[_RUNTIME] = Runtime()
    return ctx.meta[_RUNTIME]  # type: ignore[no-any-return]


def runtime() -> Runtime:
    """The run's outside world; with an environment selected (--env), its Gong base URL and
    integration id variable are what GONG_BASE_URL and GONG_INTEGRATION_ID hold."""
    rt = _base_runtime()
    chosen = project()
    if chosen is None or chosen.environment is None:
        return rt
    target, env = chosen.environment, dict(rt.env)
    if target.gong_base_url:
        env["GONG_BASE_URL"] = target.gong_base_url
    if target.integration_id_var:
        if target.integration_id_var not in env:
            from crmform.engine.config.project import ProjectError

            raise ProjectError(
                f"{chosen.path}: environment {target.name} takes its integration id from "
                f"{target.integration_id_var}, which is not set."
            )
        env["GONG_INTEGRATION_ID"] = env[target.integration_id_var]
    return replace(rt, env=env)


_PROJECT = "crmform.project"


def project() -> Project | None:
    """crmform.toml as --config / CRMFORM_CONFIG name it, else the one in the working
    directory or its nearest parent; None when there is none (today's behaviour)."""
    # project.py (its settings types, tomllib) only when there is a file to read or a
    # mistake to report: most runs have no crmform.toml.
    from crmform.engine.config.project_file import find_project

    ctx = click.get_current_context()
    if _PROJECT in ctx.meta:
        return ctx.meta[_PROJECT]  # type: ignore[no-any-return]
    env = _base_runtime().env
    given = ctx.meta.get("crmform.config_path") or env.get("CRMFORM_CONFIG")
    env_name = ctx.meta.get("crmform.env_name") or env.get("CRMFORM_ENV") or ""
    path = Path(given) if given else find_project(Path.cwd())
    loaded = None
    if path is None:
        if env_name:
            from crmform.engine.config.project import ProjectError

            raise ProjectError(
                f"--env {env_name} was given, but there is no crmform.toml here or in a "
                "parent folder (or --config / CRMFORM_CONFIG) to define it."
            )
    else:
        from crmform.engine.config.project import ProjectError, load_project

        try:
            text = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise ProjectError(f"Cannot read {path}: {exc.strerror or exc}.") from exc
        loaded = load_project(text, path, env, env_name)
    ctx.meta[_PROJECT] = loaded
    return loaded


def environment_name() -> str:
    """The crmform.toml environment selected (--env / CRMFORM_ENV), "" when none: plans
    and apply results name it, and a saved plan is applied only under it."""
    chosen = project()
    return chosen.environment.name if chosen is not None and chosen.environment else ""


def operation() -> str:
    """The command being run (e.g. `crmform apply`), recorded in the state lock so that a
    user who finds the state locked sees what holds it."""
    return click.get_current_context().command_path


def local_backend(state_path: Path) -> LocalState:
    from crmform.state.local import LocalState

    return LocalState(state_path)


def state_backend(state_path: Path) -> StateBackend:
    """The backend crmform.toml configures; the local file when there is no config, or when
    --state / CRMFORM_STATE names one (which always wins)."""
    from click.core import ParameterSource

    ctx = click.get_current_context()
    source = ctx.get_parameter_source("state_path")
    chosen = project() if source in (None, ParameterSource.DEFAULT) else None
    if chosen is None:
        return local_backend(state_path)
    from crmform.state.factory import make_backend

    backend = make_backend(chosen.backend.type.value, dict(chosen.backend.keys), chosen.path.parent)
    close = getattr(backend, "close", None)  # connections and HTTP clients, at the command's end
    if callable(close):
        ctx.call_on_close(close)
    if chosen.environment is not None:
        from crmform.engine.words import environment
        from crmform.views import err

        err(f"{environment(chosen.environment.name)} (state {backend.location})")
    return backend


def excluded(state_path: Path, *others: Path | None) -> tuple[Path, ...]:
    """Files beside the schema files that are crmform's own, never schema files."""
    derived = (state_path, Path(f"{state_path}.backup"), Path(f"{state_path}.lock"))
    return derived + tuple(p for p in others if p is not None)
