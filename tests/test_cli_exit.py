"""How the console script ends (cli.main): os._exit once stdout and stderr are flushed, so
the interpreter's teardown does not free every object of a large plan one by one; the
normal exit under a profiler or tracer, which write their results at that teardown.
Real processes, each bounded in time."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

MAIN = "from crmform.cli import main; main()"
# Registered before main() runs: it prints only if the interpreter's own teardown runs.
TEARDOWN = "import atexit; atexit.register(print, 'teardown ran'); "
LIMIT = 60


def _run(code: str, *args: str | Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", code, *map(str, args)],
        cwd=cwd,
        env={**os.environ, "NO_COLOR": "1"},
        capture_output=True,
        text=True,
        timeout=LIMIT,
        check=False,
    )


def _schema(directory: Path, count: int) -> Path:
    directory.mkdir()
    fields = [
        {"uniqueName": f"field_{i:05d}", "label": f"Field {i}", "type": "STRING"}
        for i in range(count)
    ]
    doc = {"integrationId": 1234, "objectType": "ACCOUNT", "fields": fields}
    (directory / "account.json").write_text(json.dumps(doc), encoding="utf-8")
    return directory


def test_a_large_output_reaches_the_pipe_whole_before_the_process_ends(tmp_path):
    # 4,000 creates: far more than a pipe holds (64 KiB) and than stdout's buffer.
    schema = _schema(tmp_path / "schema", 4000)
    done = _run(MAIN, "plan", schema, "--format", "json", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    plan = json.loads(done.stdout)
    assert len(plan["changes"]) == 4000
    assert {c["action"] for c in plan["changes"]} == {"create"}
    assert plan["changes"][-1]["uniqueName"] == "field_03999"
    text = _run(MAIN, "plan", schema, cwd=tmp_path)
    last = text.stdout.rstrip().splitlines()[-1]
    assert last == "Plan: 4000 to create, 0 to update, 0 to replace, 0 to delete."


def test_the_exit_code_and_stderr_survive_the_fast_exit(tmp_path):
    schema = _schema(tmp_path / "schema", 3)
    changes = _run(MAIN, "plan", schema, "--detailed-exitcode", cwd=tmp_path)
    assert changes.returncode == 2
    assert "No state at" in changes.stderr  # written to stderr just before the end
    failed = _run(MAIN, "plan", tmp_path / "missing", cwd=tmp_path)
    assert failed.returncode == 1
    assert "the schema directory does not exist" in failed.stderr


def test_the_interpreters_teardown_is_skipped(tmp_path):
    done = _run(TEARDOWN + MAIN, "--help", cwd=tmp_path)
    assert done.returncode == 0
    assert "Usage:" in done.stdout
    assert "teardown ran" not in done.stdout


def test_under_a_profiler_or_a_tracer_the_normal_exit_runs(tmp_path):
    # cProfile and coverage write their results at the teardown; they must still get it.
    for hook in ("sys.setprofile", "sys.settrace"):
        code = f"import sys; {hook}(lambda *a: None); {TEARDOWN}{MAIN}"
        done = _run(code, "--help", cwd=tmp_path)
        assert done.returncode == 0, done.stderr
        assert "Usage:" in done.stdout
        assert "teardown ran" in done.stdout, hook
