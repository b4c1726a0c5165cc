"""/api/v1/cases/: open, list, answer and move cases on, with the visibility and error shape of
every other endpoint. Every permission test uses the outsider (another account manager)."""

import datetime
import zoneinfo

import pytest
import time_machine

from commitments.models import Case
from crm.models import Interaction, SatisfactionSurvey
from crm.tests.factories import CustomerFactory, InteractionFactory, UserFactory
from tiering.tests.factories import tier

pytestmark = pytest.mark.django_db
SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")
OPENED = datetime.datetime(2026, 11, 20, 10, 0, tzinfo=SHANGHAI)  # a Friday, 10:00


@pytest.fixture
def vip(manager):
    return CustomerFactory(account_manager=manager, tier=tier("vip"))


@pytest.fixture
def core(manager):
    return CustomerFactory(account_manager=manager, tier=tier("core"))


def post(client, url, body, moment=OPENED):
    with time_machine.travel(moment, tick=False):
        return client.post(url, body, format="json")


def open_case(client, customer, **fields):
    body = {"customer": customer.code, "kind": "request", "subject": "Machine stopped", **fields}
    response = post(client, "/api/v1/cases/", body)
    assert response.status_code == 201, response.json()
    return response.json()


def test_a_manager_opens_a_case_with_the_clock_of_the_customers_tier(manager_api, vip, manager):
    case = open_case(manager_api, vip, severity=3, channel="phone", description="Line 2 is down")
    assert case["customer"] == vip.code and case["owner"] == "manager" and case["created_by"] == "manager"
    assert (case["tier"], case["clock"], case["response_minutes"]) == ("vip", "24x7", 15)
    assert case["first_response_due_at"] == "2026-11-20T10:15:00+08:00"
    assert (case["status"], case["breached"], case["met_first_response"], case["replies"]) == ("open", False, None, [])


def test_a_complaint_case_records_its_complaint_once(manager_api, vip):
    case = open_case(manager_api, vip, kind="complaint", subject="Spare parts late again")
    [complaint] = Interaction.objects.filter(customer=vip, kind=Interaction.Kind.COMPLAINT)
    assert case["activity"] == complaint.pk
    logged = InteractionFactory(customer=vip, kind=Interaction.Kind.COMPLAINT)
    second = open_case(manager_api, vip, kind="complaint", subject="Invoice wrong", activity=logged.pk)
    assert second["activity"] == logged.pk
    assert Interaction.objects.filter(customer=vip, kind=Interaction.Kind.COMPLAINT).count() == 2


def test_a_case_for_a_customer_the_caller_does_not_see_is_not_found_like_an_unknown_code(outsider_api, vip):
    invisible = post(outsider_api, "/api/v1/cases/", {"customer": vip.code, "kind": "request", "subject": "Hi"})
    unknown = post(outsider_api, "/api/v1/cases/", {"customer": "NOPE2026001", "kind": "request", "subject": "Hi"})
    assert invisible.status_code == unknown.status_code == 404
    assert invisible.json()["error"]["code"] == "not_found"
    assert list(invisible.json()["error"]["fields"]) == list(unknown.json()["error"]["fields"]) == ["customer"]
    assert vip.code in invisible.json()["error"]["fields"]["customer"][0]
    assert not Case.objects.exists()


def test_another_managers_case_answers_404_to_read_answer_and_move(manager_api, outsider_api, vip):
    case = open_case(manager_api, vip)
    for method, url, body in [
        ("get", f"/api/v1/cases/{case['id']}/", None),
        ("post", f"/api/v1/cases/{case['id']}/respond/", {"body": "Hello"}),
        ("post", f"/api/v1/cases/{case['id']}/status/", {"status": "resolved", "resolution": "Done"}),
    ]:
        response = getattr(outsider_api, method)(url, body, format="json")
        assert response.status_code == 404, url
        assert response.json()["error"]["code"] == "not_found"
    assert outsider_api.get("/api/v1/cases/").json()["results"] == []
    assert Case.objects.get().status == Case.Status.OPEN


def test_bad_input_is_a_400_naming_each_field(manager_api, vip):
    response = post(
        manager_api,
        "/api/v1/cases/",
        {"customer": vip.code, "kind": "praise", "severity": 9, "subject": "", "colour": "red"},
    )
    assert response.status_code == 400
    assert set(response.json()["error"]["fields"]) == {"kind", "severity", "subject", "colour"}
    assert not Case.objects.exists()


def test_an_owner_who_would_not_see_the_case_is_refused(manager_api, vip, outsider):
    response = post(
        manager_api, "/api/v1/cases/", {"customer": vip.code, "kind": "request", "subject": "Hi", "owner": "outsider"}
    )
    assert response.status_code == 400
    assert list(response.json()["error"]["fields"]) == ["owner"]


def test_an_activity_the_caller_does_not_see_is_refused(manager_api, outsider_api, vip, outsider):
    theirs = CustomerFactory(account_manager=outsider)
    complaint = InteractionFactory(customer=theirs, kind=Interaction.Kind.COMPLAINT)
    response = post(
        manager_api,
        "/api/v1/cases/",
        {"customer": vip.code, "kind": "complaint", "subject": "Hi", "activity": complaint.pk},
    )
    assert response.status_code == 400
    assert list(response.json()["error"]["fields"]) == ["activity"]


def test_the_first_reply_stops_the_clock_and_a_closed_case_takes_no_reply(manager_api, vip):
    case = open_case(manager_api, vip)
    url = f"/api/v1/cases/{case['id']}/respond/"
    response = post(manager_api, url, {"body": "An engineer is on the way."}, OPENED + datetime.timedelta(minutes=7))
    assert response.status_code == 201
    answered = response.json()
    assert answered["status"] == "in_progress" and answered["met_first_response"] is True
    assert answered["first_response_minutes"] == 7.0
    assert [(r["author"], r["body"]) for r in answered["replies"]] == [("manager", "An engineer is on the way.")]
    assert post(manager_api, url, {"body": ""}).status_code == 400
    status_url = f"/api/v1/cases/{case['id']}/status/"
    post(manager_api, status_url, {"status": "resolved", "resolution": "Part replaced"})
    post(manager_api, status_url, {"status": "closed"})
    closed = post(manager_api, url, {"body": "One more thing"})
    assert closed.status_code == 409 and closed.json()["error"]["code"] == "case_closed"


def test_closing_needs_a_resolution_and_a_grade_becomes_a_survey(manager_api, vip):
    case = open_case(manager_api, vip)
    url = f"/api/v1/cases/{case['id']}/status/"
    refused = post(manager_api, url, {"status": "resolved"})
    assert refused.status_code == 400 and list(refused.json()["error"]["fields"]) == ["resolution"]
    early_grade = post(manager_api, url, {"status": "resolved", "resolution": "Fixed", "satisfaction": "A"})
    assert early_grade.status_code == 400 and list(early_grade.json()["error"]["fields"]) == ["satisfaction"]
    assert post(manager_api, url, {"status": "resolved", "resolution": "Part replaced"}).status_code == 200
    bad_grade = post(manager_api, url, {"status": "closed", "satisfaction": "F"})
    assert bad_grade.status_code == 400 and list(bad_grade.json()["error"]["fields"]) == ["satisfaction"]
    closed = post(manager_api, url, {"status": "closed", "satisfaction": "D"})
    assert closed.status_code == 200
    assert (closed.json()["status"], closed.json()["satisfaction"]) == ("closed", "D")
    assert SatisfactionSurvey.objects.get(customer=vip).score == 2
    reopen = post(manager_api, url, {"status": "in_progress"})
    assert reopen.status_code == 409 and reopen.json()["error"]["code"] == "invalid_transition"


def test_the_list_filters_and_sees_only_the_callers_customers(
    manager_api, admin_api, vip, core, manager, outsider, django_assert_max_num_queries
):
    first = open_case(manager_api, vip, kind="complaint")
    second = open_case(manager_api, core)
    theirs = CustomerFactory(account_manager=outsider, tier=tier("core"))
    open_case(admin_api, theirs)
    Case.objects.filter(pk=first["id"]).update(breached_at=OPENED + datetime.timedelta(minutes=20))
    Case.objects.filter(pk=second["id"]).update(status=Case.Status.RESOLVED)

    def ids(query=""):
        with django_assert_max_num_queries(8):
            response = manager_api.get(f"/api/v1/cases/{query}")
        assert response.status_code == 200, response.json()
        return [row["id"] for row in response.json()["results"]]

    assert ids() == [second["id"], first["id"]]
    assert ids("?breached=true") == [first["id"]]
    assert ids("?breached=false") == [second["id"]]
    assert ids("?status=resolved") == [second["id"]]
    assert ids("?status=active") == [first["id"]]
    assert ids("?kind=complaint") == [first["id"]]
    assert ids(f"?customer={core.code}") == [second["id"]]
    assert ids("?tier=vip") == [first["id"]]
    assert ids("?owner=me") == [second["id"], first["id"]]
    assert ids("?owner=outsider") == []
    assert ids("?ordering=due") == [first["id"], second["id"]]
    assert len(admin_api.get("/api/v1/cases/").json()["results"]) == 3
    bad = manager_api.get("/api/v1/cases/?breached=maybe&status=lost&ordering=colour")
    assert bad.status_code == 400


def test_an_integration_opens_cases_for_any_customer_and_a_user_without_the_right_gets_403(
    integration_api, api_client_for, vip
):
    case = open_case(integration_api, vip)
    assert (case["channel"], case["owner"]) == ("api", "manager")
    nobody = api_client_for(UserFactory(username="visitor"))
    assert nobody.get("/api/v1/cases/").status_code == 403
    assert post(nobody, "/api/v1/cases/", {"customer": vip.code, "kind": "request", "subject": "Hi"}).status_code == 403
