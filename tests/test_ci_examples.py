"""The CI recipes in examples/ci, the GitHub Action and the pre-commit hooks: every crmform
command and flag they use exists.

Each `crmform ...` command line in a run/script step (for the GitHub recipe: in the Action
it uses, action.yml and action/*.sh) is checked against the real click command tree:
subcommands, options, the number of arguments, and literal choice values. The scripts are
also syntax-checked with `bash -n`, and the YAML files against the public schemas that
check-jsonschema ships (offline).
"""

from __future__ import annotations

import json
import re
import shlex
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import click
import pytest
import yaml

from crmform.cli import cli

ROOT = Path(__file__).resolve().parent.parent
CI = ROOT / "examples" / "ci"
GITHUB = CI / "github-actions.yml"
GITLAB = CI / "gitlab-ci.yml"
# The same flow with GitLab-managed state: crmform.toml beside it configures the backend.
MANAGED = CI / "gitlab-managed-state" / "gitlab-ci.yml"
MANAGED_TOML = MANAGED.with_name("crmform.toml")
ACTION = ROOT / "action.yml"
ACTION_SCRIPTS = sorted((ROOT / "action").glob("*.sh"))
HOOKS = ROOT / ".pre-commit-hooks.yaml"
# "${extra[@]}": flags the user passes through; nothing to check here.
SPLAT = re.compile(r"\$\{\w+\[@\]\}")
# Where a word is in command position, so `crmform` there runs crmform.
BOUNDARIES = {None, ";", "&&", "||", "|", "(", "then", "do", "else", "if", "!", "{"}
GITLAB_KEYWORDS = {"variables", "stages", "default", "include", "workflow"}


def load(path: Path) -> dict:
    doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert isinstance(doc, dict)
    return doc


def github_scripts() -> list[str]:
    """The recipe's run steps, and those of the Action it uses with the scripts they run."""
    jobs = load(GITHUB)["jobs"]
    scripts = [step["run"] for job in jobs.values() for step in job["steps"] if "run" in step]
    scripts += [step["run"] for step in load(ACTION)["runs"]["steps"] if "run" in step]
    return scripts + [p.read_text(encoding="utf-8") for p in ACTION_SCRIPTS]


def gitlab_jobs(path: Path = GITLAB) -> dict[str, dict]:
    return {k: v for k, v in load(path).items() if k not in GITLAB_KEYWORDS}


def gitlab_scripts(path: Path = GITLAB) -> list[str]:
    doc = load(path)
    jobs = [*gitlab_jobs(path).values(), doc["default"]]
    parts = [j.get(key, []) for j in jobs for key in ("before_script", "script", "after_script")]
    # A script line with ": " in it parses as a mapping unless quoted; GitLab rejects that.
    assert all(isinstance(line, str) for lines in parts for line in lines)
    # GitLab runs a job's lines in one shell, so each job's script is checked as a whole.
    return ["\n".join(lines) for lines in parts if lines]


SCRIPTS = {
    "github": github_scripts,
    "gitlab": gitlab_scripts,
    "gitlab-managed": lambda: gitlab_scripts(MANAGED),
}
RECIPES = {"github": ACTION, "gitlab": GITLAB, "gitlab-managed": MANAGED}


def command_lines(script: str) -> Iterator[list[str]]:
    """The words of every crmform invocation in a shell script, up to its end or redirect."""
    script = script.replace("\\\n", " ")
    for line in script.splitlines():
        lexer = shlex.shlex(line, posix=True, punctuation_chars=True)
        lexer.whitespace_split = True
        tokens = list(lexer)
        for i, token in enumerate(tokens):
            before = tokens[i - 1] if i else None
            if token != "crmform" or before not in BOUNDARIES:
                continue
            words: list[str] = []
            rest = tokens[i + 1 :]
            for j, word in enumerate(rest):
                redirect_fd = word.isdigit() and j + 1 < len(rest) and rest[j + 1][0] in "<>"
                if word[0] in ";&|<>()" or redirect_fd:
                    break
                words.append(word)
            yield words


def check(words: list[str]) -> list[str]:
    """Problems with one invocation, judged against the click command tree."""
    command: click.Command = cli
    path = ["crmform"]
    rest = list(words)
    while isinstance(command, click.Group) and rest and not rest[0].startswith("-"):
        name = rest.pop(0)
        sub = command.get_command(click.Context(command), name)
        if sub is None:
            return [f"{' '.join(path)}: no command {name!r}"]
        command, path = sub, [*path, name]
    problems = []
    options: dict[str, click.Option | None] = {
        o: p for p in command.params if isinstance(p, click.Option) for o in p.opts
    }
    options.update({"-h": None, "--help": None})
    positional = 0
    while rest:
        word = rest.pop(0)
        if SPLAT.fullmatch(word):
            continue
        if not word.startswith("-") or word == "-":
            positional += 1
            continue
        flag, has_value, value = word.partition("=")
        if flag not in options:
            problems.append(f"{' '.join(path)}: no option {flag}")
            continue
        option = options[flag]
        if option is None or option.is_flag:
            continue
        if not has_value:
            value = rest.pop(0) if rest else ""
        choices = option.type.choices if isinstance(option.type, click.Choice) else None
        if choices is not None and not value.startswith("$") and value not in choices:
            problems.append(f"{' '.join(path)}: {flag} {value!r} is not a choice")
    arguments = [p for p in command.params if isinstance(p, click.Argument)]
    if any(a.nargs == -1 for a in arguments):
        return problems
    if positional > sum(a.nargs for a in arguments):
        problems.append(f"{' '.join(path)}: {positional} arguments for {len(arguments)}")
    return problems


def used() -> dict[str, list[list[str]]]:
    return {
        name: [words for script in scripts() for words in command_lines(script)]
        for name, scripts in SCRIPTS.items()
    }


@pytest.mark.parametrize("path", [GITHUB, GITLAB, MANAGED])
def test_examples_are_yaml_mappings(path: Path):
    assert load(path)


@pytest.mark.parametrize("name", sorted(SCRIPTS))
def test_every_crmform_command_and_flag_in_the_examples_exists(name: str):
    invocations = used()[name]
    assert [p for words in invocations for p in check(words)] == []
    # The recipe does the whole job: validate, plan, render, apply, check the result.
    commands = {words[0] for words in invocations}
    assert commands == {"validate", "plan", "show", "apply"}
    flags = {w for words in invocations for w in words if w.startswith("--")}
    assert {
        "--out",
        "--format",
        "--auto-approve",
        "--allow-destroy",
        "--detailed-exitcode",
    } <= flags


def test_the_checker_catches_what_does_not_exist():
    assert check(["plan", "dir", "--format", "yaml"]) == [
        "crmform plan: --format 'yaml' is not a choice"
    ]
    assert check(["aply", "x"]) == ["crmform: no command 'aply'"]
    assert check(["apply", "p", "--yes"]) == ["crmform apply: no option --yes"]
    assert check(["show", "a", "b"]) == ["crmform show: 2 arguments for 1"]
    assert check(["state", "list", "--state=s.json"]) == []
    script = (
        'x=1; crmform plan "$D" \\\n --out p > plan.json && crmform show p 2>&1\n'
        "echo crmform here; if true; then crmform validate; fi"
    )
    assert list(command_lines(script)) == [
        ["plan", "$D", "--out", "p"],
        ["show", "p"],
        ["validate"],
    ]


@pytest.mark.parametrize("name", sorted(SCRIPTS))
def test_allow_destroy_is_passed_only_behind_the_approval_label(name: str):
    scripts = "\n".join(SCRIPTS[name]())
    for script in SCRIPTS[name]():
        for line in script.splitlines():
            if "--allow-destroy" in line and "crmform apply" in line:
                block = script[: script.index(line)]
                condition = block.rsplit("if ", 1)[-1]
                assert re.search(r'"\$(ALLOW_DESTROY|allow)" = "true"', condition), line
    recipe = RECIPES[name].read_text()
    assert "crmform:allow-destroy" in recipe
    assert scripts.count("--allow-destroy") == 1


@pytest.mark.parametrize("name", sorted(SCRIPTS))
def test_apply_uses_the_saved_plan_unattended(name: str):
    applies = [w for w in used()[name] if w[0] == "apply"]
    assert applies
    for words in applies:
        assert words[1] in ("reviewed/crmform.plan", "$plan")  # the downloaded saved plan
        assert "--auto-approve" in words


def test_every_crmform_variable_the_examples_set_is_a_real_option():
    known = {
        p.envvar
        for cmd in _all_commands(cli)
        for p in cmd.params
        if isinstance(p, click.Option) and isinstance(p.envvar, str)
    }
    for path in (ACTION, *ACTION_SCRIPTS, GITLAB, MANAGED):
        names = set(re.findall(r"\bCRMFORM_[A-Z_]+", path.read_text()))
        assert names
        assert names <= known, path.name


def _all_commands(group: click.Group) -> Iterator[click.Command]:
    ctx = click.Context(group)
    for name in group.list_commands(ctx):
        command = group.get_command(ctx, name)
        assert command is not None
        yield command
        if isinstance(command, click.Group):
            yield from _all_commands(command)


def test_github_secrets_come_from_the_secret_store_and_only_apply_sees_them():
    text = GITHUB.read_text()
    doc = load(GITHUB)
    plan, apply = doc["jobs"]["plan"], doc["jobs"]["apply"]
    assert "secrets." not in yaml.safe_dump(plan)
    env = {k: v for step in apply["steps"] for k, v in step.get("env", {}).items()}
    assert env["GONG_ACCESS_KEY"] == "${{ secrets.GONG_ACCESS_KEY }}"
    assert env["GONG_ACCESS_KEY_SECRET"] == "${{ secrets.GONG_ACCESS_KEY_SECRET }}"
    assert env["GONG_BASE_URL"] == "${{ vars.GONG_BASE_URL }}"
    assert "GONG_ACCESS_KEY" not in doc.get("env", {})
    # No expression is pasted into a shell script (a title or label could inject commands).
    assert all("${{" not in script for script in github_scripts())
    assert text.count("secrets.") == 2


def test_github_triggers_and_one_apply_at_a_time():
    doc = load(GITHUB)
    on = doc[True]  # YAML 1.1 reads the key `on` as true
    assert "labeled" in on["pull_request"]["types"]
    assert on["push"] == {"branches": ["main"]}
    apply = doc["jobs"]["apply"]
    assert apply["concurrency"] == {"group": "crmform-apply", "cancel-in-progress": False}
    checkout = apply["steps"][0]
    assert checkout["uses"].startswith("actions/checkout@")
    assert checkout["with"]["ref"] == "main"  # the newest state, not the pushed commit's
    assert checkout["with"]["fetch-depth"] == 0  # apply.sh checks out the merged commit
    assert doc["jobs"]["plan"]["if"] == "github.event_name == 'pull_request'"
    assert apply["if"] == "github.event_name == 'push'"


def test_gitlab_secrets_are_ci_variables_and_applies_never_overlap():
    doc = load(GITLAB)
    assert not {"GONG_ACCESS_KEY", "GONG_ACCESS_KEY_SECRET", "GITLAB_API_TOKEN"} & set(
        doc["variables"]
    )
    jobs = gitlab_jobs()
    assert jobs["crmform-apply"]["resource_group"] == "crmform-apply"
    assert jobs["crmform-apply"]["interruptible"] is False
    assert "GITLAB_API_TOKEN" not in "\n".join(jobs["crmform-plan"]["script"])
    assert jobs["crmform-plan"]["rules"] == [{"if": '$CI_PIPELINE_SOURCE == "merge_request_event"'}]
    assert "crmform.plan" in jobs["crmform-plan"]["artifacts"]["paths"]


@pytest.mark.skipif(shutil.which("bash") is None, reason="needs bash")
@pytest.mark.parametrize("name", sorted(SCRIPTS))
def test_scripts_are_valid_bash(name: str):
    for script in SCRIPTS[name]():
        checked = subprocess.run(
            ["bash", "-n"], input=script, capture_output=True, text=True, timeout=30
        )
        assert checked.returncode == 0, f"{checked.stderr}\n{script}"


def test_the_recipe_uses_the_action_pinned_to_one_version():
    doc = load(GITHUB)
    uses = [s["uses"] for job in doc["jobs"].values() for s in job["steps"] if "uses" in s]
    ours = [u for u in uses if "/crmform@" in u]
    assert ours == ["crmform/crmform@v0.1.0", "crmform/crmform@v0.1.0"]
    commands = [
        s["with"]["command"]
        for job in doc["jobs"].values()
        for s in job["steps"]
        if "/crmform@" in s.get("uses", "")
    ]
    assert commands == ["plan", "apply"]


def test_the_action_uses_no_third_party_actions_and_pastes_no_expression_into_a_script():
    steps = load(ACTION)["runs"]["steps"]
    used = {s["uses"].split("@")[0] for s in steps if "uses" in s}
    assert used <= {"actions/setup-python", "actions/upload-artifact"}
    assert all("${{" not in s["run"] for s in steps if "run" in s)
    outputs = load(ACTION)["outputs"]
    assert {"has-changes", "destroys-data"} <= set(outputs)


def test_every_crmform_command_the_pre_commit_hooks_run_exists():
    hooks = yaml.safe_load(HOOKS.read_text(encoding="utf-8"))
    for hook in hooks:
        program, *words = shlex.split(hook["entry"])
        assert program == "crmform"
        assert check([*words, *hook.get("args", [])]) == [], hook["id"]


def _check_jsonschema() -> str:
    found = shutil.which("check-jsonschema", path=str(Path(sys.executable).parent))
    if found is None:
        pytest.skip("check-jsonschema is not installed (pip install -e '.[test]')")
    return found


@pytest.mark.parametrize(
    ("schema", "paths"),
    [
        ("vendor.github-actions", [ACTION]),
        (
            "vendor.github-workflows",
            [GITHUB, *sorted((ROOT / ".github" / "workflows").glob("*.yml"))],
        ),
        ("vendor.gitlab-ci", [GITLAB, MANAGED]),
    ],
)
def test_the_yaml_files_validate_against_the_public_schemas_offline(schema, paths):
    # The builtin schemas are vendored in check-jsonschema: nothing is downloaded.
    done = subprocess.run(
        [_check_jsonschema(), "--builtin-schema", schema, *map(str, paths)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr


def _report_command() -> str:
    script = gitlab_jobs()["crmform-plan"]["script"]
    lines = [line.strip() for line in script if line.strip().startswith("jq '{create")]
    assert len(lines) == 1
    return lines[0]


def test_gitlab_feeds_the_merge_request_widget_a_terraform_report():
    artifacts = gitlab_jobs()["crmform-plan"]["artifacts"]
    assert artifacts["reports"] == {"terraform": "gitlab-plan-report.json"}
    assert _report_command().endswith("plan.json > gitlab-plan-report.json")


@pytest.mark.skipif(shutil.which("jq") is None, reason="needs jq, as the recipe's image has")
@pytest.mark.parametrize(
    ("golden", "report"),
    [
        ("plan_mixed.json", {"create": 4, "update": 3, "delete": 2}),
        ("plan_destroy.json", {"create": 1, "update": 0, "delete": 2}),
        ("plan_empty.json", {"create": 0, "update": 0, "delete": 0}),
    ],
)
def test_the_report_counts_a_replace_as_a_create_and_a_delete(golden, report):
    # The recipe's own jq line, run on golden JSON plans (tests/golden).
    program = shlex.split(_report_command().split(" plan.json >")[0])[1]
    plan = (ROOT / "tests" / "golden" / golden).read_text()
    summary = json.loads(plan)["summary"]
    done = subprocess.run(
        ["jq", "-c", program], input=plan, capture_output=True, text=True, check=True
    )
    assert json.loads(done.stdout) == report
    assert report["create"] - report["delete"] == summary["create"] - summary["delete"]
