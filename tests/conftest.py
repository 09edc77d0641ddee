"""Shared fixtures: run the CLI in-process with an injected runtime, and a Gong emulator."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from click.testing import CliRunner

from crmform.cli import run
from crmform.runtime import ProviderFactory, Runtime

if TYPE_CHECKING:
    # emulated imports this module, so the fixture imports it lazily at run time.
    from emulated import Gong

# The real servers the state backends are tested against (PostgreSQL, S3).
pytest_plugins = ["backend_servers"]

FIXED_NOW = datetime(2026, 11, 28, 12, 0, 0, tzinfo=UTC)


@dataclass(frozen=True)
class CliResult:
    code: int
    stdout: str
    stderr: str


@dataclass
class Cli:
    """Runs `crmform` in-process; `env`, `interactive` and the provider are the test's."""

    env: dict[str, str] = field(default_factory=dict)
    interactive: bool = False
    provider_factory: ProviderFactory | None = None

    def __call__(self, *args: str | int | Path, input: str | None = None) -> CliResult:
        runtime = Runtime(
            env=self.env,
            interactive=self.interactive,
            tty=False,
            now=lambda: FIXED_NOW,
            **({"provider_factory": self.provider_factory} if self.provider_factory else {}),
        )
        runner = CliRunner()
        with runner.isolation(input=input) as (out, err, _):
            code = run([str(a) for a in args], runtime)
        return CliResult(code, out.getvalue().decode(), err.getvalue().decode())


@pytest.fixture
def cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Cli:
    """A CLI whose working directory is a fresh temporary directory."""
    monkeypatch.chdir(tmp_path)
    return Cli()


@pytest.fixture
def gong(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Gong:
    """An in-process Gong emulator and a CLI wired to it (see emulated.Gong), run from a
    fresh working directory."""
    from emulated import Gong

    monkeypatch.chdir(tmp_path)
    return Gong(tmp_path)


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """click reads option variables from os.environ, not from the injected Runtime: a
    developer's CRMFORM_* or GONG_* settings must not change what the tests see."""
    import os

    for name in list(os.environ):
        if name.startswith(("CRMFORM_", "GONG_")) or name == "NO_COLOR":
            monkeypatch.delenv(name)
