"""The backtest pages in the scoring admin: start, follow, read, download, and a suggestion's way
into the existing simulation."""

import csv
import datetime
import io
import re
import zoneinfo

import pytest
import time_machine
from django.urls import reverse

from scoring.admin_backtest import simulation_post_data
from scoring.models import Backtest, ScoringProfile
from scoring.tests.test_admin import profile_post_data
from scoring.tests.test_backtest_services import TODAY, T, make_book

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def today():
    moment = datetime.datetime.combine(TODAY, datetime.time(12), tzinfo=zoneinfo.ZoneInfo("Asia/Shanghai"))
    with time_machine.travel(moment, tick=False):
        yield


@pytest.fixture
def book(db):
    return make_book()


@pytest.fixture
def run_tasks(django_capture_on_commit_callbacks):
    """Start what is queued after the request's transaction commits (eager Celery runs it)."""
    return lambda: django_capture_on_commit_callbacks(execute=True)


def report_url(row):
    return reverse("admin:scoring_backtest_change", args=[row.pk])


def test_a_backtest_started_from_admin_shows_its_report(admin_client, book, run_tasks):
    with run_tasks():
        response = admin_client.post(
            reverse("admin:scoring_backtest_add"),
            {
                "as_of": T.isoformat(),
                "retention_days": "90",
                "min_vip": "90",
                "min_core": "80",
                "min_potential": "60",
                "min_ordinary": "45",
                "min_dormant": "0",
            },
        )
    row = Backtest.objects.get()
    assert response.status_code == 302 and response["Location"] == report_url(row)
    assert row.parameters["thresholds"]["core"] == 80.0  # a changed threshold makes a draft

    page = admin_client.get(report_url(row)).content.decode()
    assert "How much data stood behind it" in page
    assert "20 customers were customers on 2025-09-30" in page
    assert 'id="tiers-current"' in page and 'id="tiers-draft"' in page
    assert book["riser"].code in page and book["quitter"].code in page
    assert "Download all (CSV)" in page
    assert "<svg" in page


def test_the_form_names_the_field_it_refuses(admin_client, book):
    response = admin_client.post(reverse("admin:scoring_backtest_add"), {"as_of": "2026-09-01", "retention_days": "90"})
    assert response.status_code == 200
    assert response.context["form"].errors["as_of"][0].startswith("A backtest needs 12 months of data after the date")
    assert not Backtest.objects.exists()


def test_a_running_backtest_shows_its_progress(admin_client, book):
    row = Backtest.objects.create(as_of=T, status="running", progress=35, stage="metrics_after")
    page = admin_client.get(report_url(row)).content.decode()
    assert '<progress value="35" max="100">' in page
    assert "Reading what customers did in the 12 months after" in page
    state = admin_client.get(reverse("admin:scoring_backtest_progress", args=[row.pk])).json()
    assert state == {
        "status": "running",
        "statusLabel": "Running",
        "percent": 35,
        "stage": "Reading what customers did in the 12 months after",
        "finished": False,
    }


def test_misplaced_customers_download_as_csv(admin_client, book):
    from scoring import backtest_services

    row = backtest_services.backtest_run(backtest_services.backtest_create(as_of=T, today=TODAY).pk)
    book["riser"].name = "=HYPERLINK(1)"
    book["riser"].save()
    response = admin_client.get(reverse("admin:scoring_backtest_misplaced", args=[row.pk, "current", "rising"]))
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows[0][:3] == ["code", "name", "tier at the date"]
    assert rows[1][:3] == [book["riser"].code, "'=HYPERLINK(1)", "Dormant"]  # never run as a formula
    assert rows[1][4:7] == ["1200000.00", "20", "yes"]
    missing = reverse("admin:scoring_backtest_misplaced", args=[row.pk, "draft", "rising"])
    assert admin_client.get(missing).status_code == 404


def test_a_suggestion_opens_the_existing_simulation_with_its_weights(admin_client, book, run_tasks):
    profile = ScoringProfile.objects.get(is_default=True)
    data = {
        "profile": str(profile.pk),
        "objective": "rank_correlation",
        "as_of": T.isoformat(),
        "fit_as_of": (T - datetime.timedelta(days=365)).isoformat(),
        "sample_size": "20000",
        "retention_days": "90",
    }
    for rule in profile.rules.all():
        data[f"low_{rule.metric}"], data[f"high_{rule.metric}"] = "0", str(rule.weight * 2)
    data["low_tenure_years"] = "20"  # tenure alone above the qualitative 40: impossible
    data["low_satisfaction_12m"] = "25"
    response = admin_client.post(reverse("admin:scoring_backtest_suggest"), data)
    assert response.status_code == 200 and not Backtest.objects.exists()
    assert response.context["bounds_errors"] == [
        "The qualitative rules' bounds allow 45 to 80 points in all, but the split gives qualitative 40."
    ]

    row = Backtest.objects.create(
        kind="suggestion", as_of=T, fit_as_of=T - datetime.timedelta(days=365), profile=profile, status="succeeded"
    )
    weights = {
        "spend_12m": 40,
        "orders_12m": 15,
        "avg_order_value_12m": 5,
        "tenure_years": 5,
        "satisfaction_12m": 25,
        "strategic_potential": 10,
    }
    simulation = admin_client.post(
        reverse("admin:scoring_scoringprofile_simulate", args=[profile.pk]),
        dict(_pairs(simulation_post_data(profile, weights))),
    )
    page = simulation.content.decode()
    assert simulation.status_code == 200 and "What this change alone does" in page
    assert "quantitative 60 / qualitative 40" in page  # the suggested weights, within the split
    assert ScoringProfile.objects.get(pk=profile.pk).version == profile.version  # nothing saved
    assert row.pk


def _pairs(data):
    return [(name, value) for name, value in data]


def test_a_finished_suggestion_report_holds_the_simulation_form_and_prefills_the_profile(admin_client, book, run_tasks):
    from crm.tests.factories import CustomerFactory
    from scoring.tests.test_backtest_services import AFTER, EARLIER, orders

    for n in range(15):  # a suggestion fits weights on at least 30 customers
        customer = CustomerFactory(name=f"More {n}", cooperation_since=datetime.date(2021, 1, 1))
        orders(customer, amount=str(700 + 50 * n), count=3 + n % 4, start=EARLIER[0], end=AFTER[1])
    profile = ScoringProfile.objects.get(is_default=True)
    data = {
        "profile": str(profile.pk),
        "objective": "rank_correlation",
        "as_of": T.isoformat(),
        "sample_size": "20000",
        "retention_days": "90",
    }
    for rule in profile.rules.all():
        data[f"low_{rule.metric}"], data[f"high_{rule.metric}"] = "0", str(rule.weight * 2)
    with run_tasks():
        response = admin_client.post(reverse("admin:scoring_backtest_suggest"), data)
    row = Backtest.objects.get()
    assert response["Location"] == report_url(row) and row.status == "succeeded"

    page = admin_client.get(report_url(row)).content.decode()
    simulate_url = reverse("admin:scoring_scoringprofile_simulate", args=[profile.pk])
    assert f'action="{simulate_url}"' in page and "Open its simulation" in page
    assert "Report window (out of sample)" in page and "Fit window (in sample)" in page


def test_the_profile_form_is_prefilled_with_a_suggestions_weights(admin_client, book):
    profile = ScoringProfile.objects.get(is_default=True)
    weights = {
        "spend_12m": 42.5,
        "orders_12m": 12.5,
        "avg_order_value_12m": 5,
        "tenure_years": 5,
        "satisfaction_12m": 25,
        "strategic_potential": 10,
    }
    row = Backtest.objects.create(
        kind="suggestion",
        as_of=T,
        profile=profile,
        status="succeeded",
        result={"suggestion": {"weights": [{"metric": m, "suggested": w} for m, w in weights.items()]}},
    )
    content = admin_client.get(
        reverse("admin:scoring_scoringprofile_change", args=[profile.pk]) + f"?suggestion={row.pk}"
    ).content.decode()
    assert f"pre-filled from weight suggestion #{row.pk}" in content
    shown = dict(re.findall(r'name="rules-(\d)-weight" value="([^"]+)"', content))
    assert [float(shown[str(n)]) for n in range(6)] == list(weights.values())
    assert ScoringProfile.objects.get(pk=profile.pk).version == profile.version  # nothing saved
    plain = admin_client.get(reverse("admin:scoring_scoringprofile_change", args=[profile.pk])).content.decode()
    assert "pre-filled" not in plain and 'name="rules-0-weight" value="30.00"' in plain


def test_backtest_this_change_from_the_profile_form(admin_client, book):
    profile = ScoringProfile.objects.get(is_default=True)
    data = profile_post_data(profile, **{"tenure_years.weight": "30", "satisfaction_12m.weight": "0"}, change_reason="")
    response = admin_client.post(reverse("admin:scoring_scoringprofile_backtest", args=[profile.pk]), data)
    row = Backtest.objects.get()
    assert response.status_code == 302 and response["Location"] == report_url(row)
    assert row.profile == profile
    assert [rule["weight"] for rule in row.parameters["draft"]["rules"]][3:5] == [30.0, 0.0]
    assert ScoringProfile.objects.get(pk=profile.pk).version == profile.version  # nothing saved

    bad = profile_post_data(profile, **{"tenure_years.weight": "31"}, change_reason="")
    response = admin_client.post(reverse("admin:scoring_scoringprofile_backtest", args=[profile.pk]), bad)
    assert response.status_code == 200
    assert "Qualitative rules add up to 56" in response.content.decode()
    assert Backtest.objects.count() == 1


def test_account_managers_cannot_open_backtests(client, manager, book):
    manager.is_staff = True
    manager.save()
    client.force_login(manager)
    row = Backtest.objects.create(as_of=T)
    assert client.get(report_url(row)).status_code == 403
    assert client.get(reverse("admin:scoring_backtest_add")).status_code == 403
    assert client.get(reverse("admin:scoring_backtest_progress", args=[row.pk])).status_code == 403


def test_the_report_page_reads_a_fixed_number_of_queries(admin_client, book, django_assert_max_num_queries):
    from scoring import backtest_services

    row = backtest_services.backtest_run(backtest_services.backtest_create(as_of=T, today=TODAY).pk)
    with django_assert_max_num_queries(12):
        assert admin_client.get(report_url(row)).status_code == 200
