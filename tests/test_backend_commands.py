"""`crmform backend check`, `crmform state pull` and `crmform state push` through the CLI,
against each backend's real (or reference) server, configured by crmform.toml."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import httpx
import pytest
from emulated import ID, Gong


def configure(text: str) -> None:
    Path("crmform.toml").write_text(text)


def pg_toml(pg_server) -> str:
    name = f"t{uuid.uuid4().hex[:8]}"
    return f'[backend]\ntype = "pg"\nconn_str = "{pg_server.conn_str()}"\nname = "{name}"\n'


def gitlab_toml(server) -> str:
    url = f"{server.url}/api/v4/projects/7/terraform/state/s{uuid.uuid4().hex[:8]}"
    return (
        f'[backend]\ntype = "http"\naddress = "{url}"\nlock_address = "{url}/lock"\n'
        'lock_method = "POST"\nunlock_address = "' + url + '/lock"\nunlock_method = "DELETE"\n'
        'username = "ci"\npassword = "${GL_TOKEN}"\nretry_wait_min = 0.01\n'
    )


def s3_toml(s3_server) -> str:
    bucket = f"crmform-{uuid.uuid4().hex[:16]}"
    s3_server.client().create_bucket(Bucket=bucket)
    return (
        f'[backend]\ntype = "s3"\nbucket = "{bucket}"\nkey = "crm/state.json"\n'
        f'region = "us-east-1"\nendpoint_url = "{s3_server.endpoint_url}"\n'
    )


@pytest.fixture
def aws(monkeypatch):
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.setenv(name, "testing")


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["local", "pg", "http", "s3"])
def test_backend_check_passes_where_the_backend_keeps_its_promises(kind, gong: Gong, request, aws):
    text = {
        "local": lambda: '[backend]\ntype = "local"\n',
        "pg": lambda: pg_toml(request.getfixturevalue("pg_server")),
        "http": lambda: gitlab_toml(request.getfixturevalue("gitlab_http_server")),
        "s3": lambda: s3_toml(request.getfixturevalue("s3_server")),
    }[kind]()
    configure(text)
    gong.cli.env["GL_TOKEN"] = "glpat-test-token"

    done = gong.cli("backend", "check", "--writers", "4")

    assert done.code == 0, done.stdout + done.stderr
    assert "ok   4 concurrent compare-and-swap writers: 1 won, 3 refused" in done.stdout
    assert "ok   a held lock excludes a second holder" in done.stdout
    promised = "ok   a lock dies with its holder" if kind in ("local", "pg") else "n/a  a lock dies"
    assert promised in done.stdout
    assert sorted(p.name for p in Path().iterdir()) == ["crmform.toml", "schema"]


def test_backend_check_without_a_config_says_so(gong: Gong):
    done = gong.cli("backend", "check")
    assert done.code == 1
    assert "No crmform.toml here" in done.stderr


def test_push_moves_the_committed_state_into_the_backend_and_pull_prints_it(gong: Gong, pg_server):
    gong.write("ACCOUNT", "tier")
    assert gong.apply("--auto-approve").code == 0  # the committed state file
    local = json.loads(Path("crmform.state.json").read_text())
    configure(pg_toml(pg_server))

    pushed = gong.cli("state", "push", "crmform.state.json")
    assert pushed.code == 0, pushed.stderr
    assert f"serial 0 -> 1, lineage {local['lineage']}, 1 object types." in pushed.stdout

    pulled = gong.cli("state", "pull")
    assert pulled.code == 0, pulled.stderr
    doc = json.loads(pulled.stdout)
    assert (doc["lineage"], doc["objects"]) == (local["lineage"], local["objects"])

    Path("crmform.state.json").unlink()
    again = gong.apply("--auto-approve")  # from the backend now: nothing to do
    assert again.code == 0, again.stderr
    assert len(gong.posts()) == 1


def test_push_refuses_another_lineage_or_an_older_serial_unless_forced(gong: Gong, pg_server):
    gong.write("ACCOUNT", "tier")
    assert gong.apply("--auto-approve").code == 0
    configure(pg_toml(pg_server))
    assert gong.cli("state", "push", "crmform.state.json").code == 0  # stored: serial 1
    doc = json.loads(Path("crmform.state.json").read_text())
    Path("old.json").write_text(json.dumps({**doc, "serial": 0}))
    older = gong.cli("state", "push", "old.json")
    assert older.code == 1
    assert "old.json (serial 0): the state" in older.stderr
    assert "is newer (serial 1). Nothing was written" in older.stderr

    other = Path("other.json")
    doc = json.loads(Path("crmform.state.json").read_text())
    doc.update(lineage=str(uuid.uuid4()), serial=9)
    other.write_text(json.dumps(doc))
    refused = gong.cli("state", "push", "other.json")
    assert refused.code == 1
    assert "they are different states" in refused.stderr
    assert gong.cli("state", "push", "other.json", "--force").code == 0


MANAGED_TOML = Path(__file__).parents[1] / "examples/ci/gitlab-managed-state/crmform.toml"


@pytest.mark.slow
def test_the_gitlab_recipes_crmform_toml_keeps_each_environments_state_in_gitlab(
    gong: Gong, gitlab_http_server
):
    # The recipe's file as shipped, with the variables a GitLab job has (CI_JOB_TOKEN is the
    # password the reference server accepts) and the recipe's own CI/CD variables.
    configure(MANAGED_TOML.read_text())
    project = f"{uuid.uuid4().int % 10**6}"
    gong.cli.env.update(
        CI_API_V4_URL=f"{gitlab_http_server.url}/api/v4",
        CI_PROJECT_ID=project,
        CI_JOB_TOKEN="glpat-test-token",
        GONG_PRODUCTION_INTEGRATION_ID="6286478263646",
        GONG_SANDBOX_INTEGRATION_ID="6286478263646",
    )
    gong.write("ACCOUNT", "tier")

    done = gong.cli("apply", "--env", "production", "--auto-approve")

    assert done.code == 0, done.stderr
    address = f"{gitlab_http_server.url}/api/v4/projects/{project}/terraform/state"
    assert f"Environment: production (state {address}/crmform-production)" in done.stderr
    stored = httpx.get(
        f"{address}/crmform-production", auth=("gitlab-ci-token", "glpat-test-token")
    )
    assert stored.status_code == 200
    assert [f["uniqueName"] for f in stored.json()["objects"][f"gong/{ID}/ACCOUNT"]["fields"]] == [
        "tier"
    ]
    # The sandbox has a state of its own: nothing was applied there.
    sandbox = gong.cli("plan", "--env", "sandbox", "--detailed-exitcode")
    assert sandbox.code == 2, sandbox.stderr
    assert gong.cli("plan", "--env", "production", "--detailed-exitcode").code == 0
    assert sorted(p.name for p in Path().iterdir()) == ["crmform.toml", "schema"]
