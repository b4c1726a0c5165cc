"""Customer and order imports: every bad row reported, all-or-nothing by default, UTF-8 and GBK."""

import datetime
import io
from decimal import Decimal

import pytest
import time_machine
from django.contrib.auth.models import Group, Permission
from django.core.management import CommandError, call_command
from django.db import connection
from django.utils import translation
from openpyxl import Workbook

from core.exceptions import DomainError
from crm.columns import CUSTOMER_FILE_COLUMNS, ORDER_FILE_COLUMNS, Kind
from crm.imports import customers_import, orders_import, template_csv
from crm.models import Customer, Order
from crm.tests.factories import CustomerFactory, OrderFactory, UserFactory

pytestmark = [pytest.mark.django_db]

CUSTOMERS_CSV = (
    "name,industry,customer_type,region,account_manager,cooperation_since,tax_id\n"
    "华东精密制造有限公司,MFG,b2b,华东,manager,2021-03-01,91310000MA1FL0000X\n"
    "Lin Wei,EDU,B2C,华南,,2024-07-15,\n"
)


def _xlsx(rows: list[list]) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


@time_machine.travel(datetime.datetime(2026, 6, 1, 9, tzinfo=datetime.UTC), tick=False)
def test_customers_csv_creates_customers_with_codes_and_encrypted_ids(manager):
    report = customers_import(data=CUSTOMERS_CSV.encode(), filename="customers.csv")

    assert report.created == 2 and not report.errors
    made = Customer.objects.get(name="华东精密制造有限公司")
    assert made.code.startswith("MFG2026") and made.account_manager == manager
    assert made.tax_id == "91310000MA1FL0000X"
    assert Customer.objects.get(name="Lin Wei").customer_type == "b2c"
    with connection.cursor() as cursor:
        cursor.execute("SELECT tax_id FROM crm_customer WHERE id = %s", [made.pk])
        assert "91310000MA1FL0000X" not in cursor.fetchone()[0]


def test_gbk_csv_with_chinese_headers_is_read(manager):
    text = "客户名称,行业代码,客户类型,地区,客户经理\n深圳新能源科技,NEV,b2b,华南,manager\n"

    report = customers_import(data=text.encode("gbk"), filename="导出.csv")

    assert report.created == 1
    assert Customer.objects.get(name="深圳新能源科技").region == "华南"


def test_utf8_with_bom_from_excel_is_read():
    report = customers_import(data=CUSTOMERS_CSV.replace(",manager,", ",,").encode("utf-8-sig"), filename="c.csv")

    assert report.created == 2


def test_bad_rows_reject_the_whole_file_with_line_column_and_reason(manager):
    text = (
        "name,industry,customer_type,potential_rating,contact_email\n"
        "Good Co,MFG,b2b,5,a@example.com\n"
        ",XXX,b2b,5,\n"
        "Bad Rating,MFG,b2b,eleven,not-an-email\n"
        "Bad Type,MFG,b2x,,\n"
    )

    with pytest.raises(DomainError) as caught:
        customers_import(data=text.encode(), filename="c.csv")

    errors = {(e["line"], e["column"]) for e in caught.value.fields["rows"]}
    assert {(3, "name"), (3, "industry"), (4, "potential_rating"), (4, "contact_email"), (5, "customer_type")} <= errors
    assert all(e["message"] for e in caught.value.fields["rows"])
    assert not Customer.objects.exists()


def test_skip_invalid_imports_only_the_good_rows_and_reports_the_rest():
    text = "name,industry,customer_type\nGood Co,MFG,b2b\nBad Co,XXX,b2b\nAlso Good,EDU,b2c\n"

    report = customers_import(data=text.encode(), filename="c.csv", skip_invalid=True)

    assert report.created == 2 and report.skipped == 1
    assert [(e.line, e.column) for e in report.errors] == [(3, "industry")]
    assert set(Customer.objects.values_list("name", flat=True)) == {"Good Co", "Also Good"}


def test_unknown_and_missing_columns_are_named():
    with pytest.raises(DomainError) as caught:
        customers_import(data=b"name,colour\nX,red\n", filename="c.csv")

    problems = " ".join(caught.value.fields["columns"])
    assert "colour" in problems and "industry" in problems and "customer_type" in problems


@pytest.mark.parametrize(
    "data, filename",
    [(b"", "c.csv"), (b"\xff\xfe\x00\x00garbage\x00", "c.csv"), (b"PK\x03\x04broken", "c.xlsx")],
)
def test_unreadable_files_get_a_clear_error_naming_the_file(data, filename):
    with pytest.raises(DomainError) as caught:
        customers_import(data=data, filename=filename)

    assert caught.value.fields["file"]


def test_account_manager_cannot_import_customers_for_someone_else(manager, outsider):
    text = "name,industry,customer_type,account_manager\nMine,MFG,b2b,\nTheirs,MFG,b2b,manager\n"

    with pytest.raises(DomainError) as caught:
        customers_import(data=text.encode(), filename="c.csv", user=outsider)

    assert [(e["line"], e["column"]) for e in caught.value.fields["rows"]] == [(3, "account_manager")]


def test_a_row_with_a_code_updates_that_customer_so_a_second_import_adds_no_duplicate(customer, manager):
    customer.tax_id = "91310000MA1FL0000X"
    customer.save()
    text = (
        "客户编号,客户名称,行业代码,客户类型,地区,客户经理,潜力评分\n"
        f"{customer.code},Renamed Co,NEV,b2b,西北,,7\n"
        ",Brand New Co,MFG,b2b,华东,manager,\n"
    )

    first = customers_import(data=text.encode(), filename="c.csv")
    again = customers_import(
        data=text.replace(",Brand New Co,", f"{customer.code}X,Brand New Co,").encode(),
        filename="c.csv",
        skip_invalid=True,
    )

    assert (first.created, first.updated) == (1, 1)
    customer.refresh_from_db()
    assert (customer.name, customer.industry.code, customer.region, customer.potential_rating) == (
        "Renamed Co",
        "NEV",
        "西北",
        7,
    )
    assert customer.account_manager is None  # the file's blank cell is written as it is
    assert customer.code.startswith("MFG")  # the code stays, even though the industry changed
    assert customer.tax_id == "91310000MA1FL0000X"  # and so do the columns the file does not have
    # The second time the customer row says what is stored already: counted, not written again.
    assert (again.created, again.updated, again.unchanged, again.skipped) == (0, 0, 1, 1)
    assert [(e.line, e.column) for e in again.errors] == [(3, "客户编号")]
    assert Customer.objects.count() == 2


def test_an_updated_tax_id_is_stored_encrypted(customer):
    text = f"code,name,industry,customer_type,tax_id\n{customer.code},Same Co,MFG,b2b,91330000MA2B000001\n"

    assert customers_import(data=text.encode(), filename="c.csv").updated == 1

    customer.refresh_from_db()
    assert customer.tax_id == "91330000MA2B000001"
    with connection.cursor() as cursor:
        cursor.execute("SELECT tax_id FROM crm_customer WHERE id = %s", [customer.pk])
        assert "91330000MA2B000001" not in cursor.fetchone()[0]


def test_a_file_with_codes_may_carry_only_the_columns_to_update(customer):
    name, industry = customer.name, customer.industry
    report = customers_import(data=f"客户编号,地区\n{customer.code},西北\n".encode(), filename="c.csv")

    assert report.updated == 1
    customer.refresh_from_db()
    assert (customer.region, customer.name, customer.industry) == ("西北", name, industry)
    with translation.override("en"), pytest.raises(DomainError) as caught:
        customers_import(data=f"code,region\n{customer.code},华东\n,华南\n".encode(), filename="c.csv")
    [row] = caught.value.fields["rows"]
    assert (row["line"], row["column"]) == (3, "code")
    assert "name, industry, customer_type" in row["message"]
    customer.refresh_from_db()
    assert customer.region == "西北" and Customer.objects.count() == 1


def test_unknown_and_repeated_codes_reject_the_file_and_change_nothing(customer):
    text = (
        "code,name,industry,customer_type\n"
        f"{customer.code},First,MFG,b2b\n"
        "NOPE2026001,Ghost,MFG,b2b\n"
        f"{customer.code},Second,MFG,b2b\n"
    )

    with translation.override("en"), pytest.raises(DomainError) as caught:
        customers_import(data=text.encode(), filename="c.csv")

    rows = caught.value.fields["rows"]
    assert [(e["line"], e["column"]) for e in rows] == [(3, "code"), (4, "code")]
    assert "NOPE2026001" in rows[0]["message"] and "more than one row" in rows[1]["message"]
    customer.refresh_from_db()
    assert customer.name != "First" and Customer.objects.count() == 1


def test_an_account_manager_updates_only_their_own_customers(customer, outsider):
    theirs = CustomerFactory(account_manager=outsider)
    text = f"code,name,industry,customer_type\n{theirs.code},Mine now,MFG,b2b\n{customer.code},Not mine,MFG,b2b\n"

    with pytest.raises(DomainError) as caught:
        customers_import(data=text.encode(), filename="c.csv", user=outsider)

    assert [(e["line"], e["column"]) for e in caught.value.fields["rows"]] == [(3, "code")]
    report = customers_import(data=text.encode(), filename="c.csv", user=outsider, skip_invalid=True)
    assert report.updated == 1
    theirs.refresh_from_db()
    customer.refresh_from_db()
    assert (theirs.name, theirs.account_manager) == ("Mine now", outsider) and customer.name != "Not mine"


def test_a_user_who_may_only_add_customers_cannot_update_one_by_import(customer):
    clerk = UserFactory(username="clerk")
    clerk.user_permissions.add(
        *Permission.objects.filter(codename__in=["add_customer", "view_customer", "view_all_customers"])
    )
    text = f"code,name,industry,customer_type\n{customer.code},Changed,MFG,b2b\n,Added,MFG,b2b\n"

    with pytest.raises(DomainError) as caught:
        customers_import(data=text.encode(), filename="c.csv", user=clerk)

    assert [(e["line"], e["column"]) for e in caught.value.fields["rows"]] == [(2, "code")]
    customer.refresh_from_db()
    assert customer.name != "Changed" and Customer.objects.count() == 1


def test_orders_xlsx_is_stored_once_even_when_imported_twice(customer):
    data = _xlsx(
        [
            ["customer", "amount", "ordered_at", "source", "external_ref"],
            [customer.code, 1234.56, datetime.datetime(2026, 5, 2), "erp", "SO-1"],
            [customer.code, 99, "2026-05-03", "erp", "SO-2"],
        ]
    )

    first = orders_import(data=data, filename="orders.xlsx")
    second = orders_import(data=data, filename="orders.xlsx")

    assert (first.created, second.created, second.duplicates) == (2, 0, 2)
    assert Order.objects.get(external_ref="SO-1").amount == Decimal("1234.56")


def test_bad_order_rows_name_line_and_column_and_store_nothing(customer):
    OrderFactory(customer=customer, source="erp", external_ref="OLD")
    text = (
        "客户编号,金额,下单日期,来源系统,外部单号\n"
        f"{customer.code},100,2026-05-01,erp,A1\n"
        f"{customer.code},-5,2026-05-01,erp,A2\n"
        f"NOPE,100,2026-13-01,erp,A3\n"
        f"{customer.code},100,2026-05-01,erp,A1\n"
    )

    with pytest.raises(DomainError) as caught:
        orders_import(data=text.encode("gbk"), filename="orders.csv")

    errors = {(e["line"], e["column"]) for e in caught.value.fields["rows"]}
    assert errors == {(3, "金额"), (4, "客户编号"), (4, "下单日期"), (5, "外部单号")}
    assert Order.objects.count() == 1


def test_orders_for_customers_the_user_may_not_see_are_refused_as_unknown(customer, outsider):
    text = f"customer,amount,ordered_at,source,external_ref\n{customer.code},100,2026-05-01,erp,X1\n"

    with translation.override("en"), pytest.raises(DomainError) as caught:
        orders_import(data=text.encode(), filename="o.csv", user=outsider)

    [row] = caught.value.fields["rows"]
    assert (row["line"], row["column"]) == (2, "customer")
    # the same words as a code nobody has: the outsider learns nothing about manager's customers
    assert row["message"] == f"Unknown customer code '{customer.code}'."
    assert not Order.objects.exists()


def test_a_row_with_extra_cells_is_reported_and_skippable(customer):
    text = (
        "customer,amount,ordered_at,source,external_ref\n"
        f"{customer.code},100,2026-05-01,erp,E1\n"
        f"{customer.code},100,2026-05-01,erp,E2,surprise\n"
    )

    with pytest.raises(DomainError):
        orders_import(data=text.encode(), filename="o.csv")
    assert not Order.objects.exists()

    report = orders_import(data=text.encode(), filename="o.csv", skip_invalid=True)
    assert report.created == 1 and [e.line for e in report.errors] == [3]


def test_ten_thousand_order_rows_import_in_a_bounded_number_of_queries(django_assert_max_num_queries):
    customers = CustomerFactory.create_batch(20)
    lines = ["customer,amount,ordered_at,source,external_ref"]
    lines += [f"{customers[i % 20].code},{i + 1}.50,2026-05-01,erp,B{i}" for i in range(10_000)]

    with django_assert_max_num_queries(120):  # batches of rows, never a query per row
        report = orders_import(data="\n".join(lines).encode(), filename="big.csv")

    assert report.created == 10_000


def test_command_rejects_bad_file_with_a_line_per_error(tmp_path, capsys):
    path = tmp_path / "c.csv"
    path.write_bytes("name,industry,customer_type\nOK,MFG,b2b\nBad,XXX,b2b\n".encode("gbk"))

    with pytest.raises(CommandError), translation.override("en"):
        call_command("import_customers", str(path))

    assert "line 3, column industry" in capsys.readouterr().err
    assert not Customer.objects.exists()


def test_command_reports_updated_customers(tmp_path, capsys, customer):
    path = tmp_path / "c.csv"
    path.write_text(f"客户编号,客户名称,行业代码,客户类型\n{customer.code},Renamed,MFG,b2b\n", encoding="utf-8")

    call_command("import_customers", str(path))

    assert "customers: 0 created, 1 updated" in capsys.readouterr().out
    customer.refresh_from_db()
    assert customer.name == "Renamed"


def test_command_skip_invalid_imports_the_good_rows(tmp_path, capsys):
    path = tmp_path / "c.csv"
    path.write_text("name,industry,customer_type\nOK,MFG,b2b\nBad,XXX,b2b\n", encoding="utf-8")

    with translation.override("en"):
        call_command("import_customers", str(path), "--skip-invalid")

    out = capsys.readouterr()
    assert "1 created" in out.out and "line 3" in out.err
    assert Customer.objects.filter(name="OK").exists()


def test_orders_command_reports_duplicates(tmp_path, capsys, customer):
    path = tmp_path / "o.csv"
    path.write_text(f"customer,amount,ordered_at,source,external_ref\n{customer.code},10,2026-05-01,erp,C1\n")

    call_command("import_orders", str(path))
    call_command("import_orders", str(path))

    assert "1 already stored" in capsys.readouterr().out
    assert Order.objects.count() == 1


def test_command_names_a_missing_file():
    with pytest.raises(CommandError, match="file"):
        call_command("import_orders", "/nonexistent/orders.csv")


# --- one table of columns with the exports; the rules of crm.services per row -----------------------


def test_computed_columns_of_an_export_are_listed_as_ignored_not_refused(customer):
    text = (
        "编码,名称,等级,得分,Tier run,近 12 个月消费额,最近订单,Figures as of,预警标记\n"
        f"{customer.code},{customer.name},VIP客户,91.5,2026-Q4 (2026-10-01),12000,2026-09-29,2026-10-01,\n"
    )

    report = customers_import(data=text.encode(), filename="export.csv")

    assert not report.errors and (report.updated, report.unchanged) == (0, 1)
    assert report.ignored_columns == [
        "等级",
        "得分",
        "Tier run",
        "近 12 个月消费额",
        "最近订单",
        "Figures as of",
        "预警标记",
    ]


def test_the_ui_labels_in_both_languages_and_choice_labels_are_accepted(manager):
    english = "Name,Industry,Customer type,Company size,Cooperating since,Status,Language\n"
    english += 'Acme,Manufacturing,B2C,"Small (10-99)",2024-02-01,Terminated,English\n'
    chinese = "名称,行业,客户类型,企业规模,合作起始日期,状态,语言\n深圳新源,新能源,B2B,微型（少于 10 人）,2023-05-06,合作中,简体中文\n"

    assert customers_import(data=english.encode(), filename="en.csv").created == 1
    assert customers_import(data=chinese.encode(), filename="zh.csv").created == 1

    acme = Customer.objects.get(name="Acme")
    assert (acme.industry.code, acme.customer_type, acme.company_size, acme.status, acme.language) == (
        "MFG",
        "b2c",
        "small",
        "terminated",
        "en",
    )
    assert acme.cooperation_since == datetime.date(2024, 2, 1)
    shenzhen = Customer.objects.get(name="深圳新源")
    assert (shenzhen.industry.code, shenzhen.company_size, shenzhen.status) == ("NEV", "micro", "active")


def test_an_unknown_choice_names_the_column_and_the_choices():
    with translation.override("en"), pytest.raises(DomainError) as caught:
        customers_import(data=b"Name,Industry,Customer type\nX,MFG,B2X\n", filename="c.csv")
    [row] = caught.value.fields["rows"]
    assert row["column"] == "Customer type" and "b2b, b2c" in row["message"]


def test_an_account_managers_file_may_not_change_scoring_inputs(customer, manager):
    text = f"客户编号,行业,合作起始日期,地区\n{customer.code},EDU,2020-01-01,西南\n"

    with translation.override("en"), pytest.raises(DomainError) as caught:
        customers_import(data=text.encode(), filename="c.csv", user=manager)

    assert {(e["line"], e["column"]) for e in caught.value.fields["rows"]} == {(2, "行业"), (2, "合作起始日期")}
    assert all("Only tier administrators may change" in e["message"] for e in caught.value.fields["rows"])
    customer.refresh_from_db()
    assert (customer.industry.code, customer.region) == ("MFG", "华东")


def test_an_account_managers_file_may_keep_the_stored_scoring_inputs(customer, manager):
    text = f"code,industry,customer_type,cooperation_since,region\n{customer.code},MFG,b2b,2023-01-01,西南\n"

    report = customers_import(data=text.encode(), filename="c.csv", user=manager)

    assert report.updated == 1
    customer.refresh_from_db()
    assert customer.region == "西南"


def test_a_tier_administrators_file_changes_scoring_inputs(customer):
    admin = UserFactory(username="tieradmin", is_staff=True)
    admin.groups.add(Group.objects.get(name="Tier administrators"))
    text = f"code,industry,account_manager\n{customer.code},EDU,\n"

    report = customers_import(data=text.encode(), filename="c.csv", user=admin, reason="Regional split")

    assert report.updated == 1
    customer.refresh_from_db()
    assert (customer.industry.code, customer.account_manager) == ("EDU", None)
    record = Customer.history.filter(id=customer.pk).first()
    assert (record.history_user, record.history_change_reason) == (admin, "Regional split")


def test_an_account_managers_potential_ratings_need_the_imports_reason(customer, manager):
    text = f"客户编号,潜力评分\n{customer.code},8\n"

    with translation.override("en"), pytest.raises(DomainError) as caught:
        customers_import(data=text.encode(), filename="c.csv", user=manager)
    [row] = caught.value.fields["rows"]
    assert (row["line"], row["column"]) == (2, "潜力评分") and "reason" in row["message"]

    report = customers_import(data=text.encode(), filename="c.csv", user=manager, reason="Annual review")

    assert report.updated == 1
    assert Customer.objects.get(pk=customer.pk).potential_rating == 8
    record = Customer.history.filter(id=customer.pk).first()
    assert (record.history_user, record.history_change_reason, record.history_type) == (manager, "Annual review", "~")


def test_rows_that_change_nothing_are_not_written(customer, django_capture_on_commit_callbacks):
    stamp = Customer.objects.get(pk=customer.pk).updated_at
    text = f"code,name,industry,customer_type,region\n{customer.code},{customer.name},MFG,b2b,华东\n"

    with django_capture_on_commit_callbacks() as callbacks:
        report = customers_import(data=text.encode(), filename="c.csv")

    assert (report.updated, report.unchanged) == (0, 1)
    assert Customer.objects.get(pk=customer.pk).updated_at == stamp
    assert not Customer.history.filter(id=customer.pk, history_type="~").exists()
    assert callbacks == []  # no re-evaluation queued


def test_the_template_has_the_header_row_in_the_active_language():
    columns = [c for c in CUSTOMER_FILE_COLUMNS if c.kind != Kind.COMPUTED]
    with translation.override("zh-hans"):
        chinese = template_csv(columns)
    with translation.override("en"):
        english = template_csv(columns)

    assert chinese.startswith("\ufeff编码,名称,行业,客户类型,")
    assert english.startswith("\ufeffCode,Name,Industry,Customer type,")
    header = english.lstrip("\ufeff").splitlines()[0].split(",")
    assert "Score" not in header and "Tier" not in header
    # and the import reads its own templates
    for text in (chinese, english):
        report = customers_import(data=text.encode("utf-8"), filename="template.csv")
        assert (report.created, report.updated) == (0, 0)


def test_order_labels_of_both_languages_are_read(customer):
    text = f"客户,金额,下单日期,来源系统,外部编号\n{customer.code},50,2026-05-01,erp,Z1\n"
    english = f"Customer,Amount,Ordered on,Source system,External reference\n{customer.code},60,2026-05-02,erp,Z2\n"

    assert orders_import(data=text.encode(), filename="o.csv").created == 1
    assert orders_import(data=english.encode(), filename="o.csv").created == 1


def test_no_header_names_two_columns():
    for table in (CUSTOMER_FILE_COLUMNS, ORDER_FILE_COLUMNS):
        seen: dict[str, str] = {}
        for column in table:
            for header in column.headers():
                assert seen.setdefault(header.casefold(), column.name) == column.name, header


def test_command_takes_a_reason_and_lists_ignored_columns(tmp_path, capsys, customer, manager):
    path = tmp_path / "c.csv"
    path.write_text(f"code,potential_rating,score\n{customer.code},5,80\n", encoding="utf-8")

    call_command("import_customers", str(path), "--user", "manager", "--reason", "Quarterly review")

    out = capsys.readouterr().out
    assert "1 updated" in out and "computed columns ignored: score" in out
    assert Customer.history.filter(id=customer.pk).first().history_change_reason == "Quarterly review"
