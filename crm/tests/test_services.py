import datetime
import threading
from decimal import Decimal

import pytest
import time_machine
from django.db import close_old_connections, connection
from django.utils import translation

from core.exceptions import DomainError
from crm.models import Customer, CustomerCodeSequence, Interaction, Order, SatisfactionSurvey
from crm.services import (
    customer_code_next,
    customer_codes_reserve,
    customer_create,
    customer_update,
    interactions_record,
    orders_ingest,
    surveys_record,
)
from crm.tests.factories import CustomerFactory, OrderFactory, industry

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def english():
    """Messages are asserted in English; the catalogue may translate them to Chinese."""
    with translation.override("en"):
        yield


# --- codes -------------------------------------------------------------------------------------


def test_code_is_industry_year_and_three_digit_sequence():
    assert customer_code_next(industry=industry("EDU"), year=2024) == "EDU2024001"
    assert customer_code_next(industry=industry("EDU"), year=2024) == "EDU2024002"


def test_sequence_is_per_industry_and_year():
    assert customer_code_next(industry=industry("MFG"), year=2024) == "MFG2024001"
    assert customer_code_next(industry=industry("EDU"), year=2024) == "EDU2024001"
    assert customer_code_next(industry=industry("MFG"), year=2025) == "MFG2025001"
    assert customer_code_next(industry=industry("MFG"), year=2024) == "MFG2024002"


def test_sequence_grows_past_three_digits():
    CustomerCodeSequence.objects.create(industry=industry("IT"), year=2024, last_value=999)
    assert customer_code_next(industry=industry("IT"), year=2024) == "IT20241000"


def test_reserved_block_is_contiguous_and_never_reused():
    codes = customer_codes_reserve(industry=industry("RET"), year=2025, count=3)
    assert codes == ["RET2025001", "RET2025002", "RET2025003"]
    assert customer_code_next(industry=industry("RET"), year=2025) == "RET2025004"


def test_deleted_customer_code_is_not_handed_out_again(manager):
    first = customer_create(name="A", industry=industry("MFG"), customer_type="b2b")
    first_code = first.code
    first.delete()
    second = customer_create(name="B", industry=industry("MFG"), customer_type="b2b")
    assert second.code != first_code


@time_machine.travel(datetime.datetime(2024, 12, 31, 17, 30, tzinfo=datetime.UTC))
def test_code_year_follows_business_time_zone():
    """17:30 UTC on 31 Dec is already 1 Jan in Shanghai."""
    customer = customer_create(name="New year", industry=industry("EDU"), customer_type="b2c")
    assert customer.code == "EDU2025001"


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True, serialized_rollback=True)  # keeps the seeded rows
def test_concurrent_creations_get_different_codes():
    if connection.vendor != "postgresql":
        pytest.skip("row locks are only meaningful on PostgreSQL")
    mfg = industry("MFG")
    codes, errors = [], []
    barrier = threading.Barrier(4)

    def create(n):
        try:
            barrier.wait()
            codes.append(customer_create(name=f"Concurrent {n}", industry=mfg, customer_type="b2b").code)
        except Exception as exc:  # noqa: BLE001 - collected and asserted below
            errors.append(exc)
        finally:
            close_old_connections()
            connection.close()

    threads = [threading.Thread(target=create, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert len(codes) == 4
    assert len(set(codes)) == 4


# --- customers ---------------------------------------------------------------------------------


def test_customer_create_generates_code_and_stores_fields(manager):
    customer = customer_create(
        name="上海新能源有限公司", industry=industry("NEV"), customer_type="b2b", account_manager=manager,
        region="华东", tax_id="91310000MA1FL1234X",
    )
    customer.refresh_from_db()
    assert customer.code.startswith("NEV")
    assert customer.account_manager == manager
    assert customer.tax_id == "91310000MA1FL1234X"


def test_customer_create_accepts_industry_code():
    assert customer_create(name="X", industry="edu", customer_type="b2c").industry.code == "EDU"


def test_customer_create_rejects_unknown_industry():
    with pytest.raises(DomainError) as caught:
        customer_create(name="X", industry="ZZZ", customer_type="b2b")
    assert "Unknown industry" in caught.value.fields["industry"][0]
    assert Customer.objects.count() == 0


def test_customer_create_rejects_bad_values_with_messages_per_field():
    with pytest.raises(DomainError) as caught:
        customer_create(name="", industry=industry("MFG"), customer_type="xyz", potential_rating=11,
                        contact_email="not-an-email")
    fields = caught.value.fields
    assert set(fields) >= {"name", "customer_type", "potential_rating", "contact_email"}
    assert Customer.objects.count() == 0
    assert not CustomerCodeSequence.objects.filter(last_value__gt=0).exists()


def test_customer_create_refuses_fields_written_by_tier_runs():
    with pytest.raises(DomainError) as caught:
        customer_create(name="X", industry=industry("MFG"), customer_type="b2b", score=Decimal("99"))
    assert "score" in caught.value.fields


def test_customer_update_validates_and_keeps_code(customer):
    code = customer.code
    customer_update(customer=customer, changed_by=None, name="Renamed", industry="EDU")
    customer.refresh_from_db()
    assert (customer.name, customer.industry.code, customer.code) == ("Renamed", "EDU", code)
    with pytest.raises(DomainError) as caught:
        customer_update(customer=customer, changed_by=None, potential_rating=42)
    assert "potential_rating" in caught.value.fields


# --- orders ------------------------------------------------------------------------------------


def _order(customer, ref, amount="100.00", **extra):
    return {"customer": customer, "amount": amount, "ordered_at": "2026-05-01", "source": "erp",
            "external_ref": ref, **extra}


def test_orders_ingest_stores_rows_by_instance_or_code(customer):
    result = orders_ingest(rows=[_order(customer, "SO1"), _order(customer.code, "SO2", amount=Decimal("5.5"))])
    assert (result.created, result.duplicates, result.customer_ids) == (2, 0, [customer.id])
    assert Order.objects.get(external_ref="SO2").amount == Decimal("5.50")


def test_order_pushed_twice_is_stored_once(customer):
    orders_ingest(rows=[_order(customer, "SO1")])
    again = orders_ingest(rows=[_order(customer, "SO1"), _order(customer, "SO2")])
    assert (again.created, again.duplicates) == (1, 1)
    assert Order.objects.filter(source="erp", external_ref="SO1").count() == 1


def test_same_ref_from_another_source_is_another_order(customer):
    orders_ingest(rows=[_order(customer, "SO1"), _order(customer, "SO1", source="shop")])
    assert Order.objects.count() == 2


def test_only_duplicates_affect_no_customer(customer):
    OrderFactory(customer=customer, external_ref="SO1")
    result = orders_ingest(rows=[_order(customer, "SO1")])
    assert (result.created, result.duplicates, result.customer_ids) == (0, 1, [])


def test_one_bad_row_stores_nothing_and_lists_every_problem(customer):
    rows = [
        _order(customer, "SO1"),
        _order(customer, "SO2", amount="-3"),
        _order("NOPE2026001", "SO3"),
        _order(customer, "SO1"),
        _order(customer, "SO4", ordered_at="2026-13-01"),
        _order(customer, "SO5", amount="abc"),
        _order(customer, "", amount="1.001"),
    ]
    with pytest.raises(DomainError) as caught:
        orders_ingest(rows=rows)
    assert caught.value.code == "invalid_batch"
    problems = {(e["index"], e["field"]) for e in caught.value.fields["rows"]}
    assert problems == {
        (1, "amount"), (2, "customer"), (3, "external_ref"), (4, "ordered_at"), (5, "amount"),
        (6, "amount"), (6, "external_ref"),
    }
    messages = {e["index"]: e["message"] for e in caught.value.fields["rows"]}
    assert "greater than 0" in messages[1]
    assert "NOPE2026001" in messages[2]
    assert Order.objects.count() == 0


def test_zero_amount_is_rejected(customer):
    with pytest.raises(DomainError):
        orders_ingest(rows=[_order(customer, "SO1", amount=0)])


def test_empty_batch_is_a_no_op():
    assert orders_ingest(rows=[]).created == 0


def test_rows_must_be_a_list_of_objects():
    with pytest.raises(DomainError):
        orders_ingest(rows="not rows")


# --- surveys and interactions ------------------------------------------------------------------


def test_surveys_record_stores_scores(customer):
    result = surveys_record(rows=[{"customer": customer.code, "score": "4.5", "surveyed_at": datetime.date(2026, 1, 2)}])
    assert result.created == 1 and result.customer_ids == [customer.id]
    assert SatisfactionSurvey.objects.get().score == Decimal("4.50")


@pytest.mark.parametrize("score", ["6", "0", "0.99", "5.01", None])
def test_survey_score_outside_one_to_five_is_rejected(customer, score):
    with pytest.raises(DomainError) as caught:
        surveys_record(rows=[{"customer": customer, "score": score, "surveyed_at": "2026-01-02"}])
    assert caught.value.fields["rows"][0]["field"] == "score"
    assert SatisfactionSurvey.objects.count() == 0


def test_survey_score_six_has_a_clear_message(customer):
    with pytest.raises(DomainError) as caught:
        surveys_record(rows=[{"customer": customer, "score": 6, "surveyed_at": "2026-01-02"}])
    assert caught.value.fields["rows"][0]["message"] == "Survey score must be between 1 and 5."


def test_interactions_record_stores_kind_and_author(customer, manager):
    result = interactions_record(
        rows=[{"customer": customer, "kind": "complaint", "occurred_at": "2026-02-03", "note": "late delivery"}],
        recorded_by=manager,
    )
    assert result.created == 1
    interaction = Interaction.objects.get()
    assert (interaction.kind, interaction.recorded_by) == ("complaint", manager)


def test_interactions_reject_unknown_kind_and_store_nothing(customer):
    with pytest.raises(DomainError) as caught:
        interactions_record(rows=[
            {"customer": customer, "kind": "visit", "occurred_at": "2026-02-03"},
            {"customer": customer, "kind": "gossip", "occurred_at": "2026-02-03"},
        ])
    assert caught.value.fields["rows"] == [
        {"index": 1, "field": "kind", "message": caught.value.fields["rows"][0]["message"]}
    ]
    assert "gossip" in caught.value.fields["rows"][0]["message"]
    assert Interaction.objects.count() == 0


def test_factories_still_work_with_services():
    assert CustomerFactory().code.startswith("MFG2026")
