"""Colour and prompts only on a terminal: a pipeline's logs get plain text and no questions."""

from __future__ import annotations

import pytest
from click.testing import CliRunner
from emulated import Gong, run_on, terminal

from crmform.runtime import Runtime

ESC = "\x1b["


@pytest.fixture
def gong(gong: Gong) -> Gong:
    g = gong
    g.write("ACCOUNT", "a", "b")
    assert g.cli("apply", g.dir, "--auto-approve").code == 0
    g.write("ACCOUNT", "a", "c")  # one create, one delete: every colour in play
    return g


def test_not_a_terminal_means_no_colour(gong: Gong):
    result = run_on(terminal(tty=False), "plan", gong.dir)
    assert result.code == 0
    assert "WARNING: applying this plan deletes data" in result.stdout
    assert ESC not in result.stdout + result.stderr


def test_a_terminal_gets_colour(gong: Gong):
    result = run_on(terminal(), "plan", gong.dir)
    assert f"{ESC}1;31mWARNING:" in result.stdout


def test_no_color_variable_turns_colour_off_on_a_terminal(gong: Gong):
    result = run_on(terminal({"NO_COLOR": "1"}), "plan", gong.dir)
    assert "WARNING:" in result.stdout
    assert ESC not in result.stdout


def test_no_color_flag_and_its_variable_turn_colour_off_on_a_terminal(
    gong: Gong, monkeypatch: pytest.MonkeyPatch
):
    assert ESC not in run_on(terminal(), "plan", gong.dir, "--no-color").stdout
    monkeypatch.setenv("CRMFORM_NO_COLOR", "1")
    assert ESC not in run_on(terminal(), "plan", gong.dir).stdout


@pytest.mark.parametrize("fmt", ["json", "markdown"])
def test_machine_formats_never_have_colour(gong: Gong, fmt: str):
    result = run_on(terminal(), "plan", gong.dir, "--format", fmt)
    assert result.code == 0
    assert ESC not in result.stdout


def test_without_a_terminal_apply_never_prompts(gong: Gong):
    result = gong.cli("apply", gong.dir, input="yes\n")
    assert result.code == 1
    assert "Enter a value" not in result.stdout + result.stderr
    assert "Cannot ask for approval: this is not an interactive terminal." in result.stderr
    assert len(gong.posts()) == 1


def test_the_default_runtime_detects_that_output_is_not_a_terminal():
    with CliRunner().isolation():
        detected = Runtime()
    assert (detected.tty, detected.interactive) == (False, False)
    assert detected.color(no_color=False) is False
