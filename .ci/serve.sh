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
# Tier the demo customers at the start of the last three quarters, so the demo shows tier
# history, upgrades, downgrades and notices, not only today's tiers.
untiered="$($PY manage.py shell -v 0 -c 'from crm.models import Customer; print(Customer.objects.filter(tier__isnull=True).exists())')"
if [ "$untiered" = "True" ]; then
    quarters="$($PY -c 'import datetime as d; t=d.date.today(); q=[(t.year,(t.month-1)//3*3+1)]
for _ in range(2): y,m=q[0]; q.insert(0,(y-1,10) if m==1 else (y,m-3))
print(" ".join(f"{y}-{m:02d}-01" for y,m in q))')"
    for as_of in $quarters; do
        $PY manage.py retier --as-of "$as_of" || echo "run: retier $as_of failed" >&2
    done
    # The workbench demo that needs tiers: a downgrade letter sent, next steps planned from notices.
    $PY manage.py seed_demo --after-runs || echo "run: workbench demo after the runs failed" >&2
fi

cat <<MSG

  CRM demo: http://$HOST:$PORT/   (admin: http://$HOST:$PORT/admin/)
  Logins:   admin / admin12345          (superuser)
            manager1 / manager12345     (account manager)
            manager2 / manager12345     (account manager)
            integration / integration12345  (API integration user)

MSG
exec $PY manage.py runserver "$HOST:$PORT"
