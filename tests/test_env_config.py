"""Every flag can come from the environment: CRMFORM_<NAME>, documented and shown in --help.

The Gong connection flags are the exception: the provider reads GONG_* itself (so messages
can name the variable that supplied a credential).
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import click
import pytest
from emulated import Gong

from crmform.cli import cli
from crmform.runtime import ProviderOptions

DOCS = Path(__file__).resolve().parent.parent / "docs" / "automation.md"
# Flags whose variable the Gong provider reads itself; the CLI only overrides it.
PROVIDER_READS = {
    "base_url": "GONG_BASE_URL",
    "access_key": "GONG_ACCESS_KEY",
    "access_key_secret": "GONG_ACCESS_KEY_SECRET",
    "bearer_token": "GONG_BEARER_TOKEN",
    "rate_limit": "GONG_RATE_LIMIT",
    "allow_insecure_http": "GONG_ALLOW_INSECURE_HTTP",
}


def commands(group: click.Group, prefix: str = "crmform") -> list[tuple[str, click.Command]]:
    found: list[tuple[str, click.Command]] = []
    ctx = click.Context(group)
    for name in sorted(group.list_commands(ctx)):
        command = group.get_command(ctx, name)
        assert command is not None
        path = f"{prefix} {name}"
        found.append((path, command))
        if isinstance(command, click.Group):
            found += commands(command, path)
    return found


def flags() -> list[tuple[str, click.Option]]:
    """Every option of every command, except --help and --version."""
    return [
        (path, param)
        for path, command in commands(cli)
        for param in command.params
        if isinstance(param, click.Option) and param.name not in ("help", "version")
    ]


@pytest.fixture(autouse=True)
def clean_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)


def test_every_flag_has_a_crmform_variable_shown_in_help():
    missing = []
    for path, option in flags():
        if option.name in PROVIDER_READS and path != "crmform emulator":
            assert f"env {PROVIDER_READS[option.name]}" in (option.help or ""), path
            assert option.envvar is None, f"{path} {option.opts[0]}: the provider reads it"
            continue
        envvar = option.envvar
        if not (isinstance(envvar, str) and envvar.startswith("CRMFORM_") and option.show_envvar):
            missing.append(f"{path} {option.opts[0]}")
    assert missing == []
    assert len(flags()) > 40  # the walk found the commands


def test_one_variable_means_one_thing_across_commands():
    meaning: dict[str, set[str]] = {}
    for _, option in flags():
        if isinstance(option.envvar, str):
            meaning.setdefault(option.envvar, set()).add(option.opts[0])
    assert {v: o for v, o in meaning.items() if len(o) > 1} == {}


def test_every_variable_is_documented():
    text = DOCS.read_text(encoding="utf-8")
    names = {o.envvar for _, o in flags() if isinstance(o.envvar, str)}
    assert {"CRMFORM_STATE", "CRMFORM_AUTO_APPROVE", "CRMFORM_FORMAT"} <= names
    assert sorted(n for n in names if f"`{n}`" not in text) == []


def test_state_path_from_the_environment(gong: Gong, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("CRMFORM_STATE", "elsewhere/schema.state.json")
    Path("elsewhere").mkdir()
    gong.write("ACCOUNT", "a")
    assert gong.cli("apply", gong.dir, "--auto-approve").code == 0
    assert not Path("crmform.state.json").exists()
    assert json.loads(Path("elsewhere/schema.state.json").read_text())["serial"] == 2
    assert gong.cli("state", "list").stdout == "gong/6286478263646/ACCOUNT\n"
    again = gong.cli("plan", gong.dir)
    assert again.stdout == "No changes. The schema matches the state.\n"


def test_auto_approve_and_allow_destroy_from_the_environment(
    gong: Gong, monkeypatch: pytest.MonkeyPatch
):
    gong.write("ACCOUNT", "a", "b")
    monkeypatch.setenv("CRMFORM_AUTO_APPROVE", "true")
    assert gong.cli("apply", gong.dir).code == 0
    gong.write("ACCOUNT", "a")
    monkeypatch.setenv("CRMFORM_ALLOW_DESTROY", "false")
    refused = gong.cli("apply", gong.dir)
    assert refused.code == 1
    assert "or --allow-destroy (any)" in refused.stderr
    monkeypatch.setenv("CRMFORM_ALLOW_DESTROY", "1")
    assert gong.cli("apply", gong.dir).code == 0
    assert [f["uniqueName"] for f in gong.emulator.schema(6286478263646, "ACCOUNT")] == ["a"]


@pytest.mark.parametrize("value", ["false", "0", "no", ""])
def test_a_false_auto_approve_does_not_approve(
    gong: Gong, monkeypatch: pytest.MonkeyPatch, value: str
):
    gong.write("ACCOUNT", "a")
    monkeypatch.setenv("CRMFORM_AUTO_APPROVE", value)
    refused = gong.cli("apply", gong.dir)
    assert refused.code == 1
    assert "Cannot ask for approval: this is not an interactive terminal." in refused.stderr
    assert gong.posts() == []


def test_format_and_detailed_exitcode_from_the_environment(
    gong: Gong, monkeypatch: pytest.MonkeyPatch
):
    gong.write("ACCOUNT", "a")
    monkeypatch.setenv("CRMFORM_FORMAT", "json")
    monkeypatch.setenv("CRMFORM_DETAILED_EXITCODE", "true")
    result = gong.cli("plan", gong.dir)
    assert result.code == 2
    assert json.loads(result.stdout)["summary"]["create"] == 1
    monkeypatch.setenv("CRMFORM_DETAILED_EXITCODE", "false")
    assert gong.cli("plan", gong.dir).code == 0


def test_markdown_size_and_plan_file_from_the_environment(
    gong: Gong, monkeypatch: pytest.MonkeyPatch
):
    gong.write("ACCOUNT", *(f"field{i:03}" for i in range(60)))
    monkeypatch.setenv("CRMFORM_FORMAT", "markdown")
    monkeypatch.setenv("CRMFORM_MAX_CHARS", "1500")
    monkeypatch.setenv("CRMFORM_OUT", "pr.plan")
    result = gong.cli("plan", gong.dir)
    assert result.code == 0
    assert len(result.stdout) <= 1500
    assert result.stdout.startswith("<!-- crmform:plan -->\n## crmform plan: 60 to create")
    assert "Shortened to fit 1,500 characters" in result.stdout
    shown = gong.cli("show", "pr.plan")
    assert shown.stdout == result.stdout


def test_gong_tuning_flags_from_the_environment(gong: Gong, monkeypatch: pytest.MonkeyPatch):
    gong.write("ACCOUNT", "a")
    monkeypatch.setenv("CRMFORM_MAX_ATTEMPTS", "2")
    monkeypatch.setenv("CRMFORM_MAX_RETRY_SECONDS", "7.5")
    monkeypatch.setenv("CRMFORM_TIMEOUT", "4")
    monkeypatch.setenv("CRMFORM_LOCK_TIMEOUT", "0.5")
    assert gong.cli("apply", gong.dir, "--auto-approve").code == 0
    assert gong.options[-1] == ProviderOptions(max_attempts=2, max_retry_seconds=7.5, timeout=4.0)


def test_a_flag_on_the_command_line_beats_the_environment(
    gong: Gong, monkeypatch: pytest.MonkeyPatch
):
    gong.write("ACCOUNT", "a")
    monkeypatch.setenv("CRMFORM_FORMAT", "json")
    result = gong.cli("plan", gong.dir, "--format", "text")
    assert result.stdout.startswith("# gong/6286478263646/ACCOUNT\n")


def test_a_bad_value_in_the_environment_names_the_variable_and_exits_1(
    gong: Gong, monkeypatch: pytest.MonkeyPatch
):
    gong.write("ACCOUNT", "a")
    monkeypatch.setenv("CRMFORM_MAX_CHARS", "10")
    result = gong.cli("plan", gong.dir, "--format", "markdown")
    assert result.code == 1
    assert (
        "Error: Invalid value for '--max-chars' (env var: 'CRMFORM_MAX_CHARS'): "
        "10 is not in the range x>=1000."
    ) in result.stderr
    assert re.search(r"^Usage: ", result.stderr, flags=re.M)


def test_the_emulator_is_configured_by_its_own_variables(
    gong: Gong, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setenv("CRMFORM_EMULATOR_PORT", "0")
    monkeypatch.setenv("CRMFORM_EMULATOR_MAX_SECONDS", "0.2")
    monkeypatch.setenv("CRMFORM_EMULATOR_ACCESS_KEY", "demo")
    result = gong.cli("emulator")
    assert result.code == 1
    assert "Error: --access-key and --secret go together." in result.stderr
    monkeypatch.setenv("CRMFORM_EMULATOR_SECRET", "demo-secret")
    served = gong.cli("emulator")
    assert served.code == 0, served.stderr
    assert re.search(r"Gong emulator listening on http://127\.0\.0\.1:[1-9]\d*", served.stderr)
