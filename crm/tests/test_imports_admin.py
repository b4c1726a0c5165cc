"""The admin "Import" page: same rules and report as the command, behind the add permission."""

import pytest
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
