"""The Celery app of the real-worker tests: the project's app, plus the test-only chunk faults named
in TIERING_FAULT_INJECT and the database retry budget in TIERING_CHUNK_DB_RETRIES
(tiering.tests.faults). Start such a worker with
`celery -A tiering.tests.worker_app worker ...`; the production worker (`-A crm`) never loads this.

The injector is connected here, in the worker's main process, before the pool forks its
processes (and re-forks one that died), so every pool process has it."""

import django

from config.celery import app

django.setup()  # tiering.tests.faults imports the run services, which import models

from tiering.tests.faults import chunk_faults_install_from_environment  # noqa: E402

chunk_faults_install_from_environment()

__all__ = ["app"]
