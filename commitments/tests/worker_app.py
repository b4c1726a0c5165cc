"""The Celery app of the SLA sweep's real-worker tests: the project's app, plus the test-only sweep
faults and batch size named in the environment (commitments.tests.faults). Start such a worker with
`celery -A commitments.tests.worker_app worker ...`; the production worker never loads this.

The injector is connected here, in the worker's main process, before the pool forks its processes
(and re-forks one that died), so every pool process has it."""

import django

from config.celery import app

django.setup()  # commitments.tests.faults imports the sweep's services, which import models

from commitments.tests.faults import sweep_faults_install_from_environment  # noqa: E402

sweep_faults_install_from_environment()

__all__ = ["app"]
