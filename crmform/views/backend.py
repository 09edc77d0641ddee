"""What `crmform state push` and `crmform backend check` print."""

from __future__ import annotations

from crmform.state.check import CheckOutcome, CheckResult
from crmform.state.transfer import Pushed
from crmform.views import echo, terminal_safe

_MARK = {
    CheckOutcome.PASSED: "ok  ",
    CheckOutcome.FAILED: "FAIL",
    CheckOutcome.NOT_PROMISED: "n/a ",
}


def pushed(result: Pushed, location: str) -> None:
    echo(
        f"Pushed to {terminal_safe(location)}: serial {result.before.serial} -> "
        f"{result.after.serial}, lineage {result.after.lineage}, "
        f"{len(result.after.objects)} object types."
    )


def checked(results: tuple[CheckResult, ...], location: str) -> None:
    echo(f"Backend check of {terminal_safe(location)} (on a scratch state, removed after):")
    for r in results:
        echo(f"  {_MARK[r.outcome]} {r.name}: {terminal_safe(r.detail)}")
    failed = sum(r.outcome is CheckOutcome.FAILED for r in results)
    echo(
        "All promises kept."
        if not failed
        else f"{failed} check(s) failed: do not rely on this backend."
    )
