"""Test helpers for the automation tests: a CLI wired to an in-process Gong emulator, a CLI
run on a pretend terminal, and a clean CRMFORM_* environment.

click reads option environment variables from os.environ (not from the injected Runtime),
so tests set them with monkeypatch.setenv; `without_crmform_env` first removes any that the
developer's shell exported, so those cannot change a test's outcome.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner
from conftest import FIXED_NOW, Cli, CliResult

from crmform.cli import run
from crmform.console import ProviderOptions, Runtime
from crmform.providers.gong.client import GongClient, GongSettings
from crmform.providers.gong.emulator import GongEmulator

ID = 6286478263646
ENV = {"GONG_ACCESS_KEY": "key-1", "GONG_ACCESS_KEY_SECRET": "s3cret-value-xyz"}


def without_crmform_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.startswith("CRMFORM_") or name == "NO_COLOR":
            monkeypatch.delenv(name)


class Gong:
    """An emulator, a schema directory and a CLI whose provider talks to the emulator."""

    def __init__(self, tmp_path: Path, wsgi_app: object | None = None) -> None:
        self.emulator = GongEmulator(access_key="key-1", secret="s3cret-value-xyz", rng=7)
        self.app = wsgi_app or self.emulator
        self.dir = tmp_path / "schema"
        self.dir.mkdir()
        self.options: list[ProviderOptions] = []
        self.cli = Cli(env=dict(ENV), provider_factory=self._provider)

    def _provider(self, env: Mapping[str, str], options: ProviderOptions) -> GongClient:
        self.options.append(options)
        settings = GongSettings.from_env(env, base_url="http://gong.test")
        return GongClient(
            settings,
            transport=httpx.WSGITransport(app=self.app),  # type: ignore[arg-type]
            sleep=lambda s: None,
        )

    def write(self, object_type: str, *names: str) -> None:
        fields = [{"uniqueName": n, "label": n.title(), "type": "STRING"} for n in names]
        doc = {"integrationId": ID, "objectType": object_type, "fields": fields}
        (self.dir / f"{object_type.lower()}.json").write_text(json.dumps(doc))

    def posts(self) -> list[object]:
        return [r for r in self.emulator.requests if r.method == "POST"]


def run_on(runtime: Runtime, *args: str | Path, input: str | None = None) -> CliResult:
    """Run the CLI with this runtime (e.g. tty=True, which CliRunner never is).

    click.echo would strip colour codes from a stream that is not a terminal; color=True
    keeps them, so a test sees exactly what crmform chose to print.
    """
    runner = CliRunner()
    with runner.isolation(input=input, color=True) as (out, err, _):
        code = run([str(a) for a in args], runtime)
    return CliResult(code, out.getvalue().decode(), err.getvalue().decode())


def terminal(env: Mapping[str, str] | None = None, *, tty: bool = True) -> Runtime:
    return Runtime(env=dict(env or {}), interactive=tty, tty=tty, now=lambda: FIXED_NOW)
