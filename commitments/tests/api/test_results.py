"""GET /api/v1/results/: the results per tier and quarter as JSON or CSV, over the customers the
caller sees, with bad input named in the API's error shape (also when CSV was asked for)."""

import datetime
import zoneinfo
from decimal import Decimal

import pytest
import time_machine

from crm.tests.factories import CustomerFactory, OrderFactory, UserFactory
from tiering.tests.factories import TierAssignmentFactory, TierRunFactory, tier

pytestmark = pytest.mark.django_db
NOW = datetime.datetime(2026, 11, 15, 12, 0, tzinfo=zoneinfo.ZoneInfo("Asia/Shanghai"))


@pytest.fixture
def buyers(manager, outsider):
    """Two core customers at the start of 2026-Q4: the manager's orders twice, the outsider's once."""
    run = TierRunFactory(period="2026-Q4", as_of=datetime.date(2026, 10, 1))
    mine = CustomerFactory(account_manager=manager)
    theirs = CustomerFactory(account_manager=outsider)
    for owner, days in ((mine, (3, 4)), (theirs, (5,))):
        TierAssignmentFactory(run=run, customer=owner, computed_tier=tier("core"))
        for day in days:
            OrderFactory(customer=owner, ordered_at=datetime.date(2026, 10, day), amount=Decimal("100"))
    return mine, theirs


def get(client, url, **headers):
    with time_machine.travel(NOW, tick=False):
        return client.get(url, **headers)


def repurchase(body, quarter="2026-Q4", tier_code="core"):
    figure = next(f for f in body["figures"] if f["key"] == "repurchase_rate")
    return next((v for v in figure["values"] if v["quarter"] == quarter and v["tier"] == tier_code), None)


def test_results_as_json_over_the_callers_customers(manager_api, admin_api, outsider_api, buyers):
    response = get(manager_api, "/api/v1/results/?quarters=2026-Q3,2026-Q4", HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    body = response.json()
    assert [q["quarter"] for q in body["quarters"]] == ["2026-Q3", "2026-Q4"]
    assert body["quarters"][1] == {"quarter": "2026-Q4", "start": "2026-10-01", "end": "2026-12-31"}
    assert [t["code"] for t in body["tiers"]][:2] == ["vip", "core"]
    figure = body["figures"][0]
    assert (figure["key"], figure["label"], figure["unit"]) == ("repurchase_rate", "Repurchase rate", "percent")
    assert figure["definition"].startswith("Of the tier's customers who ordered in the quarter")
    assert repurchase(body) == {
        "quarter": "2026-Q4",
        "tier": "core",
        "value": 100.0,
        "n": 1,
        "met": 1,
        "reference": None,
    }
    assert repurchase(get(admin_api, "/api/v1/results/?quarters=2026-Q4").json())["n"] == 2
    assert repurchase(get(outsider_api, "/api/v1/results/?quarters=2026-Q4").json())["value"] == 0.0


def test_the_default_is_the_last_four_quarters_and_a_second_request_is_served_from_the_cache(
    manager_api, buyers, django_assert_max_num_queries
):
    first = get(manager_api, "/api/v1/results/")
    assert [q["quarter"] for q in first.json()["quarters"]] == ["2026-Q1", "2026-Q2", "2026-Q3", "2026-Q4"]
    with django_assert_max_num_queries(6):  # the token, the permissions, the tiers: no figure recomputed
        again = get(manager_api, "/api/v1/results/")
    assert again.json() == first.json()


@pytest.mark.parametrize("how", ["format", "accept"])
def test_results_as_csv(manager_api, buyers, how):
    if how == "format":
        response = get(manager_api, "/api/v1/results/?quarters=2026-Q4&format=csv", HTTP_ACCEPT_LANGUAGE="en")
    else:
        response = get(
            manager_api, "/api/v1/results/?quarters=2026-Q4", HTTP_ACCEPT="text/csv", HTTP_ACCEPT_LANGUAGE="en"
        )
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert response["Content-Disposition"] == 'attachment; filename="results-20261115.csv"'
    lines = response.content.decode("utf-8").splitlines()
    assert lines[0] == "\ufefffigure,quarter,tier,tier name,value,unit,count,met,reference,definition"
    assert lines[1].startswith("Repurchase rate,2026-Q4,core,Core,100.0,percent,1,1,,")


def test_bad_quarters_are_a_400_naming_the_field_in_json_also_for_csv(manager_api, buyers):
    for url in ("/api/v1/results/?quarters=2026-Q9", "/api/v1/results/?quarters=2030-Q1&format=csv"):
        response = get(manager_api, url)
        assert response.status_code == 400
        assert response["Content-Type"] == "application/json"
        assert list(response.json()["error"]["fields"]) == ["quarters"]


def test_a_user_without_the_right_gets_403_and_a_stranger_401(api_client_for, client, buyers):
    assert get(api_client_for(UserFactory(username="visitor")), "/api/v1/results/").status_code == 403
    assert get(client, "/api/v1/results/").status_code == 401
