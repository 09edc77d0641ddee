"""The conformance suite: what every StateBackend must do, as plain functions.

Modelled on Terraform's statemgr `TestFull`: one list of checks, each run against a fresh,
empty stored state of every backend. A check takes a `MakeBackend`, a callable giving a new
handle on that one stored state at each call (as two processes would have), and the
backend's `Traits`; it raises ConformanceFailure (an AssertionError) saying what went wrong.
The tests run every check for every backend (tests/test_state_conformance.py), and
`crmform backend check` (check.py) runs its own, live subset.

No pytest here: the suite is part of the package, so a new backend (or a fork's) can run it.
"""

from __future__ import annotations

import os
import re
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from crmform.engine.errors import StateError, StateLockedError
from crmform.engine.model import Field, FieldType, ObjectKey, ObjectSchema, ObjectType, State
from crmform.engine.ports import StateBackend

__all__ = ["CHECKS", "ConformanceFailure", "MakeBackend", "Traits", "sample_objects"]

MakeBackend = Callable[[], StateBackend]

UUID4 = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}")
TIMESTAMP = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ")
BIG_ID = 2**53 + 7  # not exactly representable as a double: survives only as a JSON integer
LINEAGE = "0b9f6c54-3f7e-4c1a-9d0e-5a2b7c8d9e10"


@dataclass(frozen=True, slots=True)
class Traits:
    """What a backend keeps of a lock's holder, so the checks expect no more than that.

    `holder_process`: the holder's host and pid come back to whoever finds the lock taken
    (GitLab's lock API keeps only the id, its own user name and the time).
    """

    holder_process: bool = True


class ConformanceFailure(AssertionError):
    """A backend does not do what the StateBackend protocol promises."""


def _expect(condition: bool, what: str) -> None:
    if not condition:
        raise ConformanceFailure(what)


def _raises(kind: type[BaseException], action: Callable[[], object]) -> BaseException:
    try:
        action()
    except kind as exc:
        return exc
    raise ConformanceFailure(f"expected {kind.__name__}, but nothing was raised")


def sample_objects() -> tuple[ObjectSchema, ...]:
    account = ObjectSchema(
        ObjectKey("gong", BIG_ID, ObjectType.ACCOUNT),
        (
            Field(
                "tier",
                "Région tier",
                FieldType.PICKLIST,
                ordered_value_list=("Gold", "Silver", "Bronze"),
                protect=True,
                last_modified="2026-11-28T20:31:05Z",
            ),
            Field("owner", "Owner", FieldType.REFERENCE, reference_to="USER"),
        ),
    )
    deal = ObjectSchema(
        ObjectKey("gong", 6286478263646, ObjectType.DEAL),
        (Field("arr", "ARR", FieldType.CURRENCY, last_modified="2026-11-28T20:31:06Z"),),
    )
    return tuple(sorted((account, deal), key=lambda o: o.key))


# -- read and write ------------------------------------------------------------------------


def never_written_reads_empty(make: MakeBackend, traits: Traits) -> None:
    _expect(make().read() == State(), "a backend never written must read as State()")


def written_state_reads_back(make: MakeBackend, traits: Traits) -> None:
    stored = make().write(State(objects=sample_objects()))
    _expect(stored.objects == sample_objects(), "write must return the objects it stored")
    again = make().read()
    _expect(again == stored, f"another handle read {again!r}, not what was written")
    account = again.get(ObjectKey("gong", BIG_ID, ObjectType.ACCOUNT))
    _expect(account is not None and account.key.integration_id == BIG_ID, "a 64-bit id changed")


def each_write_increments_the_serial(make: MakeBackend, traits: Traits) -> None:
    backend = make()
    first = backend.write(State())
    second = backend.write(first.with_object(sample_objects()[0]))
    serials = (first.serial, second.serial, make().read().serial)
    _expect(serials == (1, 2, 2), f"serials after two writes: {serials}, not (1, 2, 2)")


def lineage_is_made_once_and_kept(make: MakeBackend, traits: Traits) -> None:
    backend = make()
    first = backend.write(State())
    second = backend.write(first)
    _expect(bool(UUID4.fullmatch(first.lineage)), f"lineage {first.lineage!r} is no UUID4")
    _expect(second.lineage == first.lineage == make().read().lineage, "the lineage changed")


def a_given_lineage_is_kept(make: MakeBackend, traits: Traits) -> None:
    stored = make().write(State(lineage=LINEAGE))
    _expect(stored.lineage == LINEAGE, "the lineage given to a first write was not kept")


def another_lineage_is_refused(make: MakeBackend, traits: Traits) -> None:
    backend = make()
    stored = backend.write(State(objects=sample_objects()))
    error = _raises(StateError, lambda: backend.write(State("other-lineage", stored.serial)))
    expected = (
        f"The state {backend.location} has lineage {stored.lineage}, but the state being "
        "written has lineage other-lineage: they are different states, so it was probably "
        "replaced. Nothing was written; check which state is the right one, then run the "
        "command again."
    )
    _expect(str(error) == expected, f"message {error}")
    _expect(make().read() == stored, "a refused write changed the stored state")


def a_stale_write_is_refused(make: MakeBackend, traits: Traits) -> None:
    mine, theirs = make(), make()
    base = mine.write(State())
    seen_by_them = theirs.read()
    newer = mine.write(base.with_object(sample_objects()[0]))
    error = _raises(StateError, lambda: theirs.write(seen_by_them.with_object(sample_objects()[1])))
    expected = (
        f"The state {theirs.location} changed since it was read (serial 2, expected 1); "
        "another process wrote it. Nothing was written; run the command again."
    )
    _expect(str(error) == expected, f"message {error}")
    _expect(theirs.read() == newer, "a refused write changed the stored state")


def a_late_first_write_is_refused(make: MakeBackend, traits: Traits) -> None:
    stored = make().write(State(objects=sample_objects()))
    late = make()
    error = _raises(StateError, lambda: late.write(State()))
    _expect("(serial 1, expected 0)" in str(error), f"message {error}")
    _expect(late.read() == stored, "a refused first write changed the stored state")


def writes_under_the_lock_succeed(make: MakeBackend, traits: Traits) -> None:
    backend = make()
    with backend.lock("crmform apply"):
        first = backend.write(State(objects=sample_objects()[:1]))
        second = backend.write(first.with_object(sample_objects()[1]))
    _expect(make().read() == second, "writes made while holding the lock were not stored")


# -- locks ---------------------------------------------------------------------------------


def the_lock_is_exclusive_and_names_its_holder(make: MakeBackend, traits: Traits) -> None:
    holder, other = make(), make()
    with holder.lock("crmform apply") as info:
        error = _raises(StateLockedError, lambda: other.lock("crmform plan").__enter__())
    _expect(info.operation == "crmform apply", f"operation {info.operation!r}")
    _expect((info.pid, info.host) == (os.getpid(), socket.gethostname()), "pid/host wrong")
    _expect(bool(UUID4.fullmatch(info.id)), f"lock id {info.id!r} is no UUID4")
    _expect(bool(TIMESTAMP.fullmatch(info.created)), f"created {info.created!r}")
    message = str(error)
    _expect(message.startswith(f"The state {other.location} is locked"), f"message {message}")
    _expect(info.id in message, f"the holder's id is not in: {message}")
    if traits.holder_process:
        _expect(f"(pid {os.getpid()})" in message, f"the holder's pid is not in: {message}")
    _expect(f"crmform force-unlock {info.id}" in message, f"no way out in: {message}")


def a_lock_timeout_gives_up_after_waiting(make: MakeBackend, traits: Traits) -> None:
    with make().lock("crmform apply"):
        started = time.monotonic()
        error = _raises(StateLockedError, lambda: make().lock("x", timeout=0.3).__enter__())
        waited = time.monotonic() - started
    _expect("still locked after waiting 0.3 s" in str(error), f"message {error}")
    _expect(0.3 <= waited < 5, f"waited {waited:.2f} s for a 0.3 s timeout")


def a_waiting_lock_is_taken_once_released(make: MakeBackend, traits: Traits) -> None:
    held, releasing_at = threading.Event(), []

    def hold() -> None:
        with make().lock("crmform apply"):
            held.set()
            time.sleep(0.3)
            releasing_at.append(time.monotonic())

    thread = threading.Thread(target=hold)
    thread.start()
    try:
        _expect(held.wait(10), "the first holder did not get the lock")
        with make().lock("crmform plan", timeout=10) as info:
            acquired_at = time.monotonic()
    finally:
        thread.join(10)
    _expect(info.operation == "crmform plan", "the waiter's lock info is wrong")
    _expect(acquired_at >= releasing_at[0], "the waiter got the lock before it was released")


def the_lock_is_released_when_the_block_raises(make: MakeBackend, traits: Traits) -> None:
    for error in (RuntimeError, KeyboardInterrupt, SystemExit):
        try:
            with make().lock("crmform apply"):
                raise error()
        except error:
            pass
        with make().lock("crmform apply") as info:
            _expect(info.operation == "crmform apply", f"not released after {error.__name__}")


def force_unlock_removes_the_lock(make: MakeBackend, traits: Traits) -> None:
    crashed = make().lock("crmform apply")
    info = crashed.__enter__()
    removed = make().force_unlock(info.id, force=True)
    _expect(removed.id == info.id, f"force-unlock returned {removed!r}")
    if traits.holder_process:
        _expect(removed == info, f"force-unlock returned {removed!r}, not {info!r}")
    with make().lock("crmform plan") as mine:
        # The old holder waking up must not remove a lock that is no longer its own.
        crashed.__exit__(None, None, None)
        error = _raises(StateLockedError, lambda: make().lock("x").__enter__())
        _expect(mine.id in str(error), f"the new holder lost its lock: {error}")


def force_unlock_of_a_running_holder_needs_force(make: MakeBackend, traits: Traits) -> None:
    if not traits.holder_process:
        return  # the backend does not know where its holder runs
    with make().lock("crmform apply") as info:
        error = _raises(StateError, lambda: make().force_unlock(info.id))
        _expect("that process is still running" in str(error), f"message {error}")
        _expect(f"--force {info.id}" in str(error), f"message {error}")
        _raises(StateLockedError, lambda: make().lock("x").__enter__())


def force_unlock_with_another_id_is_refused(make: MakeBackend, traits: Traits) -> None:
    with make().lock("crmform apply") as info:
        other = make()
        error = _raises(StateError, lambda: other.force_unlock("not-the-id", force=True))
        _raises(StateLockedError, lambda: other.lock("crmform plan").__enter__())
    prefix = f"Refusing to unlock {other.location}: the lock held is {info.id}, not not-the-id"
    _expect(str(error).startswith(prefix), f"message {error}")


def force_unlock_without_a_lock_is_an_error(make: MakeBackend, traits: Traits) -> None:
    backend = make()
    error = _raises(StateError, lambda: backend.force_unlock(LINEAGE, force=True))
    expected = f"No lock is held on {backend.location}; there is nothing to unlock."
    _expect(str(error) == expected, f"message {error}")


# -- delete --------------------------------------------------------------------------------


def delete_removes_the_state(make: MakeBackend, traits: Traits) -> None:
    backend = make()
    backend.write(State(objects=sample_objects()))
    with backend.lock("crmform backend check"):
        pass
    make().delete()
    _expect(make().read() == State(), "after delete, a read must give an empty State()")
    first = make().write(State())
    _expect(first.serial == 1, f"the first write after delete stored serial {first.serial}, not 1")
    with make().lock("crmform plan"):  # the lock is usable after a delete
        pass
    make().delete()
    make().delete()  # deleting what is not there is no error
    _expect(make().read() == State(), "a second delete left something behind")


CHECKS: tuple[Callable[[MakeBackend, Traits], None], ...] = (
    never_written_reads_empty,
    written_state_reads_back,
    each_write_increments_the_serial,
    lineage_is_made_once_and_kept,
    a_given_lineage_is_kept,
    another_lineage_is_refused,
    a_stale_write_is_refused,
    a_late_first_write_is_refused,
    writes_under_the_lock_succeed,
    the_lock_is_exclusive_and_names_its_holder,
    a_lock_timeout_gives_up_after_waiting,
    a_waiting_lock_is_taken_once_released,
    the_lock_is_released_when_the_block_raises,
    force_unlock_removes_the_lock,
    force_unlock_of_a_running_holder_needs_force,
    force_unlock_with_another_id_is_refused,
    force_unlock_without_a_lock_is_an_error,
    delete_removes_the_state,
)
