#!/usr/bin/env bash
# `make run`: the embedded demo (SQLite, eager Celery, no other service) on http://127.0.0.1:8000.
set -euo pipefail
cd "$(dirname "$0")/.."

bash .ci/venv.sh
export DEBUG="${DEBUG:-1}"
HOST="${HOST:-127.0.0.1}"
PORT="${PORT:-8000}"
PY=.venv/bin/python

$PY manage.py migrate --noinput
if $PY manage.py seed_demo --if-empty; then :; else
    echo "run: seeding demo data failed" >&2; exit 1
fi
# Tier the demo customers so the lists show tiers (the retier command comes with the tiering app).
untiered="$($PY manage.py shell -c 'from crm.models import Customer; print(Customer.objects.filter(tier__isnull=True).exists())')"
if [ "$untiered" = "True" ] && $PY manage.py help retier >/dev/null 2>&1; then
    $PY manage.py retier || echo "run: retier failed; the demo starts without tiers" >&2
fi

cat <<MSG

  CRM demo: http://$HOST:$PORT/   (admin: http://$HOST:$PORT/admin/)
  Logins:   admin / admin12345          (superuser)
            manager1 / manager12345     (account manager)
            manager2 / manager12345     (account manager)
            integration / integration12345  (API integration user)

MSG
exec $PY manage.py runserver "$HOST:$PORT"
