"""The local state backend: one JSON file, written atomically, with a backup and a lock file.

Layout beside the state file `<path>`: `<path>.backup` holds the version before the last
write (that very file, hard-linked where the file system allows: a write replaces the
state file and never rewrites it in place, so no copy is needed), `<path>.lock` exists
while a command holds the lock and says who that is (see lockfile.py; the JSON reading,
layout and atomic writes are jsonfile.py's).
A corrupt or newer state file is reported and never rewritten: it may be the only record
of what was applied, and the user must decide how to restore it.

The state file is UTF-8 JSON laid out like `json.dumps(indent=2)` down to each object's
"fields" list, with each field on one line of its own (keys in the codec's order, ", " and
": " between items, no \\u escapes), and a trailing newline. A field per line keeps a
state diff in a pull request to the fields that changed, and lets json's C encoder write
each line (`indent` forces its pure-Python encoder, several times slower on large states).

A handle remembers the bytes it last read or wrote and the state they hold: while the file
still holds exactly those bytes, reading or checking it again would give the same answer,
so neither `read` nor `write` parses it again. Any other content is parsed and checked in
full, so a backup is always a state that loads.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from crmform.engine.errors import StateError
from crmform.engine.model import STATE_VERSION, State

# fcntl.flock is POSIX's; fcntl is imported by the write that takes it (a plan writes
# nothing, and the import is a fifth of a millisecond of its start-up).
HAVE_FLOCK = os.name == "posix"

if TYPE_CHECKING:
    from crmform.engine.ports import LockInfo
    from crmform.state.document import Document
    from crmform.state.lockfile import LockFile

# The document, JSON-file and compare-and-swap modules are imported by the methods that read
# or write a state file: a plan where there is no state file yet never loads them.

__all__ = ["LocalState"]


class LocalState:
    """State in a local JSON file (the default `crmform.state.json`).

    `clock` and `sleep` pace the wait for a taken lock; tests inject fakes. `flock=False`
    keeps the lock file alone as the lock, as on an OS without flock (see lockfile.py).
    """

    def __init__(
        self,
        path: Path,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        flock: bool = HAVE_FLOCK,
    ) -> None:
        self.path = Path(path)
        self.backup_path = self.path.with_name(self.path.name + ".backup")
        self.lock_path = self.path.with_name(self.path.name + ".lock")
        self._flock = flock
        self._clock, self._sleep = clock, sleep
        self._lock_file_made: LockFile | None = None
        # The bytes this handle last read or wrote, and the state they hold (see above).
        self._known: tuple[bytes, Document] | None = None

    @property
    def location(self) -> str:
        return str(self.path)

    @property
    def _lock_file(self) -> LockFile:
        # Made on first use: plan and show read the state without the lock, and its module
        # (socket, getpass) is not worth loading for them.
        if self._lock_file_made is None:
            from crmform.state.lockfile import LockFile

            self._lock_file_made = LockFile(
                self.lock_path,
                location=str(self.path),
                clock=self._clock,
                sleep=self._sleep,
                flock=self._flock,
            )
        return self._lock_file_made

    def delete(self) -> None:
        """Remove the file, its backup and lock (`crmform backend check`'s scratch state)."""
        for path in (self.path, self.backup_path, self.lock_path):
            path.unlink(missing_ok=True)

    # -- read / write -------------------------------------------------------------------

    def read(self) -> State:
        raw = self._read_bytes()
        return self._document_of(raw).state if raw is not None else State()

    def write(self, state: State) -> State:
        with self._writing():
            return self._write(state)

    @contextmanager
    def _writing(self) -> Iterator[None]:
        """Make the read, check and replace of `write` one step for other processes.

        With flock, an exclusive flock on the state file's folder (no extra file, and
        os.replace swaps the state file's own inode); without it, compare-and-swap holds
        only among commands that hold the state lock, as apply does.
        """
        if not self._flock:
            yield
            return
        try:
            import fcntl
        except ImportError:  # pragma: no cover - a POSIX build without it: as without flock
            yield
            return
        try:
            fd = os.open(self.path.parent, os.O_RDONLY)
        except OSError:
            yield  # a missing folder (the write itself reports it), or no folder handles
            return
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)

    def _write(self, state: State) -> State:
        from crmform.state.cas import check_expected
        from crmform.state.document import (
            Document,
            UnstorableState,
            encode,
            next_state,
            remember_encoded,
        )
        from crmform.state.jsonfile import NEW_FILE_MODE, atomic_write, fsync_dir, link_copy

        found = self._read_file()
        raw = found[0] if found is not None else None
        stored = self._document_of(raw) if raw is not None else None
        check_expected(self.location, stored.state if stored is not None else None, state)
        if raw is not None and stored is not None:
            remember_encoded(raw, stored.state)  # the unchanged objects' lines, not re-encoded
        try:
            written = next_state(state)
            data = encode(written)
        except UnstorableState as exc:
            raise StateError(exc.message(self.location)) from exc
        try:
            mode = NEW_FILE_MODE
            if found is not None:
                raw, seen = found
                mode = seen.st_mode & 0o7777
                # The bytes checked above, not a re-read: a backup must be a state we can
                # load. The file read, linked as the backup while it is still that very
                # file (it is only ever replaced, never rewritten in place); else a copy.
                if not link_copy(self.path, self.backup_path, seen):
                    atomic_write(self.backup_path, raw, mode)
            atomic_write(self.path, data, mode)
        except OSError as exc:
            raise StateError(
                f"The state file {self.location} could not be written ({exc.strerror}); its "
                "previous content is unchanged. Check that its folder is writable and has free "
                "space, then run the command again."
            ) from exc
        fsync_dir(self.path.parent)
        self._known = (data, Document(written))
        return written

    def _read_bytes(self) -> bytes | None:
        """The state file's content; None when there is no file."""
        found = self._read_file()
        return found[0] if found is not None else None

    def _read_file(self) -> tuple[bytes, os.stat_result] | None:
        """The state file's content and what the open file was (os.fstat); None when there
        is no file."""
        try:
            with self.path.open("rb") as handle:
                seen = os.fstat(handle.fileno())  # before reading: a later change shows
                return handle.read(), seen
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise StateError(
                f"The state file {self.location} cannot be read ({exc.strerror}). "
                "crmform did not modify it; check that it is a readable file, then run "
                "the command again."
            ) from exc

    def _document_of(self, raw: bytes) -> Document:
        """The document in `raw`, checked in full unless this handle already knows these bytes."""
        if self._known is not None and self._known[0] == raw:
            return self._known[1]
        from crmform.state.document import NewerVersion, UnusableDocument, decode

        try:
            doc = decode(raw)
        except NewerVersion as exc:
            raise StateError(
                f"The state file {self.location} was written by a newer crmform (state "
                f"version {exc.version}; this crmform reads version {STATE_VERSION}). "
                "crmform did not modify it; upgrade crmform to use this state."
            ) from exc
        except UnusableDocument as exc:
            raise StateError(
                f"The state file {self.location} {exc.args[0]}. crmform did not modify it; "
                f"restore it from {self.backup_path} or fix it by hand, then run the "
                "command again."
            ) from exc
        self._known = (raw, doc)
        return doc

    # -- lock (the lock file beside the state; see lockfile.py) -------------------------

    def lock(self, operation: str, timeout: float = 0.0) -> AbstractContextManager[LockInfo]:
        return self._lock_file.hold(operation, timeout)

    def force_unlock(self, lock_id: str, *, force: bool = False) -> LockInfo:
        return self._lock_file.force_unlock(lock_id, force=force)
