#!/usr/bin/env bash
# `make test`: lint, migration check, the whole suite on PostgreSQL with a real Redis broker,
# then the fast part again on the embedded default (SQLite, eager Celery).
set -euo pipefail
cd "$(dirname "$0")/.."
source .ci/services.sh

bash .ci/venv.sh
services_packages
trap services_stop EXIT
trap 'exit 130' INT TERM
services_start

export DJANGO_SETTINGS_MODULE=config.settings_test
PYTEST_ARGS=(--timeout="${TEST_TIMEOUT:-900}")
failed=()

step() {
    local name="$1"; shift
    echo "==> $name"
    if ! "$@"; then failed+=("$name"); fi
}

step "ruff check" .venv/bin/ruff check .
step "import layers (lint-imports, .importlinter)" .venv/bin/lint-imports
step "makemigrations --check" .venv/bin/python manage.py makemigrations --check --dry-run
step "security audit (ruff S, bandit, pip-audit)" bash .ci/audit.sh
step "fast suite on SQLite (eager Celery)" \
    env -u DATABASE_URL -u CELERY_BROKER_URL -u TEST_CELERY_BROKER_URL -u TEST_REDIS_URL \
    .venv/bin/pytest -q -m "not slow and not postgres" "${PYTEST_ARGS[@]}"
# Last, so the suite's own summary line closes the output. Exit code 5 (no tests) fails too.
step "whole suite on PostgreSQL + Redis" .venv/bin/pytest -q "${PYTEST_ARGS[@]}"

if [ "${#failed[@]}" -gt 0 ]; then
    printf 'make test: FAILED: %s\n' "$(IFS=,; echo "${failed[*]}")" >&2
    exit 1
fi
