"""POST /api/v1/backtests/ and GET /api/v1/backtests/{id}/: administrators start backtests and
weight suggestions and read their reports; bad input is a 400 naming the field."""

import datetime
import zoneinfo

import pytest
import time_machine

from scoring.models import Backtest, ScoringProfile
from scoring.tests.conftest import rules_as_dicts
from scoring.tests.test_backtest_services import TODAY, T, make_book

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def today():
    """The book's data runs to 2026-09-30; "today" is a fortnight later in Shanghai."""
    moment = datetime.datetime.combine(TODAY, datetime.time(12), tzinfo=zoneinfo.ZoneInfo("Asia/Shanghai"))
    with time_machine.travel(moment, tick=False):
        yield


@pytest.fixture
def book(db):
    return make_book()


URL = "/api/v1/backtests/"


def post(client, body):
    return client.post(URL, body, format="json", HTTP_ACCEPT_LANGUAGE="en")


def test_an_administrator_runs_a_backtest_and_reads_its_report(
    admin_api,
    book,
    django_capture_on_commit_callbacks,
):
    with django_capture_on_commit_callbacks(execute=True):
        response = post(admin_api, {"as_of": T.isoformat(), "thresholds": {"core": 80}})
    assert response.status_code == 202, response.json()
    body = response.json()
    assert body["kind"] == "backtest" and body["status_url"].endswith(f"{URL}{body['id']}/")
    assert response["Location"] == body["status_url"]

    report = admin_api.get(f"{URL}{body['id']}/").json()
    assert report["status"] == "succeeded" and report["progress"] == 100
    assert report["as_of"] == T.isoformat()
    assert report["parameters"]["thresholds"]["core"] == 80.0
    sides = report["result"]["sides"]
    assert set(sides) == {"current", "draft"}
    assert sides["current"]["misplaced"]["rising"][0]["code"] == book["riser"].code
    assert report["result"]["data"]["customers"] == 20
    assert report["created_by"] == "admin"


def test_a_suggestion_through_the_api(admin_api, book, django_capture_on_commit_callbacks):
    profile = ScoringProfile.objects.get(is_default=True)
    with django_capture_on_commit_callbacks(execute=True):
        response = post(admin_api, {"kind": "suggestion", "profile": profile.pk, "as_of": T.isoformat()})
    assert response.status_code == 202, response.json()
    row = Backtest.objects.get(pk=response.json()["id"])
    assert row.kind == "suggestion" and row.fit_as_of == T - datetime.timedelta(days=365)
    assert row.parameters["bounds"]["spend_12m"] == [0.0, 60.0]


def test_a_date_without_a_year_after_it_is_a_400_naming_the_field(admin_api, book):
    response = post(admin_api, {"as_of": (TODAY - datetime.timedelta(days=30)).isoformat()})
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "invalid" and list(error["fields"]) == ["as_of"]
    assert error["fields"]["as_of"][0].startswith("A backtest needs 12 months of data after the date")
    assert not Backtest.objects.exists()


def test_invalid_draft_rules_are_a_400_naming_the_rule(admin_api, book):
    profile = ScoringProfile.objects.get(is_default=True)
    rules = [
        {**rule, "weight": str(rule["weight"]), "floor": str(rule["floor"]), "cap": str(rule["cap"])}
        for rule in rules_as_dicts(profile)
    ]
    for rule in rules:
        rule["missing_value"] = None if rule["missing_value"] is None else str(rule["missing_value"])
    rules[0]["weight"] = "40"  # quantitative adds up to 70
    response = post(admin_api, {"as_of": T.isoformat(), "draft": {"profile": profile.pk, "rules": rules}})
    assert response.status_code == 400
    assert response.json()["error"]["fields"] == {
        "draft.rules": ["Quantitative rules add up to 70; this profile's split gives quantitative 60."]
    }


def test_bounds_that_cannot_satisfy_the_split_are_a_400(admin_api, book):
    profile = ScoringProfile.objects.get(is_default=True)
    response = post(
        admin_api,
        {
            "kind": "suggestion",
            "profile": profile.pk,
            "as_of": T.isoformat(),
            "bounds": {"tenure_years": [0, 1], "satisfaction_12m": [0, 1], "strategic_potential": [0, 1]},
        },
    )
    assert response.status_code == 400
    assert response.json()["error"]["fields"] == {
        "bounds": ["The qualitative rules' bounds allow 0 to 3 points in all, but the split gives qualitative 40."]
    }


def test_fields_of_the_other_kind_and_unknown_fields_are_named(admin_api, book):
    response = post(admin_api, {"bounds": {"spend_12m": [0, 1]}, "colour": "red"})
    assert response.status_code == 400
    fields = response.json()["error"]["fields"]
    assert fields == {"colour": ["Unknown or read-only field."]} or set(fields) == {"bounds", "colour"}
    response = post(admin_api, {"bounds": {"spend_12m": [0, 1]}})
    assert response.json()["error"]["fields"] == {"bounds": ["Not used by a backtest."]}
    response = post(admin_api, {"kind": "suggestion"})
    assert response.json()["error"]["fields"] == {
        "profile": ["A suggestion fits the weights of one profile: give its id."]
    }


def test_only_administrators_start_or_read_backtests(manager_api, integration_api, admin_api, book):
    assert post(manager_api, {"as_of": T.isoformat()}).status_code == 403
    assert post(integration_api, {"as_of": T.isoformat()}).status_code == 403
    row = Backtest.objects.create(as_of=T)
    assert manager_api.get(f"{URL}{row.pk}/").status_code == 403
    assert integration_api.get(f"{URL}{row.pk}/").status_code == 403
    assert admin_api.get(f"{URL}{row.pk}/").status_code == 200
    assert admin_api.get(f"{URL}999999/").status_code == 404


def test_a_tier_administrator_may_run_backtests(api_client_for, book):
    from django.contrib.auth.models import Group

    from crm.tests.factories import UserFactory

    user = UserFactory(username="tieradmin", is_staff=True)
    user.groups.add(Group.objects.get(name="Tier administrators"))
    assert post(api_client_for(user), {"as_of": T.isoformat()}).status_code == 202
