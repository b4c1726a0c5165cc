import datetime
from decimal import Decimal

import pytest
import time_machine
from django.contrib.auth.models import Permission
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from crm.tests.api_clients import client_for
from crm.tests.factories import CustomerFactory, UserFactory
from tiering.models import Notice, TierRun
from tiering.tests.factories import TierAssignmentFactory, TierOverrideFactory, TierRunFactory
from web.tests.conftest import tiered_customer

pytestmark = pytest.mark.django_db

PAGES = ["web:dashboard", "web:customer-list", "web:notice-list", "web:run-list", "web:customer-export-csv"]


# --- login -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", PAGES)
def test_every_page_sends_anonymous_visitors_to_the_login_page(client, name):
    response = client.get(reverse(name))
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/?next=")


def test_customer_page_requires_login(client, customer):
    response = client.get(reverse("web:customer-detail", args=[customer.code]))
    assert response.status_code == 302


def test_login_page_signs_a_manager_in_and_lands_on_the_dashboard(client, manager):
    page = client.get("/accounts/login/")
    assert page.status_code == 200
    response = client.post("/accounts/login/", {"username": "manager", "password": "pass12345"}, follow=True)
    assert response.redirect_chain[-1][0] == "/"
    assert response.context["user"] == manager


def test_login_with_a_wrong_password_says_so(client, manager):
    response = client.post("/accounts/login/", {"username": "manager", "password": "nope"})
    assert response.status_code == 200
    assert response.context["form"].errors


# --- dashboard -------------------------------------------------------------------------------------


def test_dashboard_counts_only_the_managers_customers(manager_client, book):
    response = manager_client.get("/")
    assert response.status_code == 200
    rows = {row["tier"].code: row["count"] for row in response.context["tier_rows"]}
    assert rows == {"vip": 1, "core": 1, "potential": 1, "ordinary": 0, "dormant": 0}
    assert response.context["untiered"] == 1
    assert response.context["customer_total"] == 4
    assert "Outsider Steel" not in response.content.decode()


def test_dashboard_shows_latest_run_notices_and_warnings(manager_client, book):
    response = manager_client.get("/")
    body = response.content.decode()
    assert response.context["latest_run"] == book["run"]
    assert (response.context["run_upgrades"], response.context["run_downgrades"]) == (1, 1)
    assert {n.pk for n in response.context["open_notices"]} == {book["up"].pk, book["down"].pk}
    assert [c for c, _labels in response.context["flagged"]] == [book["potential"]]
    assert 'id="tier-chart-data"' in body  # chart data travels as JSON, not inline script


def test_dashboard_for_an_admin_counts_everyone(admin_client_logged, book):
    response = admin_client_logged.get("/")
    assert response.context["customer_total"] == 5


def test_dashboard_with_no_customers_says_what_to_do(client, outsider):
    fresh = UserFactory(username="fresh")
    client.force_login(fresh)
    response = client.get("/")
    assert response.status_code == 200
    assert "Ask an administrator" in response.content.decode()


@pytest.mark.parametrize("count", [5, 50])
def test_dashboard_runs_a_constant_number_of_queries(
    manager_client, manager, book, tiers, count, django_assert_max_num_queries
):
    for n in range(count):
        tiered_customer(manager, tiers["ordinary"], "50.00", flags=["no_order"] if n % 2 else [])
    with django_assert_max_num_queries(19):  # + my tasks, contact plan per tier, prospects, open-task count
        assert manager_client.get("/").status_code == 200


# --- customer list ---------------------------------------------------------------------------------


def listed(response):
    return [row["customer"].name for row in response.context["rows"]]


def test_list_shows_only_the_managers_customers(manager_client, book):
    response = manager_client.get("/customers/")
    assert response.status_code == 200
    assert set(listed(response)) == {"Zenith Robotics", "Harbour Foods", "Bright Solar", "Quiet Prospect"}


def test_list_filters_by_tier_and_keeps_the_filter_in_links(manager_client, book):
    response = manager_client.get("/customers/?tier=core")
    assert listed(response) == ["Harbour Foods"]
    body = response.content.decode()
    assert "/customers/export.csv?tier=core" in body


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("industry=EDU", ["Harbour Foods"]),
        ("customer_type=b2c", ["Harbour Foods"]),
        ("lifecycle=new", ["Bright Solar"]),
        ("flagged=true", ["Bright Solar"]),
        ("search=zenith", ["Zenith Robotics"]),
        ("region=%E5%8D%8E%E4%B8%9C&tier=vip", ["Zenith Robotics"]),
    ],
)
def test_list_filters(manager_client, book, query, expected):
    assert listed(manager_client.get(f"/customers/?{query}")) == expected


def test_list_search_by_code(manager_client, book):
    assert listed(manager_client.get(f"/customers/?search={book['core'].code}")) == ["Harbour Foods"]


def test_list_sorts_by_score_spend_and_name(manager_client, book):
    assert listed(manager_client.get("/customers/"))[:3] == ["Zenith Robotics", "Harbour Foods", "Bright Solar"]
    assert listed(manager_client.get("/customers/?sort=score"))[0] == "Bright Solar"
    assert listed(manager_client.get("/customers/?sort=name"))[0] == "Bright Solar"
    assert listed(manager_client.get("/customers/?sort=-name"))[0] == "Zenith Robotics"


def test_admin_filters_by_account_manager(admin_client_logged, book):
    response = admin_client_logged.get("/customers/?account_manager=outsider")
    assert listed(response) == ["Outsider Steel"]
    assert "account_manager" in response.context["filter_form"].fields


def test_manager_has_no_account_manager_filter_and_cannot_use_it(manager_client, book):
    response = manager_client.get("/customers/?account_manager=outsider")
    assert "account_manager" not in response.context["filter_form"].fields
    assert "Outsider Steel" not in listed(response)


def test_bad_filter_value_is_a_clear_message_not_an_error(manager_client, book):
    response = manager_client.get("/customers/?tier=platinum&page=abc&sort=bogus")
    assert response.status_code == 200
    assert "tier" in response.context["filter_errors"]
    assert listed(response) == []
    assert "Some filters are not valid" in response.content.decode()


def test_list_paginates_25_per_page(manager_client, manager, tiers):
    for n in range(30):
        tiered_customer(manager, tiers["ordinary"], f"{50 + n % 9}.00")
    first = manager_client.get("/customers/")
    second = manager_client.get("/customers/?page=2")
    assert len(first.context["rows"]) == 25
    assert len(second.context["rows"]) == 5
    assert first.context["page_obj"].paginator.count == 30
    assert manager_client.get("/customers/?page=99").context["page_obj"].number == 2


def test_empty_filter_result_says_how_to_get_out(manager_client, book):
    body = manager_client.get("/customers/?tier=dormant").content.decode()
    assert "No customer matches these filters" in body


@pytest.mark.parametrize("count", [5, 50])
def test_list_runs_a_constant_number_of_queries(admin_client_logged, tiers, count, django_assert_max_num_queries):
    for n in range(count):
        tiered_customer(UserFactory(), tiers["core"], "80.00", flags=["spend_up"] if n % 3 else [])
    with django_assert_max_num_queries(14):  # + the contact plan columns and the open-task count
        response = admin_client_logged.get("/customers/?sort=-spend_12m")
    assert len(response.context["rows"]) == min(count, 25)


def test_list_sorted_by_name_runs_as_many_queries_as_by_score(admin_client_logged, tiers):
    """The pinyin order is the database's ORDER BY: no query more, whatever the page shows."""
    for name in ("上海物流", "北京教育", "重庆制造", "广州零售"):
        tiered_customer(UserFactory(), tiers["core"], "80.00", name=name)

    def queries(sort: str) -> tuple[int, list[str]]:
        with CaptureQueriesContext(connection) as captured:
            response = admin_client_logged.get(f"/customers/?sort={sort}")
        return len(captured), [row["customer"].name for row in response.context["rows"]]

    by_score, by_name = queries("-score"), queries("name")
    assert by_name == (by_score[0], ["北京教育", "重庆制造", "广州零售", "上海物流"])


# --- customer detail -------------------------------------------------------------------------------


@time_machine.travel(datetime.datetime(2026, 10, 1, 9, 0, tzinfo=datetime.UTC), tick=False)
def test_detail_shows_the_live_breakdown_per_category(manager_client, book):
    response = manager_client.get(reverse("web:customer-detail", args=[book["core"].code]))
    assert response.status_code == 200
    breakdown = response.context["breakdown"]
    assert [group["max"] for group in breakdown["categories"]] == [60.0, 40.0]
    labels = [rule["label"] for group in breakdown["categories"] for rule in group["rules"]]
    assert "12-month spend" in labels
    assert response.context["as_of"] == datetime.date(2026, 10, 1)
    assert 'id="breakdown-chart-data"' in response.content.decode()


@time_machine.travel(datetime.datetime(2026, 10, 1, 9, 0, tzinfo=datetime.UTC), tick=False)
def test_the_live_score_reads_with_two_decimals_like_the_stored_one(manager_client, book):
    """The live total is a float (28.0 prints "28.0"); beside the stored "78.20" it reads "28.00"."""
    response = manager_client.get(reverse("web:customer-detail", args=[book["core"].code]))
    total = response.context["live"].result.total
    assert str(total) != f"{total:.2f}"  # one decimal of its own: the case the page used to print raw
    body = response.content.decode()
    assert f"Live score {total:.2f} on 2026-10-01" in body
    assert "78.20<small>/100</small>" in body


def test_survey_channels_read_as_words_on_the_customer_page(manager, book):
    """The survey's channel as stored ("email") reads 邮件 in Chinese and Email in English."""
    for language, label in (("zh-hans", "· 邮件"), ("en", "· Email")):
        browser = Client(headers={"accept-language": language})
        browser.force_login(manager)
        body = browser.get(reverse("web:customer-detail", args=[book["core"].code])).content.decode()
        surveys = body.split('id="surveys-title"')[1].split("</section>")[0]
        assert label in surveys and "· email" not in surveys


def test_detail_masks_sensitive_fields_for_managers(manager_client, book):
    body = manager_client.get(reverse("web:customer-detail", args=[book["core"].code])).content.decode()
    assert "91310000MA1FL8XQ3K" not in body
    assert "**************XQ3K" in body
    assert "6222020200112233445" not in body


def test_detail_shows_sensitive_fields_to_people_allowed_to_see_them(client, manager, book):
    manager.user_permissions.add(Permission.objects.get(codename="view_sensitive_fields"))
    client.force_login(manager)
    body = client.get(reverse("web:customer-detail", args=[book["core"].code])).content.decode()
    assert "91310000MA1FL8XQ3K" in body


def test_detail_of_another_managers_customer_is_404(client, outsider, book):
    client.force_login(outsider)
    assert client.get(reverse("web:customer-detail", args=[book["core"].code])).status_code == 404
    assert client.get(reverse("web:customer-letter", args=[book["core"].code])).status_code == 404


def test_detail_of_an_unknown_code_is_404(manager_client, book):
    assert manager_client.get("/customers/NOPE2026001/").status_code == 404


def test_detail_shows_service_level_history_and_letter_link(manager_client, book):
    response = manager_client.get(reverse("web:customer-detail", args=[book["core"].code]))
    body = response.content.decode()
    assert response.context["first_response"] == "2 hours"
    assert [a.run.period for a in response.context["history"]] == ["2026-Q2", "2026-Q3"]
    assert response.context["show_letter"] is True
    assert reverse("web:customer-letter", args=[book["core"].code]) in body


def test_a_forced_rerun_of_a_period_shows_once_in_the_tier_history(manager_client, book, tiers):
    """The period's latest run stands for it: one 2026-Q3 point and row, with the rerun's score."""
    rerun = TierRunFactory(period="2026-Q3", as_of=book["run"].as_of, forced=True)
    TierAssignmentFactory(run=rerun, customer=book["core"], score=Decimal("81.25"), computed_tier=tiers["core"])
    response = manager_client.get(reverse("web:customer-detail", args=[book["core"].code]))
    assert response.context["history_chart"]["labels"] == ["2026-Q2", "2026-Q3"]
    assert response.context["history_chart"]["scores"] == [91.0, 81.25]
    assert [a.run for a in response.context["history"]][-1] == rerun
    table = response.content.decode().split('id="history-title"')[1].split("</table>")[0]
    assert table.count("<td>2026-Q3 ") == 1 and "81.25" in table and "78.20" not in table


def test_detail_shows_an_override_with_reason_and_expiry(manager_client, book, tiers, admin_user):

    TierOverrideFactory(
        customer=book["potential"], tier=tiers["core"], expires_on=datetime.date(2099, 12, 31), created_by=admin_user
    )
    body = manager_client.get(reverse("web:customer-detail", args=[book["potential"].code])).content.decode()
    assert "Chairs the regional business association" in body
    assert "2099-12-31" in body


def test_detail_of_an_untiered_customer_explains_what_comes_next(manager_client, book):
    response = manager_client.get(reverse("web:customer-detail", args=[book["untiered"].code]))
    assert response.status_code == 200
    assert "the history starts with the next run" in response.content.decode()


def test_letter_of_a_downgraded_customer(manager_client, book):
    response = manager_client.get(reverse("web:customer-letter", args=[book["core"].code]))
    assert response.status_code == 200
    assert "Harbour Foods" in response.content.decode()


def test_letter_without_a_downgrade_is_404(manager_client, book):
    assert manager_client.get(reverse("web:customer-letter", args=[book["vip"].code])).status_code == 404


# --- notices ---------------------------------------------------------------------------------------


def test_notices_lists_only_the_managers_newest_first(manager_client, book):
    response = manager_client.get("/notices/")
    ids = [n.pk for n in response.context["page_obj"].object_list]
    assert ids == [book["up"].pk, book["down"].pk]


def test_notices_filter_by_direction(manager_client, book):
    response = manager_client.get("/notices/?direction=downgrade")
    assert [n.pk for n in response.context["page_obj"].object_list] == [book["down"].pk]


def test_acknowledge_several_notices(manager_client, book, manager):
    response = manager_client.post(
        "/notices/acknowledge/", {"notice": [book["up"].pk, book["down"].pk], "next": "/notices/?state=open"}
    )
    assert response.status_code == 302
    assert response["Location"] == "/notices/?state=open"
    assert Notice.objects.filter(recipient=manager, acknowledged_at__isnull=True).count() == 0
    assert Notice.objects.get(pk=book["up"].pk).acknowledged_by == manager


def test_acknowledging_someone_elses_notice_changes_nothing(client, outsider, book):
    client.force_login(outsider)
    response = client.post(
        "/notices/acknowledge/", {"notice": [book["down"].pk, book["foreign_notice"].pk]}, follow=True
    )
    assert response.status_code == 200
    assert "is not one of yours" in response.content.decode()
    assert Notice.objects.filter(acknowledged_at__isnull=False).count() == 0


def test_acknowledge_with_nothing_selected_or_garbage(manager_client, book):
    assert (
        "Select at least one notice" in manager_client.post("/notices/acknowledge/", {}, follow=True).content.decode()
    )
    assert (
        "is not a notice number"
        in manager_client.post("/notices/acknowledge/", {"notice": ["x"]}, follow=True).content.decode()
    )


def test_acknowledge_ignores_a_redirect_to_another_site(manager_client, book):
    response = manager_client.post(
        "/notices/acknowledge/", {"notice": [book["up"].pk], "next": "https://evil.example/"}
    )
    assert response["Location"] == "/notices/"


# --- runs ------------------------------------------------------------------------------------------


@pytest.fixture
def company_run(db):
    """A finished and a running run whose company-wide figures no page shows by chance."""
    finished = TierRunFactory(
        period="2026-Q3",
        as_of=datetime.date(2026, 9, 30),
        total=78_213,
        done=78_213,
        upgrades=17_771,
        downgrades=16_542,
        tier_counts={"vip": 14_127, "core": 19_318, "potential": 11_409, "ordinary": 15_236, "dormant": 18_123},
        error="chunk 17 of 2026-Q3 failed",
    )
    running = TierRunFactory(
        period="2026-Q4", as_of=datetime.date(2026, 12, 31), status="running", total=52_904, done=13_226
    )
    return finished, running


# Five digits each, so none turns up by chance in a page (a CSRF token, say).
COMPANY_FIGURES = ["78,213", "17,771", "16,542", "14,127", "19,318", "11,409", "15,236", "18,123", "52,904", "13,226"]


def test_runs_page_shows_a_manager_each_run_but_no_company_wide_figures(manager_client, company_run):
    """GET /api/v1/tier-runs/{id}/ refuses managers a run's figures; the page must not show them either."""
    finished, running = company_run
    response = manager_client.get("/runs/")
    assert response.status_code == 200
    body = response.content.decode()
    assert response.context["sees_run_figures"] is False
    assert response.context["runs"] == [(running, []), (finished, [])]
    assert "2026-Q3" in body and "2026-Q4" in body and "Succeeded" in body and "Running" in body
    for figure in COMPANY_FIGURES:
        assert figure not in body and figure.replace(",", "") not in body
    assert "chunk 17" not in body
    assert "data-run-progress" not in body  # nothing polls the figures either
    assert "are on the dashboard" in body
    assert response.context["may_start"] is False


def test_runs_page_shows_an_admin_the_company_wide_figures(admin_client_logged, company_run):
    finished, _running = company_run
    response = admin_client_logged.get("/runs/")
    body = response.content.decode()
    assert response.context["sees_run_figures"] is True
    run, counts = response.context["runs"][1]
    assert run == finished
    assert [count for _tier, count in counts] == [14_127, 19_318, 11_409, 15_236, 18_123]
    for figure in COMPANY_FIGURES:
        assert figure in body
    assert "chunk 17 of 2026-Q3 failed" in body
    assert "are on the dashboard" not in body


def test_the_run_api_and_the_runs_page_agree_on_who_sees_a_runs_figures(
    manager, manager_client, admin_user, admin_client_logged, company_run
):
    finished, _running = company_run
    for user, client, sees in ((manager, manager_client, False), (admin_user, admin_client_logged, True)):
        api = client_for(user).get(f"/api/v1/tier-runs/{finished.pk}/")
        assert api.status_code == (200 if sees else 403)
        assert client.get("/runs/").context["sees_run_figures"] is sees


def test_manager_cannot_start_a_run(manager_client, book):
    assert manager_client.post("/runs/start/", {"as_of": "2026-09-30"}).status_code == 403
    assert TierRun.objects.count() == 2


def test_admin_starts_a_run_which_is_enqueued(admin_client_logged, manager, tiers, django_capture_on_commit_callbacks):
    tiered_customer(manager, tiers["ordinary"], "50.00")
    with django_capture_on_commit_callbacks(execute=True) as enqueued:
        response = admin_client_logged.post("/runs/start/", {"as_of": "2026-09-30"}, follow=True)
    assert response.status_code == 200
    assert enqueued  # the work is handed to Celery after commit
    run = TierRun.objects.get()
    assert run.period == "2026-Q3"
    assert run.status == "succeeded"  # eager Celery in tests runs the enqueued work at once
    assert "has been queued" in response.content.decode()


def test_starting_a_done_period_again_is_a_message_not_an_error(admin_client_logged, book):
    response = admin_client_logged.post("/runs/start/", {"as_of": "2026-09-30"}, follow=True)
    assert response.status_code == 200
    assert "already has a successful tier run" in response.content.decode()


def page_messages(response) -> list[tuple[str, str]]:
    return [(message.level_tag, str(message)) for message in response.context["messages"]]


@pytest.mark.parametrize(
    ("language", "message"),
    [
        ("en", "Another tier run of this scope is already in progress."),
        ("zh-hans", "此范围已有另一次分级运行正在进行。"),
    ],
    ids=["en", "zh-hans"],
)
@time_machine.travel(datetime.datetime(2026, 10, 1, 9, 0, tzinfo=datetime.UTC), tick=False)
def test_starting_a_run_while_one_is_running_says_so_in_the_users_language(admin_user, book, language, message):
    """The day after the last run: the only thing in the way is the run still going."""
    running = TierRunFactory(period="2026-Q4", as_of=datetime.date(2026, 10, 1), status="running", total=10)
    browser = Client(headers={"accept-language": language})
    browser.force_login(admin_user)
    response = browser.post("/runs/start/", {"as_of": "2026-10-01"}, follow=True)
    assert response.status_code == 200
    assert page_messages(response) == [("error", message)]
    assert set(TierRun.objects.all()) == {book["run"], running, TierRun.objects.get(period="2026-Q2")}


@pytest.mark.parametrize(
    ("language", "message"),
    [("en", "As of: Enter a valid date."), ("zh-hans", "评估日期: 输入一个有效的日期。")],
    ids=["en", "zh-hans"],
)
def test_start_with_a_bad_date_names_the_field_in_the_users_language(admin_user, book, language, message):
    browser = Client(headers={"accept-language": language})
    browser.force_login(admin_user)
    response = browser.post("/runs/start/", {"as_of": "31/02/2026"}, follow=True)
    assert response.status_code == 200
    assert page_messages(response) == [("error", message)]
    assert TierRun.objects.count() == 2


def test_running_run_reports_its_progress(admin_client_logged, book):
    run = TierRunFactory(period="2026-Q4", as_of=datetime.date(2026, 12, 31), status="running", total=200, done=50)
    page = admin_client_logged.get("/runs/")
    assert page.context["active"] == [run]
    assert f'data-run-progress="{reverse("web:run-progress", args=[run.pk])}"' in page.content.decode()
    progress = admin_client_logged.get(reverse("web:run-progress", args=[run.pk])).json()
    assert progress == {
        "id": run.pk,
        "status": "running",
        "statusLabel": "Running",
        "done": 50,
        "total": 200,
        "percent": 25,
        "finished": False,
    }


def test_a_manager_sees_a_run_is_running_but_not_its_progress_figures(manager_client, company_run):
    _finished, running = company_run
    page = manager_client.get("/runs/")
    assert page.context["active"] == [running]
    assert "Run 2026-Q4 in progress" in page.content.decode()
    assert manager_client.get(reverse("web:run-progress", args=[running.pk])).status_code == 403


# --- language --------------------------------------------------------------------------------------


def test_pages_speak_chinese_by_default_and_english_on_request(manager, book):
    browser = Client()  # no language preference at all
    browser.force_login(manager)
    chinese = browser.get("/customers/").content.decode()
    assert 'lang="zh-hans"' in chinese
    assert "导出 CSV" in chinese and "工作台" in chinese
    browser.post("/i18n/setlang/", {"language": "en", "next": "/customers/"})
    english = browser.get("/customers/").content.decode()
    assert "Customers" in english
    assert 'lang="en"' in english


def test_language_switch_is_offered_on_every_page(manager_client, book):
    body = manager_client.get("/").content.decode()
    assert 'name="language" value="zh-hans"' in body
    assert 'name="language" value="en"' in body


def test_admin_link_only_for_staff(manager_client, admin_client_logged, book):
    assert 'href="/admin/"' not in manager_client.get("/").content.decode()
    assert 'href="/admin/"' in admin_client_logged.get("/").content.decode()


def test_no_inline_scripts_or_styles(manager_client, book):
    """The Content-Security-Policy forbids them; a page that used them would break in the browser."""
    for url in ["/", "/customers/", reverse("web:customer-detail", args=[book["core"].code]), "/notices/", "/runs/"]:
        body = manager_client.get(url).content.decode()
        assert " style=" not in body
        for chunk in body.split("<script")[1:]:
            assert chunk.lstrip().startswith(("src=", 'id="', "type=")) or ' src="' in chunk.split(">")[0]
            if ' src="' not in chunk.split(">")[0]:
                assert 'type="application/json"' in chunk.split(">")[0]


def test_customers_without_a_manager_are_admin_only(manager_client, admin_client_logged, tiers):
    orphan = CustomerFactory(account_manager=None, name="Nobody's Customer", spend_12m=Decimal("1"))
    assert manager_client.get(reverse("web:customer-detail", args=[orphan.code])).status_code == 404
    assert admin_client_logged.get(reverse("web:customer-detail", args=[orphan.code])).status_code == 200


# --- formatting helpers ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "places", "trim", "expected"),
    [
        (Decimal("797493.24"), 0, False, "797,493"),
        (Decimal("4000.00"), 2, False, "4,000.00"),
        (22.0, 2, True, "22"),
        (1.45, 2, True, "1.45"),
        (None, 0, False, "—"),
    ],
)
def test_grouped_figures(value, places, trim, expected):
    from web.views import grouped

    assert grouped(value, places, trim=trim) == expected


@pytest.mark.parametrize(
    ("minutes", "expected"), [(15, "15 minutes"), (120, "2 hours"), (1440, "24 hours"), (1, "1 minute")]
)
def test_first_response_reads_naturally(minutes, expected):
    from django.utils import translation

    from web.views import duration_label

    with translation.override("en"):
        assert duration_label(minutes) == expected


def test_not_found_and_not_allowed_pages_say_what_to_do(client, outsider, book):
    client.force_login(outsider)
    missing = client.get(reverse("web:customer-detail", args=[book["core"].code]))
    assert missing.status_code == 404
    assert "not yours to see" in missing.content.decode()
    refused = client.post("/runs/start/", {"as_of": "2026-09-30"})
    assert refused.status_code == 403
    assert "Ask an administrator" in refused.content.decode()


def test_the_run_date_is_prefilled_as_an_iso_date_in_chinese_too(admin_user):
    """A date input shows only ISO dates: the Chinese format (2026/10/01) would leave it empty."""
    browser = Client(headers={"accept-language": "zh-hans"})
    browser.force_login(admin_user)
    with time_machine.travel(datetime.datetime(2026, 10, 1, 9, 0, tzinfo=datetime.UTC), tick=False):
        body = browser.get("/runs/").content.decode()
    assert 'value="2026-10-01"' in body
