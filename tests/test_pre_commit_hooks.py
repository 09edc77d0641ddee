"""The hooks of .pre-commit-hooks.yaml, run for real by pre-commit on a scratch repository.

`pre-commit try-repo` builds the hooks' environment from this checkout (a pip install of
it, as for a user's `repo: https://github.com/crmform/crmform`), then runs them on a repo
with a good and a bad schema file. Uncommitted changes to tracked (or staged) files are
included by try-repo; a new file must be staged to be seen.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
HOOKS = ROOT / ".pre-commit-hooks.yaml"
GOOD = (
    "integrationId: 1\nobjectType: ACCOUNT\nfields:\n"
    "  - uniqueName: a\n    label: A\n    type: STRING\n"
)
BAD = GOOD.replace("ACCOUNT", "DEAL").replace("label: A", "lable: A")


def pre_commit() -> list[str] | None:
    found = shutil.which("pre-commit", path=str(Path(sys.executable).parent))
    if found is None:
        if os.environ.get("CI"):
            pytest.fail("pre-commit must be installed in CI (it is in the test extra)")
        return None
    return [found]


def test_the_manifest_declares_both_hooks_as_python_hooks():
    hooks = {h["id"]: h for h in yaml.safe_load(HOOKS.read_text())}
    assert set(hooks) == {"crmform-validate", "crmform-fmt"}
    assert all(h["language"] == "python" for h in hooks.values())
    assert hooks["crmform-validate"]["pass_filenames"] is False  # validate takes a DIR
    assert hooks["crmform-validate"]["args"] == ["schema"]
    assert hooks["crmform-fmt"]["args"] == ["--check", "--diff"]


@pytest.mark.slow
def test_try_repo_runs_both_hooks_on_a_scratch_repository(tmp_path: Path):
    command = pre_commit()
    if command is None:
        pytest.skip("pre-commit is not installed (pip install -e '.[test]')")
    repo = tmp_path / "repo"
    (repo / "schema").mkdir(parents=True)
    (repo / "schema" / "good.yaml").write_text(GOOD)
    (repo / "schema" / "bad.yaml").write_text(BAD)
    (repo / "notes.yaml").write_text("not: [a schema file\n")  # outside schema/: not checked
    env = {
        **os.environ,
        "PRE_COMMIT_HOME": str(tmp_path / "cache"),
        "GIT_AUTHOR_NAME": "t",
        "GIT_AUTHOR_EMAIL": "t@example.com",
        "GIT_COMMITTER_NAME": "t",
        "GIT_COMMITTER_EMAIL": "t@example.com",
    }

    def git(*args: str) -> None:
        subprocess.run(["git", *args], cwd=repo, env=env, check=True, capture_output=True)

    def run() -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [*command, "try-repo", str(ROOT), "--all-files"],
            cwd=repo,
            env=env,
            capture_output=True,
            text=True,
            timeout=240,
            check=False,
        )

    git("init", "-q")
    git("add", ".")
    git("commit", "-qm", "schema")
    failed = run()
    assert failed.returncode == 1, failed.stdout + failed.stderr
    out = failed.stdout
    assert "crmform validate" in out
    assert "schema/bad.yaml:5: fields[0] (a): unknown key 'lable'; did you mean 'label'?" in out
    assert "--- schema/bad.yaml" in out  # fmt's diff: type moves above the unknown key
    assert "notes.yaml" not in out

    (repo / "schema" / "bad.yaml").write_text(BAD.replace("lable", "label"))
    git("add", ".")
    git("commit", "-qm", "fix")
    passed = run()
    assert passed.returncode == 0, passed.stdout + passed.stderr
    assert "crmform validate" in passed.stdout
    assert "Passed" in passed.stdout
