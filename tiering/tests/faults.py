"""Test-only fault injection into tier run chunks, through runs.chunk_before_commit.

A spec such as "raise:1,exit:3" fails the first attempt of chunks 1 and 3 after their rows are
written but before the commit: "raise" raises, "exit" ends the process mid-transaction, as a
killed worker would. "hold:2" pauses the first attempt of chunk 2 at the same point, its rows
written and not committed, and tells the test so (a file `chunk-2.held` in the directory named by
FAULT_HOLD_DIR_ENV) until the test removes that file: the test can then stop the database under an
open transaction. Installed by test code only: `chunk_faults` for runs in the test process (and the
worker processes it forks), tiering.tests.worker_app for Celery worker subprocesses, which read
the spec from the FAULT_ENV environment variable.
"""

import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tiering import tasks
from tiering.services import runs

FAULT_ENV = "TIERING_FAULT_INJECT"
FAULT_HOLD_DIR_ENV = "TIERING_FAULT_HOLD_DIR"
# How many times a chunk retries a database error before it gives up; production waits about five
# minutes (tiering.tasks.CHUNK_MAX_RETRIES_DB_DOWN). 0 makes a test worker give up at the first.
DB_RETRIES_ENV = "TIERING_CHUNK_DB_RETRIES"
HOLD_LIMIT_SECONDS = 120


def chunk_held_file(hold_dir: str | Path, index: int) -> Path:
    """The file that says chunk `index` is held; removing it lets the chunk go on to its commit."""
    return Path(hold_dir) / f"chunk-{index}.held"


def chunk_fault_injector(spec: str):
    """A chunk_before_commit receiver failing the first attempt of the chunks named in `spec`."""
    faults = []  # (mode, chunk index)
    for item in spec.split(","):
        mode, _sep, index = item.strip().partition(":")
        faults.append((mode, index))

    def inject(sender, *, chunk, attempts: int, **kwargs) -> None:
        if attempts != 1:
            return
        for mode, index in faults:
            if index != str(chunk.index):
                continue
            if mode == "exit":
                os._exit(1)  # the process dies mid-transaction
            if mode == "hold":
                _hold(chunk_held_file(os.environ[FAULT_HOLD_DIR_ENV], chunk.index))
                continue
            raise RuntimeError(f"injected fault in chunk {chunk.index}")

    return inject


def _hold(held: Path) -> None:
    held.touch()
    deadline = time.monotonic() + HOLD_LIMIT_SECONDS
    while held.exists() and time.monotonic() < deadline:
        time.sleep(0.05)


@contextmanager
def chunk_faults(spec: str) -> Iterator[None]:
    """Inject the faults of `spec` while the block runs."""
    receiver = chunk_fault_injector(spec)
    runs.chunk_before_commit.connect(receiver, weak=False)
    try:
        yield
    finally:
        runs.chunk_before_commit.disconnect(receiver)


def chunk_faults_install_from_environment() -> None:
    """Inject the faults named in FAULT_ENV for the life of this process (and its forks), and use
    the database retry budget named in DB_RETRIES_ENV."""
    spec = os.environ.get(FAULT_ENV, "")
    if spec:
        runs.chunk_before_commit.connect(chunk_fault_injector(spec), weak=False)
    retries = os.environ.get(DB_RETRIES_ENV, "")
    if retries:
        tasks.CHUNK_MAX_RETRIES_DB_DOWN = int(retries)
