"""Test-only fault injection into the SLA sweep, through sla.sweep_batch_before_commit.

A spec names what happens inside each batch's transaction, after its cases are stamped and its
notices written, before the commit:

- "pause:0.1" sleeps that many seconds in every batch, so sweeps on several workers overlap;
- "hold:breach" (or "hold:reminder") pauses the first batch of that kind with its transaction open,
  and says so with a file `sweep-breach.held` in the directory named by HOLD_DIR_ENV until the test
  removes it (or kills the worker holding it);
- "exit:breach" ends the process in the first batch of that kind, mid-transaction.

Several specs are joined with commas. Installed by test code only: commitments.tests.worker_app for
Celery worker subprocesses, which read the spec from FAULT_ENV; BATCH_ENV sets the sweep's batch size.
"""

import os
import time
from pathlib import Path

from commitments.services import sla

FAULT_ENV = "COMMITMENTS_SWEEP_FAULT"
HOLD_DIR_ENV = "COMMITMENTS_SWEEP_HOLD_DIR"
BATCH_ENV = "COMMITMENTS_SWEEP_BATCH"
HOLD_LIMIT_SECONDS = 120


def held_file(hold_dir: str | Path, kind: str) -> Path:
    return Path(hold_dir) / f"sweep-{kind}.held"


def sweep_fault_injector(spec: str):
    faults = [item.strip().partition(":")[::2] for item in spec.split(",") if item.strip()]
    done: set[tuple[str, str]] = set()

    def inject(sender, *, kind: str, case_ids, **kwargs) -> None:
        for mode, argument in faults:
            if mode == "pause":
                time.sleep(float(argument))
            elif mode in ("hold", "exit") and argument == kind and (mode, kind) not in done:
                done.add((mode, kind))
                if mode == "exit":
                    os._exit(1)  # the process dies mid-transaction
                _hold(held_file(os.environ[HOLD_DIR_ENV], kind))

    return inject


def _hold(held: Path) -> None:
    held.touch()
    deadline = time.monotonic() + HOLD_LIMIT_SECONDS
    while held.exists() and time.monotonic() < deadline:
        time.sleep(0.05)


def sweep_faults_install_from_environment() -> None:
    """Inject the faults named in FAULT_ENV for the life of this process (and its forks), with the
    batch size named in BATCH_ENV."""
    spec = os.environ.get(FAULT_ENV, "")
    if spec:
        sla.sweep_batch_before_commit.connect(sweep_fault_injector(spec), weak=False)
    batch = os.environ.get(BATCH_ENV, "")
    if batch:
        sla.BATCH = int(batch)
