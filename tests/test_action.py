"""The GitHub Action's scripts (action/plan.sh, action/apply.sh), run for real outside GitHub.

GitHub itself cannot run here, so the runner's side is stood in for: the step's environment
and output files as the runner sets them, and `gh` by a small fake that answers the API
calls the scripts make and records them. crmform, bash, git and (for apply) the Gong
emulator are real. What this cannot show: GitHub's API answering as the fake does (the
endpoints and fields are the documented ones), and the artifact upload between the runs.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
from factories import fld

from crmform.engine.model import FieldType, ObjectKey, ObjectSchema, ObjectType, State
from crmform.state.local import LocalState

ROOT = Path(__file__).resolve().parent.parent
MARKER = "<!-- crmform-action:plan environment=prod -->"
FAKE_GH = """\
#!{python}
import json, os, shutil, sys
args = sys.argv[1:]
with open(os.environ["FAKE_GH_LOG"], "a") as log:
    log.write(json.dumps(args) + "\\n")
joined = " ".join(args)
if args[:2] == ["api", "--paginate"] and "/comments" in joined:
    print(os.environ.get("FAKE_COMMENT_ID", ""))
elif args[0] == "api" and "/pulls" in args[1]:
    print(os.environ.get("FAKE_PR", ""))
elif args[0] == "api" and "/actions/artifacts?name=" in args[1]:
    if os.environ.get("FAKE_ARTIFACT", "") in args[1]:
        print(os.environ.get("FAKE_RUN", ""))
elif args[0] == "api" and "/actions/runs/" in args[1]:
    print(os.environ.get("FAKE_CONCLUSION", "success"))
elif args[:2] == ["run", "download"]:
    target = args[args.index("--dir") + 1]
    os.makedirs(target, exist_ok=True)
    for name in os.listdir(os.environ["FAKE_PLAN_DIR"]):
        shutil.copy(os.path.join(os.environ["FAKE_PLAN_DIR"], name), target)
"""

pytestmark = pytest.mark.skipif(shutil.which("git") is None, reason="needs git and bash")


class Runner:
    """One job's workspace: the step environment, the fake gh, outputs and summary."""

    def __init__(self, tmp: Path) -> None:
        self.tmp = tmp
        self.bin = tmp / "bin"
        self.bin.mkdir()
        gh = self.bin / "gh"
        gh.write_text(FAKE_GH.replace("{python}", sys.executable))
        gh.chmod(0o755)
        self.log = tmp / "gh.log"
        self.output = tmp / "output"
        self.summary = tmp / "summary.md"
        self.env = {
            **os.environ,
            "PATH": f"{self.bin}{os.pathsep}{Path(sys.executable).parent}{os.pathsep}"
            + os.environ["PATH"],
            "FAKE_GH_LOG": str(self.log),
            "GITHUB_OUTPUT": str(self.output),
            "GITHUB_STEP_SUMMARY": str(self.summary),
            "GITHUB_REPOSITORY": "owner/repo",
            "RUNNER_TEMP": str(tmp / "runner"),
            "SCHEMA_DIR": "schema",
            "CRMFORM_STATE": "crmform.state.json",
            "ENVIRONMENT": "prod",
            "ALLOW_DESTROY_LABEL": "crmform:allow-destroy",
            "GIT_AUTHOR_NAME": "t",
            "GIT_AUTHOR_EMAIL": "t@example.com",
            "GIT_COMMITTER_NAME": "t",
            "GIT_COMMITTER_EMAIL": "t@example.com",
        }
        (tmp / "runner").mkdir()

    def run(self, script: str, cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
        self.output.write_text("")
        return subprocess.run(
            ["bash", str(ROOT / "action" / script)],
            cwd=cwd,
            env={**self.env, **env},
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )

    def outputs(self) -> dict[str, str]:
        return dict(line.split("=", 1) for line in self.output.read_text().splitlines())

    def gh_calls(self) -> list[list[str]]:
        if not self.log.exists():
            return []
        calls = [json.loads(line) for line in self.log.read_text().splitlines()]
        self.log.unlink()
        return calls


@pytest.fixture
def runner(tmp_path: Path) -> Runner:
    return Runner(tmp_path)


def workspace(tmp: Path) -> Path:
    repo = tmp / "repo"
    shutil.copytree(ROOT / "examples" / "quickstart", repo / "schema")
    return repo


PLAN_ENV = {
    "PR_NUMBER": "7",
    "HEAD_SHA": "abc123",
    "LABELS_JSON": "[]",
    "SAME_REPO": "true",
    "COMMENT": "true",
}


def test_plan_posts_one_comment_then_updates_it_in_place(runner: Runner):
    repo = workspace(runner.tmp)
    first = runner.run("plan.sh", repo, **PLAN_ENV)
    assert first.returncode == 0, first.stderr
    out = runner.outputs()
    assert out["has-changes"] == "true"
    assert out["destroys-data"] == "false"
    assert out["blocked"] == "false"
    assert out["artifact"] == "crmform-plan-prod-abc123"
    saved = Path(out["artifact-dir"])
    assert sorted(p.name for p in saved.iterdir()) == [
        "comment.md",
        "crmform.plan",
        "plan.json",
        "plan.md",
    ]
    assert json.loads(Path(out["plan-json"]).read_text())["summary"]["create"] == 25
    comment = (saved / "comment.md").read_text()
    assert comment.startswith(f"{MARKER}\n<!-- crmform:plan -->\n## crmform plan: 25 to create")
    assert "<details><summary>Changes by object type</summary>" in comment
    assert comment.index("Planned against") < comment.index("<details>")
    assert runner.summary.read_text() == comment
    calls = runner.gh_calls()
    assert calls[0][:3] == ["api", "--paginate", "repos/owner/repo/issues/7/comments"]
    assert MARKER in calls[0][-1]  # found by the hidden marker of this environment
    assert calls[1][:4] == ["api", "--method", "POST", "repos/owner/repo/issues/7/comments"]
    assert calls[1][-1] == f"body=@{saved / 'comment.md'}"

    again = runner.run("plan.sh", repo, **PLAN_ENV, FAKE_COMMENT_ID="42")
    assert again.returncode == 0, again.stderr
    calls = runner.gh_calls()
    assert calls[1][:4] == ["api", "--method", "PATCH", "repos/owner/repo/issues/comments/42"]
    assert len(calls) == 2


def test_plan_of_a_fork_or_without_comment_posts_nothing(runner: Runner):
    repo = workspace(runner.tmp)
    assert runner.run("plan.sh", repo, **{**PLAN_ENV, "SAME_REPO": "false"}).returncode == 0
    assert runner.run("plan.sh", repo, **{**PLAN_ENV, "COMMENT": "false"}).returncode == 0
    assert runner.gh_calls() == []


def test_data_loss_is_blocked_without_the_label_and_the_warning_comes_first(runner: Runner):
    repo = workspace(runner.tmp)
    key = ObjectKey("gong", 6286478263646, ObjectType.ACCOUNT)
    gone = ObjectSchema(key, (fld("legacyScore", FieldType.NUMBER),))
    LocalState(repo / "crmform.state.json").write(State(objects=(gone,)))
    blocked = runner.run("plan.sh", repo, **PLAN_ENV)
    assert blocked.returncode == 0, blocked.stderr  # action.yml fails the job after upload
    out = runner.outputs()
    assert (out["destroys-data"], out["blocked"]) == ("true", "true")
    comment = (Path(out["artifact-dir"]) / "comment.md").read_text()
    assert comment.splitlines()[4] == "> [!CAUTION]"  # under the marker lines and title
    assert "**Not mergeable yet:**" in comment

    approved = runner.run(
        "plan.sh", repo, **{**PLAN_ENV, "LABELS_JSON": '["crmform:allow-destroy"]'}
    )
    assert approved.returncode == 0
    assert runner.outputs()["blocked"] == "false"
    assert (
        "Data loss approved with the `crmform:allow-destroy` label"
        in (Path(runner.outputs()["artifact-dir"]) / "comment.md").read_text()
    )


def test_invalid_files_fail_the_plan_with_annotations(runner: Runner):
    repo = workspace(runner.tmp)
    path = repo / "schema" / "account.yaml"
    path.write_text(path.read_text().replace("label: Category", "lable: Category"))
    failed = runner.run("plan.sh", repo, **PLAN_ENV)
    assert failed.returncode == 1
    assert re.search(
        r"^::error file=schema/account\.yaml,line=\d+,title=crmform::fields\[\d\] \(category\): "
        r"unknown key 'lable'",
        failed.stdout,
        re.MULTILINE,
    )
    assert "artifact" not in runner.outputs()


# --- apply ----------------------------------------------------------------------------------


def git(cwd: Path, *args: str, env: dict[str, str]) -> str:
    done = subprocess.run(
        ["git", *args], cwd=cwd, env=env, capture_output=True, text=True, check=True
    )
    return done.stdout.strip()


@pytest.fixture
def emulator(tmp_path: Path):
    log = tmp_path / "emulator.log"
    with log.open("w") as sink:
        process = subprocess.Popen(
            [
                *(sys.executable, "-m", "crmform", "emulator", "--port", "0"),
                *("--access-key", "k", "--secret", "s", "--max-seconds", "120"),
            ],
            stderr=sink,
        )
    try:
        deadline = time.monotonic() + 20
        while not (match := re.search(r"http://127\.0\.0\.1:(\d+)", log.read_text())):
            assert process.poll() is None, log.read_text()
            assert time.monotonic() < deadline, log.read_text()
            time.sleep(0.05)
        yield f"http://127.0.0.1:{match.group(1)}"
    finally:
        process.terminate()
        process.wait(timeout=10)


@pytest.mark.slow
def test_apply_applies_the_reviewed_plan_commits_the_state_and_refuses_it_twice(
    runner: Runner, emulator: str
):
    env = runner.env
    origin = runner.tmp / "origin.git"
    git(runner.tmp, "init", "-q", "--bare", "-b", "main", str(origin), env=env)
    repo = workspace(runner.tmp)
    git(repo, "init", "-q", "-b", "main", env=env)
    git(repo, "add", ".", env=env)
    git(repo, "commit", "-qm", "schema (#7)", env=env)
    git(repo, "remote", "add", "origin", str(origin), env=env)
    git(repo, "push", "-q", "origin", "main", env=env)
    sha = git(repo, "rev-parse", "HEAD", env=env)
    # The plan run of the pull request, whose artifact the apply downloads.
    assert runner.run("plan.sh", repo, **{**PLAN_ENV, "COMMENT": "false"}).returncode == 0
    artifact = Path(runner.outputs()["artifact-dir"])
    apply_env = {
        "GITHUB_SHA": sha,
        "GITHUB_REF_NAME": "main",
        "COMMIT_STATE": "true",
        "FAKE_PR": json.dumps({"number": 7, "head": {"sha": "abc123"}, "labels": []}),
        "FAKE_ARTIFACT": "crmform-plan-prod-abc123",
        "FAKE_RUN": "99",
        "FAKE_PLAN_DIR": str(artifact),
        "GONG_BASE_URL": emulator,
        "GONG_ACCESS_KEY": "k",
        "GONG_ACCESS_KEY_SECRET": "s",
    }
    done = runner.run("apply.sh", repo, **apply_env)
    assert done.returncode == 0, done.stdout + done.stderr
    out = runner.outputs()
    assert (out["pull-request"], out["applied"]) == ("7", "true")
    result = json.loads(Path(out["result-json"]).read_text())
    assert result["ok"] is True
    assert result["summary"]["create"] == 25
    assert git(origin, "log", "-1", "--format=%s", "main", env=env) == (
        "crmform: state after applying #7 [skip ci]"
    )
    assert "crmform.state.json" in git(origin, "ls-tree", "--name-only", "main", env=env)
    calls = runner.gh_calls()
    assert calls[0][:2] == ["api", f"repos/owner/repo/commits/{sha}/pulls"]
    assert calls[-1][:3] == ["run", "download", "99"]
    assert "secret" not in done.stdout + done.stderr

    # The same plan again: its state moved on, so apply refuses and nothing is sent.
    stale = runner.run("apply.sh", repo, **apply_env)
    assert stale.returncode == 1
    assert "::error::crmform apply failed" in stale.stdout
    assert "## crmform apply failed" in runner.summary.read_text()


def test_apply_without_a_merged_pull_request_or_a_successful_plan_applies_nothing(
    runner: Runner,
):
    repo = workspace(runner.tmp)
    base = {"GITHUB_SHA": "deadbeef", "FAKE_PR": ""}
    done = runner.run("apply.sh", repo, **base)
    assert done.returncode == 1
    assert "without a merged pull request" in done.stdout
    pr = json.dumps({"number": 7, "head": {"sha": "abc123"}, "labels": []})
    missing = runner.run("apply.sh", repo, **{**base, "FAKE_PR": pr, "FAKE_RUN": ""})
    assert "No saved plan crmform-plan-prod-abc123 for PR #7" in missing.stdout
    failed = runner.run(
        "apply.sh",
        repo,
        **{**base, "FAKE_PR": pr, "FAKE_ARTIFACT": "crmform-plan-prod-abc123", "FAKE_RUN": "5"},
        FAKE_CONCLUSION="failure",
    )
    assert failed.returncode == 1
    assert "did not succeed (failure)" in failed.stdout
    assert not (repo / "crmform.state.json").exists()
