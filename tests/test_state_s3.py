"""The S3 backend against moto's server mode (tests/backend_servers.py), beyond the
conformance suite: concurrent compare-and-swap writers, a lost answer to a lock or state
PUT that botocore retries, a connection cut during a write.

What this proves about moto (5.2) and what it does not: moto honours If-None-Match: * and
If-Match on PUT and If-Match on DELETE one request at a time (412 otherwise), so every
check here runs the real conditional requests. Under concurrent PUTs its If-Match is NOT
atomic: 8 threads putting with the same ETag had 4 winners in a probe (moto checks, then
stores, without a lock). Its If-None-Match: * gave one winner in 5 of 5 probes of 8. So
S3State.write also takes the lock when the caller holds none, and the concurrent test
below shows one winner through write() (lock + If-Match); it proves nothing about a given
S3-compatible server's atomicity: `crmform backend check` is how a team checks its own.
"""

from __future__ import annotations

import threading
import uuid

import pytest
from tcp_proxy import TcpProxy

from crmform.engine.errors import StateError
from crmform.engine.model import State
from crmform.state.conformance import sample_objects
from crmform.state.holder import new_lock_info
from crmform.state.s3 import S3Settings, S3State

pytest.importorskip("boto3")


@pytest.fixture
def bucket(s3_server) -> str:
    name = f"crmform-{uuid.uuid4().hex[:20]}"
    s3_server.client().create_bucket(Bucket=name)
    return name


@pytest.fixture
def made():
    handles: list[S3State] = []
    yield handles
    for handle in handles:
        handle.close()


def backend(s3_server, bucket, made, endpoint=None, client=None) -> S3State:
    settings = S3Settings(bucket, "crmform.state.json", endpoint_url=s3_server.endpoint_url)
    made.append(S3State(settings, client=client or s3_server.client()))
    return made[-1]


@pytest.mark.slow
def test_of_eight_concurrent_writers_from_one_serial_exactly_one_wins(s3_server, bucket, made):
    base = backend(s3_server, bucket, made).write(State())
    writers = [backend(s3_server, bucket, made) for _ in range(8)]
    seen = [w.read() for w in writers]
    barrier, results = threading.Barrier(8), []

    def write(i: int) -> None:
        barrier.wait(10)
        try:
            writers[i].write(seen[i].with_object(sample_objects()[i % 2]))
            results.append("won")
        except StateError as exc:
            results.append(str(exc))

    threads = [threading.Thread(target=write, args=(i,)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)

    assert results.count("won") == 1
    assert sum("changed since it was read" in r for r in results) == 7
    assert backend(s3_server, bucket, made).read().serial == base.serial + 1


def test_a_412_on_our_own_lock_is_taken_as_ours(s3_server, bucket, made):
    """OpenTofu#4405: the first PUT of the lock was stored, its answer lost, and the retry
    got 412. The lock read back carries our id, so it is ours, and it is released after."""
    store = backend(s3_server, bucket, made)
    info = new_lock_info("crmform apply")
    assert store._try_lock(info) is None  # the first attempt, stored
    assert store._try_lock(info) is None  # the retry: 412, read back, ours
    other = new_lock_info("crmform plan")
    assert store._try_lock(other) == info  # anyone else: held


def test_leaving_the_lock_deletes_only_a_lock_that_is_still_ours(s3_server, bucket, made):
    """The release is S3's own: the lock object is deleted only while it carries our id, so
    a lock force-unlocked and taken by someone else meanwhile survives our exit."""
    first, second = backend(s3_server, bucket, made), backend(s3_server, bucket, made)
    with first.lock("crmform apply") as mine:
        assert first._held == mine
        second.force_unlock(mine.id, force=True)
        theirs = new_lock_info("crmform plan")
        assert second._try_lock(theirs) is None
    assert first._held is None
    found = first._lock_object()
    assert found is not None
    assert found[0] == theirs
    second._release(theirs)
    with first.lock("crmform apply"):  # free again, and released after this block too
        pass
    assert first._lock_object() is None


@pytest.mark.parametrize("retries", [True, False])
def test_a_connection_cut_after_the_state_put_never_claims_what_it_does_not_know(
    s3_server, bucket, made, retries
):
    import boto3
    from botocore.config import Config

    base = backend(s3_server, bucket, made).write(State())
    proxy = TcpProxy(int(s3_server.endpoint_url.rsplit(":", 1)[1]))
    try:
        client = boto3.client(
            "s3",
            endpoint_url=f"http://127.0.0.1:{proxy.port}",
            region_name="us-east-1",
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
            # max_attempts counts retries only (total_max_attempts counts the first too).
            config=Config(retries={"max_attempts": 2 if retries else 0, "mode": "standard"}),
        )
        store = backend(s3_server, bucket, made, client=client)
        store.read()
        proxy.cut_on(b'"serial": 2', "after")  # the state PUT's body
        change = base.with_object(sample_objects()[0])
        if retries:
            written = store.write(change)  # the retry's 412, and our bytes read back
            assert backend(s3_server, bucket, made).read() == written
        else:
            with pytest.raises(StateError, match="may or may not have been written"):
                store.write(change)
    finally:
        proxy.close()
    assert proxy.cuts == 1
