"""The child runner: each measured command in a fresh process, timed from posix_spawn to
wait4, with its own peak RSS; a Probe is one command measured several times.

Every measured process is started the same way, `python -c CODE ARGS` with this interpreter,
through a small launcher (see LAUNCHER) so that its ru_maxrss is its own.
"""

from __future__ import annotations

import os
import signal
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

CHILD_TIMEOUT = 900.0
CRMFORM = (sys.executable, "-c", "from crmform.cli import main; main()")

# Starts and times one measured child. ru_maxrss counts the memory of the process a child
# was forked from, so forking from this large process would inflate it; this launcher's own
# ~11 MB is the floor instead, below every measured command.
LAUNCHER = """
import os, sys, time
started = time.perf_counter()
pid = os.posix_spawn(sys.argv[2], sys.argv[2:], os.environ)
_, status, usage = os.wait4(pid, 0)
seconds = time.perf_counter() - started
code = os.waitstatus_to_exitcode(status)
with open(sys.argv[1], "w", encoding="ascii") as out:
    out.write(f"{seconds!r} {usage.ru_maxrss} {code} {usage.ru_utime + usage.ru_stime!r}")
"""


class BenchError(Exception):
    """A measured command did not do what it should; the benchmark stops with this message."""


@dataclass(frozen=True, slots=True)
class Sample:
    seconds: float
    rss_mb: float
    code: int
    stdout: str
    stderr: str
    cpu: float = 0.0  # user + system seconds of the child (ru_utime + ru_stime)


def spawn(argv: Sequence[str], cwd: Path, env: dict[str, str]) -> Sample:
    """Run one child to completion: wall time, its own peak RSS, exit code and output."""
    with tempfile.TemporaryDirectory(prefix="child-") as scratch:
        result, out_path, err_path = (Path(scratch) / name for name in ("result", "out", "err"))
        with out_path.open("wb") as out, err_path.open("wb") as err:
            launcher = subprocess.Popen(
                (sys.executable, "-I", "-S", "-c", LAUNCHER, str(result), *argv),
                cwd=cwd,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=err,
                start_new_session=True,  # a timeout kills the child along with the launcher
            )
            try:
                launcher.wait(CHILD_TIMEOUT)
            except subprocess.TimeoutExpired:
                os.killpg(launcher.pid, signal.SIGKILL)
                launcher.wait()
                raise BenchError(f"{argv[3:]}: still running after {CHILD_TIMEOUT} s") from None
        seconds, maxrss, code, cpu = result.read_text(encoding="ascii").split()
        stdout = out_path.read_text(encoding="utf-8", errors="replace")
        stderr = err_path.read_text(encoding="utf-8", errors="replace")
    rss_mb = int(maxrss) / (1024 * 1024 if sys.platform == "darwin" else 1024)  # bytes or KB
    return Sample(float(seconds), rss_mb, int(code), stdout, stderr, float(cpu))


def child_env(**extra: str) -> dict[str, str]:
    """The caller's environment without crmform's and Gong's own settings, and no colour.

    PYTHONDONTWRITEBYTECODE is dropped too: with it, a source or editable install compiles
    every crmform module in every measured run (a third of `plan examples/quickstart`'s
    time), which no user's pip-installed crmform does (pip writes the .pyc files when it
    installs). The discarded warm-up run writes them once."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("CRMFORM_", "GONG_")) and k != "PYTHONDONTWRITEBYTECODE"
    }
    return {**env, "NO_COLOR": "1", **extra}


Check = Callable[[Sample], "str | None"]  # what is wrong with a run's outcome, or None


def prints(code: int, text: str = "") -> Check:
    def check(s: Sample) -> str | None:
        if s.code != code:
            return f"expected exit {code}"
        return None if text in s.stdout else f"expected {text!r} in the output"

    return check


@dataclass
class Probe:
    """One command measured several times; `check` rejects a run that did the wrong thing."""

    name: str
    argv: tuple[str, ...]
    check: Check
    runs: int
    warm_up: bool = True  # False for baselines that run for many seconds anyway
    samples: list[Sample] = field(default_factory=list)
    # apply only: the requests the emulator received during each run, and how many POSTs
    requests: list[list[tuple[str, str]]] = field(default_factory=list)
    expect_posts: int = 0

    @property
    def seconds(self) -> float:
        return statistics.median(s.seconds for s in self.samples)

    @property
    def cpu(self) -> float:
        return statistics.median(s.cpu for s in self.samples)

    @property
    def rss_mb(self) -> float:
        return statistics.median(s.rss_mb for s in self.samples)

    def count(self, method: str) -> list[int]:
        return [sum(m == method for m, _ in run) for run in self.requests]

    def run_once(self, cwd: Path, env: dict[str, str]) -> Sample:
        sample = spawn(self.argv, cwd, env)
        problem = self.check(sample)
        if problem:
            tail = (sample.stderr.strip() or sample.stdout.strip())[-2000:]
            raise BenchError(f"{self.name}: {problem} (exit {sample.code}).\n{tail}")
        return sample

    def summary(self) -> dict[str, object]:
        out: dict[str, object] = {
            "command": list(self.argv[3:]) if self.argv[:3] == CRMFORM[:3] else self.name,
            "median_s": round(self.seconds, 4),
            "rss_mb": round(self.rss_mb, 1),
            "cpu_s": round(self.cpu, 4),
            "runs_s": [round(s.seconds, 4) for s in self.samples],
        }
        if self.requests:
            out.update(posts=self.count("POST"), gets=self.count("GET"))
            out["expected_posts"] = self.expect_posts
        return out


def measure(probes: Sequence[Probe], cwd: Path, env: dict[str, str], *, warm_up: bool) -> None:
    """Interleaved runs of every probe, after a warm-up run (compiles .pyc, fills caches)."""
    for probe in probes:
        if warm_up and probe.warm_up:
            probe.run_once(cwd, env)
    for run in range(max(p.runs for p in probes)):
        for probe in probes:
            if run < probe.runs:
                probe.samples.append(probe.run_once(cwd, env))
