"""The shared end-to-end harness: a CLI wired to an in-process Gong emulator, and a CLI run
on a pretend terminal.

Requests go through the real GongClient (auth, pacing, retries, error mapping) over
EmulatorTransport (httpx.WSGITransport) into the emulator, which enforces Gong's documented rules.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path

from click.testing import CliRunner
from conftest import FIXED_NOW, Cli, CliResult

from crmform.cli import run
from crmform.providers.gong.client import GongClient, GongSettings
from crmform.providers.gong.emulator import GongEmulator, RecordedRequest
from crmform.providers.gong.emulator_transport import EmulatorTransport
from crmform.runtime import ProviderOptions, Runtime

ID = 6286478263646
FieldValue = str | bool | list[str]  # a value of a field in a schema file
ENV = {"GONG_ACCESS_KEY": "key-1", "GONG_ACCESS_KEY_SECRET": "s3cret-value-xyz"}


def field(name: str, kind: str = "STRING", **extra: FieldValue) -> dict[str, FieldValue]:
    """A field as written in a schema file; the label is the title-cased name."""
    return {"uniqueName": name, "label": name.title(), "type": kind, **extra}


class Gong:
    """An emulator, a schema directory and a CLI whose provider talks to the emulator.

    `wsgi_app` wraps the emulator when a test needs to interfere with the traffic.
    """

    def __init__(
        self, tmp_path: Path, wsgi_app: object | None = None, **emulator_options: object
    ) -> None:
        options: dict[str, object] = {"rng": 7, **emulator_options}
        self.emulator = GongEmulator(
            access_key="key-1",
            secret="s3cret-value-xyz",
            **options,  # type: ignore[arg-type]
        )
        self.app = wsgi_app or self.emulator
        self.dir = tmp_path / "schema"
        self.dir.mkdir()
        self.options: list[ProviderOptions] = []
        self.cli = Cli(env=dict(ENV), provider_factory=self._provider)

    def _provider(self, env: Mapping[str, str], options: ProviderOptions) -> GongClient:
        self.options.append(options)
        return self.client(env)

    def client(self, env: Mapping[str, str] = ENV) -> GongClient:
        """A client of this emulator, e.g. to act as another tool changing Gong."""
        settings = GongSettings.from_env(
            env, base_url="http://localhost"
        )  # loopback: plain http allowed
        return GongClient(
            settings,
            # Drops and late answers (fault rules) reach the client as on a network.
            transport=EmulatorTransport(self.app),  # type: ignore[arg-type]
            sleep=lambda s: None,
        )

    def write(self, object_type: str, *fields: str | Mapping[str, object]) -> None:
        """Write the object's schema file; a bare name stands for a STRING field."""
        items = [field(f) if isinstance(f, str) else f for f in fields]
        doc = {"integrationId": ID, "objectType": object_type, "fields": items}
        (self.dir / f"{object_type.lower()}.json").write_text(json.dumps(doc))

    def apply(self, *flags: str, input: str | None = None) -> CliResult:
        return self.cli("apply", self.dir, *flags, input=input)

    def requests(self, since: int = 0) -> list[tuple[str, str | None]]:
        return [(r.method, r.query.get("objectType")) for r in self.emulator.requests[since:]]

    def posts(self) -> list[RecordedRequest]:
        return [r for r in self.emulator.requests if r.method == "POST"]

    def last_upload(self) -> list[dict[str, object]]:
        """The field list of the newest upload, as Gong received it."""
        body = self.posts()[-1].body
        assert isinstance(body, list), body
        return body

    def remote(self, object_type: str = "ACCOUNT") -> dict[str, str]:
        """Gong's live fields of one object type: uniqueName -> type, in creation order."""
        return {f["uniqueName"]: f["type"] for f in self.emulator.schema(ID, object_type)}


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
