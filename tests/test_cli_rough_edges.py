"""The rough edges a new user hits at the command line (issue 13), each pinned down."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import Cli
from emulated import Gong

from crmform.runtime import Runtime

QUICKSTART = Path(__file__).resolve().parent.parent / "examples" / "quickstart"


def test_a_mistyped_command_gets_a_did_you_mean(cli: Cli):
    done = cli("plna")
    assert done.code == 1
    assert "No such command 'plna'. Did you mean 'plan'?" in done.stderr


def test_a_bad_flag_value_names_the_env_var_only_when_it_came_from_there(cli: Cli, monkeypatch):
    flag = cli("plan", QUICKSTART, "--max-chars", "abc")
    assert flag.code == 1
    assert "Invalid value for '--max-chars': 'abc' is not a number." in flag.stderr
    assert "CRMFORM_MAX_CHARS" not in flag.stderr
    monkeypatch.setenv("CRMFORM_MAX_CHARS", "abc")
    env = cli("plan", QUICKSTART)
    assert "(env var: 'CRMFORM_MAX_CHARS')" in env.stderr


def test_a_bad_boolean_lists_no_empty_value(cli: Cli, monkeypatch):
    monkeypatch.setenv("CRMFORM_AUTO_APPROVE", "maybe")
    done = cli("apply", QUICKSTART)
    assert "Recognized values: 0, 1," in done.stderr


@pytest.mark.parametrize(
    ("env", "tty", "expected"),
    [
        ({}, True, True),
        ({"NO_COLOR": ""}, True, True),  # no-color.org: only a non-empty value counts
        ({"NO_COLOR": "1"}, True, False),
        ({"FORCE_COLOR": "1"}, False, True),
        ({"FORCE_COLOR": "1", "NO_COLOR": "1"}, False, False),
    ],
)
def test_colour_follows_no_color_and_force_color(env, tty, expected):
    assert Runtime(env=env, tty=tty).color(no_color=False) is expected


def test_plan_out_into_a_missing_folder_fails_before_any_work(cli: Cli):
    done = cli("plan", QUICKSTART, "--out", "missing/dir/p.plan")
    assert done.code == 1
    assert done.stdout == ""
    assert "the folder missing/dir does not exist" in done.stderr


def test_apply_says_what_it_takes(cli: Cli, tmp_path: Path):
    missing = cli("apply", "missing.plan", "--auto-approve")
    assert "missing.plan does not exist: apply takes a folder of schema files" in missing.stderr
    schema = cli("apply", QUICKSTART / "account.yaml", "--auto-approve")
    assert "is a schema file, not a saved plan" in schema.stderr
    assert f"Pass its folder ({QUICKSTART})" in schema.stderr


def test_usage_shows_the_directory_as_optional(cli: Cli):
    assert "Usage: crmform plan [OPTIONS] [DIR]" in cli("plan", "--help").stdout


def test_state_help_is_not_cut_mid_sentence(cli: Cli):
    text = cli("state", "--help").stdout
    assert "show  Print the fields recorded in the state as JSON.\n" in text


def test_each_upload_says_what_it_sends_and_reads_are_announced(gong: Gong):
    gong.write("ACCOUNT", "a", "b")
    gong.write("CONTACT", "c")
    done = gong.apply("--auto-approve")
    assert done.code == 0, done.stderr
    assert "Reading Gong's schema of 2 object types..." in done.stderr
    assert "[1/2] sending ACCOUNT (2 fields)..." in done.stderr
    assert "[2/2] sending CONTACT (1 field)..." in done.stderr


def test_names_with_terminal_escapes_are_escaped_in_prompts_and_refusals(gong: Gong):
    gong.write("ACCOUNT", "a", "b\x1b[2K")
    assert gong.apply("--auto-approve").code == 0
    gong.write("ACCOUNT", "a")
    refused = gong.apply("--auto-approve")
    assert "\x1b" not in refused.stderr
    assert "b\\x1b[2K" in refused.stderr
    gong.cli.interactive = True
    shown = gong.apply(input="no\n")
    assert "- gong/6286478263646/ACCOUNT b\\x1b[2K (delete)" in shown.stdout


def test_waiting_for_the_lock_is_said_once(gong: Gong):
    import threading

    from crmform.state.local import LocalState

    gong.write("ACCOUNT", "a")
    holder = LocalState(Path("crmform.state.json"))
    held = threading.Event()
    release = threading.Event()

    def hold() -> None:
        with holder.lock("crmform apply (someone else)"):
            held.set()
            release.wait(10)

    thread = threading.Thread(target=hold)
    thread.start()
    assert held.wait(10)
    threading.Timer(0.5, release.set).start()
    done = gong.apply("--auto-approve", "--lock-timeout", "10")
    thread.join(10)
    assert done.code == 0, done.stderr
    assert done.stderr.count("Waiting up to 10s for the state lock.") == 1
    assert "crmform apply (someone else)" in done.stderr
