"""plan: what apply would change, against the stored state or (--refresh) against Gong."""

from __future__ import annotations

from typing import TYPE_CHECKING

from crmform.engine import planner
from crmform.engine.model import Desired, Plan, replace

if TYPE_CHECKING:
    from crmform.engine.ports import Provider, StateBackend

__all__ = ["plan"]


def plan(
    desired: Desired,
    backend: StateBackend,
    provider: Provider | None = None,
    *,
    environment: str = "",
) -> Plan:
    """The plan for `desired` against the stored state; with a provider (`--refresh`),
    against the stored state updated from Gong (one GET per address). Writes nothing.
    The plan names `environment` (crmform.toml's selected one; "" when none)."""
    return replace(_plan(desired, backend, provider), environment=environment)


def _plan(desired: Desired, backend: StateBackend, provider: Provider | None) -> Plan:
    state = backend.read()
    if provider is None:
        return planner.plan(desired, state)
    from crmform.engine import drift  # only --refresh reads the remote
    from crmform.engine.preflight import read_remote
    from crmform.engine.settle import Settled, settle

    remotes = read_remote(provider, drift.addresses(state, desired))
    # An upload of unknown outcome that Gong shows is crmform's own, not drift.
    for record in state.pending:
        remote = remotes.get(record.key)
        if remote is not None and settle(record, state.get(record.key), remote).outcome is (
            Settled.APPLIED
        ):
            state = state.applied(record.after, record.started)
    return drift.plan_refreshed(desired, state, remotes)


# --- apply ---------------------------------------------------------------------------------
