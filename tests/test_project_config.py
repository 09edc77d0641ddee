"""crmform.toml: reading it (engine/config/project.py), its JSON Schema, and the CLI using
the backend it configures, end to end against the emulator and real backend servers."""

from __future__ import annotations

import json
import tomllib
import uuid
from pathlib import Path

import jsonschema
import pytest
from emulated import Gong
from test_render import check_golden, destroy_plan, empty_plan, mixed_plan

from crmform.engine.config.project import (
    BackendType,
    ProjectError,
    find_project,
    load_project,
    schema_text,
)

PG = """\
schema_dir = "schema"
lock_timeout = 12

[backend]
type = "pg"
conn_str = "${PG_URL}"

[env.sandbox]
state = "sandbox"
gong_base_url = "https://sandbox.api.gong.test"
integration_id_var = "SANDBOX_ID"
"""


def load(text: str, env: dict[str, str] | None = None, name: str = ""):
    return load_project(text, Path("/repo/crmform.toml"), env or {}, name)


def test_a_pg_project_is_read_into_typed_settings():
    project = load(PG, {"PG_URL": "host=db"})

    assert project.backend.type is BackendType.PG
    assert project.backend.keys == (("conn_str", "host=db"),)
    assert project.schema_dir == Path("/repo/schema")
    assert project.lock_timeout == 12.0
    assert project.environment is None
    assert project.environments == ("sandbox",)


def test_an_environment_sets_the_state_name():
    project = load(PG, {"PG_URL": "host=db"}, "sandbox")

    assert project.backend.get("name") == "sandbox"
    assert project.environment is not None
    assert project.environment.gong_base_url == "https://sandbox.api.gong.test"


def test_every_backend_key_can_come_from_crmform_backend_variables():
    project = load(
        '[backend]\ntype = "s3"\n', {"CRMFORM_BACKEND_BUCKET": "b", "CRMFORM_BACKEND_KEY": "k"}
    )
    assert project.backend.keys == (("bucket", "b"), ("key", "k"))


def test_http_environments_go_where_the_addresses_say_state():
    text = (
        '[backend]\ntype = "http"\naddress = "https://gl/api/v4/projects/1/terraform/state/{state}"\n'
        'lock_address = "https://gl/api/v4/projects/1/terraform/state/{state}/lock"\n'
        '[env.prod]\nstate = "crm-prod"\n'
    )
    project = load(text, name="prod")
    assert project.backend.get("lock_address").endswith("/state/crm-prod/lock")


@pytest.mark.parametrize(
    ("text", "env", "message"),
    [
        (
            '[backend]\ntype = "pg"\nconn_str = "x"\nhost = "db"\n',
            {},
            ":4: backend.host unknown key for type pg; known keys: conn_str, name, schema_name.",
        ),
        (
            '[backend]\ntype = "pg"\n',
            {},
            ":1: backend.conn_str is required for type pg (in the file or as "
            "CRMFORM_BACKEND_CONN_STR).",
        ),
        (
            '[backend]\ntype = "pg"\nconn_str = "${NOPE}"\n',
            {},
            ":3: backend.conn_str uses ${NOPE}, which is not set.",
        ),
        (
            'schema_dirs = "x"\n',
            {},
            ":1: schema_dirs unknown key; known keys: backend, env, lock_timeout, schema_dir.",
        ),
        (
            '[backend]\ntype = "http"\naddress = "a"\nlock_address = "b"\npassword = "hunter2"\n',
            {},
            ":5: backend.password must come from the environment",
        ),
        (
            '[backend]\ntype = "ftp"\n',
            {},
            ":2: backend.type must be one of local | pg | http | s3.",
        ),
        ('[env.qa]\nstate = "qa"\ncolour = "red"\n', {}, ":3: env.qa.colour unknown key"),
    ],
)
def test_problems_name_the_file_the_line_and_the_key(text, env, message):
    with pytest.raises(ProjectError) as caught:
        load(text, env)
    assert str(caught.value).startswith("/repo/crmform.toml")
    assert message in str(caught.value)


def test_an_unknown_environment_names_those_there_are():
    with pytest.raises(
        ProjectError, match=r"no environment 'prod' .* environments in the file: sandbox\."
    ):
        load(PG, {"PG_URL": "x"}, "prod")


def test_the_file_is_found_in_the_nearest_parent(tmp_path):
    (tmp_path / "crmform.toml").write_text("")
    (tmp_path / "a" / "b").mkdir(parents=True)
    assert find_project(tmp_path / "a" / "b") == tmp_path / "crmform.toml"


def test_the_json_schema_accepts_the_documented_examples_and_refuses_a_literal_password():
    schema = json.loads(schema_text())
    jsonschema.Draft202012Validator.check_schema(schema)
    validator = jsonschema.Draft202012Validator(schema)
    assert list(validator.iter_errors(tomllib.loads(PG))) == []
    bad = tomllib.loads(
        '[backend]\ntype = "http"\naddress = "a"\nlock_address = "b"\npassword = "x"\n'
    )
    assert list(validator.iter_errors(bad)) != []


# -- the CLI ---------------------------------------------------------------------------------


def test_without_a_file_the_local_state_file_is_used_as_before(gong: Gong):
    gong.write("ACCOUNT", "tier")
    assert gong.apply("--auto-approve").code == 0
    assert Path("crmform.state.json").is_file()


def test_apply_stores_the_state_in_postgresql_and_names_the_environment(gong: Gong, pg_server):
    name = f"t{uuid.uuid4().hex[:8]}"
    Path("crmform.toml").write_text(
        '[backend]\ntype = "pg"\nconn_str = "${PG_URL}"\n'
        f'[env.sandbox]\nstate = "{name}"\nintegration_id_var = "SANDBOX_ID"\n'
    )
    gong.cli.env.update(
        PG_URL=pg_server.conn_str(), SANDBOX_ID=str(gong_id()), CRMFORM_ENV="sandbox"
    )
    gong.write("ACCOUNT", "tier")

    done = gong.apply("--auto-approve")

    assert done.code == 0, done.stderr
    assert f"Environment: sandbox (state {name} (PostgreSQL" in done.stderr
    assert not Path("crmform.state.json").exists()
    from crmform.state.pg import PgState

    backend = PgState(pg_server.conn_str(), name=name)
    try:
        assert [f.unique_name for f in backend.read().objects[0].fields] == ["tier"]
    finally:
        backend.close()
    again = gong.apply("--auto-approve")
    assert again.code == 0, again.stderr
    assert len(gong.posts()) == 1  # the second run read the state from PostgreSQL: no changes


@pytest.mark.parametrize("command", ["validate", "plan", "apply"])
def test_the_files_schema_dir_is_the_default_dir_of_every_command(gong: Gong, command: str):
    Path("crmform.toml").write_text('schema_dir = "schema"\n')
    gong.write("ACCOUNT", "tier")
    done = gong.cli(command, *(["--auto-approve"] if command == "apply" else []))
    assert done.code == 0, done.stderr
    if command == "apply":
        assert [f["uniqueName"] for f in gong.last_upload()] == ["tier"]


def test_state_forces_the_local_file_whatever_the_file_says(gong: Gong, gitlab_http_server):
    Path("crmform.toml").write_text(
        f'[backend]\ntype = "http"\naddress = "{gitlab_http_server.url}/x"\n'
        f'lock_address = "{gitlab_http_server.url}/x/lock"\n'
    )
    gong.write("ACCOUNT", "tier")
    assert gong.apply("--auto-approve", "--state", "mine.json").code == 0
    assert Path("mine.json").is_file()


def gong_id() -> int:
    from emulated import ID

    return ID


def test_crmform_schema_config_prints_the_shipped_schema(gong: Gong):
    done = gong.cli("schema", "config")
    assert done.code == 0
    assert json.loads(done.stdout)["title"] == "crmform.toml"


# -- environments named in every plan and apply output; saved plans bound to theirs -------

TWO_ENVS = (
    '[backend]\ntype = "local"\n'
    '[env.staging]\nstate = "staging.state.json"\n'
    '[env.production]\nstate = "production.state.json"\n'
)


ENV_PLANS = {"destroy": destroy_plan, "empty": empty_plan}


@pytest.mark.parametrize("name", ["destroy", "empty"])
def test_text_markdown_and_json_name_the_environment(name):
    """Golden files: the environment is the first line of the text, in the Markdown heading
    and an "environment" key of the JSON; the rest is byte for byte the no-environment
    output (tests/golden/plan_<name>.*)."""
    from crmform.engine.formats.plan_json import plan_to_json
    from crmform.engine.model import replace
    from crmform.engine.render.markdown import render_markdown
    from crmform.engine.render.text import render_text

    plain = ENV_PLANS[name]()
    named = replace(plain, environment="production")
    text = render_text(named, color=False) + "\n"
    check_golden(f"plan_env_{name}.txt", text)
    assert text == "Environment: production\n\n" + render_text(plain, color=False) + "\n"
    markdown = render_markdown(named) + "\n"
    check_golden(f"plan_env_{name}.md", markdown)
    assert markdown.split("\n")[1].startswith("## crmform plan for `production`: ")
    assert markdown.replace(" for `production`", "", 1) == render_markdown(plain) + "\n"
    doc = plan_to_json(named)
    check_golden(f"plan_env_{name}.json", json.dumps(doc, indent=2, ensure_ascii=False) + "\n")
    assert list(doc)[:3] == ["format_version", "environment", "state"]
    assert {k: v for k, v in doc.items() if k != "environment"} == plan_to_json(plain)
    assert "environment" not in plan_to_json(plain)
    from crmform.engine.formats.schemas import output_schema_text

    validator = jsonschema.Draft202012Validator(json.loads(output_schema_text("plan")))
    assert list(validator.iter_errors(doc)) == []


def test_the_environment_line_is_bold_only_with_colour():
    from crmform.engine.model import replace
    from crmform.engine.render.text import render_text

    named = replace(empty_plan(), environment="staging")
    assert render_text(named, color=True).startswith("\x1b[1mEnvironment: staging\x1b[0m\n\n")


def test_a_saved_plan_keeps_its_environment_under_its_checksum():
    from crmform.engine.errors import PlanError
    from crmform.engine.formats import planfile
    from crmform.engine.model import replace

    named = replace(mixed_plan(), environment="production")
    text = planfile.dumps(named)
    assert planfile.loads(text, "p.plan") == named
    assert planfile.loads(planfile.dumps(mixed_plan()), "p.plan").environment == ""
    edited = text.replace('"environment": "production"', '"environment": "staging"')
    with pytest.raises(PlanError, match="was modified after crmform saved it"):
        planfile.loads(edited, "p.plan")


def test_a_plan_file_saved_before_environments_loads_as_made_without_one():
    """An old file has no "environment" key: it is exactly what is saved without one."""
    from crmform.engine.formats import planfile

    doc = json.loads(planfile.dumps(mixed_plan()))
    assert "environment" not in doc
    assert planfile.loads(json.dumps(doc), "old.plan").environment == ""


def _two_environments(gong: Gong) -> None:
    Path("crmform.toml").write_text(TWO_ENVS)
    gong.write("ACCOUNT", "tier")


def test_plan_show_and_apply_name_the_selected_environment(gong: Gong):
    from crmform.engine.formats.schemas import output_schema_text

    _two_environments(gong)
    planned = gong.cli("plan", gong.dir, "--env", "production", "--out", "prod.plan")
    assert planned.code == 0, planned.stderr
    assert planned.stdout.startswith("Environment: production\n\n# gong/6286478263646/ACCOUNT\n")
    assert json.loads(Path("prod.plan").read_text())["environment"] == "production"
    shown = gong.cli("show", "prod.plan")
    assert shown.stdout == planned.stdout
    as_json = gong.cli("show", "prod.plan", "--format", "json")
    assert json.loads(as_json.stdout)["environment"] == "production"
    markdown = gong.cli("plan", gong.dir, "--env", "production", "--format", "markdown")
    assert markdown.stdout.split("\n")[1] == (
        "## crmform plan for `production`: 1 to create, 0 to update, 0 to replace, 0 to delete"
    )

    gong.cli.env["CRMFORM_ENV"] = "production"
    done = gong.cli("apply", "prod.plan", "--auto-approve", "--format", "json")
    assert done.code == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["environment"] == "production"
    validator = jsonschema.Draft202012Validator(json.loads(output_schema_text("apply-result")))
    assert list(validator.iter_errors(result)) == []
    assert "\nEnvironment: production\n\n# gong/6286478263646/ACCOUNT\n" in done.stderr
    assert json.loads(Path("production.state.json").read_text())["serial"] == 2
    text = gong.apply("--auto-approve")  # from the files, with CRMFORM_ENV
    assert text.stdout == ("Environment: production\n\nNo changes. The schema matches the state.\n")


def test_without_an_environment_the_outputs_have_no_environment(gong: Gong):
    _two_environments(gong)
    planned = gong.cli("plan", gong.dir, "--format", "json", "--out", "plain.plan")
    assert "environment" not in json.loads(planned.stdout)
    assert "environment" not in json.loads(Path("plain.plan").read_text())
    done = gong.cli("apply", "plain.plan", "--auto-approve", "--format", "json")
    assert done.code == 0, done.stderr
    assert "environment" not in json.loads(done.stdout)
    assert "Environment:" not in done.stderr


@pytest.mark.parametrize(
    ("planned", "selected", "message"),
    [
        (
            "production",
            "staging",
            "Error: The saved plan saved.plan was made for environment production, but this "
            "run targets environment staging (--env / CRMFORM_ENV). Nothing was sent and the "
            "state was not changed. Apply it with --env production, or run `crmform plan "
            "--env staging` and apply that plan.\n",
        ),
        (
            "production",
            "",
            "Error: The saved plan saved.plan was made for environment production, but this "
            "run targets no environment (neither --env nor CRMFORM_ENV is given). Nothing was "
            "sent and the state was not changed. Apply it with --env production.\n",
        ),
        (
            "",
            "staging",
            "Error: The saved plan saved.plan was made without an environment, but this run "
            "targets environment staging (--env / CRMFORM_ENV). Nothing was sent and the "
            "state was not changed. Apply it with no environment, or run `crmform plan --env "
            "staging` and apply that plan.\n",
        ),
    ],
)
@pytest.mark.parametrize("dry_run", [False, True])
def test_a_saved_plan_is_refused_under_another_environment(
    gong: Gong, planned: str, selected: str, message: str, dry_run: bool
):
    _two_environments(gong)
    choose = ["--env", planned] if planned else []
    assert gong.cli("plan", gong.dir, *choose, "--out", "saved.plan").code == 0
    states = sorted(p.name for p in Path().glob("*.state.json*"))
    other = ["--env", selected] if selected else []
    flags = ["--dry-run"] if dry_run else ["--format", "json"]

    refused = gong.cli("apply", "saved.plan", "--auto-approve", *other, *flags)

    assert refused.code == 1
    assert refused.stdout == ""
    assert refused.stderr.endswith(message)
    assert "Traceback" not in refused.stderr
    assert gong.emulator.requests == []  # not even a read of Gong
    assert sorted(p.name for p in Path().glob("*.state.json*")) == states  # nothing written
    assert not Path("crmform.state.json.lock").exists()


def test_refresh_and_import_name_the_environment_first(gong: Gong):
    _two_environments(gong)
    assert gong.apply("--auto-approve", "--env", "staging").code == 0
    refreshed = gong.cli("refresh", gong.dir, "--env", "staging")
    assert refreshed.code == 0, refreshed.stderr
    assert refreshed.stdout.startswith("Environment: staging\n\n")
    imported = gong.cli("import", "--integration-id", "6286478263646", "--env", "production")
    assert imported.code == 0, imported.stderr
    assert imported.stdout.startswith(
        "Environment: production\n\nImported Gong's schema into the state "
    )
    assert "Environment:" not in gong.cli("refresh", gong.dir).stdout
