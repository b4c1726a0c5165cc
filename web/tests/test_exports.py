import csv
import io

import pytest
from django.test import Client
from django.utils import translation
from openpyxl import load_workbook

from crm.imports import customers_import
from crm.models import Customer
from crm.tests.factories import UserFactory
from web.tests.conftest import tiered_customer

pytestmark = pytest.mark.django_db


def csv_rows(response) -> list[list[str]]:
    body = b"".join(response.streaming_content).decode("utf-8")
    assert body.startswith("\ufeff")  # so spreadsheet programs read the Chinese text right
    return list(csv.reader(io.StringIO(body.lstrip("\ufeff"))))


def test_csv_has_the_list_columns_and_only_the_managers_customers(manager_client, book):
    response = manager_client.get("/customers/export.csv")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert response["Content-Disposition"].startswith('attachment; filename="customers-')
    header, *rows = csv_rows(response)
    assert header == [
        "Code",
        "Name",
        "Tier",
        "Score",
        "Tier run",  # the date of score and tier
        "Industry",
        "Customer type",
        "Region",
        "Lifecycle stage",
        "12-month spend",
        "Last order",
        "Figures as of",  # the date of spend, last order, lifecycle and flags
        "Early-warning flags",  # the model's label, as on the list page and in the import
    ]
    names = {row[1] for row in rows}
    assert names == {"Zenith Robotics", "Harbour Foods", "Bright Solar", "Quiet Prospect"}


def test_csv_follows_the_filters_and_sort_of_the_page(manager_client, book):
    header, *rows = csv_rows(manager_client.get("/customers/export.csv?flagged=true"))
    assert [row[1] for row in rows] == ["Bright Solar"]
    assert rows[0][2] == "Potential"
    assert rows[0][-1] == "Spend up sharply"
    _header, *by_score = csv_rows(manager_client.get("/customers/export.csv?sort=score"))
    assert by_score[0][1] == "Bright Solar"


def test_exports_never_contain_sensitive_fields(manager_client, admin_client_logged, book):
    for client in (manager_client, admin_client_logged):
        body = b"".join(client.get("/customers/export.csv").streaming_content).decode()
        assert "91310000MA1FL8XQ3K" not in body
        assert "6222020200112233445" not in body


def test_admin_export_has_the_account_manager_column(admin_client_logged, book):
    header, *rows = csv_rows(admin_client_logged.get("/customers/export.csv?account_manager=outsider"))
    assert "Account manager" in header
    assert [row[header.index("Account manager")] for row in rows] == ["outsider"]


def test_xlsx_has_the_same_columns_and_numbers_stay_numbers(manager_client, book):
    response = manager_client.get("/customers/export.xlsx?tier=vip")
    assert response.status_code == 200
    workbook = load_workbook(io.BytesIO(b"".join(response.streaming_content)), read_only=True)
    header, *rows = list(workbook.active.values)
    assert header[:4] == ("Code", "Name", "Tier", "Score")
    assert [row[1] for row in rows] == ["Zenith Robotics"]
    assert rows[0][3] == 93.5


def test_scores_read_with_two_decimals_in_both_exports(manager_client, book):
    """93.50 as on the pages: the CSV writes it so, the spreadsheet keeps a number shown with two decimals."""
    header, *rows = csv_rows(manager_client.get("/customers/export.csv?tier=vip"))
    assert rows[0][header.index("Score")] == "93.50"
    response = manager_client.get("/customers/export.xlsx?tier=vip")
    sheet = load_workbook(io.BytesIO(b"".join(response.streaming_content))).active
    score = sheet.cell(row=2, column=4)
    assert (score.value, score.number_format) == (93.5, "0.00")


def test_export_in_chinese_uses_chinese_headers_and_names(manager, book):
    browser = Client()
    browser.force_login(manager)
    header, *rows = csv_rows(browser.get("/customers/export.csv?tier=vip"))
    assert header[:3] == ["编码", "名称", "等级"]
    assert rows[0][2] == "VIP客户"


def test_export_with_a_bad_filter_goes_back_to_the_list_with_a_message(manager_client, book):
    response = manager_client.get("/customers/export.csv?tier=platinum", follow=True)
    assert response.redirect_chain[0][0].startswith("/customers/?tier=platinum")
    assert "Fix the filters before exporting" in response.content.decode()


def test_export_of_another_managers_customers_is_empty_for_the_outsider(client, outsider, book):
    client.force_login(outsider)
    _header, *rows = csv_rows(client.get("/customers/export.csv"))
    assert [row[1] for row in rows] == ["Outsider Steel"]


@pytest.mark.parametrize("count", [5, 50])
def test_csv_export_runs_a_constant_number_of_queries(admin_client_logged, tiers, count, django_assert_max_num_queries):
    for _n in range(count):
        tiered_customer(UserFactory(), tiers["core"], "80.00")
    with django_assert_max_num_queries(8):
        rows = csv_rows(admin_client_logged.get("/customers/export.csv"))
    assert len(rows) == count + 1


# --- an export imports back ----------------------------------------------------------------------

EDITABLE = [
    "name",
    "industry_id",
    "customer_type",
    "region",
    "account_manager_id",
    "cooperation_since",
    "status",
    "potential_rating",
    "language",
    "updated_at",
]


def _snapshot() -> dict:
    return {row["code"]: row for row in Customer.objects.values("code", *EDITABLE)}


def _export(client, fmt="csv") -> bytes:
    return b"".join(client.get(f"/customers/export.{fmt}").streaming_content)


@pytest.mark.parametrize("language", ["en", "zh-hans"])
@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_an_export_imports_back_unchanged_in_both_languages(manager, book, language, fmt):
    browser = Client(headers={"accept-language": language})
    browser.force_login(manager)
    data = _export(browser, fmt)
    before, history = _snapshot(), Customer.history.count()

    with translation.override(language):
        report = customers_import(data=data, filename=f"export.{fmt}", user=manager)

    assert not report.errors
    assert (report.created, report.updated, report.unchanged) == (0, 0, 4)
    # tier, score, tier run, lifecycle, spend, last order, figures date, flags
    assert len(report.ignored_columns) == 8
    assert _snapshot() == before and Customer.history.count() == history


def test_an_admins_export_with_managers_imports_back_unchanged(admin_user, admin_client_logged, book):
    before = _snapshot()
    report = customers_import(data=_export(admin_client_logged), filename="export.csv", user=admin_user)
    assert not report.errors and report.unchanged == 5
    assert _snapshot() == before


def test_an_edited_cell_of_an_export_updates_that_customer_only(manager, manager_client, book):
    header, *rows = csv_rows(manager_client.get("/customers/export.csv"))
    for row in rows:
        if row[header.index("Name")] == "Harbour Foods":
            row[header.index("Region")] = "西南"
    buffer = io.StringIO()
    csv.writer(buffer).writerows([header, *rows])
    before = _snapshot()

    report = customers_import(data=buffer.getvalue().encode(), filename="edited.csv", user=manager)

    assert (report.updated, report.unchanged) == (1, 3)
    after = _snapshot()
    core = book["core"].code
    assert after[core]["region"] == "西南"
    assert {code: row for code, row in after.items() if code != core} == {
        code: row for code, row in before.items() if code != core
    }
    assert Customer.history.filter(id=book["core"].pk).first().history_user == manager
