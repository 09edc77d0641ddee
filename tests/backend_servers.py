"""Session fixtures starting the real servers the state backends are tested against
(PostgreSQL, moto's S3, the two http state servers), registered by conftest.py as a plugin."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from http_state_servers import gitlab_server, terraform_server
from pg_server import PgServer, running_server


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PgServer]:
    with running_server() as server:
        yield server


@pytest.fixture(scope="session")
def terraform_http_server():
    server = terraform_server()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def gitlab_http_server():
    server = gitlab_server()
    yield server
    server.stop()
