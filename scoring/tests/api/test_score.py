"""GET /api/v1/customers/{code}/score/: the live score, computed now, storing nothing."""

import datetime
from decimal import Decimal

import pytest
import time_machine

from crm.models import Customer
from crm.tests.factories import OrderFactory, SurveyFactory

pytestmark = pytest.mark.django_db
URL = "/api/v1/customers/"


@time_machine.travel(datetime.datetime(2026, 11, 22, 10, 0, tzinfo=datetime.UTC), tick=False)
def test_live_score_shows_breakdown_and_writes_nothing(manager_api, customer, django_assert_max_num_queries):
    OrderFactory(customer=customer, amount=Decimal("600000"), ordered_at=datetime.date(2026, 6, 1))
    SurveyFactory(customer=customer, score=Decimal("4.8"))
    before = Customer.objects.values_list("score", "tier_id", "updated_at").get(pk=customer.pk)
    response = manager_api.get(f"{URL}{customer.code}/score/")
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["as_of"] == "2026-11-22"
    assert body["profile"]["name"] and body["profile"]["version"] >= 1
    spend = next(rule for rule in body["rules"] if rule["metric"] == "spend_12m")
    assert spend["points"] == spend["max_points"] > 0
    assert body["score"] == pytest.approx(sum(rule["points"] for rule in body["rules"]), abs=0.01)
    assert Customer.objects.values_list("score", "tier_id", "updated_at").get(pk=customer.pk) == before


@time_machine.travel(datetime.datetime(2026, 11, 22, 10, 0, tzinfo=datetime.UTC), tick=False)
def test_live_score_at_another_date(admin_api, customer):
    OrderFactory(customer=customer, amount=Decimal("600000"), ordered_at=datetime.date(2026, 6, 1))
    now = admin_api.get(f"{URL}{customer.code}/score/").json()
    before_order = admin_api.get(f"{URL}{customer.code}/score/", {"as_of": "2026-05-01"}).json()
    assert before_order["as_of"] == "2026-05-01"
    assert before_order["score"] < now["score"]


def test_live_score_bad_date_is_400(admin_api, customer):
    for value in ("yesterday", "1800-01-01"):
        response = admin_api.get(f"{URL}{customer.code}/score/", {"as_of": value})
        assert response.status_code == 400
        assert "as_of" in response.json()["error"]["fields"]
