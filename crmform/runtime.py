"""What the CLI takes from the outside world: environment, clock, terminal, and the factories
of the provider and the state backend. Tests inject their own Runtime (CliRunner is never a
TTY, so tests pass `interactive=True` to exercise prompts)."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:
    from crmform.engine.ports import Provider, WritePreviewer
    from crmform.state.local import LocalState

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
    allow_insecure_http: bool | None = None


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


@dataclass(frozen=True)
class Runtime:
    """The outside world of one CLI run."""

    env: Mapping[str, str] = field(default_factory=lambda: dict(os.environ))
    interactive: bool = field(default_factory=lambda: sys.stdin.isatty() and sys.stdout.isatty())
    tty: bool = field(default_factory=lambda: sys.stdout.isatty())
    now: Callable[[], datetime] = _now
    provider_factory: ProviderFactory = _gong_provider

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


def runtime() -> Runtime:
    obj = click.get_current_context().obj
    return obj if isinstance(obj, Runtime) else Runtime()


def operation() -> str:
    """The command being run (e.g. `crmform apply`), recorded in the state lock so that a
    user who finds the state locked sees what holds it."""
    return click.get_current_context().command_path


def local_backend(state_path: Path) -> LocalState:
    from crmform.state.local import LocalState

    return LocalState(state_path)


def excluded(state_path: Path, *others: Path | None) -> tuple[Path, ...]:
    """Files beside the schema files that are crmform's own, never schema files."""
    derived = (state_path, Path(f"{state_path}.backup"), Path(f"{state_path}.lock"))
    return derived + tuple(p for p in others if p is not None)
