"""Exit codes scripts can trust, and the exception SIGTERM becomes."""

from __future__ import annotations

EXIT_OK, EXIT_ERROR, EXIT_CHANGES = 0, 1, 2


class Terminated(KeyboardInterrupt):
    """SIGTERM (a cancelled CI job): unwinds like Ctrl-C, so locks are released and an
    apply reports what it did, as after Ctrl-C."""
