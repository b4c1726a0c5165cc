"""The app the real-worker tests start their Celery workers with (tiering.tests.worker_app). Those
tests need Redis and PostgreSQL; this checks, without them, that a process loading the app as the
`celery -A` option does gets the project's app, and injects exactly the faults named in its
environment, in the processes it forks too (the worker's pool)."""

import os
import subprocess
import sys
from pathlib import Path

from tiering.tests.faults import FAULT_ENV

ROOT = Path(__file__).resolve().parents[2]

WORKER = """
import os
from celery.app.utils import find_app

loaded = find_app("tiering.tests.worker_app")  # as `celery -A tiering.tests.worker_app` does

from config.celery import app
from tiering.models import TierRunChunk
from tiering.services import runs


def chunk_fails(index, attempts):
    try:
        runs.chunk_before_commit.send(sender=TierRunChunk, chunk=TierRunChunk(index=index), attempts=attempts)
    except RuntimeError:
        return True
    return False


def in_pool_process(work):
    child = os.fork()
    if child == 0:
        os._exit(work())
    return os.waitstatus_to_exitcode(os.waitpid(child, 0)[1])


print(loaded is app, chunk_fails(1, 1), chunk_fails(1, 2), chunk_fails(0, 1), chunk_fails(2, 1))
print(in_pool_process(lambda: 10 if chunk_fails(1, 1) else 11), in_pool_process(lambda: chunk_fails(3, 1) and 12))
"""


def test_a_worker_and_its_pool_processes_inject_the_faults_named_in_the_environment():
    done = subprocess.run(
        [sys.executable, "-c", WORKER],
        cwd=ROOT,
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings_test", FAULT_ENV: "raise:1,exit:3"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    in_worker, in_pool = done.stdout.splitlines()[-2:]
    # The project's app; chunk 1 fails on its first attempt only, chunks 0 and 2 never.
    assert in_worker == "True True False False False"
    # A pool process raises in chunk 1 and dies (status 1) in chunk 3.
    assert in_pool == "10 1"
