"""Real processes: the installed `crmform` console script, `crmform emulator` on a free
loopback port, `python -m crmform`, and signals. Every child is bounded in time."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
QUICKSTART = ROOT / "examples" / "quickstart"
CRMFORM = [sys.executable, "-m", "crmform"]
LIMIT = 60  # seconds any child may take


def crmform(*args: str | Path, cwd: Path, env: dict[str, str] | None = None):
    return subprocess.run(
        [*CRMFORM, *map(str, args)],
        cwd=cwd,
        env={**os.environ, "NO_COLOR": "1", **(env or {})},
        capture_output=True,
        text=True,
        timeout=LIMIT,
        check=False,
    )


@pytest.fixture
def emulator(tmp_path: Path) -> Iterator[str]:
    """`crmform emulator` on a free port, stopped after the test (and bounded regardless)."""
    proc = subprocess.Popen(
        [
            *CRMFORM,
            "emulator",
            "--port",
            "0",
            "--access-key",
            "ak",
            "--secret",
            "emulator-secret",
            "--max-seconds",
            str(LIMIT),
            "--max-requests",
            "200",
        ],
        cwd=tmp_path,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stderr is not None
    line = proc.stderr.readline()
    match = re.search(r"listening on (http://127\.0\.0\.1:\d+)", line)
    assert match, f"emulator did not start: {line!r}"
    try:
        yield match.group(1)
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        proc.stderr.close()


def test_apply_then_plan_against_a_real_emulator_process(tmp_path: Path, emulator: str):
    env = {
        "GONG_BASE_URL": emulator,
        "GONG_ACCESS_KEY": "ak",
        "GONG_ACCESS_KEY_SECRET": "emulator-secret",
        "GONG_RATE_LIMIT": "100",
    }
    applied = crmform("apply", QUICKSTART, "--auto-approve", cwd=tmp_path, env=env)
    assert applied.returncode == 0, applied.stderr
    assert "Apply complete: 25 created, 0 updated, 0 replaced, 0 deleted." in applied.stderr
    assert "emulator-secret" not in applied.stdout + applied.stderr
    again = crmform("plan", QUICKSTART, "--detailed-exitcode", cwd=tmp_path, env=env)
    assert again.returncode == 0, again.stdout + again.stderr
    assert "No changes. The schema matches the state." in again.stdout


def test_sigterm_during_apply_releases_the_lock_and_leaves_state_untouched(tmp_path: Path):
    # A loopback socket that accepts connections but never answers keeps apply waiting
    # inside its first request, with the state lock held.
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        env = {
            **os.environ,
            "GONG_BASE_URL": f"http://127.0.0.1:{silent.getsockname()[1]}",
            "GONG_ACCESS_KEY": "ak",
            "GONG_ACCESS_KEY_SECRET": "sk",
        }
        proc = subprocess.Popen(
            [*CRMFORM, "apply", str(QUICKSTART), "--auto-approve", "--timeout", "30"],
            cwd=tmp_path,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        lock = tmp_path / "crmform.state.json.lock"
        deadline = time.monotonic() + LIMIT
        while not lock.exists() and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        assert lock.exists(), proc.communicate(timeout=LIMIT)
        time.sleep(0.3)  # let it reach the request
        proc.send_signal(signal.SIGTERM)
        _, stderr = proc.communicate(timeout=LIMIT)
    assert proc.returncode == 1
    assert "Interrupted; no upload was in flight." in stderr  # it was still reading Gong
    assert not lock.exists()
    assert not (tmp_path / "crmform.state.json").exists()


def test_console_script_and_module_work_from_outside_the_repository(tmp_path: Path):
    script = Path(sys.executable).with_name("crmform")
    result = subprocess.run(
        [str(script), "plan", str(QUICKSTART), "--no-color"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=LIMIT,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.rstrip().endswith(
        "Plan: 25 to create, 0 to update, 0 to replace, 0 to delete."
    )
    version = crmform("--version", cwd=tmp_path)
    assert re.fullmatch(r"crmform, version \d+\.\d+\.\d+\n", version.stdout)


def test_running_from_the_repository_root_finds_the_mapped_subpackages():
    # The source checkout's crmform/ folder shadows the installed mapping here.
    result = crmform("validate", "examples/quickstart", cwd=ROOT)
    assert result.returncode == 0, result.stderr
    assert result.stdout == (
        "Success: 4 object types with 25 fields in examples/quickstart are valid.\n"
    )


def test_plan_does_not_import_httpx_deepdiff_or_jsonschema(tmp_path: Path):
    probe = (
        "import sys\n"
        "from crmform.cli import run\n"
        f"code = run(['plan', {str(QUICKSTART)!r}])\n"
        "heavy = sorted(m for m in ('httpx', 'deepdiff', 'jsonschema') if m in sys.modules)\n"
        "print('HEAVY', heavy, code)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=LIMIT,
        check=False,
    )
    assert "HEAVY [] 0" in result.stdout, result.stdout + result.stderr


def test_sigterm_stops_the_emulator_cleanly(tmp_path: Path):
    proc = subprocess.Popen(
        [*CRMFORM, "emulator", "--port", "0", "--max-seconds", str(LIMIT)],
        cwd=tmp_path,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stderr is not None
    assert "listening on http://127.0.0.1:" in proc.stderr.readline()
    proc.send_signal(signal.SIGTERM)
    _, rest = proc.communicate(timeout=LIMIT)
    assert proc.returncode == 0
    assert rest == "Gong emulator stopped after 0 requests.\n"
