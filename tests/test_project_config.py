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
