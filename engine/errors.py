"""The error tree. Every error a user can meet is a CrmformError whose str() is the message.

Messages are whole sentences naming the file, the field and the fix. Only the CLI turns
these into text and exit codes.
"""

from __future__ import annotations

from collections.abc import Iterable

from crmform.engine.values import OrderedValue, _set


class Diagnostic(OrderedValue):
    """One problem in a desired-state file: where it is and what is wrong.

    `path` is the location inside the document, e.g. "fields[2] (category)" or "objectType";
    empty when the problem concerns the whole file. `column` (1-based) is known only for
    text that does not parse; it is not part of the text form.
    """

    __slots__ = ("column", "file", "line", "message", "path")
    file: str
    line: int | None
    path: str
    message: str
    column: int | None

    def __init__(
        self,
        file: str,
        line: int | None,
        path: str,
        message: str,
        column: int | None = None,
    ) -> None:
        _set(self, "file", file)
        _set(self, "line", line)
        _set(self, "path", path)
        _set(self, "message", message)
        _set(self, "column", column)

    def __str__(self) -> str:
        where = self.file if self.line is None else f"{self.file}:{self.line}"
        return f"{where}: {self.path}: {self.message}" if self.path else f"{where}: {self.message}"

    def sort_key(self) -> tuple[str, int, str, str]:
        return (self.file, self.line or 0, self.path, self.message)


class CrmformError(Exception):
    """Base of every expected failure. The CLI prints str(error) and exits 1."""


PROBLEMS_SHOWN = 100  # a file of 120,000 bad fields is fixed a screenful at a time


class ConfigError(CrmformError):
    """The desired-state files have problems: the first PROBLEMS_SHOWN of them, sorted, and
    how many more were found.

    `unlisted` problems were found but not described (the loader stops explaining past the
    cap, so that a bad file is refused fast); with `exact` false, that count is a lower
    bound (a field counted once may hold several problems).
    """

    def __init__(
        self, diagnostics: Iterable[Diagnostic], unlisted: int = 0, exact: bool = True
    ) -> None:
        ordered = sorted(diagnostics, key=Diagnostic.sort_key)
        self.diagnostics = tuple(ordered[:PROBLEMS_SHOWN])
        self.unlisted = unlisted + len(ordered) - len(self.diagnostics)
        shown, total = len(self.diagnostics), len(self.diagnostics) + self.unlisted
        bound = "" if exact else "at least "
        head = f"{bound}{total} problem{'s' if total != 1 else ''} in the schema files"
        lines = [f"  {d}" for d in self.diagnostics]
        if self.unlisted:
            head += f"; the first {shown}"
            lines.append(
                f"  ...and {bound}{self.unlisted} more; fix these and validate again to see "
                "the rest."
            )
        super().__init__("\n".join([f"{head}:", *lines]))


class PlanError(CrmformError):
    """The plan cannot be made or carried out as asked."""


class ProtectedFieldError(PlanError):
    """A plan would delete or replace a field marked `protect: true`."""


class StateError(CrmformError):
    """The state file is missing where required, unreadable, corrupt or of a newer version."""


class StateWriteUncertainError(StateError):
    """A state write failed in a way that may have stored it all the same (e.g. the answer
    to a COMMIT or a PUT was lost): read the state again to know which."""


class StateLockedError(StateError):
    """Another process holds the state lock."""


class StalePlanError(StateError):
    """A saved plan no longer matches the state (or the remote) it was made against."""


class ApprovalRequired(CrmformError):
    """The run needs a human's consent (or --auto-approve / --allow-destroy) to go on."""


class ProviderError(CrmformError):
    """The remote system refused or failed a request.

    Carries the HTTP status (None for transport failures), the provider's error strings and
    its request id, so a user can quote them to support.
    """

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        errors: tuple[str, ...] = (),
        request_id: str | None = None,
    ) -> None:
        self.status = status
        self.errors = errors
        self.request_id = request_id
        self.summary = message
        parts = [message]
        if errors:
            parts.append("The server said: " + "; ".join(errors))
        if request_id:
            parts.append(f"(requestId {request_id})")
        super().__init__(" ".join(parts))


class UncertainOutcomeError(ProviderError):
    """A write whose outcome is unknown: the request may have reached the remote and been
    applied (a timeout, a dropped connection, a 5xx, or a 2xx that is not the remote's
    answer). `what_came_back` says, in a few words, what the client saw."""

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        errors: tuple[str, ...] = (),
        request_id: str | None = None,
        what_came_back: str = "",
    ) -> None:
        super().__init__(message, status=status, errors=errors, request_id=request_id)
        self.what_came_back = what_came_back


class PendingUploadError(CrmformError):
    """An earlier upload's outcome is unknown and stops a new one to the same address."""
