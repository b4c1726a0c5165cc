import datetime
from decimal import Decimal

import pytest
import time_machine
from django.contrib.auth.models import Permission
from django.db import connection
from django.test.utils import CaptureQueriesContext

from crm.tests.api_clients import client_for
from crm.tests.factories import CustomerFactory, OrderFactory, UserFactory
from scoring.models import Tier
from tiering.models import Notice, TierChange, TierOverride, TierRun
from tiering.tests.factories import TierAssignmentFactory, TierChangeFactory, TierRunFactory

pytestmark = pytest.mark.django_db
TODAY = datetime.datetime(2026, 11, 22, 10, 0, tzinfo=datetime.UTC)


def _changes(customers, count):
    vip, core = Tier.objects.get(code="vip"), Tier.objects.get(code="core")
    return [
        TierChangeFactory(
            run=None,
            customer=customers[n % len(customers)],
            from_tier=core,
            to_tier=vip,
            score=Decimal("91"),
            score_before=Decimal("80"),
        )
        for n in range(count)
    ]


def _page_all(api, url):
    seen = []
    while url:
        body = api.get(url).json()
        seen.extend(row["id"] for row in body["results"])
        url = body["next"]
    return seen


def test_change_feed_pages_without_missing_or_repeating(integration_api, customer):
    created = _changes([customer], 25)
    seen, url = [], "/api/v1/tier-changes/?page_size=10"
    body = integration_api.get(url).json()
    seen.extend(row["id"] for row in body["results"])
    _changes([customer], 3)  # arrive while the consumer is paging
    seen += _page_all(integration_api, body["next"])
    assert seen == sorted(seen)
    assert len(seen) == len(set(seen)) == 28
    assert seen[:25] == [c.id for c in created]
    row = integration_api.get("/api/v1/tier-changes/?page_size=1").json()["results"][0]
    assert row["customer"] == customer.code
    assert row["from_tier"] == "core" and row["to_tier"] == "vip" and row["direction"] == "upgrade"


def test_change_feed_resumes_after_the_last_stored_id(integration_api, customer):
    first = _changes([customer], 4)
    later = _changes([customer], 2)
    ids = _page_all(integration_api, f"/api/v1/tier-changes/?after_id={first[-1].id}")
    assert ids == [c.id for c in later]


def test_change_feed_filters(integration_api, customer, manager):
    other = CustomerFactory(account_manager=manager)
    _changes([customer, other], 4)
    rows = integration_api.get("/api/v1/tier-changes/", {"customer": other.code}).json()["results"]
    assert {row["customer"] for row in rows} == {other.code}
    assert integration_api.get("/api/v1/tier-changes/", {"direction": "downgrade"}).json()["results"] == []
    response = integration_api.get("/api/v1/tier-changes/", {"since": "yesterday"})
    assert response.status_code == 400 and "since" in response.json()["error"]["fields"]


def test_outsider_sees_no_changes_of_other_managers_customers(outsider_api, customer):
    _changes([customer], 3)
    assert outsider_api.get("/api/v1/tier-changes/").json()["results"] == []


@time_machine.travel(TODAY, tick=False)
def test_start_a_run_and_read_its_status(integration_api, customer, django_capture_on_commit_callbacks):
    OrderFactory(customer=customer, amount=Decimal("600000"), ordered_at=datetime.date(2026, 6, 1))
    with django_capture_on_commit_callbacks(execute=True):
        response = integration_api.post("/api/v1/tier-runs/", {}, format="json")
    assert response.status_code == 202, response.json()
    body = response.json()
    assert body["status_url"].endswith(f"/api/v1/tier-runs/{body['id']}/")
    status = integration_api.get(body["status_url"]).json()
    assert status["status"] == "succeeded"
    assert status["as_of"] == "2026-11-22"
    assert status["progress"]["done"] == status["progress"]["total"] == 1
    assert sum(status["tier_counts"].values()) == 1
    # The customer's first tiering: no change from a tier it never had, so no notice either.
    assert (status["upgrades"], status["downgrades"]) == (0, 0)
    assert not TierChange.objects.exists() and not Notice.objects.exists()


@time_machine.travel(TODAY, tick=False)
def test_second_run_while_one_is_running_is_409(integration_api, customer):
    first = integration_api.post("/api/v1/tier-runs/", {"as_of": "2026-11-22"}, format="json")
    assert first.status_code == 202
    assert TierRun.objects.get().status == "pending"  # its work is queued on commit
    response = integration_api.post("/api/v1/tier-runs/", {"as_of": "2026-11-22"}, format="json")
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "run_in_progress"


@time_machine.travel(TODAY, tick=False)
def test_rerun_of_a_finished_period_needs_force(integration_api, customer, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        assert integration_api.post("/api/v1/tier-runs/", {}, format="json").status_code == 202
    response = integration_api.post("/api/v1/tier-runs/", {}, format="json")
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "period_done"
    with django_capture_on_commit_callbacks(execute=True):
        response = integration_api.post("/api/v1/tier-runs/", {"force": True}, format="json")
    assert response.status_code == 202


def test_run_input_is_checked(integration_api):
    response = integration_api.post(
        "/api/v1/tier-runs/", {"as_of": "soon", "dry_run": "perhaps", "x": 1}, format="json"
    )
    assert response.status_code == 400
    assert {"as_of", "dry_run", "x"} <= set(response.json()["error"]["fields"])
    assert TierRun.objects.count() == 0


def test_manager_can_neither_start_nor_read_runs(manager_api):
    assert manager_api.post("/api/v1/tier-runs/", {}, format="json").status_code == 403
    run = TierRunFactory(period="2026-Q4", as_of=datetime.date(2026, 11, 22), status=TierRun.Status.PENDING)
    assert manager_api.get(f"/api/v1/tier-runs/{run.pk}/").status_code == 403


def test_unknown_run_is_404(integration_api):
    run = TierRunFactory(period="2026-Q4", as_of=datetime.date(2026, 11, 22))
    url = f"/api/v1/tier-runs/{run.pk}/"
    assert integration_api.get(url).status_code == 200
    run.delete()
    assert integration_api.get(url).status_code == 404


@time_machine.travel(TODAY, tick=False)
def test_admin_sets_and_removes_an_override(admin_api, customer):
    url = f"/api/v1/customers/{customer.code}/override/"
    response = admin_api.post(
        url, {"tier": "vip", "reason": "Referred ten customers", "expires": "2027-06-30"}, format="json"
    )
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["tier"] == "vip"
    assert body["tier_override"] == {**body["tier_override"], "tier": "vip", "expires": "2027-06-30"}
    assert admin_api.delete(url).status_code == 204
    assert not TierOverride.objects.filter(customer=customer).exists()
    reasons = list(TierOverride.history.order_by("history_id").values_list("history_type", "history_change_reason"))
    assert reasons[0] == ("+", "Referred ten customers")
    assert reasons[1][0] == "-" and reasons[1][1]  # "Manual tier removed", in the language of the request


@time_machine.travel(TODAY, tick=False)
def test_the_reason_for_removing_an_override_lands_in_its_history(admin_api, customer):
    url = f"/api/v1/customers/{customer.code}/override/"
    assert admin_api.post(url, {"tier": "vip", "reason": "Trial"}, format="json").status_code == 200
    response = admin_api.delete(f"{url}?reason=" + "x" * 2001)
    assert response.status_code == 400 and "reason" in response.json()["error"]["fields"]
    assert admin_api.delete(f"{url}?reason=Trial%20is%20over").status_code == 204
    assert TierOverride.history.latest().history_change_reason == "Trial is over"


@time_machine.travel(TODAY, tick=False)
def test_override_needs_a_reason_and_a_real_tier(admin_api, customer):
    url = f"/api/v1/customers/{customer.code}/override/"
    response = admin_api.post(
        url, {"tier": "platinum", "reason": "Big referrer", "expires": "2020-01-01"}, format="json"
    )
    assert response.status_code == 400
    assert {"tier", "expires"} <= set(response.json()["error"]["fields"])
    response = admin_api.post(url, {"tier": "vip", "reason": "  "}, format="json")
    assert response.status_code == 400
    assert "reason" in response.json()["error"]["fields"]
    assert not TierOverride.objects.exists()


def test_manager_may_not_override(manager_api, customer):
    url = f"/api/v1/customers/{customer.code}/override/"
    assert manager_api.post(url, {"tier": "vip", "reason": "x"}, format="json").status_code == 403
    assert manager_api.delete(url).status_code == 403


@time_machine.travel(TODAY, tick=False)
def test_a_non_staff_token_with_the_override_permissions_may_not_override(customer):
    """The model permissions through a token are not enough: overrides are an administrator's, and
    administrators are staff."""
    clerk = UserFactory(username="override-clerk")
    clerk.user_permissions.add(
        *Permission.objects.filter(
            codename__in=["add_tieroverride", "change_tieroverride", "view_customer", "view_all_customers"]
        )
    )
    assert clerk.has_perms(["tiering.add_tieroverride", "tiering.change_tieroverride", "crm.view_all_customers"])
    api = client_for(clerk)
    url = f"/api/v1/customers/{customer.code}/override/"
    body = {"tier": "vip", "reason": "Referred ten customers"}

    response = api.post(url, body, format="json")

    assert response.status_code == 403 and response.json()["error"]["code"] == "permission_denied"
    assert not TierOverride.objects.exists()
    customer.refresh_from_db()
    assert customer.tier is None
    # The same request succeeds once the account is staff: staff status alone made the difference.
    clerk.is_staff = True
    clerk.save()
    assert api.post(url, body, format="json").status_code == 200
    assert TierOverride.objects.get(customer=customer).tier.code == "vip"


def test_history_lists_assignments_newest_first(integration_api, customer, django_capture_on_commit_callbacks):
    for as_of, force in (("2026-06-30", False), ("2026-09-30", False)):
        with django_capture_on_commit_callbacks(execute=True):
            response = integration_api.post("/api/v1/tier-runs/", {"as_of": as_of, "force": force}, format="json")
        assert response.status_code == 202, response.json()
    rows = integration_api.get(f"/api/v1/customers/{customer.code}/history/").json()["results"]
    assert [row["as_of"] for row in rows] == ["2026-09-30", "2026-06-30"]
    assert all(row["tier"] and row["profile"] for row in rows)


@time_machine.travel(TODAY, tick=False)
def test_runs_may_not_look_forward_nor_back(integration_api, customer, django_capture_on_commit_callbacks):
    response = integration_api.post("/api/v1/tier-runs/", {"as_of": "2026-11-23"}, format="json")
    assert response.status_code == 400 and "as_of" in response.json()["error"]["fields"]
    with django_capture_on_commit_callbacks(execute=True):
        assert integration_api.post("/api/v1/tier-runs/", {}, format="json").status_code == 202
    response = integration_api.post("/api/v1/tier-runs/", {"as_of": "2026-09-30"}, format="json")
    assert response.status_code == 409
    error = response.json()["error"]
    assert error["code"] == "as_of_before_latest_run" and "as_of" in error["fields"]
    with django_capture_on_commit_callbacks(execute=True):
        response = integration_api.post("/api/v1/tier-runs/", {"as_of": "2026-09-30", "dry_run": True}, format="json")
    assert response.status_code == 202


def test_history_is_ordered_by_the_runs_as_of_date_and_pages_that_way(integration_api, customer):
    # The run as of June was started after the one as of September (before runs were kept from
    # looking back): the history still reads newest first by as-of date.
    september = TierRunFactory(period="2026-Q3", as_of=datetime.date(2026, 9, 30), rulebook={})
    june = TierRunFactory(period="2026-Q2", as_of=datetime.date(2026, 6, 30), rulebook={})
    march = TierRunFactory(period="2026-Q1", as_of=datetime.date(2026, 3, 31), rulebook={})
    for run in (march, september, june):
        TierAssignmentFactory(run=run, customer=customer)
    rows, url = [], f"/api/v1/customers/{customer.code}/history/?page_size=1"
    while url:
        body = integration_api.get(url).json()
        rows += body["results"]
        url = body["next"]
    assert [row["as_of"] for row in rows] == ["2026-09-30", "2026-06-30", "2026-03-31"]


def test_history_explains_a_page_in_a_fixed_number_of_queries(integration_api, customer):
    def queries_for_history(runs: int) -> int:
        for n in range(runs):
            # Runs without a rule book: today's rules are read once for the page, not per row.
            run = TierRunFactory(period=f"P{runs}-{n}", as_of=datetime.date(2026, 1, 1) + datetime.timedelta(days=n))
            TierAssignmentFactory(run=run, customer=customer)
        with CaptureQueriesContext(connection) as queries:
            assert integration_api.get(f"/api/v1/customers/{customer.code}/history/").status_code == 200
        return len(queries)

    assert queries_for_history(2) == queries_for_history(6)
