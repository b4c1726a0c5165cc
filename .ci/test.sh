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
# Every phase runs its tests in a random order (pytest-randomly; `-p randomly` fails the run if the
# plugin is missing) and prints its seed above the summary line; TEST_RANDOMLY_SEED=N repeats an order.
PYTEST_ARGS=(--timeout="${TEST_TIMEOUT:-900}" -p randomly ${TEST_RANDOMLY_SEED:+--randomly-seed="$TEST_RANDOMLY_SEED"})
COVERAGE_ARGS=(--cov=config --cov=core --cov=crm --cov=scoring --cov=tiering --cov=service --cov=commitments --cov=web --cov-branch
    --cov-report=term:skip-covered)
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
# The embedded default: tests that need PostgreSQL or a real broker are deselected by marker,
# and the summary names each of them (they run in the last phase).
step "fast suite on SQLite (eager Celery)" \
    env -u DATABASE_URL -u CELERY_BROKER_URL -u TEST_CELERY_BROKER_URL -u TEST_REDIS_URL TEST_LIST_DESELECTED=1 \
    .venv/bin/pytest -q -m "not slow and not postgres" "${PYTEST_ARGS[@]}"
# The security guarantees with the production settings as deployed (DEBUG=0, axes on, the real
# API rate, HTTPS redirect, HSTS, secure cookies), throw-away secrets, on the PostgreSQL above.
step "security with production settings (DEBUG=0)" \
    env -u CELERY_BROKER_URL DJANGO_SETTINGS_MODULE=config.settings DEBUG=0 LOG_LEVEL=WARNING \
    SECRET_KEY="$(.venv/bin/python -c 'import secrets; print(secrets.token_urlsafe(50))')" \
    FIELD_ENCRYPTION_KEYS="$(.venv/bin/python -c 'import base64, os; print(base64.urlsafe_b64encode(os.urandom(32)).decode())')" \
    ALLOWED_HOSTS=testserver TEST_FORBID_SKIPS=1 TEST_DATABASE_VENDOR=postgresql \
    .venv/bin/pytest -q -rs -m production "${PYTEST_ARGS[@]}" config/tests/test_production.py
# Last, so the suite's own summary line closes the output. Exit code 5 (no tests) fails too.
# Every test runs here and none may skip (the run stops unless the database really is
# PostgreSQL); line and branch coverage is printed, each module below 100% named.
step "whole suite on PostgreSQL + Redis" \
    env TEST_FORBID_SKIPS=1 TEST_DATABASE_VENDOR=postgresql \
    .venv/bin/pytest -q -rs "${PYTEST_ARGS[@]}" "${COVERAGE_ARGS[@]}"

if [ "${#failed[@]}" -gt 0 ]; then
    printf 'make test: FAILED: %s\n' "$(IFS=,; echo "${failed[*]}")" >&2
    exit 1
fi
