import json
from decimal import Decimal
from unittest import mock

import pytest

from crm.models import Interaction, Order, SatisfactionSurvey
from crm.tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db


def order(customer, ref, **extra):
    return {
        "customer": customer.code,
        "amount": "1280.50",
        "ordered_at": "2026-06-01",
        "source": "erp",
        "external_ref": ref,
        **extra,
    }


def test_one_order_is_stored(integration_api, customer):
    response = integration_api.post("/api/v1/orders/", order(customer, "SO-1"), format="json")
    assert response.status_code == 201, response.json()
    assert response.json() == {"created": 1, "duplicates": 0}
    assert Order.objects.get().amount == Decimal("1280.50")


def test_pushing_the_same_orders_twice_is_idempotent(integration_api, customer):
    rows = [order(customer, f"SO-{n}") for n in range(5)]
    assert integration_api.post("/api/v1/orders/", rows, format="json").json() == {"created": 5, "duplicates": 0}
    rows.append(order(customer, "SO-5"))
    assert integration_api.post("/api/v1/orders/", rows, format="json").json() == {"created": 1, "duplicates": 5}
    assert Order.objects.count() == 6


def test_a_bad_row_rejects_the_whole_batch_and_says_which(integration_api, customer):
    rows = [
        order(customer, "SO-1"),
        order(customer, "SO-2", amount="-5"),
        order(customer, "SO-3", ordered_at="June"),
        {**order(customer, "SO-4"), "customer": "NOPE2026001"},
    ]
    response = integration_api.post("/api/v1/orders/", rows, format="json")
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "invalid_batch"
    failed = {(row["index"], row["field"]) for row in error["fields"]["rows"]}
    assert failed == {(1, "amount"), (2, "ordered_at"), (3, "customer")}
    assert Order.objects.count() == 0


def test_unknown_fields_in_rows_are_rejected(integration_api, customer):
    response = integration_api.post("/api/v1/orders/", [order(customer, "SO-1", currency="CNY")], format="json")
    assert response.status_code == 400
    assert response.json()["error"]["fields"]["rows"] == [{"index": 0, "field": "currency", "message": mock.ANY}]
    assert Order.objects.count() == 0


def test_wrong_envelope_types_are_400(integration_api):
    for body in ([], "text", 5, [1, 2]):
        response = integration_api.post("/api/v1/orders/", body, format="json")
        assert response.status_code == 400, body
        assert "rows" in response.json()["error"]["fields"]


def test_malformed_json_is_400_not_500(integration_api):
    for raw in ('{"customer": ', "[" * 100000, '{"amount": NaN}'):
        response = integration_api.generic("POST", "/api/v1/orders/", raw, content_type="application/json")
        assert response.status_code == 400, raw[:20]
        assert response.json()["error"]["code"] == "malformed_request"


def test_non_json_body_is_415(integration_api):
    response = integration_api.generic(
        "POST", "/api/v1/orders/", "a=b", content_type="application/x-www-form-urlencoded"
    )
    assert response.status_code == 415
    assert response.json()["error"]["code"] == "unsupported_media_type"


def test_more_than_ten_thousand_rows_is_rejected(integration_api, customer):
    rows = [order(customer, f"SO-{n}") for n in range(10_001)]
    response = integration_api.post("/api/v1/orders/", rows, format="json")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "batch_too_large"
    assert Order.objects.count() == 0


def test_ten_thousand_rows_fit(integration_api, customer, django_assert_max_num_queries):
    rows = [order(customer, f"SO-{n}") for n in range(10_000)]
    # Batched, never per row: SQLite splits inserts into ~200-row statements, PostgreSQL into 1,000.
    with django_assert_max_num_queries(120):
        response = integration_api.post("/api/v1/orders/", rows, format="json")
    assert response.status_code == 201, response.json()
    assert Order.objects.count() == 10_000


def test_huge_payload_is_413(integration_api, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    response = integration_api.generic(
        "POST", "/api/v1/orders/", json.dumps([{"note": "x" * 2000}]), content_type="application/json"
    )
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "body_too_large"


def test_ingest_queues_reevaluation_of_affected_customers(integration_api, customer):
    with mock.patch("tiering.receivers.customers_reevaluate_enqueue") as enqueue:
        integration_api.post("/api/v1/orders/", [order(customer, "SO-1")], format="json")
    enqueue.assert_called_once_with([customer.pk])


def test_account_manager_cannot_push_orders(manager_api, customer):
    response = manager_api.post("/api/v1/orders/", order(customer, "SO-1"), format="json")
    assert response.status_code == 403


def test_manager_cannot_record_for_another_managers_customer(outsider_api, customer):
    row = {"customer": customer.code, "kind": "visit", "occurred_at": "2026-06-01"}
    response = outsider_api.post("/api/v1/interactions/", row, format="json")
    assert response.status_code == 400
    [error] = response.json()["error"]["fields"]["rows"]
    assert error["field"] == "customer" and customer.code in error["message"]
    assert Interaction.objects.count() == 0


def test_manager_records_interactions_for_own_customers(manager_api, manager, customer):
    rows = [
        {"customer": customer.code, "kind": "referral", "occurred_at": "2026-06-01", "note": "Brought a buyer"},
        {"customer": customer.code, "kind": "complaint", "occurred_at": "2026-06-02"},
    ]
    response = manager_api.post("/api/v1/interactions/", rows, format="json")
    assert response.status_code == 201, response.json()
    assert response.json()["created"] == 2
    assert set(Interaction.objects.values_list("recorded_by", flat=True)) == {manager.pk}


def test_interaction_kind_is_checked(integration_api, customer):
    row = {"customer": customer.code, "kind": "lunch", "occurred_at": "2026-06-01"}
    response = integration_api.post("/api/v1/interactions/", row, format="json")
    assert response.status_code == 400
    assert response.json()["error"]["fields"]["rows"][0]["field"] == "kind"


def test_surveys_single_and_batch(integration_api, customer):
    other = CustomerFactory()
    rows = [
        {"customer": customer.code, "score": 4.5, "surveyed_at": "2026-06-01"},
        {"customer": other.code, "score": "3", "surveyed_at": "2026-06-01", "channel": "phone"},
    ]
    response = integration_api.post("/api/v1/surveys/", rows, format="json")
    assert response.status_code == 201, response.json()
    assert SatisfactionSurvey.objects.count() == 2


def test_survey_score_out_of_range_rejects_batch(integration_api, customer):
    rows = [
        {"customer": customer.code, "score": 4, "surveyed_at": "2026-06-01"},
        {"customer": customer.code, "score": 6, "surveyed_at": "2026-06-01"},
    ]
    response = integration_api.post("/api/v1/surveys/", rows, format="json")
    assert response.status_code == 400
    assert response.json()["error"]["fields"]["rows"][0]["index"] == 1
    assert SatisfactionSurvey.objects.count() == 0
