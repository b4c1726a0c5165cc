import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import translation

from crm.models import Industry, Order, SatisfactionSurvey
from crm.tests.factories import CustomerFactory, OrderFactory, SurveyFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def english():
    with translation.override("en"):
        yield


def messages(exc: ValidationError, field: str) -> str:
    return " ".join(exc.message_dict.get(field, []))


def test_negative_amount_rejected_with_clear_message(customer):
    order = Order(customer=customer, amount=Decimal("-5"), ordered_at=datetime.date(2026, 1, 1), source="erp",
                  external_ref="X1")
    with pytest.raises(ValidationError) as caught:
        order.full_clean()
    assert "greater than or equal to 0.01" in messages(caught.value, "amount")


def test_database_refuses_non_positive_amount_even_without_validation(customer):
    with pytest.raises(IntegrityError), transaction.atomic():
        OrderFactory(customer=customer, amount=Decimal("0"))


def test_same_source_and_ref_stored_once(customer):
    OrderFactory(customer=customer, source="erp", external_ref="SO1")
    duplicate = Order(customer=customer, amount=Decimal("1"), ordered_at=datetime.date(2026, 1, 1), source="erp",
                      external_ref="SO1")
    with pytest.raises(ValidationError) as caught:
        duplicate.full_clean()
    assert "already exists" in str(caught.value)
    with pytest.raises(IntegrityError), transaction.atomic():
        duplicate.save()
    assert Order.objects.count() == 1


def test_survey_score_six_rejected(customer):
    survey = SatisfactionSurvey(customer=customer, score=Decimal("6"), surveyed_at=datetime.date(2026, 1, 1))
    with pytest.raises(ValidationError) as caught:
        survey.full_clean()
    assert "less than or equal to 5" in messages(caught.value, "score")
    with pytest.raises(IntegrityError), transaction.atomic():
        SurveyFactory(customer=customer, score=Decimal("6"))


def test_industry_code_format_enforced():
    with pytest.raises(ValidationError) as caught:
        Industry(code="edu1", name_zh="x", name_en="x").full_clean()
    assert "2 to 4 upper-case letters" in messages(caught.value, "code")


def test_potential_rating_range_enforced():
    customer = CustomerFactory.build(potential_rating=11)
    with pytest.raises(ValidationError) as caught:
        customer.full_clean(exclude=["code", "account_manager"])
    assert "potential_rating" in caught.value.message_dict


def test_customer_code_unique(customer):
    with pytest.raises(IntegrityError), transaction.atomic():
        CustomerFactory(code=customer.code)


def test_industry_name_follows_language():
    nev = Industry.objects.get(code="NEV")
    with translation.override("en"):
        assert nev.name == "New energy"
    with translation.override("zh-hans"):
        assert nev.name == "新能源"
