"""The lazy command table: `crmform --help` lists commands without importing them, and the
table stays true to the commands themselves; what `--help` and a plan without a state file
or crmform.toml may import."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import click
import pytest
import yaml

from crmform.cli import COMMANDS, HelpContext, cli, run
from crmform.engine.model import State
from crmform.state.local import LocalState


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
    expected = "['crmform.cli', 'crmform.exits', 'crmform.views']"
    assert f"LOADED 0 {expected}" in result.stderr, result.stderr
    for name in COMMANDS:
        assert f"\n  {name} " in result.stdout


@pytest.mark.parametrize("columns", [None, "30", "60", "99", "100", "101", "250", "0", "wide"])
def test_help_is_as_wide_as_clicks_own_formatter_makes_it(monkeypatch, columns):
    # HelpContext works the width out without shutil; click's HelpFormatter asks shutil.
    if columns is None:
        monkeypatch.delenv("COLUMNS", raising=False)
    else:
        monkeypatch.setenv("COLUMNS", columns)
    ctx = HelpContext(cli, max_content_width=100)
    assert ctx.make_formatter().width == click.HelpFormatter(max_width=100).width
    monkeypatch.setattr(click.formatting, "FORCED_WIDTH", 72)  # as click's CliRunner does
    assert ctx.make_formatter().width == 72
    assert HelpContext(cli, terminal_width=64).make_formatter().width == 64


REPO = Path(__file__).resolve().parent.parent
QUICKSTART = REPO / "examples" / "quickstart"
# Without site (-S) nothing is imported before crmform but what these tests import: an
# editable install's finder (a .pth hook) would import pathlib and more at start-up, hiding
# whether crmform itself needs them, as a user's normal install does not.
SEARCH = [REPO, Path(click.__file__).parent.parent, Path(yaml.__file__).parent.parent]


def loaded_by(args: list[str], cwd: Path) -> tuple[int, set[str]]:
    """The exit code of `crmform ARGS` in a fresh interpreter without site, and the modules
    it imported beyond click and yaml (what plan cannot avoid)."""
    probe = (
        "import sys\n"
        f"sys.path[:0] = {[str(p) for p in SEARCH]!r}\n"
        "import click, yaml\n"
        "before = set(sys.modules)\n"
        "from crmform.cli import run\n"
        f"code = run({args!r})\n"
        "print('LOADED', code, sorted(set(sys.modules) - before), file=sys.stderr)\n"
    )
    code, _, modules = _probe(probe, "LOADED ", cwd).partition(" ")
    return int(code), set(ast.literal_eval(modules))


def _probe(script: str, tag: str, cwd: Path) -> str:
    """What `script`, run in a fresh interpreter without site, printed after `tag` on the
    last line of its stderr."""
    result = subprocess.run(
        [sys.executable, "-S", "-c", script],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        cwd=cwd,
    )
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith(tag), result.stderr
    return last.removeprefix(tag)


def test_help_needs_neither_pathlib_nor_dataclasses(tmp_path):
    code, modules = loaded_by(["--help"], tmp_path)
    assert code == 0
    assert {m for m in modules if m.startswith("crmform")} == {
        "crmform",
        "crmform.cli",
        "crmform.exits",
        "crmform.views",
    }
    heavy = modules & {"pathlib", "dataclasses", "difflib", "json", "tomllib", "shutil", "signal"}
    assert not heavy, sorted(heavy)


# What a plan of schema files, with no state file and no crmform.toml, must not import: the
# project file's settings and TOML parser, the state document and file code, the ports'
# Protocols and drift (only --refresh reads Gong), difflib (only deletes beside creates),
# the Markdown fitting code, and the heavy dependencies.
NOT_FOR_A_FIRST_PLAN = {
    "tomllib",
    "difflib",
    "crmform.engine.config.project",
    "crmform.state.document",
    "crmform.state.jsonfile",
    "crmform.state.cas",
    "crmform.state.lockfile",
    "crmform.engine.formats.codec",
    "crmform.engine.ports",
    "crmform.engine.drift",
    "crmform.engine.render.fit",
    "jsonschema",
    "httpx",
    "deepdiff",
}


def test_a_plan_without_state_or_project_file_imports_only_what_it_uses(tmp_path):
    code, modules = loaded_by(["plan", str(QUICKSTART)], tmp_path)
    assert code == 0
    assert not modules & NOT_FOR_A_FIRST_PLAN, sorted(modules & NOT_FOR_A_FIRST_PLAN)
    assert "crmform.engine.planner" in modules  # it did plan


# What start-up spends most on when it is imported, and a plan does not need (issue 14):
# dataclasses' generated code (engine/values.py), signal's enums (cli.py uses _signal),
# fcntl (only a state write locks). json is for JSON files only: a YAML plan needs none.
NOT_AT_START_UP = {"dataclasses", "copy", "signal", "fcntl"}


def test_a_plan_imports_neither_dataclasses_nor_signal_nor_fcntl(tmp_path):
    code, modules = loaded_by(["plan", str(QUICKSTART)], tmp_path)
    assert code == 0
    assert not modules & NOT_AT_START_UP, sorted(modules & NOT_AT_START_UP)


def test_a_yaml_plan_imports_no_json(tmp_path):
    schemas = tmp_path / "schemas"
    schemas.mkdir()
    for path in QUICKSTART.glob("*.yaml"):
        (schemas / path.name).write_bytes(path.read_bytes())
    code, modules = loaded_by(["plan", str(schemas)], tmp_path)
    assert code == 0
    assert "crmform.engine.planner" in modules  # it did plan
    assert not modules & {*NOT_AT_START_UP, "json"}, sorted(modules & {*NOT_AT_START_UP, "json"})


def test_a_state_file_or_a_project_file_loads_what_reads_them(tmp_path):
    (tmp_path / "crmform.toml").write_text('[backend]\ntype = "local"\n', encoding="utf-8")
    LocalState(tmp_path / "crmform.state.json").write(State())
    code, modules = loaded_by(["plan", str(QUICKSTART)], tmp_path)
    assert code == 0
    assert {"tomllib", "crmform.engine.config.project", "crmform.state.document"} <= modules


# What a first plan of a few small files no longer pays for (issue 14): the line reader
# (its pattern took 9 M instructions to compile; the first 20,000 characters of YAML take
# the event route), the other offline commands' options (plan has a module of its own),
# and utf-8-sig's codec module (the BOM is dropped by hand).
NOT_FOR_A_SMALL_PLAN = {
    "crmform.engine.config.yaml_lines",
    "crmform.commands.core",
    "encodings.utf_8_sig",
}


def test_a_small_plan_needs_neither_the_line_reader_nor_the_other_commands(tmp_path):
    code, modules = loaded_by(["plan", str(QUICKSTART)], tmp_path)
    assert code == 0
    assert "crmform.engine.config.yaml_events" in modules  # its YAML was read
    assert not modules & NOT_FOR_A_SMALL_PLAN, sorted(modules & NOT_FOR_A_SMALL_PLAN)


def compiled_by(args: list[str], cwd: Path) -> list[str]:
    """The regular expressions `crmform ARGS` compiled, in a fresh interpreter."""
    probe = (
        "import sys, re\n"
        f"sys.path[:0] = {[str(p) for p in SEARCH]!r}\n"
        "import click, yaml\n"
        "before = set(re._cache)\n"
        "from crmform.cli import run\n"
        f"code = run({args!r})\n"
        "new = [str(k[1]) for k in re._cache if k not in before]\n"
        "print('COMPILED', code, new, file=sys.stderr)\n"
    )
    return list(ast.literal_eval(_probe(probe, "COMPILED 0 ", cwd)))


def test_a_plan_compiles_no_pattern_of_the_rare_paths(tmp_path):
    # Each compile costs a plan 0.1-1 ms: yaml_lines' patterns for non-ASCII text, quoted
    # flow items and escapes wait for such a text; the state-file match and the id
    # spellings' checks are str methods (fnmatch would compile its pattern).
    from crmform.engine.config import yaml_lines

    compiled = compiled_by(["plan", str(QUICKSTART)], tmp_path)
    rare = {yaml_lines._OUTSIDE, yaml_lines._FLOW_ITEM, yaml_lines._ESCAPE, yaml_lines._DOUBLE_BODY}
    assert not rare & set(compiled)
    assert not [p for p in compiled if "crmform" in p or "[0-9]+" in p], compiled
    # The id spellings are checked by str methods, and the example's ids are numbers anyway.
    assert not {r"[1-9][0-9]*", r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}"} & set(compiled), compiled
