"""Tiering reacts to what the customer records announce, whichever door the data came in by."""

import datetime
import zoneinfo

import pytest
import time_machine
from django.urls import reverse

from core.tests.clock import RUN_DAY
from crm.models import Interaction
from crm.tests.factories import InteractionFactory
from tiering.models import Notice
from tiering.tests.conftest import run_now

SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")
TODAY = datetime.datetime(2026, 11, 15, 10, 0, tzinfo=SHANGHAI)


def _third_complaint_through_admin(admin_client, customer):
    response = admin_client.post(
        reverse("admin:crm_interaction_add"),
        {"customer": customer.pk, "kind": "complaint", "occurred_at": "2026-11-09", "note": "Late delivery"},
    )
    assert response.status_code == 302, response.content.decode()[:2000]


def _third_complaint_through_api(integration_api, customer):
    row = {"customer": customer.code, "kind": "complaint", "occurred_at": "2026-11-09", "note": "Late delivery"}
    response = integration_api.post("/api/v1/interactions/", row, format="json")
    assert response.status_code == 201, response.json()


@pytest.mark.parametrize("door", ["admin", "api"])
def test_a_third_complaint_raises_the_complaints_warning_whichever_door(
    door, strong, manager, admin_user, client, integration_api, django_capture_on_commit_callbacks
):
    run_now(RUN_DAY)
    for day in (1, 5):
        InteractionFactory(customer=strong, kind=Interaction.Kind.COMPLAINT, occurred_at=datetime.date(2026, 11, day))
    with time_machine.travel(TODAY, tick=False), django_capture_on_commit_callbacks(execute=True):
        if door == "admin":
            client.force_login(admin_user)
            _third_complaint_through_admin(client, strong)
        else:
            _third_complaint_through_api(integration_api, strong)
    strong.refresh_from_db()
    assert strong.flags == ["complaints"]
    notice = Notice.objects.get(kind=Notice.Kind.EARLY_WARNING, customer=strong)
    assert notice.recipient == manager
    assert notice.payload["flag"] == "complaints"
    assert notice.payload["complaints_recent"] == 3
    assert notice.payload["as_of"] == "2026-11-15"


def test_an_order_corrected_in_admin_reevaluates_its_customer(
    strong, admin_user, client, django_capture_on_commit_callbacks
):
    run_now(RUN_DAY)
    order = strong.orders.order_by("-ordered_at").first()
    client.force_login(admin_user)
    with time_machine.travel(TODAY, tick=False), django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("admin:crm_order_change", args=[order.pk]),
            {
                "customer": strong.pk,
                "amount": "900000.00",
                "ordered_at": "2026-11-10",
                "source": order.source,
                "external_ref": order.external_ref,
            },
        )
    assert response.status_code == 302, response.content.decode()[:2000]
    order.refresh_from_db()
    strong.refresh_from_db()
    assert order.amount == 900000
    assert "spend_up" in strong.flags
