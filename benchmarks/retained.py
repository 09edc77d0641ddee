"""Issue 14's "nothing retained across uploads", measured in-process: run as a child by
run.py,

    python benchmarks/retained.py FIELDS

Against a fresh `crmform emulator` subprocess it creates the benchmark's "before" schema
set of FIELDS fields (a `crmform apply` child, unpaced), then runs the change apply of
apply_harness.py in this process, through `crmform.cli.run` with the cycle collector off,
as the console script has it. The apply calls `cli.collect_from_now` before it reads Gong
and before each upload; wrapped here, it notes after its own sweep the interpreter's live
memory blocks (`sys.getallocatedblocks()`), the objects the collector tracks (all but those
frozen once the plan is made) and RSS. What an upload leaves alive is the growth from its
start to the next upload's start. It prints one JSON line.
"""

from __future__ import annotations

import contextlib
import gc
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

# sibling files; benchmarks/ is not a package
import generate
from apply_harness import emulator_port, gong_env, start_emulator, stop_emulator
from children import CHILD_TIMEOUT, CRMFORM, child_env

from crmform import cli

_FLAGS = ("--auto-approve", "--allow-destroy", "--no-color")


def _rss_mb() -> float | None:
    """The current RSS (Linux's /proc; None elsewhere: getrusage gives only the peak)."""
    try:
        with open("/proc/self/statm", encoding="ascii") as statm:
            pages = int(statm.read().split()[1])
    except OSError:
        return None
    return round(pages * os.sysconf("SC_PAGE_SIZE") / 2**20, 1)


def measure(fields: int, tmp: Path) -> dict[str, object]:
    schema_set = generate.build(fields)
    before, after = tmp / "before", tmp / "after"
    generate.write_schema_dir(generate.before_objects(schema_set), before, "yaml")
    generate.write_schema_dir(schema_set.desired, after, "yaml")
    state = ("--state", str(tmp / "crmform.state.json"))
    log = tmp / "emulator.log"
    emulator = start_emulator(tmp, log)
    try:
        env = child_env(**gong_env(emulator_port(emulator, log)))
        subprocess.run(
            (*CRMFORM, "apply", str(before), *_FLAGS, *state),
            cwd=tmp,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            timeout=CHILD_TIMEOUT,
            check=True,
        )
        os.environ.clear()  # the in-process apply sees what the child above saw
        os.environ.update(env)
        samples: list[tuple[int, int, float | None]] = []
        sweep = cli.collect_from_now

        def noted() -> None:
            sweep()
            samples.append((sys.getallocatedblocks(), len(gc.get_objects()), _rss_mb()))

        cli.collect_from_now = noted  # looked up on each call (crmform/views/apply.py)
        gc.disable()
        with (
            open(os.devnull, "w", encoding="utf-8") as sink,
            contextlib.redirect_stdout(sink),
            contextlib.redirect_stderr(sink),
        ):
            code = cli.run(["apply", str(after), *_FLAGS, *state])
    finally:
        stop_emulator(emulator)
    uploads = samples[1:]  # the first note is before Gong is read
    return {
        "code": code,
        "fields": fields,
        "uploads": len(uploads),
        "fields_per_upload": fields // max(len(uploads), 1),
        "blocks": [s[0] for s in uploads],
        "tracked_objects": [s[1] for s in uploads],
        "rss_mb": [s[2] for s in uploads],
    }


def main() -> None:
    fields = int(sys.argv[1])
    with tempfile.TemporaryDirectory(prefix="crmform-retained-") as tmp:
        print(json.dumps(measure(fields, Path(tmp))))


if __name__ == "__main__":
    main()
