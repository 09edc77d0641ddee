"""Session fixtures starting the real servers the state backends are tested against
(PostgreSQL, moto's S3, the two http state servers), registered by conftest.py as a plugin."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

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


@dataclass(frozen=True, slots=True)
class S3Server:
    endpoint_url: str

    def client(self):
        import boto3

        return boto3.client(
            "s3",
            endpoint_url=self.endpoint_url,
            region_name="us-east-1",
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )


@pytest.fixture(scope="session")
def s3_server() -> Iterator[S3Server]:
    """moto's S3 in server mode (a real HTTP server on 127.0.0.1), as the test extra
    installs it; skipped like PostgreSQL only when it is missing and CI is unset."""
    import os

    try:
        from moto.server import ThreadedMotoServer
    except ImportError:
        if os.environ.get("CI"):
            pytest.fail("moto[server] is missing, and CI is set: install crmform[test]")
        pytest.skip("moto[server] is not installed")
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    try:
        yield S3Server(f"http://127.0.0.1:{server.get_host_and_port()[1]}")
    finally:
        server.stop()
