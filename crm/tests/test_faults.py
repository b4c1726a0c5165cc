"""Faults that must lose nothing when the broker is down or a client retries. The faults that
need a real worker, PostgreSQL and Redis are in test_worker_faults.py."""

import datetime
import os
import socket
import time
from contextlib import contextmanager

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse
from knox.models import AuthToken

from config.celery import app as celery_app
from crm.models import Order
from crm.tests.factories import UserFactory
from tiering.models import TieringSettings
from tiering.services import customers_reevaluate_sweep


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]  # free now, and nobody listens on it


@contextmanager
def celery_broker(broker_url: str, backend_url: str | None = None):
    """Send tasks to a real broker from this test process instead of running them eagerly."""
    conf = celery_app.conf
    saved = {key: conf[key] for key in ("broker_url", "result_backend", "task_always_eager")}

    def reset_connections():
        celery_app._pool = None
        celery_app.amqp._producer_pool = None
        celery_app._backend_cache = None
        celery_app._local.__dict__.pop("backend", None)

    saved_env = os.environ.get("CELERY_BROKER_URL")
    os.environ["CELERY_BROKER_URL"] = broker_url  # Celery reads this variable before its own settings
    conf.update(broker_url=broker_url, result_backend=backend_url or "cache+memory://", task_always_eager=False)
    reset_connections()
    try:
        yield
    finally:
        if saved_env is None:
            os.environ.pop("CELERY_BROKER_URL", None)
        else:
            os.environ["CELERY_BROKER_URL"] = saved_env
        conf.update(saved)
        reset_connections()


# --- broker down: orders are stored, re-evaluation caught up by the sweep -----------------------


@pytest.fixture
def integration(db):
    user = UserFactory(username="erp")
    user.groups.add(Group.objects.get(name="Integrations"))
    return user


@pytest.mark.django_db
def test_orders_pushed_while_the_broker_is_down_are_stored_and_swept_later(
    client, integration, customer, django_capture_on_commit_callbacks, caplog
):
    _instance, token = AuthToken.objects.create(user=integration)
    payload = [
        {
            "customer": customer.code,
            "amount": "1200.00",
            "ordered_at": "2026-09-28",
            "source": "erp",
            "external_ref": f"R{n}",
        }
        for n in range(20)
    ]
    TieringSettings.objects.filter(pk=TieringSettings.current().pk).update(
        last_sweep_at=datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC)
    )

    started = time.monotonic()
    with celery_broker(f"redis://127.0.0.1:{_closed_port()}/0"), django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("api:orders"), payload, content_type="application/json", HTTP_AUTHORIZATION=f"Token {token}"
        )
    elapsed = time.monotonic() - started

    assert response.status_code in (200, 201), response.content
    assert Order.objects.filter(customer=customer).count() == 20
    assert elapsed < 15, "a dead broker must not hold the request"
    assert "sweep" in caplog.text
    customer.refresh_from_db()
    assert customer.last_order_at is None  # the re-evaluation never ran...

    swept = customers_reevaluate_sweep()

    customer.refresh_from_db()
    assert swept >= 1 and customer.last_order_at == datetime.date(2026, 9, 28)  # ...until the sweep


@pytest.mark.django_db
def test_pushing_the_same_batch_again_after_a_failure_stores_each_order_once(client, integration, customer):
    client.force_login(integration)
    payload = [
        {
            "customer": customer.code,
            "amount": "10.00",
            "ordered_at": "2026-09-01",
            "source": "erp",
            "external_ref": f"D{n}",
        }
        for n in range(5)
    ]

    for _attempt in range(3):  # the integration retries, e.g. after a timeout on its side
        assert client.post(reverse("api:orders"), payload, content_type="application/json").status_code < 300

    assert Order.objects.filter(source="erp", external_ref__startswith="D").count() == 5
