"""The http backend against the two in-repo reference servers (tests/http_state_servers.py),
beyond the conformance suite: faults during a write, retries, the wire details."""

from __future__ import annotations

import base64
import hashlib
import uuid

import pytest

from crmform.engine.errors import StateError
from crmform.engine.model import State
from crmform.state.conformance import sample_objects
from crmform.state.http import HttpSettings, HttpState
from crmform.state.http_wire import RetryPolicy

FAST = RetryPolicy(2, 0.01, 0.05)
OPEN: list[HttpState] = []


@pytest.fixture(autouse=True)
def _close_handles():
    yield
    while OPEN:
        OPEN.pop().close()


def _made(backend: HttpState) -> HttpState:
    OPEN.append(backend)
    return backend


def gitlab(server, password: str = "glpat-test-token") -> HttpState:
    url = f"{server.url}/api/v4/projects/7/terraform/state/{uuid.uuid4()}"
    return _made(
        HttpState(
            HttpSettings(
                address=url,
                lock_address=f"{url}/lock",
                lock_method="POST",
                unlock_address=f"{url}/lock",
                unlock_method="DELETE",
                username="gitlab-ci-token",
                password=password,
                retry=FAST,
            )
        )
    )


def terraform(server) -> HttpState:
    url = f"{server.url}/state/{uuid.uuid4()}"
    return _made(
        HttpState(HttpSettings(address=url, lock_address=url, unlock_address=url, retry=FAST))
    )


@pytest.mark.parametrize("fault", ["drop", "drop-after"])
def test_a_connection_lost_during_the_write_never_claims_success(gitlab_http_server, fault):
    backend = gitlab(gitlab_http_server)
    base = backend.write(State())
    with backend.lock("crmform apply"):
        gitlab_http_server.fail_next("POST", fault, times=3)  # every attempt of the write
        with pytest.raises(StateError) as caught:
            backend.write(base.with_object(sample_objects()[0]))

    assert str(caught.value).startswith(f"The state {backend.location} may or may not have")
    stored = backend.read()
    assert stored == base if fault == "drop" else stored.serial == base.serial + 1
    with backend.lock("crmform apply"):  # the write's own lock was released
        pass


def test_a_500_is_retried_and_the_write_then_succeeds(terraform_http_server):
    backend = terraform(terraform_http_server)
    base = backend.write(State())
    terraform_http_server.fail_next("POST", "500")

    written = backend.write(base.with_object(sample_objects()[0]))

    assert backend.read() == written


def test_writes_carry_content_md5_and_the_lock_id(terraform_http_server):
    backend = terraform(terraform_http_server)
    with backend.lock("crmform apply") as info:
        backend.write(State())
    _method, path, headers = next(
        r for r in reversed(terraform_http_server.requests) if r[0] == "POST"
    )
    assert path.endswith(f"?ID={info.id}")
    assert headers["Content-Type"] == "application/json"
    stored = terraform_http_server.data[backend.settings.address.rsplit("/state/", 1)[1]]
    md5 = base64.b64encode(hashlib.md5(stored).digest())
    assert headers["Content-MD5"] == md5.decode()


def test_a_wrong_password_is_a_clear_error_without_the_password(gitlab_http_server):
    backend = gitlab(gitlab_http_server, password="wrong-s3cret")
    with pytest.raises(StateError) as caught:
        backend.read()
    assert "HTTP 401" in str(caught.value)
    assert "CRMFORM_BACKEND_PASSWORD" in str(caught.value)
    assert "wrong-s3cret" not in str(caught.value)


def test_gitlab_names_the_holder_by_its_own_user_name(gitlab_http_server):
    first, second = gitlab(gitlab_http_server), gitlab(gitlab_http_server)
    second = _made(HttpState(first.settings))
    with first.lock("crmform apply") as info, pytest.raises(StateError) as caught:
        second.lock("crmform plan").__enter__()
    assert f"lock {info.id} held by gitlab-ci-token@" in str(caught.value)


def test_a_lock_whose_answer_was_lost_is_recognised_as_ours_on_retry(gitlab_http_server):
    backend = gitlab(gitlab_http_server)
    gitlab_http_server.fail_next("POST", "drop-after")  # the lock is taken, the answer lost

    with backend.lock("crmform apply") as info:
        assert f'"ID": "{info.id}"' in gitlab_http_server.locks[
            backend.settings.address.rsplit("/", 1)[1]
        ].decode().replace('":"', '": "')
    with backend.lock("crmform plan"):  # and released after
        pass


def test_leaving_the_lock_unlocks_it_and_forgets_the_lock_id(terraform_http_server):
    first, second = terraform(terraform_http_server), terraform(terraform_http_server)
    second = _made(HttpState(first.settings))
    held: list[object] = []

    def fail_inside() -> None:
        with first.lock("crmform apply") as info:
            held.append(first._held == info)  # writes inside the block carry ?ID=<its id>
            raise RuntimeError("the block fails")

    with pytest.raises(RuntimeError):
        fail_inside()
    assert held == [True]
    assert first._held is None
    with second.lock("crmform plan", timeout=0):  # UNLOCK was sent: the lock is free
        pass
