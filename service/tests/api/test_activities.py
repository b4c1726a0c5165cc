"""GET/POST /api/v1/activities/: the workbench's activities, written through crm.services like
POST /api/v1/interactions/ (one object or a list, all or nothing, the same error envelope)."""

import datetime

import pytest

from crm.models import Interaction
from crm.tests.factories import CustomerFactory, InteractionFactory, UserFactory
from service.tests.factories import NOW, TODAY

pytestmark = pytest.mark.django_db
URL = "/api/v1/activities/"


def visit(code, **fields):
    return {"customer": code, "kind": "visit", "occurred_at": "2026-10-09T14:30:00+08:00", **fields}


def test_one_activity_is_logged_with_its_time_duration_and_outcome(clock, manager_api, manager, customer):
    response = manager_api.post(
        URL,
        visit(customer.code, duration_minutes=45, outcome="Trial order agreed", note="Met the buyer"),
        format="json",
    )

    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["created"] == 1
    (row,) = body["results"]
    stored = Interaction.objects.get()
    assert row["id"] == stored.pk and row["customer"] == customer.code and row["customer_name"] == customer.name
    assert (row["kind"], row["occurred_at"], row["duration_minutes"], row["outcome"]) == (
        "visit",
        "2026-10-09",
        45,
        "Trial order agreed",
    )
    assert row["happened_at"].startswith("2026-10-09T14:30:00") and row["recorded_by"] == "manager"
    assert stored.recorded_by == manager and stored.happened_at == datetime.datetime.fromisoformat(
        "2026-10-09T14:30:00+08:00"
    )


def test_a_batch_is_stored_whole(clock, manager_api, customer):
    rows = [visit(customer.code), {"customer": customer.code, "kind": "call", "occurred_at": "2026-10-10"}]
    response = manager_api.post(URL, rows, format="json")
    assert response.status_code == 201
    assert [row["kind"] for row in response.json()["results"]] == ["visit", "call"]
    assert Interaction.objects.count() == 2


@pytest.mark.parametrize(
    ("row", "field"),
    [
        ({"occurred_at": (TODAY + datetime.timedelta(days=1)).isoformat()}, "occurred_at"),
        ({"occurred_at": (NOW + datetime.timedelta(hours=2)).isoformat()}, "occurred_at"),
        ({"occurred_at": "yesterday"}, "occurred_at"),
        ({"kind": "fax"}, "kind"),
        ({"duration_minutes": 0}, "duration_minutes"),
        ({"outcome": "x" * 201}, "outcome"),
        ({"colour": "red"}, "colour"),
    ],
)
def test_a_bad_row_refuses_the_whole_batch_naming_the_field(clock, manager_api, customer, row, field):
    rows = [visit(customer.code), visit(customer.code, **row)]

    response = manager_api.post(URL, rows, format="json")

    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "invalid_batch"
    assert {"index": 1, "field": field} == {key: error["fields"]["rows"][0][key] for key in ("index", "field")}
    assert not Interaction.objects.exists()


def test_an_outsiders_customer_is_refused_naming_customer(clock, outsider_api, customer):
    response = outsider_api.post(URL, visit(customer.code), format="json")

    assert response.status_code == 400
    (error,) = response.json()["error"]["fields"]["rows"]
    assert error["field"] == "customer" and customer.code in error["message"]
    assert not Interaction.objects.exists()


def test_the_envelope_is_that_of_the_interactions_endpoint(clock, manager_api):
    for body in ([], "a visit"):
        response = manager_api.post(URL, body, format="json")
        assert response.status_code == 400
        assert set(response.json()["error"]) == {"code", "message", "fields"}
    response = manager_api.post(URL, "{not json", content_type="application/json")
    assert response.status_code == 400 and response.json()["error"]["code"] == "malformed_request"


def test_a_manager_lists_only_the_activities_of_their_own_customers(clock, manager_api, customer, outsider):
    own = InteractionFactory(customer=customer, kind="call", occurred_at=TODAY)
    InteractionFactory(customer=CustomerFactory(account_manager=outsider), kind="call", occurred_at=TODAY)

    results = manager_api.get(URL).json()["results"]

    assert [row["id"] for row in results] == [own.pk]


def test_activities_are_filtered_by_customer_kind_and_dates(clock, admin_api, customer):
    other = CustomerFactory()
    call = InteractionFactory(customer=customer, kind="call", occurred_at=datetime.date(2026, 10, 1))
    InteractionFactory(customer=customer, kind="visit", occurred_at=datetime.date(2026, 9, 1))
    InteractionFactory(customer=other, kind="call", occurred_at=datetime.date(2026, 10, 1))

    def ids(query):
        response = admin_api.get(URL, query)
        assert response.status_code == 200, response.json()
        return [row["id"] for row in response.json()["results"]]

    assert ids({"customer": customer.code, "kind": "call"}) == [call.pk]
    assert len(ids({"since": "2026-09-15", "until": "2026-10-05"})) == 2
    response = admin_api.get(URL, {"kind": "fax"})
    assert response.status_code == 400 and "kind" in response.json()["error"]["fields"]


def test_who_may_call_it(clock, api_client_for, customer, client):
    assert client.get(URL).status_code in {401, 403}
    stranger = api_client_for(UserFactory(username="stranger"))  # signed in, no role
    assert stranger.get(URL).status_code == 403
    assert stranger.post(URL, visit(customer.code), format="json").status_code == 403
