"""`crmform backend check`: prove, against the configured backend, what a team relies on.

Three checks, each on a scratch state (a name of its own, removed after):
- concurrent compare-and-swap: N handles read one serial and write at once; exactly one
  write may succeed, the others must be refused (many S3-compatible servers ignore
  conditional writes: lxc/incus#3651, seaweedfs#8800);
- the lock excludes a second holder;
- a lock dies with its holder, where the backend promises it (pg, local with flock): a
  child process takes the lock and is killed with SIGKILL; the lock must be free again.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from crmform.engine.errors import StateError, StateLockedError
from crmform.engine.model import State
from crmform.engine.ports import StateBackend

__all__ = ["CheckOutcome", "CheckResult", "run_checks"]

# Which backends free a killed holder's lock by themselves.
_DIES_WITH_HOLDER = {"pg", "local"}
_HOLDER = """
import json, sys, time
from pathlib import Path
from crmform.state.factory import make_backend
spec = json.loads(sys.stdin.readline())
backend = make_backend(spec["kind"], spec["keys"], Path(spec["folder"]))
with backend.lock("crmform backend check (holder)") as info:
    print(info.id, flush=True)
    time.sleep(120)
"""


class CheckOutcome(StrEnum):
    PASSED = "passed"
    FAILED = "failed"
    NOT_PROMISED = "not promised"


@dataclass(frozen=True, slots=True)
class CheckResult:
    name: str
    outcome: CheckOutcome
    detail: str


def run_checks(
    kind: str,
    keys: Mapping[str, str],
    folder: Path,
    make: Callable[[], StateBackend],
    writers: int = 8,
) -> tuple[CheckResult, ...]:
    """`make` gives a new handle on the scratch state of `kind`/`keys` at each call."""
    return (
        _concurrent_writers(make, writers),
        _lock_excludes(make),
        _lock_dies_with_holder(kind, keys, folder, make),
    )


def _concurrent_writers(make: Callable[[], StateBackend], count: int) -> CheckResult:
    name = f"{count} concurrent compare-and-swap writers"
    base = make().write(State())
    handles = [make() for _ in range(count)]
    seen = [h.read() for h in handles]
    barrier = threading.Barrier(count)
    won: list[int] = []
    refused: list[str] = []
    other: list[str] = []

    def write(i: int) -> None:
        barrier.wait(30)
        try:
            handles[i].write(seen[i])
            won.append(i)
        except StateError as exc:
            (
                refused
                if "changed since it was read" in str(exc) or "locked" in str(exc)
                else other
            ).append(str(exc))

    threads = [threading.Thread(target=write, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    final = make().read().serial
    if len(won) == 1 and final == base.serial + 1 and not other:
        return CheckResult(name, CheckOutcome.PASSED, f"1 won, {len(refused)} refused")
    detail = f"{len(won)} won (exactly 1 must), stored serial {final}, expected {base.serial + 1}"
    if other:
        detail += f"; other errors: {other[0]}"
    return CheckResult(
        name,
        CheckOutcome.FAILED,
        detail + ": the server does not honour "
        "conditional writes, so concurrent applies can lose state",
    )


def _lock_excludes(make: Callable[[], StateBackend]) -> CheckResult:
    name = "a held lock excludes a second holder"
    with make().lock("crmform backend check") as info:
        try:
            with make().lock("crmform backend check (second)"):
                return CheckResult(name, CheckOutcome.FAILED, "a second holder got the lock")
        except StateLockedError as exc:
            if info.id not in str(exc):
                return CheckResult(name, CheckOutcome.FAILED, f"the holder is not named: {exc}")
    return CheckResult(name, CheckOutcome.PASSED, "the second holder was refused, naming the first")


def _lock_dies_with_holder(
    kind: str, keys: Mapping[str, str], folder: Path, make: Callable[[], StateBackend]
) -> CheckResult:
    name = "a lock dies with its holder"
    if kind not in _DIES_WITH_HOLDER:
        return CheckResult(
            name,
            CheckOutcome.NOT_PROMISED,
            f"the {kind} backend keeps a killed holder's lock until `crmform force-unlock`",
        )
    child = subprocess.Popen(
        [sys.executable, "-c", _HOLDER],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        env=dict(os.environ),
    )
    try:
        assert child.stdin is not None
        assert child.stdout is not None
        child.stdin.write(
            json.dumps({"kind": kind, "keys": dict(keys), "folder": str(folder)}) + "\n"
        )
        child.stdin.flush()
        held = child.stdout.readline().strip()
        if not held:
            return CheckResult(name, CheckOutcome.FAILED, "the holder process did not get the lock")
        os.kill(child.pid, signal.SIGKILL)
        child.wait(30)
        started = time.monotonic()
        try:
            with make().lock("crmform backend check", timeout=10):
                waited = time.monotonic() - started
        except StateLockedError as exc:
            return CheckResult(
                name, CheckOutcome.FAILED, f"still locked 10 s after the kill: {exc}"
            )
    finally:
        if child.poll() is None:
            child.kill()
            child.wait(30)
        for stream in (child.stdin, child.stdout):
            if stream is not None:
                stream.close()
    return CheckResult(name, CheckOutcome.PASSED, f"free {waited:.2f} s after SIGKILL")
