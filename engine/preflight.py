"""apply's look at the remote before writing: one GET per address, before the first POST.

Every upload lists all fields of an object type, built from the desired files and the state.
If Gong has a field neither knows, Gong rejects the upload (and the tempting fix, deleting
the field, deletes data someone else created); if Gong lacks a field the state has, the
state is wrong about Gong; if Gong has a field with another type than the upload sends, the
upload replaces it and deletes its data without the plan having said so. Any of these stops
the run before anything is sent.

A plan saved with `--refresh` already accounts for the remote it read: for it, the check is
that the remote is still exactly that one (its fingerprints match).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum

from crmform.engine import drift as drift_logic
from crmform.engine import words
from crmform.engine.errors import PlanError, ProviderError, StalePlanError
from crmform.engine.model import (
    UNIQUE_NAME,
    Field,
    FieldRef,
    FieldType,
    ObjectKey,
    ObjectSchema,
    Plan,
)
from crmform.engine.payload import Upload
from crmform.engine.ports import Provider, RemoteSchema
from crmform.engine.remote_diff import UnsentAttributes, unsent

__all__ = ["Conflict", "ConflictKind", "RemoteGuard", "conflicts", "read_remote"]


def read_remote(
    provider: Provider,
    keys: Iterable[ObjectKey],
    between: Callable[[], None] | None = None,
) -> dict[ObjectKey, RemoteSchema]:
    """The remote schema of each address: one GET each, in address order (the provider paces).
    `between` is called after each GET but the last: work that then overlaps the wait for
    the next one's slot."""
    found: dict[ObjectKey, RemoteSchema] = {}
    for index, key in enumerate(sorted(set(keys))):
        if index and between is not None:
            between()
        answer = provider.read_schema(key.integration_id, key.object_type)
        if key.object_type not in answer:
            # Never read a missing answer as "no fields": that looks like everything deleted.
            raise ProviderError(
                f"The {provider.name} provider did not return the schema of {key} when asked "
                "for it; nothing was changed. Run the command again."
            )
        found[key] = answer[key.object_type]
    return found


class ConflictKind(StrEnum):
    UNKNOWN = "unknown"  # in the remote, neither in the state nor in the desired files
    MISSING = "missing"  # in the state, not in the remote
    TYPE = "type"  # the upload would send another type than the remote has, unplanned
    EXISTS = "exists"  # the plan creates a field the remote already has


@dataclass(frozen=True, slots=True)
class Conflict:
    key: ObjectKey
    unique_name: str
    kind: ConflictKind
    remote: Field | None
    sent: FieldType | None = None

    def __str__(self) -> str:
        where = f"{self.key} {self.unique_name}"
        if self.kind is ConflictKind.UNKNOWN and self.remote is not None:
            return (
                f"{where}: Gong has this {self.remote.type} field, but neither the state nor "
                "the schema files know it (it was added outside crmform); Gong rejects an "
                "upload that leaves it out."
            )
        if self.kind is ConflictKind.EXISTS and self.remote is not None:
            return (
                f"{where}: the plan creates this field, but Gong already has it (as "
                f"{self.remote.type} {json.dumps(self.remote.label, ensure_ascii=False)}); "
                "applying would overwrite what Gong has."
            )
        if self.kind is ConflictKind.MISSING:
            return (
                f"{where}: the state records this field, but Gong no longer has it (it was "
                "deleted outside crmform, with its data)."
            )
        remote_type = self.remote.type if self.remote is not None else "?"
        return (
            f"{where}: Gong has it as {remote_type}, but the upload would send {self.sent}, "
            "which replaces the field and deletes its data; the plan did not show that."
        )


def conflicts(
    key: ObjectKey,
    state: ObjectSchema | None,
    desired: ObjectSchema | None,
    remote: RemoteSchema,
) -> tuple[Conflict, ...]:
    """What stops an upload to `key`, by uniqueName. A remote field the desired files have
    but the state lacks is one the plan creates: Gong has it already, so the state is not
    the one of this tenant (a wrong --state), or it was added outside crmform. (An upload
    of crmform's own whose answer was lost is settled before planning: engine/settle.py.)"""
    prior = state.by_name() if state is not None else {}
    wanted = desired.by_name() if desired is not None else {}
    # The first field of each name counts (built backwards, the first one is set last).
    backwards = remote.fields[::-1]
    live: dict[str, Field] = dict(zip(map(UNIQUE_NAME, backwards), backwards, strict=True))
    # Set arithmetic over the names finds the few that can conflict (most fields of an
    # upload are in all three, with one type); each is then classified as below.
    names = live.keys()
    odd = (names ^ prior.keys()) | {
        name for name, s in prior.items() if (r := live.get(name)) is not None and r.type != s.type
    }
    found: list[Conflict] = []
    for name in sorted(odd):
        r, s, d = live.get(name), prior.get(name), wanted.get(name)
        if r is not None and s is None and d is None:
            found.append(Conflict(key, name, ConflictKind.UNKNOWN, r))
        elif r is None:
            found.append(Conflict(key, name, ConflictKind.MISSING, None))
        elif s is None:
            found.append(Conflict(key, name, ConflictKind.EXISTS, r))
        elif d is not None and r.type != d.type and s.type == d.type:
            # A replace the plan showed (state type != desired type) was approved as such.
            found.append(Conflict(key, name, ConflictKind.TYPE, r, d.type))
    return tuple(found)


class RemoteGuard:
    """The remote check of one apply run, and the applier's `preflight` hook.

    `check_all()` reads, before the first POST, every address the plan will upload to (or,
    for a plan saved with --refresh, every address it read), and raises if any of them
    stops the run, naming all of them: a drifted second address must not leave the run half
    applied. Calling the guard with an upload (the hook) then only confirms that its address
    was checked, reading it if a caller skipped `check_all`.
    """

    def __init__(self, provider: Provider, plan: Plan, *, directory: str, source: str = "") -> None:
        self._provider = provider
        self._plan = plan
        self._state = plan.stored  # as stored, before any drift the plan recorded
        self._directory = directory
        self._source = source  # the saved plan's file, for messages
        self._checked: set[ObjectKey] = set()
        # Picklists and references whose values or target Gong answered null for.
        self.unreported: tuple[FieldRef, ...] = ()
        # Fields of the addresses to upload for which Gong reports attributes crmform does
        # not model: a full-list upload does not send them, and may reset them.
        self.unsent: tuple[tuple[ObjectKey, UnsentAttributes], ...] = ()

    def keys(self) -> tuple[ObjectKey, ...]:
        """The addresses `check_all` reads."""
        if self._plan.drift is not None:
            return tuple(p.key for p in self._plan.remote)
        sending = {c.key for c in self._plan.changes if c.touches_remote}
        return tuple(sorted(sending))

    def check_all(self, between: Callable[[], None] | None = None) -> int:
        """Read and check every address; the number of addresses read. `between`: see
        `read_remote`."""
        keys = self.keys()
        self._check(keys, "Nothing was sent.", between)
        return len(keys)

    def __call__(self, upload: Upload) -> None:
        if upload.sends and upload.key not in self._checked:
            self._check((upload.key,), f"Nothing was sent for {upload.key}.")

    def _check(
        self,
        keys: Iterable[ObjectKey],
        nothing_sent: str,
        between: Callable[[], None] | None = None,
    ) -> None:
        remotes = read_remote(self._provider, keys, between)
        if self._plan.drift is not None:
            self._unchanged_since_plan(remotes)
        else:
            self._no_conflicts(remotes, nothing_sent)
        self._checked |= remotes.keys()
        sending = {c.key for c in self._plan.changes if c.touches_remote}
        self.unsent = (
            *self.unsent,
            *((key, u) for key in sorted(remotes) if key in sending for u in unsent(remotes[key])),
        )
        self.unreported = tuple(sorted({*self.unreported, *drift_logic.unreported(remotes)}))

    def _no_conflicts(self, remotes: Mapping[ObjectKey, RemoteSchema], nothing_sent: str) -> None:
        found = [
            c
            for key, remote in sorted(remotes.items())
            for c in conflicts(key, self._state.get(key), self._plan.desired.get(key), remote)
        ]
        if not found:
            return
        ids = sorted({c.key.integration_id for c in found})
        types = sorted({c.key.object_type.value for c in found})
        adopt = f"crmform import --integration-id {ids[0]} --force"
        if len(types) == 1:
            adopt = f"crmform import --integration-id {ids[0]} --object-type {types[0]} --force"
        exists = [c for c in found if c.kind is ConflictKind.EXISTS]
        if exists:
            raise PlanError(self._exists_message(exists, adopt, nothing_sent))
        lines = [f"Gong's schema changed outside crmform. {nothing_sent}"]
        lines += [f"  {c}" for c in found]
        lines.append(
            f"To resolve: add the fields to the schema files; or run `crmform refresh "
            f"{self._directory}` to record Gong's schema in the state, then review "
            f"`crmform plan {self._directory}` (a field added in Gong that the files lack shows "
            f"as a deletion: add it to the files to keep it); or adopt Gong's schema with "
            f"`{adopt}`. `crmform plan --refresh {self._directory}` shows the effect without "
            "changing anything."
        )
        raise PlanError("\n".join(lines))

    def _exists_message(self, exists: list[Conflict], adopt: str, nothing_sent: str) -> str:
        lines = [
            f"The plan creates {words.count(len(exists), 'field')} that Gong already has. "
            f"{nothing_sent}",
            *(f"  {c}" for c in exists),
            "Is this the right state for this tenant (--state)? If these are the fields "
            f"crmform manages, adopt them with `{adopt}`; to plan against what Gong has, run "
            f"`crmform plan --refresh {self._directory}`.",
        ]
        return "\n".join(lines)

    def _unchanged_since_plan(self, remotes: Mapping[ObjectKey, RemoteSchema]) -> None:
        recorded = {p.key: p.sha256 for p in self._plan.remote}
        planned = self._plan.drift or ()
        lines: list[str] = []
        for key, remote in sorted(remotes.items()):
            if drift_logic.fingerprint(remote) == recorded.get(key):
                continue
            then = {d for d in planned if d.key == key}
            now = set(drift_logic.compare(key, self._state.get(key), remote))
            for item in sorted(now - then, key=lambda d: d.unique_name):
                lines.append(f"  {key} {words.drift(item)}")
            for item in sorted(then - now, key=lambda d: d.unique_name):
                seen = words.drift(item)
                lines.append(f"  {key} {item.unique_name}: no longer as the plan saw it ({seen})")
            if not (now ^ then):
                lines.append(
                    f"  {key}: Gong now reports other details than when the plan was made "
                    "(such as lastModified, or values it left out before)"
                )
        if lines:
            raise StalePlanError(
                "\n".join(
                    [
                        f"The saved plan {self._source} was made against Gong's schema as it "
                        "was then, but it changed since. Nothing was sent.",
                        *lines,
                        f"Run `crmform plan {self._directory} --refresh --out {self._source}` "
                        "again and review the new plan.",
                    ]
                )
            )
