"""The admin "Import" page: same rules and report as the command, behind the add permission."""

import pytest
from django.contrib.auth.models import Permission
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import translation

from crm.models import Customer, Order

pytestmark = pytest.mark.django_db


def _upload(client, url, text: str, *, encoding="utf-8", skip_invalid=False):
    data = {"file": SimpleUploadedFile("data.csv", text.encode(encoding), content_type="text/csv")}
    if skip_invalid:
        data["skip_invalid"] = "on"
    return client.post(url, data, HTTP_ACCEPT_LANGUAGE="en")


def test_changelist_shows_the_import_button_to_admins(client, admin_user):
    client.force_login(admin_user)

    page = client.get(reverse("admin:crm_customer_changelist")).content.decode()

    assert reverse("admin:crm_customer_import") in page


def test_good_file_is_imported_and_redirects_to_the_list(client, admin_user):
    client.force_login(admin_user)

    response = _upload(
        client, reverse("admin:crm_customer_import"), "客户名称,行业代码,客户类型\n深圳新能源,NEV,b2b\n", encoding="gbk"
    )

    assert response.status_code == 302 and response.url == reverse("admin:crm_customer_changelist")
    assert Customer.objects.filter(name="深圳新能源").exists()


def test_bad_rows_are_listed_with_line_column_and_reason_and_nothing_is_stored(client, admin_user, customer):
    client.force_login(admin_user)
    text = (
        "customer,amount,ordered_at,source,external_ref\n"
        f"{customer.code},10,2026-05-01,erp,A1\n"
        f"{customer.code},-1,2026-05-01,erp,A2\n"
    )

    with translation.override("en"):
        response = _upload(client, reverse("admin:crm_order_import"), text)

    page = response.content.decode()
    assert response.status_code == 200
    assert "<td>3</td><td>amount</td>" in page.replace("\n", "").replace(" ", "")
    assert not Order.objects.exists()


def test_skip_invalid_imports_the_good_rows_and_shows_the_bad_ones(client, admin_user, customer):
    client.force_login(admin_user)
    text = (
        "customer,amount,ordered_at,source,external_ref\n"
        f"{customer.code},10,2026-05-01,erp,A1\n"
        f"{customer.code},-1,2026-05-01,erp,A2\n"
    )

    response = _upload(client, reverse("admin:crm_order_import"), text, skip_invalid=True)

    assert response.status_code == 200 and "<td>3</td>" in response.content.decode()
    assert list(Order.objects.values_list("external_ref", flat=True)) == ["A1"]


def test_staff_without_the_add_permission_cannot_import(client, outsider):
    outsider.is_staff = True
    outsider.save()
    client.force_login(outsider)

    response = _upload(client, reverse("admin:crm_order_import"), "customer\n")

    assert response.status_code == 403


def test_an_unreadable_file_shows_the_reason(client, admin_user):
    client.force_login(admin_user)

    response = _upload(client, reverse("admin:crm_customer_import"), "name,colour\nX,red\n")

    assert response.status_code == 200 and "colour" in response.content.decode()
    assert not Customer.objects.exists()


def test_a_file_with_codes_updates_those_customers_and_says_so(client, admin_user, customer):
    client.force_login(admin_user)
    page = client.get(reverse("admin:crm_customer_import"), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "updates that customer" in page  # the page says what a code does before the upload

    text = f"code,name,industry,customer_type\n{customer.code},Renamed,MFG,b2b\n,Another,EDU,b2c\n"
    response = _upload(client, reverse("admin:crm_customer_import"), text)

    assert response.status_code == 302
    shown = [str(m) for m in client.get(response.url, HTTP_ACCEPT_LANGUAGE="en").context["messages"]]
    assert shown == ["1 created, 1 updated"]
    customer.refresh_from_db()
    assert customer.name == "Renamed" and Customer.objects.count() == 2


# --- the columns, a template to start from, the reason and the ignored columns ---------------------


@pytest.mark.parametrize(
    "model, headers",
    [
        ("customer", ["Code", "Name", "Industry", "Customer type", "Potential rating", "Bank account"]),
        ("order", ["Customer", "Amount", "Ordered on", "Source system", "External reference"]),
    ],
)
def test_both_import_pages_list_their_columns_and_offer_a_template(client, admin_user, model, headers):
    client.force_login(admin_user)

    page = client.get(reverse(f"admin:crm_{model}_import"), HTTP_ACCEPT_LANGUAGE="en").content.decode()

    assert 'class="import-columns"' in page
    for header in headers:
        assert f'<th scope="row">{header}' in page, header
    assert reverse(f"admin:crm_{model}_import_template") in page
    response = client.get(reverse(f"admin:crm_{model}_import_template"), HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    template_header = response.content.decode("utf-8").lstrip("\ufeff").splitlines()[0].split(",")
    assert set(headers) <= set(template_header)
    assert "Score" not in template_header  # computed columns are not imported


def test_the_customer_page_says_which_columns_are_required_and_what_they_mean(client, admin_user):
    client.force_login(admin_user)
    page = client.get(reverse("admin:crm_customer_import"), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    compact = " ".join(page.split())
    assert "Optional: names the record to update" in compact
    assert "For a new record" in compact
    assert "Only tier administrators may change it" in compact
    assert "Computed columns of an export are accepted and ignored" in compact
    assert 'name="reason"' in page
    orders = client.get(reverse("admin:crm_order_import"), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert 'name="reason"' not in orders


def test_the_template_comes_in_the_users_language(client, admin_user):
    client.force_login(admin_user)
    chinese = client.get(reverse("admin:crm_customer_import_template"), HTTP_ACCEPT_LANGUAGE="zh-hans")
    english = client.get(reverse("admin:crm_customer_import_template"), HTTP_ACCEPT_LANGUAGE="en")
    assert chinese.content.decode("utf-8").startswith("\ufeff编码,名称,行业,客户类型,")
    assert english.content.decode("utf-8").startswith("\ufeffCode,Name,Industry,Customer type,")
    assert "zh-hans" in chinese["Content-Disposition"] and "-en.csv" in english["Content-Disposition"]


def test_the_template_is_refused_to_staff_who_may_not_import(client, outsider):
    outsider.is_staff = True
    outsider.save()
    client.force_login(outsider)
    assert client.get(reverse("admin:crm_order_import_template")).status_code == 403


def test_an_exported_file_imports_back_and_its_computed_columns_are_named(client, admin_user, customer):
    client.force_login(admin_user)
    text = (
        f"Code,Name,Tier,Score,Industry,Customer type,12-month spend\n{customer.code},Renamed,VIP,91.5,MFG,B2B,1000\n"
    )

    response = _upload(client, reverse("admin:crm_customer_import"), text)

    assert response.status_code == 302
    shown = [str(m) for m in client.get(response.url, HTTP_ACCEPT_LANGUAGE="en").context["messages"]]
    assert shown == ["Computed columns ignored: Tier, Score, 12-month spend.", "0 created, 1 updated"]


def test_the_reason_of_the_import_page_is_kept_in_the_history(client, manager, customer):
    manager.is_staff = True
    manager.save()
    manager.user_permissions.add(*Permission.objects.filter(codename="add_customer"))
    client.force_login(manager)
    data = {
        "file": SimpleUploadedFile("r.csv", f"code,potential_rating\n{customer.code},6\n".encode(), "text/csv"),
        "reason": "Half-year review",
    }

    response = client.post(reverse("admin:crm_customer_import"), data, HTTP_ACCEPT_LANGUAGE="en")

    assert response.status_code == 302, response.content.decode()[:2000]
    record = Customer.history.filter(id=customer.pk).first()
    assert (record.potential_rating, record.history_change_reason, record.history_user) == (
        6,
        "Half-year review",
        manager,
    )
