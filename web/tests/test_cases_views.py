"""The case and results pages: who sees which case, opening, answering and moving a case on through
the services, refusals shown beside their fields, the results with their definitions and CSV, and
a fixed number of queries whatever the number of customers."""

import datetime
from decimal import Decimal

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from commitments.models import Case
from commitments.services import cases as case_services
from crm.models import Interaction, SatisfactionSurvey
from crm.tests.factories import CustomerFactory, InteractionFactory, OrderFactory
from web.tests.conftest import tiered_customer

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def results_cache_cleared():
    """The results are cached per visibility and quarters: no test sees another test's figures."""
    cache.clear()
    yield
    cache.clear()


def open_case(customer, user, *, minutes_ago: int = 0, **fields) -> Case:
    fields.setdefault("kind", Case.Kind.REQUEST)
    fields.setdefault("subject", "Machine stopped")
    opened = timezone.now() - datetime.timedelta(minutes=minutes_ago)
    return case_services.case_open(customer=customer, user=user, opened_at=opened, **fields)


def case_url(case, name: str = "web:case-detail") -> str:
    return reverse(name, args=[case.pk])


def body(response) -> str:
    return response.content.decode()


# --- visibility -------------------------------------------------------------------------------------


def test_a_manager_opens_a_case_for_a_vip_customer_with_the_tiers_24x7_clock(manager_client, manager, book):
    response = manager_client.post(
        reverse("web:case-open", args=[book["vip"].code]),
        {"kind": "incident", "severity": "3", "channel": "phone", "subject": "Line 3 down", "description": "Urgent"},
    )
    case = Case.objects.get()
    assert response.status_code == 302 and response["Location"] == case_url(case)
    assert (case.customer, case.owner, case.tier.code, case.clock) == (book["vip"], manager, "vip", "24x7")
    page = body(manager_client.get(case_url(case)))
    assert "Line 3 down" in page
    assert f'data-deadline="{timezone.localtime(case.first_response_due_at).isoformat()}"' in page
    assert "Around the clock (24×7)" in page and "15 min" in page
    assert "VIP" in page  # the tier at opening


def test_the_open_case_form_says_what_the_customer_is_promised(manager_client, book):
    page = body(manager_client.get(reverse("web:case-open", args=[book["core"].code])))
    assert "within 2 h (Business hours)" in page


def test_an_outsiders_case_and_customer_are_not_found(client, outsider, manager, book):
    case = open_case(book["vip"], manager)
    client.force_login(outsider)
    assert client.get(case_url(case)).status_code == 404
    assert client.post(case_url(case, "web:case-respond"), {"body": "Hello"}).status_code == 404
    assert client.post(case_url(case, "web:case-status"), {"status": "in_progress"}).status_code == 404
    assert client.get(reverse("web:case-open", args=[book["vip"].code])).status_code == 404
    response = client.post(reverse("web:case-open", args=[book["vip"].code]), {"kind": "request", "subject": "x"})
    assert response.status_code == 404
    assert Case.objects.count() == 1 and not case.replies.exists()
    case.refresh_from_db()
    assert case.status == Case.Status.OPEN
    listed = client.get("/cases/?scope=all").context["rows"]
    assert listed == []


def test_an_administrator_sees_every_managers_cases(admin_client_logged, manager, outsider, book):
    mine = open_case(book["vip"], manager)
    theirs = open_case(book["foreign"], outsider)
    assert admin_client_logged.get(case_url(theirs)).status_code == 200
    rows = admin_client_logged.get("/cases/").context["rows"]
    assert {case for case, _clock in rows} == {mine, theirs}


def test_a_manager_lists_only_cases_of_their_own_customers(manager_client, manager, outsider, book):
    mine = open_case(book["core"], manager)
    open_case(book["foreign"], outsider)
    for scope in ("mine", "all"):
        rows = manager_client.get(f"/cases/?scope={scope}").context["rows"]
        assert [case for case, _clock in rows] == [mine]


# --- bad input --------------------------------------------------------------------------------------


def test_closing_without_a_resolution_names_the_resolution_and_changes_nothing(manager_client, manager, book):
    case = open_case(book["vip"], manager)
    case_services.case_respond(case=case, user=manager, body="On it")
    response = manager_client.post(
        case_url(case, "web:case-status"), {"status": "closed", "resolution": "  ", "satisfaction": "A"}
    )
    assert response.status_code == 400
    form = response.context["status_form"]
    assert form.errors["resolution"] == ["Say how the case was resolved."]
    page = body(response)
    assert 'id="move-closed" open' in page  # the close form is open again, its error beside the field
    assert page.index("Say how the case was resolved.") > page.index('id="move-closed-resolution"')
    case.refresh_from_db()
    assert (case.status, case.resolution, case.satisfaction, case.resolved_at, case.closed_at) == (
        Case.Status.IN_PROGRESS,
        "",
        "",
        None,
        None,
    )
    assert not SatisfactionSurvey.objects.filter(customer=book["vip"]).exists()


def test_a_case_without_a_subject_is_not_opened_and_the_subject_is_named(manager_client, book):
    response = manager_client.post(reverse("web:case-open", args=[book["vip"].code]), {"kind": "request"})
    assert response.status_code == 400
    assert "subject" in response.context["form"].errors
    assert not Case.objects.exists()


def test_an_unknown_kind_is_named(manager_client, book):
    response = manager_client.post(
        reverse("web:case-open", args=[book["vip"].code]), {"kind": "party", "subject": "Hello"}
    )
    assert response.status_code == 400 and "kind" in response.context["form"].errors
    assert not Case.objects.exists()


def test_an_empty_reply_is_named_and_the_clock_keeps_running(manager_client, manager, book):
    case = open_case(book["vip"], manager)
    response = manager_client.post(case_url(case, "web:case-respond"), {"body": " "})
    assert response.status_code == 400 and "body" in response.context["reply_form"].errors
    case.refresh_from_db()
    assert case.first_response_at is None and 'data-deadline="' in body(response)


def test_a_reply_to_a_closed_case_is_refused_with_a_message(manager_client, manager, book):
    case = open_case(book["vip"], manager)
    case_services.case_transition(case=case, status="resolved", user=manager, resolution="Fixed")
    case_services.case_transition(case=case, status="closed", user=manager)
    response = manager_client.post(case_url(case, "web:case-respond"), {"body": "One more thing"})
    assert response.status_code == 400
    assert "This case is closed." in body(response)
    assert not case.replies.exists()


def test_a_grade_at_resolve_is_refused_and_named(manager_client, manager, book):
    case = open_case(book["vip"], manager)
    response = manager_client.post(
        case_url(case, "web:case-status"), {"status": "resolved", "resolution": "Fixed", "satisfaction": "B"}
    )
    assert response.status_code == 400 and "satisfaction" in response.context["status_form"].errors
    case.refresh_from_db()
    assert case.status == Case.Status.OPEN


# --- answering and moving on ------------------------------------------------------------------------


def test_reply_resolve_and_close_with_grade_a(manager_client, manager, book):
    case = open_case(book["vip"], manager, minutes_ago=3)
    assert manager_client.post(case_url(case, "web:case-respond"), {"body": "Engineer on the way"}).status_code == 302
    case.refresh_from_db()
    assert case.status == Case.Status.IN_PROGRESS and case.met_first_response
    page = body(manager_client.get(case_url(case)))
    assert "Engineer on the way" in page and "in time" in page and 'data-deadline="' not in page
    response = manager_client.post(
        case_url(case, "web:case-status"), {"status": "resolved", "resolution": "Part swapped"}
    )
    assert response.status_code == 302
    response = manager_client.post(case_url(case, "web:case-status"), {"status": "closed", "satisfaction": "A"})
    assert response.status_code == 302
    case.refresh_from_db()
    assert (case.status, case.resolution, case.satisfaction) == (Case.Status.CLOSED, "Part swapped", "A")
    assert case.survey.score == 5
    assert "A: very satisfied" in body(manager_client.get(case_url(case)))


def test_closing_an_open_case_resolves_it_on_the_way(manager_client, manager, book):
    case = open_case(book["core"], manager)
    response = manager_client.post(
        case_url(case, "web:case-status"), {"status": "closed", "resolution": "Answered by phone", "satisfaction": "C"}
    )
    assert response.status_code == 302
    case.refresh_from_db()
    assert case.status == Case.Status.CLOSED and case.resolved_at and case.satisfaction == "C"


def test_a_complaint_activity_opened_as_a_case_is_recorded_once(manager_client, manager, book):
    complaint = InteractionFactory(customer=book["core"], kind="complaint", note="Late delivery\nThird time")
    customer_page = body(manager_client.get(reverse("web:customer-detail", args=[book["core"].code])))
    open_link = reverse("web:case-open", args=[book["core"].code]) + f"?activity={complaint.pk}"
    assert open_link in customer_page  # "open as case" on the timeline's complaint row
    form = manager_client.get(open_link).context["form"]
    assert (form.initial["kind"], form.initial["subject"], form.initial["activity"]) == (
        "complaint",
        "Late delivery",
        complaint.pk,
    )
    response = manager_client.post(
        reverse("web:case-open", args=[book["core"].code]),
        {
            "kind": "complaint",
            "severity": "2",
            "channel": "phone",
            "subject": "Late delivery",
            "activity": complaint.pk,
        },
    )
    case = Case.objects.get()
    assert response.status_code == 302 and case.activity == complaint
    assert Interaction.objects.filter(customer=book["core"], kind="complaint").count() == 1
    customer_page = body(manager_client.get(reverse("web:customer-detail", args=[book["core"].code])))
    assert open_link not in customer_page and case_url(case) in customer_page
    # The link again goes to the case instead of opening a second one.
    assert manager_client.get(open_link)["Location"] == case_url(case)


def test_another_customers_complaint_cannot_be_attached(manager_client, book):
    foreign = InteractionFactory(customer=book["foreign"], kind="complaint")
    assert (
        manager_client.get(reverse("web:case-open", args=[book["core"].code]) + f"?activity={foreign.pk}").status_code
        == 404
    )
    response = manager_client.post(
        reverse("web:case-open", args=[book["core"].code]),
        {"kind": "complaint", "severity": "2", "channel": "phone", "subject": "x", "activity": foreign.pk},
    )
    assert response.status_code == 400 and "activity" in response.context["form"].errors
    assert not Case.objects.exists()


# --- the list -----------------------------------------------------------------------------------------


def test_the_list_puts_the_nearest_deadline_first_and_filters(manager_client, manager, book):
    later = open_case(book["core"], manager, subject="Later")  # 2 business hours
    soon = open_case(book["vip"], manager, subject="Soon", minutes_ago=5)  # 15 minutes, 24x7
    breached = open_case(book["vip"], manager, subject="Missed", kind="complaint", minutes_ago=60)
    answered = open_case(book["potential"], manager, subject="Answered")
    case_services.case_respond(case=answered, user=manager, body="Done")
    rows = [case for case, _clock in manager_client.get("/cases/").context["rows"]]
    assert rows[:3] == [breached, soon, later] and rows[3] == answered
    assert [c for c, _ in manager_client.get("/cases/?breached=yes").context["rows"]] == [breached]
    assert breached not in [c for c, _ in manager_client.get("/cases/?breached=no").context["rows"]]
    assert [c for c, _ in manager_client.get("/cases/?kind=complaint").context["rows"]] == [breached]
    assert [c for c, _ in manager_client.get("/cases/?status=in_progress").context["rows"]] == [answered]
    page = body(manager_client.get("/cases/"))
    assert "countdown--overdue" in page and "Overdue by" in page


def test_a_bad_filter_is_named(manager_client, manager, book):
    open_case(book["vip"], manager)
    response = manager_client.get("/cases/?status=lost")
    assert response.status_code == 200
    assert "status" in response.context["filter_form"].errors and response.context["rows"] == []


# --- dashboard, customer page, timeline ---------------------------------------------------------------


def test_the_dashboard_shows_open_cases_breaches_and_compliance_per_tier(manager_client, manager, book):
    answered = open_case(book["vip"], manager, minutes_ago=2)
    case_services.case_respond(case=answered, user=manager, body="Hi")
    open_case(book["vip"], manager, minutes_ago=30)  # past its 15 minutes
    page = body(manager_client.get("/"))
    assert "Cases and first-response SLA" in page
    assert "50.0%" in page and "1 of 2 in time" in page


def test_the_customer_page_lists_its_cases_and_offers_to_open_one(manager_client, manager, book):
    case = open_case(book["vip"], manager, subject="Printer jammed")
    page = body(manager_client.get(reverse("web:customer-detail", args=[book["vip"].code])))
    assert "Printer jammed" in page and case_url(case) in page
    assert reverse("web:case-open", args=[book["vip"].code]) in page
    timeline = body(manager_client.get(reverse("web:customer-detail", args=[book["vip"].code]) + "?timeline=case"))
    assert "pill--case" in timeline and "Printer jammed" in timeline


# --- results ------------------------------------------------------------------------------------------


def test_the_results_page_counts_an_answered_vip_case_within_sla(manager_client, manager, book):
    case = open_case(book["vip"], manager, minutes_ago=1)
    case_services.case_respond(case=case, user=manager, body="Hi")
    response = manager_client.get("/results/")
    assert response.status_code == 200
    sla = next(view for view in response.context["figures"] if view["figure"].key == "sla_compliance")
    vip = next(row for row in sla["rows"] if row["tier"].code == "vip")
    current = vip["cells"][-1]
    assert (current["value"], current["cell"].n, current["cell"].met) == ("100.0%", 1, 1)
    page = body(response)
    for label in ("Repurchase rate", "Dormant activation rate", "Retention", "Prospect conversion",
                  "Average order value change", "First-response SLA compliance", "Median first response",
                  "Contact-plan compliance", "Playbook tasks done on time"):  # fmt: skip
        assert label in page
    assert "share answered by the deadline" in page  # the definition, in English
    assert "n = 1" in page


def test_a_bad_quarter_is_named_beside_the_field(manager_client, book):
    response = manager_client.get("/results/?quarters=2026-Q5")
    assert response.status_code == 400
    assert response.context["form"].errors["quarters"] == ["'2026-Q5' is not a quarter such as 2026-Q3."]
    export = manager_client.get("/results/export.csv?quarters=2026-Q5")
    assert export.status_code == 302 and export["Location"] == "/results/?quarters=2026-Q5"


def test_the_results_export_is_the_figures_as_csv(manager_client, manager, book):
    case = open_case(book["vip"], manager, minutes_ago=1)
    case_services.case_respond(case=case, user=manager, body="Hi")
    quarter = f"{timezone.localdate().year}-Q{(timezone.localdate().month - 1) // 3 + 1}"
    response = manager_client.get(f"/results/export.csv?quarters={quarter}")
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    assert f'filename="results-{quarter}-{quarter}.csv"' in response["Content-Disposition"]
    text = response.content.decode("utf-8-sig")
    assert text.splitlines()[0].startswith("figure,quarter,tier")
    assert any(
        line.startswith(f"First-response SLA compliance,{quarter},vip,VIP,100.0,percent,1,1")
        for line in text.splitlines()
    )


def test_results_need_their_permission(client, book):
    from crm.tests.factories import UserFactory

    client.force_login(UserFactory(username="nobody"))
    assert client.get("/results/").status_code == 403
    assert client.get("/cases/").status_code == 403


# --- a fixed number of queries --------------------------------------------------------------------------


def add_customers(manager, tiers, count: int) -> None:
    today = timezone.localdate()
    for n in range(count):
        customer = tiered_customer(manager, tiers["vip" if n % 2 else "core"], "80.00")
        OrderFactory(customer=customer, amount=Decimal("100.00"), ordered_at=today - datetime.timedelta(days=n % 40))
        case = open_case(customer, manager, minutes_ago=20 + n)  # the VIP ones unanswered are past due
        if n % 3 == 0:
            case_services.case_respond(case=case, user=manager, body="Hi")
    CustomerFactory(account_manager=manager)


def queries_for(client, url: str) -> int:
    cache.clear()
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return len(captured)


@pytest.mark.parametrize("url", ["/cases/", "/cases/?scope=all&breached=yes", "/results/", "/"])
def test_pages_run_the_same_number_of_queries_for_3_and_30_customers(manager_client, manager, tiers, url):
    add_customers(manager, tiers, 3)
    few = queries_for(manager_client, url)
    add_customers(manager, tiers, 27)
    assert queries_for(manager_client, url) == few


def test_the_case_page_runs_a_fixed_number_of_queries(manager_client, manager, book):
    case = open_case(book["vip"], manager)
    case_services.case_respond(case=case, user=manager, body="First")
    few = queries_for(manager_client, case_url(case))
    for n in range(20):
        case_services.case_respond(case=case, user=manager, body=f"Reply {n}")
    assert queries_for(manager_client, case_url(case)) == few
