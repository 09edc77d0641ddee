"""Shell completion, as the README documents it: click's `_CRMFORM_COMPLETE` protocol on the
`crmform` entry point, through crmform's own run() and its lazy command table.

bash is exercised for real (the sourced script's function fills COMPREPLY); zsh and fish
get their scripts checked by the shell when it is installed, and their protocol always.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

CRMFORM = str(Path(sys.executable).parent / "crmform")


def complete(shell: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [CRMFORM],
        env={**os.environ, "_CRMFORM_COMPLETE": f"{shell}", **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.mark.parametrize("shell", ["bash", "zsh", "fish"])
def test_each_shell_gets_a_completion_script(shell):
    done = complete(f"{shell}_source")
    assert done.returncode == 0, done.stderr
    assert "_crmform_completion" in done.stdout
    assert "_CRMFORM_COMPLETE" in done.stdout
    program = shutil.which(shell)
    if program is not None:  # the shell parses it
        check = [program, "-n"] if shell != "fish" else [program, "--no-execute"]
        parsed = subprocess.run(
            check, input=done.stdout, capture_output=True, text=True, timeout=30, check=False
        )
        assert parsed.returncode == 0, parsed.stderr


def test_commands_options_and_choices_complete():
    commands = complete("bash_complete", COMP_WORDS="crmform f", COMP_CWORD="1")
    assert commands.stdout.split() == ["plain,fmt", "plain,force-unlock"]
    choices = complete("bash_complete", COMP_WORDS="crmform validate --format ", COMP_CWORD="3")
    assert choices.stdout.split() == ["plain,text", "plain,json", "plain,github"]
    options = complete("zsh_complete", COMP_WORDS="crmform plan --det", COMP_CWORD="2")
    assert options.stdout.splitlines()[:2] == ["plain", "--detailed-exitcode"]
    fish = complete("fish_complete", COMP_WORDS="crmform sch", COMP_CWORD="sch")
    assert fish.stdout.startswith("plain,schema")


@pytest.mark.skipif(shutil.which("bash") is None, reason="needs bash")
def test_bash_completes_for_real_with_the_sourced_script(tmp_path):
    script = tmp_path / "crmform-complete.bash"
    script.write_text(complete("bash_source").stdout)
    probe = (
        f'PATH="{Path(CRMFORM).parent}:$PATH"\n'
        f'source "{script}"\n'
        "COMP_WORDS=(crmform apply --auto); COMP_CWORD=2\n"
        "_crmform_completion crmform\n"
        'printf "%s\\n" "${COMPREPLY[@]}"\n'
    )
    done = subprocess.run(
        ["bash", "-c", probe], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["--auto-approve"]


@pytest.mark.skipif(shutil.which("fish") is None, reason="needs fish")
def test_fish_completes_for_real_with_the_saved_script(tmp_path):
    script = tmp_path / "crmform.fish"
    script.write_text(complete("fish_source").stdout)
    done = subprocess.run(
        ["fish", "-c", f"source {script}; complete -C 'crmform validate --format '"],
        env={**os.environ, "PATH": f"{Path(CRMFORM).parent}{os.pathsep}{os.environ['PATH']}"},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert sorted(done.stdout.split()) == ["github", "json", "text"]
