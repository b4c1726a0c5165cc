"""The customer page's edit form and its "Record changes": the rules are crm.services' (scoring inputs
for tier administrators, a reason for a potential rating), the page shows who changed what, when and why."""

import datetime

import pytest
from django.contrib.auth.models import Group, Permission
from django.test import Client
from django.urls import reverse

from crm.models import Customer
from crm.tests.factories import CustomerFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def tier_admin_client():
    user = UserFactory(username="tieradmin", is_staff=True)
    user.groups.add(Group.objects.get(name="Tier administrators"))
    client = Client(headers={"accept-language": "en"})
    client.force_login(user)
    return client


def edit(client, customer, **data):
    return client.post(reverse("web:customer-update", args=[customer.code]), data)


def test_a_manager_changes_the_potential_rating_with_a_reason_and_the_page_shows_it(manager_client, customer):
    response = edit(manager_client, customer, potential_rating="8", reason="Won the metro line tender")

    assert response.status_code == 302 and response["Location"].endswith("#record-changes")
    assert Customer.objects.get(pk=customer.pk).potential_rating == 8
    page = manager_client.get(response["Location"]).content.decode()
    compact = " ".join(page.split())
    assert 'id="record-changes"' in page
    assert "Won the metro line tender" in compact
    assert "manager" in compact and "Potential rating" in compact and "→" in compact


def test_without_a_reason_the_form_says_so_on_the_field(manager_client, customer):
    response = edit(manager_client, customer, potential_rating="8", reason="")

    assert response.status_code == 400
    assert response.context["edit_form"].errors["potential_rating"] == ["Give a reason for changing Potential rating."]
    assert Customer.objects.get(pk=customer.pk).potential_rating is None


def test_a_manager_is_not_offered_the_scoring_inputs_and_cannot_post_them(manager_client, customer):
    page = manager_client.get(reverse("web:customer-detail", args=[customer.code])).content.decode()
    assert 'name="potential_rating"' in page
    for name in ("industry", "customer_type", "cooperation_since", "account_manager"):
        assert f'name="{name}"' not in page, name
    assert "only tier administrators change them" in page

    edit(manager_client, customer, industry="EDU", customer_type="b2c", potential_rating="", reason="x")

    customer.refresh_from_db()
    assert (customer.industry.code, customer.customer_type) == ("MFG", "b2b")


def test_a_tier_administrator_changes_scoring_inputs_on_the_page(tier_admin_client, customer, outsider):
    response = edit(
        tier_admin_client, customer, industry="NEV", account_manager="outsider", reason="Handed over to the east team"
    )

    assert response.status_code == 302
    customer.refresh_from_db()
    assert (customer.industry.code, customer.account_manager) == ("NEV", outsider)
    changes = tier_admin_client.get(reverse("web:customer-detail", args=[customer.code])).context["record_changes"]
    assert changes[0].who == "tieradmin" and changes[0].why == "Handed over to the east team"
    assert {c.label for c in changes[0].changes} == {"Industry", "Account manager"}


def test_someone_who_may_not_change_customers_gets_no_form_and_a_403(client, customer):
    viewer = UserFactory(username="viewer")
    viewer.user_permissions.add(Permission.objects.get(codename="view_all_customers"))
    client.force_login(viewer)

    page = client.get(reverse("web:customer-detail", args=[customer.code]))

    assert page.status_code == 200 and page.context["edit_form"] is None
    assert edit(client, customer, potential_rating="2", reason="x").status_code == 403
    assert Customer.objects.get(pk=customer.pk).potential_rating is None


def test_an_outsider_cannot_edit_another_managers_customer(client, outsider, customer):
    client.force_login(outsider)
    assert edit(client, customer, potential_rating="2", reason="x").status_code == 404
    assert Customer.objects.get(pk=customer.pk).potential_rating is None


def test_record_changes_of_a_customer_never_edited_say_so(manager_client, manager):
    customer = CustomerFactory(account_manager=manager)
    response = manager_client.get(reverse("web:customer-detail", args=[customer.code]))
    assert [change.created for change in response.context["record_changes"]] == [True]


def test_the_form_as_rendered_in_chinese_saves_without_clearing_the_cooperation_date(customer):
    user = UserFactory(username="tieradmin", is_staff=True)
    user.groups.add(Group.objects.get(name="Tier administrators"))
    browser = Client(headers={"accept-language": "zh-hans"})
    browser.force_login(user)
    form = browser.get(reverse("web:customer-detail", args=[customer.code])).context["edit_form"]
    assert 'value="2023-01-01"' in str(form["cooperation_since"])  # what a date input can show

    posted = {name: form[name].value() or "" for name in form.fields}
    posted["industry"], posted["account_manager"] = customer.industry.code, customer.account_manager.username
    posted["cooperation_since"] = "2023-01-01"
    posted["potential_rating"], posted["reason"] = "5", "review"
    assert browser.post(reverse("web:customer-update", args=[customer.code]), posted).status_code == 302

    customer.refresh_from_db()
    assert (customer.cooperation_since, customer.potential_rating) == (datetime.date(2023, 1, 1), 5)
