"""Exit codes, as documented in docs/automation.md: 0 ok, 1 any error, 2 changes present
(only with --detailed-exitcode). click's usage errors would exit 2; crmform maps them to 1.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from emulated import Gong

from crmform.exits import Terminated


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["plan", "--bogus"], "Error: No such option '--bogus'."),
        (["plan", "--format", "yaml"], "'yaml' is not one of 'text', 'json', 'markdown'."),
        (["apply", "--lock-timeout", "soon"], "Error: Invalid value for '--lock-timeout'"),
        (["show"], "Error: Missing argument 'PLANFILE'."),
        (["frobnicate"], "Error: No such command 'frobnicate'."),
        (["plan", "a", "b"], "Error: Got unexpected extra argument (b)"),
    ],
)
def test_usage_errors_exit_1_not_2(gong: Gong, args: list[str], message: str):
    result = gong.cli(*args)
    assert result.code == 1
    assert message in result.stderr
    assert result.stdout == ""


@pytest.mark.parametrize("args", [["--help"], ["plan", "--help"], ["state", "-h"], ["--version"]])
def test_help_and_version_exit_0(gong: Gong, args: list[str]):
    result = gong.cli(*args)
    assert result.code == 0
    assert result.stdout


def test_plan_exit_codes_with_and_without_detailed_exitcode(gong: Gong):
    gong.write("ACCOUNT", "a")
    assert gong.cli("plan", gong.dir).code == 0
    assert gong.cli("plan", gong.dir, "--detailed-exitcode").code == 2
    assert gong.cli("apply", gong.dir, "--auto-approve").code == 0
    assert gong.cli("plan", gong.dir).code == 0
    assert gong.cli("plan", gong.dir, "--detailed-exitcode").code == 0


def test_errors_beat_detailed_exitcode(gong: Gong):
    (gong.dir / "bad.yaml").write_text("objectType: account\n")
    result = gong.cli("plan", gong.dir, "--detailed-exitcode")
    assert result.code == 1
    assert "problems in the schema files" in result.stderr


def test_validate_exit_codes(gong: Gong):
    gong.write("ACCOUNT", "a")
    assert gong.cli("validate", gong.dir).code == 0
    (gong.dir / "bad.yaml").write_text("objectType: account\n")
    assert gong.cli("validate", gong.dir).code == 1


def test_apply_refusals_exit_1_and_send_nothing(gong: Gong):
    gong.write("ACCOUNT", "a", "b")
    not_a_terminal = gong.cli("apply", gong.dir)
    assert not_a_terminal.code == 1
    assert gong.cli("plan", gong.dir, "--out", "first.plan").code == 0
    assert gong.cli("apply", gong.dir, "--auto-approve").code == 0
    stale = gong.cli("apply", "first.plan", "--auto-approve")
    assert stale.code == 1
    assert "someone applied since" in stale.stderr
    gong.write("ACCOUNT", "a")
    assert gong.cli("apply", gong.dir, "--auto-approve").code == 1
    gong.cli.interactive = True
    assert gong.cli("apply", gong.dir, input="no\n").code == 1
    assert len(gong.posts()) == 1


def interrupting(gong_app, error: type[BaseException]):
    """The emulator, interrupted (Ctrl-C, SIGTERM) while it handles the first upload."""

    def app(environ, start_response):
        if environ["REQUEST_METHOD"] == "POST":
            raise error
        return gong_app(environ, start_response)

    return app


@pytest.mark.parametrize("error", [KeyboardInterrupt, Terminated])
def test_interrupted_apply_exits_1_and_releases_the_lock(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, error: type[BaseException]
):
    monkeypatch.chdir(tmp_path)
    gong = Gong(tmp_path)
    gong.app = interrupting(gong.emulator, error)
    gong.write("ACCOUNT", "a")
    result = gong.cli("apply", gong.dir, "--auto-approve")
    assert result.code == 1
    # The upload was in flight: Gong may have it, so the state records it as pending, and
    # the report is that of a failure, on lines of their own.
    assert "gong/6286478263646/ACCOUNT: OUTCOME UNKNOWN" in result.stderr
    assert "Gong may have applied it" in result.stderr
    assert "Apply interrupted at gong/6286478263646/ACCOUNT." in result.stderr
    assert not Path("crmform.state.json.lock").exists()
    stored = json.loads(Path("crmform.state.json").read_text())
    assert stored["objects"] == {}
    assert [p["address"] for p in stored["pending"]] == ["gong/6286478263646/ACCOUNT"]


def test_unexpected_failure_exits_1_with_a_hint(gong: Gong):
    def broken(env, options):
        raise RuntimeError("provider exploded")

    gong.write("ACCOUNT", "a")
    gong.cli.provider_factory = broken
    result = gong.cli("apply", gong.dir, "--auto-approve")
    assert result.code == 1
    assert "Error: unexpected RuntimeError: provider exploded. Rerun with CRMFORM_DEBUG=1" in (
        result.stderr
    )


def test_the_installed_entry_point_maps_codes_the_same(gong: Gong):
    gong.write("ACCOUNT", "a")

    def crmform(*args: str) -> int:
        return subprocess.run(
            [sys.executable, "-m", "crmform", *args], capture_output=True, timeout=60
        ).returncode

    assert crmform("plan", "--bogus") == 1
    assert crmform("plan", str(gong.dir), "--detailed-exitcode") == 2
