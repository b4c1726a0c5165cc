import datetime
from decimal import Decimal

import pytest
from django.contrib.auth.models import Group, Permission
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import translation

from crm.models import Customer, Interaction, Order, SatisfactionSurvey
from crm.tests.factories import (
    CustomerFactory,
    InteractionFactory,
    OrderFactory,
    SurveyFactory,
    UserFactory,
    industry,
)

pytestmark = pytest.mark.django_db

TAX_ID = "91310000MA1FL1234X"
BANK = "6222020200112233445"


@pytest.fixture(autouse=True)
def english():
    with translation.override("en"):
        yield


@pytest.fixture
def client(client):
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    return client


@pytest.fixture
def admin_client(client, admin_user):
    client.force_login(admin_user)
    return client


@pytest.fixture
def records(customer):
    return {
        "industry": customer.industry,
        "customer": customer,
        "order": OrderFactory(customer=customer),
        "interaction": InteractionFactory(customer=customer),
        "satisfactionsurvey": SurveyFactory(customer=customer),
    }


def staff_with(*codenames, username="staff"):
    user = UserFactory(username=username, is_staff=True)
    for codename in codenames:
        user.user_permissions.add(Permission.objects.get(codename=codename, content_type__app_label="crm"))
    return user


@pytest.mark.parametrize("model", ["industry", "customer", "order", "interaction", "satisfactionsurvey"])
def test_admin_pages_load(admin_client, records, model):
    obj = records[model]
    for url in (
        reverse(f"admin:crm_{model}_changelist"),
        reverse(f"admin:crm_{model}_add"),
        reverse(f"admin:crm_{model}_change", args=[obj.pk]),
    ):
        assert admin_client.get(url).status_code == 200, url


@pytest.mark.parametrize("model", ["customer", "order", "interaction", "satisfactionsurvey"])
def test_changelists_search_and_filter(admin_client, records, model):
    customer = records["customer"]
    url = reverse(f"admin:crm_{model}_changelist")
    prefix = "" if model == "customer" else "customer__"
    response = admin_client.get(url, {"q": customer.code, f"{prefix}industry__id__exact": customer.industry_id})
    assert response.status_code == 200
    assert customer.code in response.content.decode()


def test_customer_changelist_sorted_by_name_reads_in_pinyin_order(admin_client, manager):
    """A click on the name column: 北京 (bei), 重庆 (chong), 上海 (shang), not code-point order."""
    for name in ("上海", "北京", "重庆"):
        CustomerFactory(account_manager=manager, name=name)
    url = reverse("admin:crm_customer_changelist")
    column = admin_client.get(url).context["cl"].list_display.index("name")
    ascending = admin_client.get(url, {"o": str(column)}).context["cl"].result_list
    descending = admin_client.get(url, {"o": f"-{column}"}).context["cl"].result_list
    assert [c.name for c in ascending] == ["北京", "重庆", "上海"]
    assert [c.name for c in descending] == ["上海", "重庆", "北京"]


def test_customer_changelist_query_count_does_not_grow_with_rows(admin_client, django_assert_max_num_queries):
    CustomerFactory.create_batch(30)
    with django_assert_max_num_queries(12):
        assert admin_client.get(reverse("admin:crm_customer_changelist")).status_code == 200


def test_survey_changelist_query_count_does_not_grow_with_rows_or_channels(admin_client, customer):
    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert admin_client.get(reverse("admin:crm_satisfactionsurvey_changelist")).status_code == 200
        return len(captured)

    SurveyFactory.create_batch(3, customer=customer, channel="email")
    few = queries()
    for channel in ("phone", "wechat", "visit", "case", "kiosk") * 6:
        SurveyFactory(customer=customer, channel=channel)
    assert queries() == few  # the channel filter's choices come from one DISTINCT query


def test_customer_autocomplete_finds_by_code(admin_client, customer):
    response = admin_client.get(
        reverse("admin:autocomplete"),
        {"app_label": "crm", "model_name": "order", "field_name": "customer", "term": customer.code},
    )
    assert response.status_code == 200
    assert response.json()["results"][0]["id"] == str(customer.pk)


def test_customer_page_shows_recent_orders_only(admin_client, customer):
    for n in range(15):
        OrderFactory(customer=customer, ordered_at=datetime.date(2026, 1, 1) + datetime.timedelta(days=n),
                     external_ref=f"REF-{n:02d}-")
    page = admin_client.get(reverse("admin:crm_customer_change", args=[customer.pk])).content.decode()
    assert "REF-14-" in page and "REF-05-" in page
    assert "REF-04-" not in page and "REF-00-" not in page


def test_add_customer_through_admin_generates_code(admin_client, manager):
    response = admin_client.post(reverse("admin:crm_customer_add"), {
        "name": "杭州教育科技", "industry": industry("EDU").pk, "customer_type": "b2b", "status": "active",
        "account_manager": manager.pk, "language": "zh-hans", "tax_id": TAX_ID, "bank_account": "",
        **_empty_inlines(),
    })
    assert response.status_code == 302, response.content.decode()[:2000]
    created = Customer.objects.get(name="杭州教育科技")
    assert created.code.startswith("EDU")
    assert created.tax_id == TAX_ID


def _empty_inlines():
    data = {}
    for prefix in ("orders", "interactions"):
        data.update({f"{prefix}-TOTAL_FORMS": "0", f"{prefix}-INITIAL_FORMS": "0",
                     f"{prefix}-MIN_NUM_FORMS": "0", f"{prefix}-MAX_NUM_FORMS": "1000"})
    return data


def test_tier_fields_are_read_only(admin_client, customer):
    page = admin_client.get(reverse("admin:crm_customer_change", args=[customer.pk])).content.decode()
    for name in ("score", "spend_12m", "tier", "computed_tier", "lifecycle"):
        assert f'name="{name}"' not in page


# --- masking -----------------------------------------------------------------------------------


def test_sensitive_values_shown_to_users_with_permission(client, customer):
    customer.tax_id, customer.bank_account = TAX_ID, BANK
    customer.save()
    client.force_login(staff_with("view_customer", "change_customer", "view_all_customers", "view_sensitive_fields"))
    page = client.get(reverse("admin:crm_customer_change", args=[customer.pk])).content.decode()
    assert TAX_ID in page and BANK in page


def test_sensitive_values_masked_and_not_prefilled_without_permission(client, customer, outsider):
    customer.tax_id, customer.bank_account = TAX_ID, BANK
    customer.save()
    editor = staff_with("view_customer", "change_customer", "view_all_customers")
    client.force_login(editor)
    page = client.get(reverse("admin:crm_customer_change", args=[customer.pk])).content.decode()
    assert TAX_ID not in page and BANK not in page
    assert "**************234X" in page


def test_sensitive_values_masked_on_view_only_page(client, customer):
    customer.tax_id = TAX_ID
    customer.save()
    client.force_login(staff_with("view_customer", "view_all_customers"))
    page = client.get(reverse("admin:crm_customer_change", args=[customer.pk])).content.decode()
    assert TAX_ID not in page
    assert "234X" in page


def test_saving_without_permission_keeps_stored_sensitive_values(client, customer):
    customer.tax_id, customer.bank_account = TAX_ID, BANK
    customer.save()
    client.force_login(staff_with("view_customer", "change_customer", "view_all_customers"))
    response = client.post(reverse("admin:crm_customer_change", args=[customer.pk]), {
        "name": "Renamed", "industry": customer.industry_id, "customer_type": "b2b", "status": "active",
        "account_manager": customer.account_manager_id, "language": "zh-hans", "tax_id": "", "bank_account": "",
        "region": customer.region, "cooperation_since": "2023-01-01", **_empty_inlines(),
    })
    assert response.status_code == 302, response.content.decode()[:3000]
    customer.refresh_from_db()
    assert (customer.name, customer.tax_id, customer.bank_account) == ("Renamed", TAX_ID, BANK)


def test_managers_only_see_their_own_customers_in_admin(client, customer, outsider):
    outsider.is_staff = True
    outsider.save()
    outsider.user_permissions.add(Permission.objects.get(codename="view_customer"))
    client.force_login(outsider)
    assert client.get(reverse("admin:crm_customer_change", args=[customer.pk])).status_code == 302
    assert customer.code not in client.get(reverse("admin:crm_customer_changelist")).content.decode()


# --- adding rows goes through the services -----------------------------------------------------


def test_add_order_in_admin_and_duplicate_is_refused(admin_client, customer):
    data = {"customer": customer.pk, "amount": "120.50", "ordered_at": "2026-03-01", "source": "erp",
            "external_ref": "SO-ADMIN-1"}
    assert admin_client.post(reverse("admin:crm_order_add"), data).status_code == 302
    again = admin_client.post(reverse("admin:crm_order_add"), data)
    assert again.status_code == 200
    assert "already exists" in again.content.decode()
    assert Order.objects.filter(external_ref="SO-ADMIN-1").count() == 1


def test_negative_amount_refused_in_admin(admin_client, customer):
    response = admin_client.post(reverse("admin:crm_order_add"), {
        "customer": customer.pk, "amount": "-1", "ordered_at": "2026-03-01", "source": "erp", "external_ref": "X",
    })
    assert response.status_code == 200
    assert Order.objects.count() == 0


def test_add_survey_and_interaction_in_admin(admin_client, admin_user, customer):
    assert admin_client.post(reverse("admin:crm_satisfactionsurvey_add"), {
        "customer": customer.pk, "score": "4.5", "surveyed_at": "2026-03-01", "channel": "phone",
    }).status_code == 302
    assert SatisfactionSurvey.objects.get().score == Decimal("4.5")
    bad = admin_client.post(reverse("admin:crm_satisfactionsurvey_add"), {
        "customer": customer.pk, "score": "6", "surveyed_at": "2026-03-01",
    })
    assert bad.status_code == 200 and SatisfactionSurvey.objects.count() == 1
    assert admin_client.post(reverse("admin:crm_interaction_add"), {
        "customer": customer.pk, "kind": "complaint", "occurred_at": "2026-03-01", "note": "late",
    }).status_code == 302
    assert Interaction.objects.get().recorded_by == admin_user


def test_survey_channels_read_as_words_in_the_list_its_filter_and_the_form(admin_client, customer):
    """Stored as sent ("wechat"), shown by label; an unknown channel as stored."""
    for channel in ("wechat", "case", "kiosk"):
        SurveyFactory(customer=customer, channel=channel)
    page = admin_client.get(reverse("admin:crm_satisfactionsurvey_changelist")).content.decode()
    assert page.count(">WeChat<") == 2 and ">wechat<" not in page  # the row and the filter
    assert page.count(">Service case<") == 2 and page.count(">kiosk<") == 2
    filtered = admin_client.get(reverse("admin:crm_satisfactionsurvey_changelist"), {"channel": "wechat"})
    assert [survey.channel for survey in filtered.context["cl"].result_list] == ["wechat"]
    survey = SatisfactionSurvey.objects.get(channel="wechat")
    form = admin_client.get(reverse("admin:crm_satisfactionsurvey_change", args=[survey.pk])).content.decode()
    assert "Created:" in form and "Created at" not in form


@pytest.mark.parametrize("model", ["customer", "order"])
def test_import_page_is_wired(admin_client, model):
    changelist = admin_client.get(reverse(f"admin:crm_{model}_changelist")).content.decode()
    url = reverse(f"admin:crm_{model}_import")
    assert url in changelist
    assert admin_client.get(url).status_code == 200


# --- scoring inputs and reasons ------------------------------------------------------------------

GOVERNED = ("industry", "customer_type", "cooperation_since", "account_manager")


def _change_form_data(customer, **changes):
    data = {
        "name": customer.name, "industry": customer.industry_id, "customer_type": customer.customer_type,
        "status": customer.status, "account_manager": customer.account_manager_id or "", "language": customer.language,
        "tax_id": "", "bank_account": "", "region": customer.region, "cooperation_since": "2023-01-01",
        "potential_rating": "", "change_reason": "", **_empty_inlines(),
    }
    data.update(changes)
    return data


def tier_administrator():
    user = UserFactory(username="tieradmin", is_staff=True)
    user.groups.add(Group.objects.get(name="Tier administrators"))
    return user


def test_scoring_inputs_are_read_only_for_staff_without_the_right(client, customer):
    client.force_login(staff_with("view_customer", "change_customer", "view_all_customers"))
    page = client.get(reverse("admin:crm_customer_change", args=[customer.pk])).content.decode()
    for name in GOVERNED:
        assert f'name="{name}"' not in page, name
    assert 'name="potential_rating"' in page and 'name="change_reason"' in page

    client.force_login(tier_administrator())
    page = client.get(reverse("admin:crm_customer_change", args=[customer.pk])).content.decode()
    for name in GOVERNED:
        assert f'name="{name}"' in page, name


def test_a_posted_scoring_input_is_ignored_for_staff_without_the_right(client, customer):
    client.force_login(staff_with("view_customer", "change_customer", "view_all_customers"))
    response = client.post(
        reverse("admin:crm_customer_change", args=[customer.pk]),
        _change_form_data(customer, industry=industry("EDU").pk, customer_type="b2c", region="西北"),
    )
    assert response.status_code == 302
    customer.refresh_from_db()
    assert (customer.industry.code, customer.customer_type, customer.region) == ("MFG", "b2b", "西北")


def test_a_potential_rating_changed_in_admin_needs_a_reason(client, customer):
    client.force_login(staff_with("view_customer", "change_customer", "view_all_customers"))
    url = reverse("admin:crm_customer_change", args=[customer.pk])

    response = client.post(url, _change_form_data(customer, potential_rating="7"))

    assert response.status_code == 200
    assert "Give a reason for changing Potential rating" in response.content.decode()
    assert Customer.objects.get(pk=customer.pk).potential_rating is None

    response = client.post(url, _change_form_data(customer, potential_rating="7", change_reason="New factory"))

    assert response.status_code == 302
    record = Customer.history.filter(id=customer.pk).first()
    assert (record.potential_rating, record.history_change_reason, record.history_user.username) == (
        7, "New factory", "staff",
    )


def test_a_tier_administrator_changes_the_industry_in_admin(client, customer):
    admin = tier_administrator()
    client.force_login(admin)
    response = client.post(
        reverse("admin:crm_customer_change", args=[customer.pk]),
        _change_form_data(customer, industry=industry("NEV").pk, change_reason="Battery line"),
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    customer.refresh_from_db()
    assert customer.industry.code == "NEV"
    record = Customer.history.filter(id=customer.pk).first()
    assert (record.history_user, record.history_change_reason) == (admin, "Battery line")


# --- activities: time, duration and outcome, through crm.services ----------------------------------


def test_an_activity_is_added_and_changed_in_admin_with_its_time_duration_and_outcome(admin_client, admin_user, customer):
    add = reverse("admin:crm_interaction_add")
    page = admin_client.get(add).content.decode()
    for name in ("happened_at_0", "happened_at_1", "duration_minutes", "outcome"):
        assert f'name="{name}"' in page, name
    data = {
        "customer": customer.pk, "kind": "visit", "occurred_at": "2026-03-01", "happened_at_0": "2026-03-01",
        "happened_at_1": "14:30:00", "duration_minutes": "45", "outcome": "Trial order agreed", "note": "",
    }

    assert admin_client.post(add, data).status_code == 302
    stored = Interaction.objects.get()
    assert (stored.duration_minutes, stored.outcome, stored.recorded_by) == (45, "Trial order agreed", admin_user)
    assert stored.happened_at == datetime.datetime.fromisoformat("2026-03-01T14:30:00+08:00")
    assert "Trial order agreed" in admin_client.get(reverse("admin:crm_interaction_changelist")).content.decode()

    # The date changed on its own keeps the time of day.
    change = reverse("admin:crm_interaction_change", args=[stored.pk])
    assert admin_client.post(change, {**data, "occurred_at": "2026-03-02"}).status_code == 302
    stored.refresh_from_db()
    assert stored.occurred_at == datetime.date(2026, 3, 2)
    assert stored.happened_at == datetime.datetime.fromisoformat("2026-03-02T14:30:00+08:00")


@pytest.mark.parametrize(
    ("changes", "field"),
    [({"occurred_at": "2099-01-01"}, "occurred_at"), ({"duration_minutes": "5000"}, "duration_minutes")],
)
def test_an_activity_the_services_refuse_is_a_form_error_in_admin(admin_client, customer, changes, field):
    data = {"customer": customer.pk, "kind": "call", "occurred_at": "2026-03-01", "note": "", **changes}
    response = admin_client.post(reverse("admin:crm_interaction_add"), data)
    assert response.status_code == 200
    assert field in response.context["adminform"].form.errors
    assert not Interaction.objects.exists()
