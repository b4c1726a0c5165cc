#!/usr/bin/env bash
# `make soak`: mixed load for a bounded time against gunicorn on loopback, with PostgreSQL,
# Redis and a Celery worker, then a check that nothing was lost or stored twice.
#
#   SOAK_SECONDS=60 (default)  SOAK_USERS=24  SOAK_CUSTOMERS=3000  SOAK_WORKERS=4
set -euo pipefail
cd "$(dirname "$0")/.."
source .ci/services.sh

bash .ci/venv.sh
services_packages
SOAK_PIDS=()
soak_cleanup() {
    local pid
    for pid in "${SOAK_PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
    for pid in "${SOAK_PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
    services_stop
}
trap soak_cleanup EXIT INT TERM
services_start

SOAK_SECONDS="${SOAK_SECONDS:-60}"
SOAK_USERS="${SOAK_USERS:-24}"
SOAK_CUSTOMERS="${SOAK_CUSTOMERS:-3000}"
SOAK_WORKERS="${SOAK_WORKERS:-4}"
export SOAK_OUT="$SERVICES_DIR/soak"
export SOAK_RUN_ID="soak$(date +%s)"
mkdir -p "$SOAK_OUT"

# Production settings with throw-away secrets; no TLS on loopback.
export DEBUG=0 DJANGO_SETTINGS_MODULE=config.settings LOG_LEVEL=WARNING
export SECRET_KEY="soak-$(head -c 48 /dev/urandom | base64 | tr -d '/+=')"
export FIELD_ENCRYPTION_KEYS="$(head -c 32 /dev/urandom | base64 | tr '/+' '_-')"
export ALLOWED_HOSTS=127.0.0.1,localhost SECURE_SSL_REDIRECT=0 SESSION_COOKIE_SECURE=0 CSRF_COOKIE_SECURE=0
export CACHE_URL="${TEST_REDIS_URL}" CELERY_RESULT_BACKEND="${CELERY_BROKER_URL%/*}/2"
export API_THROTTLE_RATE=1000000/min AXES_FAILURE_LIMIT=1000
unset TEST_CELERY_BROKER_URL
PY=.venv/bin/python

echo "==> migrate and seed $SOAK_CUSTOMERS demo customers"
$PY manage.py migrate --noinput -v 0
$PY manage.py seed_demo --customers "$SOAK_CUSTOMERS" >/dev/null
$PY manage.py collectstatic --noinput -v 0
export SOAK_INTEGRATION_TOKEN="$($PY manage.py issue_api_token integration)"
export SOAK_ADMIN_TOKEN="$($PY manage.py issue_api_token admin)"
export SOAK_MANAGERS="manager1:manager12345,manager2:manager12345"
export SOAK_CUSTOMER_CODES="$($PY manage.py shell --no-imports -c 'from crm.models import Customer; print(",".join(Customer.objects.order_by("?").values_list("code", flat=True)[:500]))')"

PORT="$(_free_port 18600)"
echo "==> celery worker and gunicorn ($SOAK_WORKERS workers) on 127.0.0.1:$PORT"
.venv/bin/celery -A config worker -l warning -c 2 --without-gossip --without-mingle >"$SOAK_OUT/worker.log" 2>&1 &
SOAK_PIDS+=($!)
.venv/bin/gunicorn config.wsgi:application -b "127.0.0.1:$PORT" -w "$SOAK_WORKERS" --threads 2 \
    --access-logfile /dev/null --error-logfile "$SOAK_OUT/gunicorn.log" &
SOAK_PIDS+=($!)
for _ in $(seq 100); do
    curl -fsS -o /dev/null "http://127.0.0.1:$PORT/accounts/login/" 2>/dev/null && break
    sleep 0.2
done

echo "==> locust: $SOAK_USERS users for ${SOAK_SECONDS}s (managers browsing, an integration pushing orders, a re-tier run half-way)"
set +e
.venv/bin/locust -f .ci/soak/locustfile.py --headless -u "$SOAK_USERS" -r "$SOAK_USERS" -t "${SOAK_SECONDS}s" \
    --host "http://127.0.0.1:$PORT" --csv "$SOAK_OUT/soak" --only-summary --stop-timeout 10 \
    >"$SOAK_OUT/locust.log" 2>&1
locust_status=$?
set -e
[ "$locust_status" -eq 0 ] || tail -n 30 "$SOAK_OUT/locust.log" >&2

set +e
$PY .ci/soak/verify.py
verify_status=$?
set -e
if [ -s "$SOAK_OUT/soak_failures.csv" ] && [ "$(wc -l <"$SOAK_OUT/soak_failures.csv")" -gt 1 ]; then
    echo "failures:"; cat "$SOAK_OUT/soak_failures.csv"
fi
exit $((locust_status || verify_status))
