"""Every backend passes state/conformance.py: one test per check and backend.

A backend joins by adding a fixture to BACKENDS that returns a MakeBackend bound to a
fresh, empty stored state (a new directory, state name, key or URL per test).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from pg_server import PgServer

from crmform.state.conformance import CHECKS, MakeBackend, Traits
from crmform.state.local import LocalState


@pytest.fixture
def local(tmp_path: Path) -> tuple[MakeBackend, Traits]:
    return (lambda: LocalState(tmp_path / "crmform.state.json")), Traits()


@pytest.fixture
def local_without_flock(tmp_path: Path) -> tuple[MakeBackend, Traits]:
    return (lambda: LocalState(tmp_path / "crmform.state.json", flock=False)), Traits()


@pytest.fixture
def pg(pg_server: PgServer) -> Iterator[tuple[MakeBackend, Traits]]:
    from crmform.state.pg import PgState

    name, handles = f"test-{uuid.uuid4()}", []

    def make() -> PgState:
        handles.append(PgState(pg_server.conn_str(), name=name))
        return handles[-1]

    yield make, Traits()
    for handle in handles:
        handle.close()


@pytest.fixture
def http_terraform(terraform_http_server) -> Iterator[tuple[MakeBackend, Traits]]:
    from crmform.state.http import HttpSettings, HttpState
    from crmform.state.http_wire import RetryPolicy

    url = f"{terraform_http_server.url}/state/{uuid.uuid4()}"
    settings = HttpSettings(
        address=url, lock_address=url, unlock_address=url, retry=RetryPolicy(2, 0.01, 0.05)
    )
    handles: list[HttpState] = []

    def make() -> HttpState:
        handles.append(HttpState(settings))
        return handles[-1]

    yield make, Traits()
    for handle in handles:
        handle.close()


@pytest.fixture
def http_gitlab(gitlab_http_server) -> Iterator[tuple[MakeBackend, Traits]]:
    from crmform.state.http import HttpSettings, HttpState
    from crmform.state.http_wire import RetryPolicy

    url = f"{gitlab_http_server.url}/api/v4/projects/7/terraform/state/{uuid.uuid4()}"
    settings = HttpSettings(
        address=url,
        lock_address=f"{url}/lock",
        lock_method="POST",
        unlock_address=f"{url}/lock",
        unlock_method="DELETE",
        username="gitlab-ci-token",
        password="glpat-test-token",
        retry=RetryPolicy(2, 0.01, 0.05),
    )
    handles: list[HttpState] = []

    def make() -> HttpState:
        handles.append(HttpState(settings))
        return handles[-1]

    # GitLab keeps only the holder's id, its own user name and the time.
    yield make, Traits(holder_process=False)
    for handle in handles:
        handle.close()


@pytest.fixture
def s3(s3_server) -> Iterator[tuple[MakeBackend, Traits]]:
    from crmform.state.s3 import S3Settings, S3State

    bucket = f"crmform-{uuid.uuid4().hex[:20]}"
    s3_server.client().create_bucket(Bucket=bucket)
    handles: list[S3State] = []

    def make() -> S3State:
        settings = S3Settings(
            bucket, "team/crmform.state.json", endpoint_url=s3_server.endpoint_url
        )
        handles.append(S3State(settings, client=s3_server.client()))
        return handles[-1]

    yield make, Traits()
    for handle in handles:
        handle.close()


BACKENDS = ["local", "local_without_flock", "pg", "http_terraform", "http_gitlab", "s3"]


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("check", CHECKS, ids=[c.__name__ for c in CHECKS])
def test_conformance(check, backend, request):
    make, traits = request.getfixturevalue(backend)
    check(make, traits)
