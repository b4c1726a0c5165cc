"""Test-only fault injection into tier run chunks, through runs.chunk_before_commit.

A spec such as "raise:1,exit:3" fails the first attempt of chunks 1 and 3 after their rows are
written but before the commit: "raise" raises, "exit" ends the process mid-transaction, as a
killed worker would. Installed by test code only: `chunk_faults` for runs in the test process
(and the worker processes it forks), tiering.tests.worker_app for Celery worker subprocesses,
which read the spec from the FAULT_ENV environment variable.
"""

import os
from collections.abc import Iterator
from contextlib import contextmanager

from tiering.services import runs

FAULT_ENV = "TIERING_FAULT_INJECT"


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
            raise RuntimeError(f"injected fault in chunk {chunk.index}")

    return inject


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
    """Inject the faults named in FAULT_ENV for the life of this process (and its forks)."""
    spec = os.environ.get(FAULT_ENV, "")
    if spec:
        runs.chunk_before_commit.connect(chunk_fault_injector(spec), weak=False)
