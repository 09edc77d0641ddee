"""The lazy command table: `crmform --help` lists commands without importing them, and the
table stays true to the commands themselves."""

from __future__ import annotations

import subprocess
import sys

import click

from crmform.cli import COMMANDS, cli, run


def test_the_table_matches_each_commands_name_and_help():
    ctx = click.Context(cli)
    for name, (_, help_) in COMMANDS.items():
        command = cli.get_command(ctx, name)
        assert command is not None, name
        assert command.name == name
        assert help_ == command.get_short_help_str(limit=1000), name


def test_an_unknown_command_is_a_usage_error_exiting_1(capsys):
    assert run(["aply"]) == 1
    assert "No such command 'aply'" in capsys.readouterr().err


def test_help_imports_no_command_module_and_no_engine_logic():
    probe = (
        "import sys\n"
        "from crmform.cli import run\n"
        "code = run(['--help'])\n"
        "loaded = sorted(m for m in sys.modules if m.startswith('crmform.'))\n"
        "print('LOADED', code, loaded, file=sys.stderr)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, check=False
    )
    expected = (
        "['crmform.cli', 'crmform.engine', 'crmform.engine.errors', 'crmform.exits', "
        "'crmform.views']"
    )
    assert f"LOADED 0 {expected}" in result.stderr, result.stderr
    for name in COMMANDS:
        assert f"\n  {name} " in result.stdout
