"""Session fixtures starting the real servers the state backends are tested against
(PostgreSQL, moto's S3), registered by conftest.py as a plugin."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from pg_server import PgServer, running_server


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PgServer]:
    with running_server() as server:
        yield server
