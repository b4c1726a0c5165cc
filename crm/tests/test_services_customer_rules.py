"""crm.services.customer_update's rules, whichever door calls it: scoring inputs are changed by tier
administrators only, a potential rating by others only with a reason, every change kept in the
customer's history (who, when, why), and only real changes re-evaluate the customer."""

import datetime

import pytest
from django.contrib.auth.models import Group, Permission
from django.utils import translation

from core.exceptions import DomainError
from crm.models import Customer
from crm.selectors import customer_record_changes
from crm.services import CustomerChangeForbidden, customer_update, user_may_change_scoring_inputs
from crm.signals import customer_data_changed
from crm.tests.factories import CustomerFactory, UserFactory, industry

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def english():
    with translation.override("en"):
        yield


@pytest.fixture
def tier_admin(db):
    user = UserFactory(username="tieradmin", is_staff=True)
    user.groups.add(Group.objects.get(name="Tier administrators"))
    return user


@pytest.fixture
def announced():
    seen: list[list[int]] = []

    def receiver(sender, *, customer_ids, **kwargs):
        seen.append(customer_ids)

    customer_data_changed.connect(receiver)
    yield seen
    customer_data_changed.disconnect(receiver)


def test_the_tier_administrators_group_holds_the_right(tier_admin, manager):
    group = Group.objects.get(name="Tier administrators")
    granted = set(group.permissions.filter(content_type__app_label="crm").values_list("codename", flat=True))
    assert {"change_scoring_inputs", "change_customer"} <= granted
    assert user_may_change_scoring_inputs(tier_admin)
    assert not user_may_change_scoring_inputs(manager)


def test_a_right_without_staff_status_is_not_enough(manager):
    manager.user_permissions.add(Permission.objects.get(codename="change_scoring_inputs"))
    manager = type(manager).objects.get(pk=manager.pk)  # permissions are cached per instance
    assert not user_may_change_scoring_inputs(manager)
    manager.is_staff = True
    assert user_may_change_scoring_inputs(manager)


@pytest.mark.parametrize(
    "field, value",
    [
        ("industry", "EDU"),
        ("customer_type", "b2c"),
        ("cooperation_since", datetime.date(2020, 1, 1)),
        ("account_manager", None),
    ],
)
def test_an_account_manager_may_not_change_a_scoring_input(customer, manager, announced, field, value):
    before = Customer.objects.values(field).get(pk=customer.pk)

    with pytest.raises(CustomerChangeForbidden) as caught:
        customer_update(customer=customer, changed_by=manager, reason="because", **{field: value})

    assert caught.value.status_code == 403 and caught.value.code == "permission_denied"
    assert list(caught.value.fields) == [field]
    assert "Only tier administrators may change" in caught.value.fields[field][0]
    assert Customer.objects.values(field).get(pk=customer.pk) == before
    assert announced == [] and Customer.history.filter(id=customer.pk, history_type="~").count() == 0


def test_staff_without_the_right_may_not_either(customer, outsider):
    outsider.is_staff = True
    outsider.save()
    with pytest.raises(CustomerChangeForbidden):
        customer_update(customer=customer, changed_by=outsider, industry="EDU")


def test_a_tier_administrator_changes_scoring_inputs_and_the_history_says_who_and_why(customer, tier_admin, announced):
    customer_update(
        customer=customer,
        changed_by=tier_admin,
        reason="Moved into battery recycling",
        industry="NEV",
        cooperation_since=datetime.date(2021, 5, 1),
    )

    customer.refresh_from_db()
    assert (customer.industry.code, customer.cooperation_since) == ("NEV", datetime.date(2021, 5, 1))
    assert announced == [[customer.pk]]
    latest = customer_record_changes(customer)[0]
    assert (latest.who, latest.why) == ("tieradmin", "Moved into battery recycling")
    assert {(c.label, c.before, c.after) for c in latest.changes} == {
        ("Industry", str(industry("MFG")), str(industry("NEV"))),
        ("Cooperating since", "2023-01-01", "2021-05-01"),
    }


def test_sending_the_stored_value_of_a_scoring_input_is_no_change(customer, manager, announced):
    customer_update(customer=customer, changed_by=manager, industry="MFG", customer_type="b2b", region="西南")

    customer.refresh_from_db()
    assert customer.region == "西南" and announced == []


def test_an_account_managers_potential_rating_needs_a_reason(customer, manager, announced):
    with pytest.raises(DomainError) as caught:
        customer_update(customer=customer, changed_by=manager, potential_rating=9, reason="  ")

    assert caught.value.status_code == 400
    assert "Give a reason for changing Potential rating" in caught.value.fields["potential_rating"][0]
    assert Customer.objects.get(pk=customer.pk).potential_rating is None

    customer_update(customer=customer, changed_by=manager, potential_rating=9, reason="Won the city's bus tender")

    assert Customer.objects.get(pk=customer.pk).potential_rating == 9
    assert announced == [[customer.pk]]
    latest = customer_record_changes(customer)[0]
    assert (latest.who, latest.why) == ("manager", "Won the city's bus tender")
    assert [(c.label, c.before, c.after) for c in latest.changes] == [("Potential rating", "—", "9")]


def test_a_tier_administrator_may_change_the_rating_without_a_reason(customer, tier_admin):
    customer_update(customer=customer, changed_by=tier_admin, potential_rating=3)
    assert Customer.objects.get(pk=customer.pk).potential_rating == 3


def test_the_system_is_not_a_person_and_meets_no_rule(customer):
    customer_update(customer=customer, changed_by=None, industry="EDU", potential_rating=4)
    customer.refresh_from_db()
    assert (customer.industry.code, customer.potential_rating) == ("EDU", 4)


def test_a_reason_has_a_length_limit(customer, manager):
    with pytest.raises(DomainError) as caught:
        customer_update(customer=customer, changed_by=manager, potential_rating=2, reason="x" * 501)
    assert "reason" in caught.value.fields


def test_values_already_set_on_the_instance_are_compared_with_the_stored_row(customer, manager):
    """Admin forms set the new values on the instance before saving: the rule still sees the change."""
    customer.industry = industry("EDU")
    with pytest.raises(CustomerChangeForbidden):
        customer_update(customer=customer, changed_by=manager, industry=industry("EDU"))


def test_a_customer_older_than_its_history_gets_a_before(manager):
    [customer] = Customer.objects.bulk_create(
        [
            Customer(
                code="MFG2026900", name="Old Co", industry=industry("MFG"), customer_type="b2b", account_manager=manager
            )
        ]
    )
    assert not Customer.history.filter(id=customer.pk).exists()

    customer_update(customer=customer, changed_by=manager, region="东北")

    [change, created] = customer_record_changes(customer)
    assert [(c.label, c.before, c.after) for c in change.changes] == [("Region", "—", "东北")]
    assert created.created and created.who == ""


def test_sensitive_identifiers_never_reach_the_history(customer):
    customer_update(customer=customer, changed_by=None, tax_id="91310000MA1FL8XQ3K", name="Renamed")
    record = Customer.history.filter(id=customer.pk).first()
    assert not hasattr(record, "tax_id") and not hasattr(record, "bank_account")
    assert [(c.label, c.after) for c in customer_record_changes(customer)[0].changes] == [("Name", "Renamed")]


def test_record_changes_are_read_in_a_few_queries(manager, django_assert_max_num_queries):
    customer = CustomerFactory(account_manager=manager)
    for n in range(12):
        customer_update(
            customer=customer, changed_by=None, region=f"R{n}", account_manager=UserFactory(username=f"am{n}")
        )
    with django_assert_max_num_queries(3):
        changes = customer_record_changes(customer, limit=8)
    assert len(changes) == 8
    assert {(c.label, c.before, c.after) for c in changes[0].changes} == {
        ("Region", "R10", "R11"),
        ("Account manager", "am10", "am11"),
    }
